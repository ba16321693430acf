"""What the judge hands to the report: a ``Finding`` (code, message) and the fix it names."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# PostgreSQL truncates identifiers at 63 bytes, Oracle's historical limit is 30.
MAX_NAME = 63
MAX_NAME_ORACLE = 30


@dataclass(frozen=True)
class ConstraintFix:
    """The UniqueConstraint that makes a call safe: what `fix-models` adds to the model's Meta."""

    model: str  # label of the model whose table holds every field
    fields: tuple[str, ...]
    name: str
    nulls_distinct: bool | None = None  # False: the fix for DGC004

    def code(self) -> str:
        field_list = ", ".join(f'"{f}"' for f in self.fields)
        extra = ", nulls_distinct=False" if self.nulls_distinct is False else ""
        return f'models.UniqueConstraint(fields=[{field_list}]{extra}, name="{self.name}")'


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    fix: ConstraintFix | None = None

    def text(self) -> str:
        return f"{self.code} {self.message}"


def constraint_name(label: str, fields: tuple[str, ...], limit: int = MAX_NAME) -> str:
    """``<app>_<model>_<fields>_uniq``, shortened with a stable hash to fit ``limit``."""
    app, model = label.lower().split(".", 1)
    name = f"{app}_{model}_{'_'.join(fields)}_uniq"
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 14].rstrip('_')}_{digest}_uniq"


def fields_text(fields: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(fields) + ")"
