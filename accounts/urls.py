from __future__ import annotations

from django.urls import path

from accounts import views

urlpatterns = [
    path("microsoft/callback/", views.microsoft_callback, name="microsoft-callback"),
]
