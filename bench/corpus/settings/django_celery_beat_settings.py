from _corpus_base import *  # noqa: F403

INSTALLED_APPS = CONTRIB + ["django_celery_beat"]  # noqa: F405
