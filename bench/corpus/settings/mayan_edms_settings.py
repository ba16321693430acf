"""Mayan EDMS's own settings (mayan.settings) with a PostgreSQL database that is never used.

Mayan reads MAYAN_* environment variables and a config.yml under its media root; both are set
here, before the import, to a temporary directory and a fixed key.
"""

import os
import tempfile

os.environ.setdefault("MAYAN_MEDIA_ROOT", os.path.join(tempfile.gettempdir(), "goc-corpus-mayan"))
os.environ.setdefault("MAYAN_SECRET_KEY", "flake8-django-goc-corpus-not-secret")
os.environ.setdefault(
    "MAYAN_DATABASES",
    "{'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': 'mayan', 'USER': 'mayan',"
    " 'PASSWORD': 'mayan', 'HOST': '127.0.0.1', 'PORT': '5432'}}",
)

from mayan.settings import *  # noqa: E402,F403

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "mayan",
        "USER": "mayan",
        "PASSWORD": "mayan",
        "HOST": "127.0.0.1",
        "PORT": "5432",
    }
}

# Mayan configures its file storages per app; Django's own 'default' is left undefined, which
# breaks code that touches default_storage while models are read.
STORAGES = {**STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}  # noqa: F405
