"""Rule codes and the one-line messages a user reads."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

DGC001 = "DGC001"
DGC002 = "DGC002"
DGC003 = "DGC003"
DGC004 = "DGC004"
DGC005 = "DGC005"
DGC006 = "DGC006"
DGC007 = "DGC007"
DGC100 = "DGC100"
DGC101 = "DGC101"

RULES: dict[str, str] = {
    DGC001: "lookup not covered by any database-enforced uniqueness",
    DGC002: "covered only by a conditional unique constraint not shown to hold for the new row",
    DGC003: "covered only by a deferred unique constraint (error surfaces at COMMIT)",
    DGC004: "covering unique sets contain a nullable field looked up as None (NULLs never collide)",
    DGC005: "lookup key repeated in defaults/create_defaults",
    DGC006: "a SELECT condition the created row does not meet (filter/exclude, a filtering "
    "manager, a __ lookup key)",
    DGC007: "database isolation level above READ COMMITTED",
    DGC100: "could not tell which model the call works on (opt-in)",
    DGC101: "lookup built from dynamic **kwargs (opt-in)",
}
# Opt-in diagnostics: reported only when selected by a prefix at least this specific.
OPT_IN = ("DGC1",)


def opted_in(chosen: list[str]) -> set[str]:
    """Opt-in codes named by --select/--extend-select entries like DGC1, DGC10 or DGC101."""
    return {
        code
        for code in RULES
        if code.startswith(OPT_IN)
        for entry in chosen
        if len(entry) >= len(OPT_IN[0]) and code.startswith(entry.strip())
    }


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
