"""Prove the cases' expectations on PostgreSQL.

Each case gets up to three tests:

- ``race``: two threads race without an outer transaction. DGC001/DGC002/DGC004 promise a
  duplicate; anything else promises no duplicate, and with no DGC005/DGC006 exactly one row.
- ``atomic``: the same race inside ``transaction.atomic()``. DGC003 promises an escaping
  ``IntegrityError``; a case without any finding promises exactly one row.
- ``repeat``: two calls in a row. DGC005/DGC006 promise that the second call does not find the
  first one's row; a case without any finding promises that it does.
"""

from __future__ import annotations

import django
import pytest
from race import (
    ATOMIC,
    DUP,
    ONE,
    RACE,
    REPEAT,
    UNPROTECTED,
    Case,
    checks_for,
    collect_cases,
    expected_race_outcome,
    race,
    repeat,
    reset_database,
)


def _params() -> list[object]:
    params: list[object] = []
    for case in collect_cases():
        marks = []
        if case.requires_django and django.VERSION[: len(case.requires_django)] < (
            case.requires_django
        ):
            version = ".".join(map(str, case.requires_django))
            marks.append(pytest.mark.skip(reason=f"{case.path.name} needs Django >= {version}"))
        for check in checks_for(case):
            params.append(pytest.param(case, check, id=f"{case.id}-{check}", marks=marks))
    return params


def _expectation(case: Case) -> str:
    codes = ", ".join(sorted(case.codes)) or "ok"
    return f"{case.location} {case.name} (expect: {codes})"


@pytest.mark.usefixtures("django_project")
@pytest.mark.parametrize(("case", "check"), _params())
def test_race(case: Case, check: str) -> None:
    reset_database()
    if check == RACE:
        _check_race(case)
    elif check == ATOMIC:
        _check_atomic(case)
    elif check == REPEAT:
        _check_repeat(case)
    else:  # pragma: no cover
        raise AssertionError(check)


def _check_race(case: Case) -> None:
    result = race(case, atomic=False)
    expected = expected_race_outcome(case)
    if expected is None:
        assert result.outcome != DUP, (
            f"{_expectation(case)}: the race must not duplicate; {result.describe()}"
        )
    else:
        assert result.outcome == expected, (
            f"{_expectation(case)}: expected race outcome {expected!r}; {result.describe()}"
        )


def _check_atomic(case: Case) -> None:
    result = race(case, atomic=True)
    deferred = case.has("DGC003") and not case.has(*UNPROTECTED)
    expected = "error:IntegrityError" if deferred else ONE
    assert result.outcome == expected, (
        f"{_expectation(case)}: inside transaction.atomic() expected {expected!r}; "
        f"{result.describe()}"
    )


def _check_repeat(case: Case) -> None:
    first, second = repeat(case)
    assert first.error is None and first.value[1] is True, (
        f"{_expectation(case)}: the first call on a clean database must create; "
        f"it {first.describe()}"
    )
    found_first = (
        second.error is None
        and second.value[1] is False
        and second.value[0].pk == first.value[0].pk
    )
    if case.has("DGC005", "DGC006"):
        assert second.error is not None or second.value[1] is not False, (
            f"{_expectation(case)}: the second call must not find the created row; "
            f"it {second.describe()}"
        )
    else:
        assert found_first, (
            f"{_expectation(case)}: the second call must return the first row with "
            f"created=False; first {first.describe()}, second {second.describe()}"
        )
