from _corpus_base import *  # noqa: F403

INSTALLED_APPS = CONTRIB + ["waffle"]  # noqa: F405
MIDDLEWARE = MIDDLEWARE + ["waffle.middleware.WaffleMiddleware"]  # noqa: F405
