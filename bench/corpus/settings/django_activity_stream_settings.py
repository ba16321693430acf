from _corpus_base import *  # noqa: F403

INSTALLED_APPS = CONTRIB + SITES + ["actstream"]  # noqa: F405
ACTSTREAM_SETTINGS = {"USE_JSONFIELD": True}
