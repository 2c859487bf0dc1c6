"""The composition root of the URLs: every app's URLconf is included by name, never imported,
so that config (at the bottom of the layers) imports none of the apps above it."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

urlpatterns = [
    path("", include("accounts.urls")),  # sign-in, second factor, sign-out
    path("", include("rooms.urls")),  # dashboard, room, scheduling, invitations, healthz
    path("", include("facilitator.urls")),  # agenda, attendance
    path("", include("moderation.urls")),  # transcript, audit
    path("", include("program.urls")),  # series, cancel, attendance export, settings, calendar feed
    path("", include("record.urls")),  # progress notes, a patient's record
    path("admin/", admin.site.urls),
    # The scripts' strings in the page's language (locale/*/LC_MESSAGES/djangojs.po), served
    # from 'self' as the strict CSP requires; static/circle/i18n.js reads them.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]
