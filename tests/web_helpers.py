"""A signed-in browser client for the admin and page tests."""

from __future__ import annotations

from django.test import Client

from accounts.models import User


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
