from _corpus_base import *  # noqa: F403

INSTALLED_APPS = CONTRIB + ["django_celery_results"]  # noqa: F405
