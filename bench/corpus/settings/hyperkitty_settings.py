"""HyperKitty (the Mailman 3 archiver) with the apps of its example project."""

from _corpus_base import *  # noqa: F403

INSTALLED_APPS = CONTRIB + SITES + [  # noqa: F405
    "hyperkitty",
    "rest_framework",
    "django_gravatar",
    "compressor",
    "haystack",
    "django_extensions",
    "django_q",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "django_mailman3",
]
MIDDLEWARE = MIDDLEWARE + [  # noqa: F405
    "allauth.account.middleware.AccountMiddleware",
    "django_mailman3.middleware.TimezoneMiddleware",
    "hyperkitty.middleware.SSLRedirect",
]
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
Q_CLUSTER = {"orm": "default"}
MAILMAN_REST_API_URL = "http://localhost:8001"
MAILMAN_REST_API_USER = "restadmin"
MAILMAN_REST_API_PASS = "restpass"
MAILMAN_ARCHIVER_KEY = "corpus"
MAILMAN_ARCHIVER_FROM = ("127.0.0.1",)
COMPRESS_ENABLED = False
STATICFILES_FINDERS = (
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "compressor.finders.CompressorFinder",
)
STATIC_ROOT = "/tmp/goc-corpus-hyperkitty-static"
