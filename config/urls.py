"""The composition root of the URLs: every app's URLconf is included by name, never imported,
so that config (at the bottom of the layers) imports none of the apps above it."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("accounts.urls")),  # sign-in, second factor, sign-out
    path("", include("rooms.urls")),  # dashboard, room, scheduling, invitations, healthz
    path("", include("facilitator.urls")),  # agenda, attendance
    path("", include("moderation.urls")),  # transcript, audit
    path("admin/", admin.site.urls),
]
