"""Askbot, after its project template (askbot/setup_templates/settings.py.jinja2)."""

import os
import site

import askbot

from _corpus_base import *  # noqa: F403

ASKBOT_ROOT = os.path.abspath(os.path.dirname(askbot.__file__))
site.addsitedir(os.path.join(ASKBOT_ROOT, "deps"))

INSTALLED_APPS = (
    "askbot",
    "askbot.deps.django_authopenid",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.humanize",
    "django.contrib.messages",
    "django.contrib.sessions",
    "django.contrib.sitemaps",
    "django.contrib.sites",
    "django.contrib.staticfiles",
    "avatar",
    "django_recaptcha",
    "compressor",
    "django_jinja",
    "django_countries",
    "followit",
    "keyedcache",
    "kombu.transport.memory",
    "livesettings",
)
ASKBOT_COMMON_CONTEXT_PREPROCESSORS = [
    "askbot.context.application_settings",
    "askbot.user_messages.context_processors.user_messages",
    "django.contrib.messages.context_processors.messages",
    "django.contrib.auth.context_processors.auth",
]
TEMPLATES = (
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "APP_DIRS": True,
        "DIRS": [],
        "OPTIONS": {
            "environment": "askbot.skins.jinja2_environment.factory",
            "autoescape": False,
            "context_processors": ASKBOT_COMMON_CONTEXT_PREPROCESSORS,
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"] + ASKBOT_COMMON_CONTEXT_PREPROCESSORS},
    },
)
MIDDLEWARE = (
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "askbot.middleware.ratelimit.RateLimitMiddleware",
    "askbot.middleware.analytics_session.AnalyticsSessionMiddleware",
    "askbot.middleware.head_request.HeadRequestMiddleware",
    "askbot.middleware.anon_user.ConnectToSessionMessagesMiddleware",
    "askbot.middleware.forum_mode.ForumModeMiddleware",
    "askbot.middleware.cancel.CancelActionMiddleware",
    "askbot.middleware.view_log.ViewLogMiddleware",
)
ATOMIC_REQUESTS = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "askbot",
                      "TIMEOUT": 6000, "KEY_PREFIX": "askbot"}}
LIVESETTINGS_CACHE_TIMEOUT = 6000
AUTHENTICATION_BACKENDS = (
    "django.contrib.auth.backends.ModelBackend",
    "askbot.deps.django_authopenid.backends.AuthBackend",
)
ASKBOT_URL = ""
ASKBOT_LANGUAGE_MODE = "single-lang"
LANGUAGE_CODE = "en"
LANGUAGES = (("en", "English"),)
CELERY_TASK_ALWAYS_EAGER = True
STATICFILES_DIRS = (("default/media", os.path.join(ASKBOT_ROOT, "media")),)
STATICFILES_FINDERS = (
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "compressor.finders.CompressorFinder",
)
JINJA2_EXTENSIONS = ("compressor.contrib.jinja2ext.CompressorExtension",)
JINJA2_TEMPLATES = ("django_recaptcha",)
ENABLE_HAYSTACK_SEARCH = False
NOCAPTCHA = True
ASKBOT_TRANSLATE_URL = True
ASKBOT_USE_STACKEXCHANGE_URLS = False
ALLOW_UNICODE_SLUGS = False
LOGIN_URL = "/account/signin/"
LOGIN_REDIRECT_URL = ""
DOMAIN_NAME = ""
NOTIFICATION_DELAY_TIME = 60 * 15
ASKBOT_CSS_DEVEL = False
VERIFIER_EXPIRE_DAYS = 3
AVATAR_AUTO_GENERATE_SIZES = (16, 32, 48, 128)
ASKBOT_ALLOWED_UPLOAD_FILE_TYPES = (".jpg", ".jpeg", ".gif", ".bmp", ".png", ".tiff")
ASKBOT_MAX_UPLOAD_FILE_SIZE = 1024 * 1024
ADMIN_MEDIA_PREFIX = STATIC_URL + "admin/"  # noqa: F405
ASKBOT_SELF_TEST = False  # askbot's startup self-test checks a deployed site
STATIC_ROOT = "/tmp/goc-corpus-askbot-static"
