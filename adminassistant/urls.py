from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("adminassistant.api")),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
]

handler404 = "adminassistant.api.not_found"
