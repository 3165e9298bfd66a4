"""What a rendered page leaves behind: nothing for the garbage collector.

The template backend (`DjangoTemplates`, TEMPLATES' BACKEND): Django's template context is a
reference cycle once a page's context is pushed onto it (each `ContextDict` points back to its
`Context`), so everything the page was rendered from (a change list and its 100 rows, with
their related rows) could only be freed by the garbage collector. After rendering, the
backend's template lets its context drop its dicts, so the page's objects are freed as soon as
the response is. A copy of the context taken while rendering (the test client's
`response.context`) keeps its own list and is unchanged.

A page rendered from a list of candidate templates resolves the list once per process.

The admin renders each page from the first of several names that exists
(`admin/calendars/appointment/change_list.html`, `admin/calendars/change_list.html`,
`admin/change_list.html`). Django's `select_template` tries them in turn and keeps each miss's
`TemplateDoesNotExist` in a list while it goes on; each of those exceptions holds its traceback,
whose frames hold the whole call stack up to the response: the change list, its 100 rows and
their related rows. Those are reference cycles too. Together the two left 1,429 objects of an
appointment change list to the collector (and 12 tracebacks); now 176, none of them the page's
rows (README, Benchmarks; tests/test_response_cycles.py).

`TemplateChoiceMiddleware` (Django's `process_template_response` hook, before the response is
rendered) replaces such a list with the name `select_template` chooses from it, remembered per
list, so later responses name the template that exists and nothing is raised. The choice is the
one Django makes; with DEBUG on (templates edited while the server runs) the list is left alone.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.template import TemplateDoesNotExist
from django.template.backends import django as django_backend
from django.template.context import make_context
from django.template.loader import select_template
from django.template.response import SimpleTemplateResponse
from django.utils.deprecation import MiddlewareMixin


class Template(django_backend.Template):
    def render(
        self, context: dict[str, Any] | None = None, request: HttpRequest | None = None
    ) -> Any:
        made = make_context(context, request, autoescape=self.backend.engine.autoescape)
        try:
            return self.template.render(made)
        except TemplateDoesNotExist as exc:
            django_backend.reraise(exc, self.backend)
        finally:
            made.dicts = []  # the cycle: each pushed ContextDict's `context` is `made`


class DjangoTemplates(django_backend.DjangoTemplates):
    """Django's own template backend, whose templates free their context once rendered."""

    def from_string(self, template_code: str) -> Template:
        return Template(self.engine.from_string(template_code), self)

    def get_template(self, template_name: str) -> Template:
        try:
            return Template(self.engine.get_template(template_name), self)
        except TemplateDoesNotExist as exc:
            django_backend.reraise(exc, self)


@lru_cache(maxsize=1024)
def template_choice(names: tuple[str, ...], using: str | None) -> str | None:
    """The name Django renders from these candidates (None: Django will say none exists)."""
    try:
        template = select_template(list(names), using=using)
    except TemplateDoesNotExist:
        return None  # the response's own render reports it
    origin = getattr(template, "origin", None)
    name = getattr(origin, "template_name", None)
    return name if name in names else None


@receiver(setting_changed)
def _templates_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("TEMPLATES", "INSTALLED_APPS"):
        template_choice.cache_clear()


class TemplateChoiceMiddleware(MiddlewareMixin):
    def process_template_response(self, request: HttpRequest, response: Any) -> Any:
        names = getattr(response, "template_name", None)
        if (
            isinstance(response, SimpleTemplateResponse)
            and isinstance(names, list | tuple)
            and len(names) > 1
            and all(isinstance(name, str) for name in names)
            and not settings.DEBUG
        ):
            chosen = template_choice(tuple(names), response.using)
            if chosen is not None:
                response.template_name = chosen
        return response
