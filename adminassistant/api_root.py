"""The REST API's router, root and documentation: /api/v1/, /api/schema/, /api/docs/.

Composition: it imports every app's API. Each app's serializers and views live in
`<app>/api.py`; the shared plumbing in the `foundations/api/` package.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views.defaults import page_not_found
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import routers
from rest_framework.routers import DefaultRouter

from accounts.api import MeView
from archiving.api import ArchiveConfigurationViewSet, ArchiveRunViewSet, JobConfigurationViewSet
from auditing.api import ActionLogViewSet, AuditLogViewSet
from calendars.api import AppointmentViewSet, CalendarViewSet, CategoryViewSet, LocationViewSet
from timesheets.api import CustomerSettingsViewSet, TimesheetViewSet

app_name = "api"


class Router(DefaultRouter):
    """The default router, with `me` (a single object, not a collection) on the API root."""

    def get_api_root_view(self, api_urls: Any = None) -> Any:
        api_root_dict = OrderedDict([("me", "me")])
        list_name = self.routes[0].name
        for prefix, _viewset, basename in self.registry:
            if prefix != "archive-runs":
                api_root_dict[prefix] = list_name.format(basename=basename)
        return self.APIRootView.as_view(api_root_dict=api_root_dict)


class APIRootView(routers.APIRootView):
    """Admin Assistant's REST API. The OpenAPI schema is at /api/schema/ and interactive
    documentation at /api/docs/. Authenticate with `Authorization: Bearer <key>` (a personal
    API token from the admin) or a logged-in session."""

    throttle_scope = "api"


Router.APIRootView = APIRootView

router = Router()
router.register("appointments", AppointmentViewSet, basename="appointment")
router.register("categories", CategoryViewSet, basename="category")
router.register("locations", LocationViewSet, basename="location")
router.register("calendars", CalendarViewSet, basename="calendar")
router.register("timesheets", TimesheetViewSet, basename="timesheet")
router.register("customer-settings", CustomerSettingsViewSet, basename="customer-settings")
router.register(
    "archive-configurations", ArchiveConfigurationViewSet, basename="archive-configuration"
)
router.register("archive-runs", ArchiveRunViewSet, basename="archive-run")
router.register("job-configurations", JobConfigurationViewSet, basename="job-configuration")
router.register("audit-log", AuditLogViewSet, basename="audit-log")
router.register("action-log", ActionLogViewSet, basename="action-log")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI (served from this app) sets style attributes from its scripts: the docs page
    # alone allows inline styles; scripts stay 'self' only, as everywhere.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api:schema")
        ),
        name="docs",
    ),
    path("v1/me/", MeView.as_view(), name="me"),
    path("v1/", include(router.urls)),
]


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The project's 404 view: JSON under /api/ (a URL no route matches), HTML elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
