"""Every rule, declared once (one ``dgcNNN.py`` module each), and the registry that serves them.

To add a rule: write ``dgcNNN.py`` with ``RULE = Rule(...)`` (see ``base.py``), add the module to
``_MODULES`` below, give it a case file in the fixture project, and render the docs
(``python scripts/render_docs.py``).
"""

from __future__ import annotations

import importlib

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.findings import (
    MAX_NAME,
    MAX_NAME_ORACLE,
    ConstraintFix,
    Finding,
    constraint_name,
    fields_text,
)

__all__ = [
    "MAX_NAME",
    "MAX_NAME_ORACLE",
    "OPT_IN",
    "RACE_CODES",
    "RULES",
    "ConstraintFix",
    "Finding",
    "Rule",
    "constraint_name",
    "fields_text",
    "opted_in",
    "rule_named",
    "severity",
]

DGC001 = "DGC001"
DGC002 = "DGC002"
DGC003 = "DGC003"
DGC004 = "DGC004"
DGC005 = "DGC005"
DGC006 = "DGC006"
DGC007 = "DGC007"
DGC008 = "DGC008"
DGC009 = "DGC009"
DGC010 = "DGC010"
DGC011 = "DGC011"
DGC012 = "DGC012"
DGC100 = "DGC100"
DGC101 = "DGC101"
DGC102 = "DGC102"
# Produced only by `db-check`, which reads the database.
DGC201 = "DGC201"
DGC202 = "DGC202"
DGC203 = "DGC203"

_MODULES = (
    "dgc001",
    "dgc002",
    "dgc003",
    "dgc004",
    "dgc005",
    "dgc006",
    "dgc007",
    "dgc008",
    "dgc009",
    "dgc010",
    "dgc011",
    "dgc012",
    "dgc100",
    "dgc101",
    "dgc102",
    "dgc201",
    "dgc202",
    "dgc203",
)

RULES: dict[str, Rule] = {}
for _name in _MODULES:
    _rule: Rule = importlib.import_module(f"{__name__}.{_name}").RULE
    assert _rule.code == _name.upper(), _name
    RULES[_rule.code] = _rule


def _opt_in_prefix(code: str) -> str:
    """The shortest prefix of an opt-in code that starts no default-on code (DGC1 for DGC1xx,
    the whole code for one among default-on codes): selecting it, or anything longer, opts in."""
    on = [c for c, rule in RULES.items() if rule.default]
    for end in range(len("DGC") + 1, len(code)):
        if not any(c.startswith(code[:end]) for c in on):
            return code[:end]
    return code


# Opt-in rules (Rule.default=False): reported only when selected by one of these prefixes, or a
# longer one. They are flake8's extended default ignore.
_OPT_IN_PREFIX = {code: _opt_in_prefix(code) for code, rule in RULES.items() if rule.opt_in}
OPT_IN = tuple(sorted(set(_OPT_IN_PREFIX.values())))
assert all(rule.opt_in == code.startswith(OPT_IN) for code, rule in RULES.items())
# The findings a serialising lock makes moot: two calls running at the same time.
RACE_CODES = frozenset(code for code, rule in RULES.items() if rule.race)


def opted_in(chosen: list[str]) -> set[str]:
    """Opt-in codes named by --select/--extend-select entries like DGC1, DGC10 or DGC101."""
    return {
        code
        for code, prefix in _OPT_IN_PREFIX.items()
        for entry in chosen
        if len(entry.strip()) >= len(prefix) and code.startswith(entry.strip())
    }


def severity(code: str) -> str:
    rule = RULES.get(code)
    return rule.severity if rule is not None else "error"


def rule_named(name: str) -> Rule | None:
    """A rule by code (``dgc004``) or name (``nullable-lookup``)."""
    wanted = name.strip()
    return RULES.get(wanted.upper()) or next(
        (rule for rule in RULES.values() if rule.name == wanted.lower()), None
    )
