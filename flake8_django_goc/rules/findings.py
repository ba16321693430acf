"""What the judge hands to the report: a ``Finding`` (code, message) and the fix it names."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

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
    # A partial constraint's condition: literal `lookup=value` pairs, ANDed (`status="new"`,
    # `day__isnull=True`); empty: unconditional.
    condition: tuple[tuple[str, Any], ...] = ()

    def condition_code(self, q: str = "models.Q") -> str:
        return f"{q}({', '.join(f'{k}={_literal(v)}' for k, v in self.condition)})"

    def code(self) -> str:
        field_list = ", ".join(f'"{f}"' for f in self.fields)
        extra = f", condition={self.condition_code()}" if self.condition else ""
        extra += ", nulls_distinct=False" if self.nulls_distinct is False else ""
        return f'models.UniqueConstraint(fields=[{field_list}]{extra}, name="{self.name}")'

    def business_rule(self) -> str:
        """What the constraint asserts about the data, for the user to confirm."""
        rows = "every row"
        if self.condition:
            rows += " with " + ", ".join(f"{k}={_literal(v)}" for k, v in self.condition)
        return (
            f"this makes {fields_text(self.fields)} unique for {rows}: check that it is the "
            "business rule"
        )


def _literal(value: Any) -> str:
    # Double quotes, as Django's and black's style writes strings.
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    fix: ConstraintFix | None = None

    def text(self) -> str:
        return f"{self.code} {self.message}"


def constraint_name(
    label: str,
    fields: tuple[str, ...],
    limit: int = MAX_NAME,
    condition: tuple[tuple[str, Any], ...] = (),
) -> str:
    """``<app>_<model>_<fields>_uniq`` (``..._<key>_<value>_uniq`` for each condition pair),
    shortened with a stable hash to fit ``limit``."""
    app, model = label.lower().split(".", 1)
    parts = [*fields, *(f"{k.replace('__isnull', '_null')}_{v}" for k, v in condition)]
    words = "_".join(parts).lower()
    cleaned = (
        re.sub(r"[^0-9a-z_]+", "_", words).strip("_")
        or hashlib.sha1(words.encode()).hexdigest()[:8]
    )
    name = f"{app}_{model}_{cleaned}_uniq"
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 14].rstrip('_')}_{digest}_uniq"


def fields_text(fields: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(fields) + ")"
