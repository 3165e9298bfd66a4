"""The browsable API renderer REST_FRAMEWORK names. Imports no DRF views (see the package
docstring)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework import renderers
from rest_framework.request import Request

if TYPE_CHECKING:
    # Not at run time: REST_FRAMEWORK loads this module while DRF's views are being imported.
    from rest_framework.views import APIView


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """The browsable API with its raw JSON form only: the API parses JSON bodies, not forms."""

    def get_rendered_html_form(
        self, data: Any, view: APIView, method: str, request: Request
    ) -> Any:
        return None

    def get_context(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(*args, **kwargs)
        # Pygments' colours come as an inline <style>, which the Content-Security-Policy refuses.
        context["code_style"] = None
        return context
