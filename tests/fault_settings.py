"""The project's settings, plus the fault points (tests.faultpoints) of the killed-worker tests."""

from adminassistant.settings import *  # noqa: F403
from adminassistant.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.faultpoints"]
