from django.urls import path

from record import views

urlpatterns = [
    path("sessions/<int:session_id>/notes/", views.notes, name="session-notes"),
    path("sessions/<int:session_id>/notes/<int:note_id>/amend/", views.amend, name="session-note-amend"),
    path("patients/<str:username>/", views.patient_record, name="patient-record"),
]
