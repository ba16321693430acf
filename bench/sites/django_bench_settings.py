"""Settings for running over Django's own source tree: every contrib app that has models and
imports without extra system libraries (GeoDjango needs GDAL, so it is left out). Never served;
nothing connects to the database."""

SECRET_KEY = "bench-only"
SITE_ID = 1
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.admindocs",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.flatpages",
    "django.contrib.humanize",
    "django.contrib.messages",
    "django.contrib.postgres",
    "django.contrib.redirects",
    "django.contrib.sessions",
    "django.contrib.sitemaps",
    "django.contrib.sites",
    "django.contrib.staticfiles",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "bench"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
