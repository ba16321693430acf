"""Nautobot's own defaults (nautobot.core.settings) with a PostgreSQL database that is never used.

nautobot.core.settings reads NAUTOBOT_* environment variables; the defaults suffice. Nautobot's
test apps (example_app, used by its tests) are not installed: they ship only in its repository.
"""

from nautobot.core.settings import *  # noqa: F403
from nautobot.core.settings_funcs import *  # noqa: F403

SECRET_KEY = "flake8-django-goc-corpus-not-secret"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "nautobot",
        "USER": "nautobot",
        "PASSWORD": "nautobot",
        "HOST": "127.0.0.1",
        "PORT": "5432",
    }
}

# Nautobot's default cache is Redis, which model code may touch: keep it in memory.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CONSTANCE_DATABASE_CACHE_BACKEND = None
