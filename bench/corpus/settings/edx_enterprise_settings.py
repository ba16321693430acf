"""edx-enterprise outside edx-platform: its apps and the third-party apps its models use.

Modeled on the package repository's test settings (enterprise/settings/test.py in the source).
"""

from _corpus_base import *  # noqa: F403

INSTALLED_APPS = CONTRIB + SITES + [  # noqa: F405
    "waffle",
    "rules.apps.AutodiscoverRulesConfig",
    "simple_history",
    "django_countries",
    "oauth2_provider",
    "rest_framework",
    "django_filters",
    "edx_rbac",
    "config_models",
    "enterprise",
    "consent",
    "enterprise_learner_portal",
    "integrated_channels.integrated_channel",
    "integrated_channels.blackboard",
    "integrated_channels.canvas",
    "integrated_channels.cornerstone",
    "integrated_channels.degreed",
    "integrated_channels.degreed2",
    "integrated_channels.moodle",
    "integrated_channels.sap_success_factors",
    "integrated_channels.xapi",
]
MIDDLEWARE = MIDDLEWARE + ["crum.CurrentRequestUserMiddleware"]  # noqa: F405
FERNET_KEYS = ["corpus-not-a-real-key-corpus-not-a-real-key="]
LMS_ROOT_URL = "http://lms.example.com"
LMS_INTERNAL_ROOT_URL = LMS_ROOT_URL
ENTERPRISE_CATALOG_INTERNAL_ROOT_URL = "http://catalog.example.com"
ENTERPRISE_ENROLLMENT_API_URL = LMS_ROOT_URL + "/api/enrollment/v1/"
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH_ID_TOKEN_EXPIRATION = 3600
COURSE_CATALOG_URL_ROOT = "http://catalog.example.com"
ECOMMERCE_PUBLIC_URL_ROOT = "http://ecommerce.example.com"
