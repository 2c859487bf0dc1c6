"""The room core's pages: the dashboard, the room, scheduling, family invitations, the health check
(included by config.urls)."""

from django.urls import path

from rooms import dashboard_views, guest_views, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("sessions/<int:session_id>/", views.room, name="room"),
    path("sessions/new/", dashboard_views.schedule, name="schedule"),
    path("invitations/<int:invite_id>/decline/", dashboard_views.decline_invitation, name="decline_invitation"),
    path("join/<str:token>/", views.join, name="join"),
    path("sessions/<int:session_id>/invites/", guest_views.invites, name="invites"),
    path(
        "sessions/<int:session_id>/invites/<int:invite_id>/revoke/", guest_views.revoke_invite, name="revoke_invite"
    ),
    path("healthz", views.healthz, name="healthz"),
]
