"""Tendenci's own settings (tendenci.settings) with a PostgreSQL database that is never used."""

import os
import tempfile

# tendenci.settings requires the project directory of a Tendenci site; nothing is written there.
os.environ.setdefault("TENDENCI_PROJECT_ROOT", os.path.join(tempfile.gettempdir(), "goc-corpus-tendenci"))

from tendenci.settings import *  # noqa: E402,F403

SECRET_KEY = "flake8-django-goc-corpus-not-secret"
SITE_SETTINGS_KEY = "flake8-django-goc-corpus"
DATABASES = {
    "default": {
        "ENGINE": "django.contrib.gis.db.backends.postgis",  # tendenci has GIS fields
        "NAME": "tendenci",
        "USER": "tendenci",
        "PASSWORD": "tendenci",
        "HOST": "127.0.0.1",
        "PORT": "5432",
    }
}

# tendenci's LOGGING writes files under the project root: log to the console only.
LOGGING = {"version": 1, "disable_existing_loggers": False}

# tendenci's default cache is memcached, which its apps read while they load: keep it in memory.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "KEY_PREFIX": "goc"}}
CACHE_PRE_KEY = "goc"

# The themes that ship with tendenci (the site's own themes directory does not exist here).
import tendenci as _tendenci  # noqa: E402

THEMES_DIR = ORIGINAL_THEMES_DIR = os.path.join(os.path.dirname(_tendenci.__file__), "themes")  # noqa: F811
