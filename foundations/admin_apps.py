"""The admin's list of models (the home page's sections, the navigation sidebar), rendered once
for each distinct list.

Django renders `admin/app_list.html` afresh on every admin page: about 30 models, each with its
links and translated labels, a tenth of the home page's time. What the template reads is small
and plain: each section's name, label and URL, each model's name, object name, URLs and whether
it is view-only, the page's path (the current section and model are marked) and the language.
`app_list_html` keys the rendered HTML on exactly those, so two people whose permissions give
the same list share it and a list that differs by one link is rendered for itself: nothing of
one person's list reaches another's. A project template that overrides `admin/app_list.html`
must read nothing more, or add it to the key.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.template.loader import get_template
from django.utils.safestring import SafeString
from django.utils.translation import get_language

# (name, object name, admin URL, add URL, view only)
_Model = tuple[str, str, str | None, str | None, bool]
# (name, label, URL, models)
_App = tuple[str, str, str, tuple[_Model, ...]]


def app_list_html(
    app_list: list[dict[str, Any]], path: str, *, show_changelinks: bool
) -> SafeString:
    """`{% include "admin/app_list.html" %}` for this list on the page at `path`."""
    apps = tuple(
        (
            str(app["name"]),
            str(app["app_label"]),
            str(app.get("app_url") or ""),
            tuple(
                (
                    str(model["name"]),
                    str(model["object_name"]),
                    model.get("admin_url"),
                    model.get("add_url"),
                    bool(model.get("view_only")),
                )
                for model in app["models"]
            ),
        )
        for app in app_list
    )
    return _rendered(apps, path, show_changelinks, get_language())


class _Page:
    """What the template reads of the request: its path."""

    def __init__(self, path: str) -> None:
        self.path = path


@lru_cache(maxsize=512)
def _rendered(
    apps: tuple[_App, ...], path: str, show_changelinks: bool, language: str | None
) -> SafeString:
    # `language` is the one active now: the template's labels are translated into it.
    app_list = [
        {
            "name": name,
            "app_label": label,
            "app_url": url,
            "models": [
                {
                    "name": model_name,
                    "object_name": object_name,
                    "admin_url": admin_url,
                    "add_url": add_url,
                    "view_only": view_only,
                }
                for model_name, object_name, admin_url, add_url, view_only in models
            ],
        }
        for name, label, url, models in apps
    ]
    context = {"app_list": app_list, "show_changelinks": show_changelinks, "request": _Page(path)}
    return SafeString(get_template("admin/app_list.html").render(context))
