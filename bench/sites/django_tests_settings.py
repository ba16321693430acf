"""Settings for running over a Django source checkout (``django/`` and ``tests/``): the contrib
apps of django_bench_settings plus the test apps whose code calls get_or_create-family methods,
so those calls can be tied to models. Needs the checkout's ``tests/`` directory on sys.path (as
Django's runtests.py puts it). Never served; nothing connects to the database."""

from django_bench_settings import *  # noqa: F403
from django_bench_settings import INSTALLED_APPS as CONTRIB_APPS

INSTALLED_APPS = [
    *CONTRIB_APPS,
    "async",
    "basic",
    "composite_pk",
    "delete",
    "delete_regress",
    "forms_tests",
    "generic_relations",
    "get_or_create",
    "m2m_through",
    "many_to_one",
    "many_to_one_null",
    "multiple_database",
    "one_to_one",
    "queries",
    "sites_framework",
]
