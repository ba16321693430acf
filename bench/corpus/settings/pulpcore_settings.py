"""Pulp's own settings (pulpcore.app.settings, built with dynaconf) with no plugin enabled.

Pulp reads /etc/pulp/settings.py and PULP_* environment variables when they exist; its defaults
already name a PostgreSQL database (never connected to here). The secret key is set through the
environment dynaconf reads, before the import.

"""

import os
import tempfile

# Pulp insists on reading a Fernet key for its encrypted fields: a fixed one, in a temporary file.
_key = os.path.join(tempfile.gettempdir(), "goc-corpus-pulp-database_fields.symmetric.key")
if not os.path.exists(_key):
    with open(_key, "w") as _f:
        _f.write("Y29ycHVzLWNvcnB1cy1jb3JwdXMtY29ycHVzLWNvcnA=\n")
os.environ.setdefault("PULP_DB_ENCRYPTION_KEY", _key)
os.environ.setdefault("PULP_SECRET_KEY", "flake8-django-goc-corpus-not-secret")
os.environ.setdefault("PULP_SETTINGS", "/nonexistent/goc-corpus-pulp-settings.py")

# dynaconf binds Pulp's settings to the module pulpcore.app.settings: Django must load that
# module itself, or (when this module is imported before django.setup(), as the plugin does)
# dynaconf's values such as DOMAIN_ENABLED go missing. So hand over to it.
os.environ["DJANGO_SETTINGS_MODULE"] = "pulpcore.app.settings"

from pulpcore.app.settings import *  # noqa: E402,F403
