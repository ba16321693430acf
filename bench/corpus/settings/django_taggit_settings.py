from _corpus_base import *  # noqa: F403

INSTALLED_APPS = CONTRIB + ["taggit"]  # noqa: F405
