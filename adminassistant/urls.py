from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from foundations.health import health_cluster, health_live, health_ready

urlpatterns = [
    path("health/live/", health_live, name="health-live"),
    path("health/ready/", health_ready, name="health-ready"),
    path("health/cluster/", health_cluster, name="health-cluster"),
    path("admin/", admin.site.urls),
    path("api/", include("adminassistant.api_root")),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
]

handler404 = "adminassistant.api_root.not_found"
