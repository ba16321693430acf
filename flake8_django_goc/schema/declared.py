"""Uniqueness the ORM cannot see, declared in the configuration (``django-goc-extra-unique``).

Unique sets that exist in the database but not in ``_meta`` (a unique index created by a
``RunSQL`` migration), as ``app.Model:field1,field2`` entries, added to the Schema.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from flake8_django_goc.schema import Schema, UniqueSet

SOURCE = "declared unique in the configuration"


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the option and the fix."""


def split_entries(values: Iterable[str] | str | None) -> list[str]:
    """Entries separated by whitespace, newlines or semicolons (flake8 config style)."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [entry for value in values for entry in re.split(r"[\s;]+", value) if entry]


def parse_extra_unique(entries: Iterable[str]) -> list[tuple[str, tuple[str, ...]]]:
    parsed = []
    for entry in entries:
        label, sep, fields = entry.partition(":")
        names = tuple(f.strip() for f in fields.split(",") if f.strip())
        if not sep or "." not in label or not names:
            raise ConfigError(
                f"django-goc-extra-unique entry {entry!r} is not of the form "
                "app_label.Model:field1,field2"
            )
        parsed.append((label, names))
    return parsed


def with_extra_unique(schema: Schema, entries: Iterable[str]) -> Schema:
    """The Schema with the declared unique sets added to each model (and its MTI children and
    proxies, whose unique sets include their parents')."""
    extra = parse_extra_unique(entries)
    if not extra:
        return schema
    by_lower = {label.lower(): label for label in schema.models}
    for label, fields in extra:
        declared = by_lower.get(label.lower())
        if declared is None:
            raise ConfigError(f"django-goc-extra-unique: {label!r} is not a model of this project")
        owner = schema.models[declared]
        normalised: list[str] = []
        for field in fields:
            names = owner.field_for_key(field)
            if names is None:
                raise ConfigError(f"django-goc-extra-unique: {declared} has no field {field!r}")
            normalised.extend(names)
        schema = add_unique_set(schema, declared, UniqueSet(tuple(normalised), SOURCE))
    return schema


def add_unique_set(schema: Schema, declared: str, unique_set: UniqueSet) -> Schema:
    """The Schema with ``unique_set`` (in ``declared``'s field names) added to that model and to
    its MTI children and proxies, whose unique sets include their parents' (with ``origin``)."""
    models = dict(schema.models)
    for label, model in models.items():
        related = (model.concrete_label or label) == declared or declared in model.parents
        if label == declared or related:
            origin = None if label == declared else declared
            added = dataclasses.replace(unique_set, origin=origin)
            models[label] = dataclasses.replace(model, unique_sets=(*model.unique_sets, added))
    return dataclasses.replace(schema, models=models)
