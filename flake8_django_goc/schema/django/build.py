"""Build the run's Schema: set Django up, read every model, the import map and DGC007's settings.

``load_schema`` is the entry point: at most one Schema per process, from the on-disk cache when it
is provably fresh (``cache``), else built here.
"""

from __future__ import annotations

import gc
import os

from flake8_django_goc.schema import BackendFacts, Schema
from flake8_django_goc.schema.django.imports import import_paths
from flake8_django_goc.schema.django.isolation import isolation_findings
from flake8_django_goc.schema.django.models import label_of, model_facts
from flake8_django_goc.schema.django.safe import Warnings
from flake8_django_goc.schema.django.setup import SetupError, first_line, setup_django


def build_schema(settings_module: str, root: str | None = None) -> Schema:
    """Set up Django and read every model's facts.

    The cyclic garbage collector is paused meanwhile and Django's objects are then frozen
    (gc.freeze): otherwise every collection rescans the whole loaded project, which made reading
    and caching Wagtail's models several times slower, and slows the rest of the run too."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build_schema(settings_module, root)
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


def _build_schema(settings_module: str, root: str | None) -> Schema:
    setup_django(settings_module, root)
    import django
    from django.apps import apps

    # Past setup, nothing that cannot be read costs the run: it is named once and left out.
    warnings = Warnings()
    try:
        model_classes = apps.get_models(include_auto_created=True)
    except Exception as exc:
        raise SetupError(
            f"listing the models of {settings_module!r} failed: {first_line(exc)}. "
            "Please report this to flake8-django-goc with the model definitions."
        ) from None
    backends: dict[str, BackendFacts] = {}
    models = {}
    for model in model_classes:
        try:
            if model._meta.abstract:
                continue
            label = label_of(model)
            models[label] = model_facts(model, backends, warnings)
        except Exception as exc:
            where = f"{model.__module__}.{model.__qualname__}"
            warnings.add(
                f"cannot read the model {where} ({first_line(exc)}); it is left out, so calls on "
                "it are not judged. Please report this to flake8-django-goc with the model "
                "definition"
            )
    by_path, module_files, constants, factories = import_paths(model_classes, warnings)
    from django.conf import settings

    try:
        settings_findings = tuple(isolation_findings(settings_module))
    except Exception as exc:
        settings_findings = ()
        warnings.add(
            f"cannot read the transaction isolation of DATABASES ({first_line(exc)}); DGC007 is "
            "not checked. Please report this to flake8-django-goc"
        )
    user_model = getattr(settings, "AUTH_USER_MODEL", None)
    return Schema(
        models=models,
        user_model=user_model if user_model in models else None,
        by_path=by_path,
        module_files=module_files,
        constants=constants,
        factories=factories,
        django_version=django.get_version(),
        settings_module=settings_module,
        settings_findings=settings_findings,
        warnings=warnings.items(),
    )


# ---------------------------------------------------------------------------------- once per run

_loaded: dict[str, Schema] = {}


def load_schema(settings_module: str, use_cache: bool = True, root: str | None = None) -> Schema:
    """The Schema for ``settings_module``: from the on-disk cache when fresh, else built by
    setting Django up (at most once per process). ``root``: the project root (where manage.py
    is), put on ``sys.path``; default the current directory."""
    if settings_module not in _loaded:
        if _loaded:
            (other,) = _loaded
            raise SetupError(
                f"Django is already set up with {other!r} in this process; it cannot also load "
                f"{settings_module!r}."
            )
        if use_cache and not os.environ.get("FLAKE8_DJANGO_GOC_NO_CACHE"):
            from flake8_django_goc.schema.django import cache as schema_cache

            _loaded[settings_module] = schema_cache.cached(settings_module, build_schema, root)
            gc.freeze()  # the loaded Schema lives as long as the run: keep it out of collections
        else:
            _loaded[settings_module] = build_schema(settings_module, root)
    return _loaded[settings_module]
