from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views as account_views
from facilitator import views as facilitator_views
from moderation import views as moderation_views
from rooms import dashboard_views, guest_views, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/verify/", account_views.verify, name="verify"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("sessions/<int:session_id>/", views.room, name="room"),
    path("sessions/new/", dashboard_views.schedule, name="schedule"),
    path("sessions/<int:session_id>/agenda/", dashboard_views.agenda, name="agenda"),
    path("invitations/<int:invite_id>/decline/", dashboard_views.decline_invitation, name="decline_invitation"),
    path("sessions/<int:session_id>/attendance/", facilitator_views.attendance, name="attendance"),
    path("sessions/<int:session_id>/transcript/", moderation_views.transcript, name="transcript"),
    path("sessions/<int:session_id>/audit/", moderation_views.audit, name="audit"),
    path("join/<str:token>/", views.join, name="join"),
    path("sessions/<int:session_id>/invites/", guest_views.invites, name="invites"),
    path(
        "sessions/<int:session_id>/invites/<int:invite_id>/revoke/", guest_views.revoke_invite, name="revoke_invite"
    ),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
