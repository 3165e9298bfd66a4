"""The foundations: what every app builds on and nothing here may import an app.

The Graph client, days and zones, the admin and API bases, the audit helpers, validators, the
database router, checks and health. The project package above (adminassistant/) composes the apps;
the apps sit between the two. import-linter keeps the folders honest (pyproject.toml).
"""
