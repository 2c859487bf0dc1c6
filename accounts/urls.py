"""Signing in and out, and the language switch (included by config.urls)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import language, views

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/verify/", views.verify, name="verify"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/language/", language.set_language, name="set-language"),
]
