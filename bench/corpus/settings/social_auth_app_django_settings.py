from _corpus_base import *  # noqa: F403

INSTALLED_APPS = CONTRIB + ["social_django"]  # noqa: F405
