from _corpus_base import *  # noqa: F403

# guardian.testapp holds the models the package's own tests use (and its custom user model).
INSTALLED_APPS = CONTRIB + ["guardian", "guardian.testapp"]  # noqa: F405
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_USER_MODEL = "testapp.CustomUser"
GUARDIAN_MONKEY_PATCH_USER = False
