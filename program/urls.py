"""The program's pages (included by config.urls)."""

from django.urls import path

from program import views

urlpatterns = [
    path("series/<int:series_id>/", views.series_page, name="series"),
    path("sessions/<int:session_id>/cancel/", views.cancel_page, name="cancel-session"),
    path("attendance/", views.attendance_export, name="attendance-export"),
    path("settings/", views.settings_page, name="member-settings"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
]
