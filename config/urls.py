from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from rooms import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("sessions/<int:session_id>/", views.room, name="room"),
    path("join/<str:token>/", views.join, name="join"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
