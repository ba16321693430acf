"""Common settings of the corpus packages. Nothing here ever connects to a database."""

SECRET_KEY = "flake8-django-goc-corpus-not-secret"
DEBUG = False
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

POSTGRES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "corpus",
        "USER": "corpus",
        "PASSWORD": "corpus",
        "HOST": "127.0.0.1",
        "PORT": "5432",
    }
}
DATABASES = POSTGRES

CONTRIB = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
SITES = ["django.contrib.sites"]
SITE_ID = 1

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "/static/"
MEDIA_URL = "/media/"
