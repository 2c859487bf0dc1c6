"""Facilitation's pages (included by config.urls)."""

from django.urls import path

from facilitator import views

urlpatterns = [
    path("sessions/<int:session_id>/agenda/", views.agenda, name="agenda"),
    path("sessions/<int:session_id>/attendance/", views.attendance, name="attendance"),
]
