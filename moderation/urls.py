"""Moderation's pages, the session's record (included by config.urls)."""

from django.urls import path

from moderation import views

urlpatterns = [
    path("sessions/<int:session_id>/transcript/", views.transcript, name="transcript"),
    path("sessions/<int:session_id>/audit/", views.audit, name="audit"),
]
