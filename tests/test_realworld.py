"""Shapes from real packages (issue 11) beyond the inline expectations of
fixtures/project/realworld/: DGC100's reasons, a linted path that is not the project root, and
the race that proves a former false DGC002 wrong on PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flake8_run import PROJECT, parse_reports, run_flake8

CASES = "realworld/case_realworld.py"


def _lines(rel: str, needle: str) -> int:
    for number, line in enumerate((PROJECT / rel).read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def _dgc100(rel: str) -> dict[int, str]:
    result = run_flake8(
        "--select", "DGC", "--extend-select", "DGC100",
        "--django-settings-module", "goc_project.settings", "--format",
        "%(path)s:%(row)d:%(col)d:%(code)s:%(text)s", rel,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    return {r.line: r.text for r in parse_reports(result.stdout) if r.code == "DGC100"}


def _reports(rel: str, code: str) -> dict[int, str]:
    result = run_flake8(
        "--select", "DGC", "--extend-select", code,
        "--django-settings-module", "goc_project.settings", "--format",
        "%(path)s:%(row)d:%(col)d:%(code)s:%(text)s", rel,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    return {r.line: r.text for r in parse_reports(result.stdout) if r.code == code}


def test_a_model_method_named_get_or_create_is_named_as_the_project_api() -> None:
    # The model is known (no DGC100): its get_or_create() is the project's own (DGC102).
    reasons = _reports(CASES, "DGC102")
    line = _lines(CASES, 'Activity.get_or_create("x")')
    assert "Activity is a model class (realworld.Activity)" in reasons[line]
    assert "the project's own method, not the QuerySet method" in reasons[line]
    assert line not in _dgc100(CASES)


def test_a_classmethod_of_a_module_class_is_the_project_api() -> None:
    rel = "realworld/case_own_method.py"
    reasons = _reports(rel, "DGC102")
    line = _lines(rel, "LabelSerializer.get_or_create(")
    assert "LabelSerializer is a class of this module" in reasons[line]
    assert _dgc100(rel) == {}


def test_an_ambiguous_accessor_names_the_owner_models_not_the_target_twice() -> None:
    reasons = _dgc100(CASES)
    text = reasons[_lines(CASES, "owner.events.get_or_create")]
    assert "'events' is a related manager of realworld.Project, realworld.Team" in text
    # Everything else in the file is tied to a model.
    assert set(reasons) == {_lines(CASES, "owner.events.get_or_create")}


def test_two_dot_relative_imports_resolve_when_linting_from_outside_the_project_root() -> None:
    # `flake8 project/...` from the project's parent (a src layout): the module name comes from
    # the nearest imported package, not from the current directory.
    rel = "project/realworld/views/deep.py"
    result = run_flake8(
        "--select", "DGC", "--extend-select", "DGC100",
        "--django-settings-module", "goc_project.settings", rel,
        cwd=PROJECT.parent, env={"PYTHONPATH": str(PROJECT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.usefixtures("django_project")
def test_self_in_a_model_method_meets_an_isnull_false_condition_on_postgresql() -> None:
    # Formerly DGC002: the conditional constraint (workspace, name) WHERE workspace IS NOT NULL
    # does cover Seat.objects.get_or_create(workspace=self, ...): self is a saved row.
    import threading

    from race import _run_threads, racing_get, reset_database
    from realworld.models import Seat, Workspace

    reset_database()
    workspace = Workspace.objects.create(name="w")
    barrier = threading.Barrier(2, timeout=10)
    with racing_get():
        threads = _run_threads(lambda: Workspace.objects.get(pk=workspace.pk).seat("a"), 2,
                               False, barrier)  # fmt: skip
    assert all(t.reached_barrier for t in threads), [t.describe() for t in threads]
    assert all(t.error is None for t in threads), [t.describe() for t in threads]
    created = sorted(t.value[1] for t in threads)
    assert created == [False, True], [t.describe() for t in threads]
    assert Seat.objects.filter(workspace=workspace, name="a").count() == 1
    # And without the instance the condition does not hold: NULL workspaces collect duplicates.
    Seat.objects.create(workspace=None, name="a")
    Seat.objects.create(workspace=None, name="a")
    assert Seat.objects.filter(workspace=None, name="a").count() == 2


def test_cwd_is_unchanged() -> None:
    assert Path(os.getcwd()).exists()


@pytest.mark.usefixtures("django_project")
def test_a_defaults_variable_leaves_the_manager_filter_met_on_postgresql() -> None:
    # Formerly DGC006: `defaults = {"active": active}` bound earlier names its keys, so the
    # created row gets linked=True from the field default and meets the manager's filter.
    import threading

    from race import _run_threads, racing_get, reset_database
    from realworld.case_defaults import link, link_with_a_note
    from realworld.models import Membership, Workspace

    reset_database()
    workspace = Workspace.objects.create(name="m")
    for call in (lambda: link(workspace, 7, False), lambda: link_with_a_note(workspace, 8, "n")):
        barrier = threading.Barrier(2, timeout=10)
        with racing_get():
            threads = _run_threads(call, 2, False, barrier)
        assert all(t.reached_barrier for t in threads), [t.describe() for t in threads]
        assert all(t.error is None for t in threads), [t.describe() for t in threads]
        assert sorted(t.value[1] for t in threads) == [False, True], [t.describe() for t in threads]
        assert call()[1] is False  # the next call finds the row through the filtered manager
    assert Membership.objects.filter(workspace=workspace).count() == 2
    assert Membership.objects.get(user_id=8).note == "n"


@pytest.mark.usefixtures("django_project")
def test_a_translated_lookup_key_is_covered_on_postgresql() -> None:
    # Formerly DGC001 (now DGC102, not judged): cidr= is no field, but the queryset's get()
    # looks up network and length from it and Subnet.__init__ writes them, so the unique
    # (zone, network, length) turns the losing INSERT into the IntegrityError the retry handles.
    import threading

    from race import _run_threads, racing_get, reset_database
    from realworld.case_translated import translated_key_covered_only_through_the_translation
    from realworld.models import Subnet

    reset_database()
    barrier = threading.Barrier(2, timeout=10)
    with racing_get():
        threads = _run_threads(translated_key_covered_only_through_the_translation, 2, False,
                               barrier)  # fmt: skip
    assert all(t.reached_barrier for t in threads), [t.describe() for t in threads]
    assert all(t.error is None for t in threads), [t.describe() for t in threads]
    assert sorted(t.value[1] for t in threads) == [False, True], [t.describe() for t in threads]
    assert translated_key_covered_only_through_the_translation()[1] is False
    assert Subnet.objects.filter(network="10.0.0.0", length=8).count() == 1


@pytest.mark.usefixtures("django_project")
def test_an_empty_lookup_races_on_postgresql() -> None:
    # Formerly not reported: get_or_create() with no lookup matches any row, so two concurrent
    # calls on an empty table both insert (DGC001), and the next call raises
    # MultipleObjectsReturned. A unique field with a constant default stops the second row and
    # Django's re-read returns the first (no finding).
    import threading

    from race import _run_threads, racing_get, reset_database
    from realworld.case_empty_lookup import preferences, site_lock
    from realworld.models import Preferences, SiteLock

    reset_database()
    barrier = threading.Barrier(2, timeout=10)
    with racing_get():
        threads = _run_threads(preferences, 2, False, barrier)
    assert all(t.reached_barrier for t in threads), [t.describe() for t in threads]
    assert all(t.error is None for t in threads), [t.describe() for t in threads]
    assert [t.value[1] for t in threads] == [True, True], [t.describe() for t in threads]
    assert Preferences.objects.count() == 2
    with pytest.raises(Preferences.MultipleObjectsReturned):
        preferences()

    barrier = threading.Barrier(2, timeout=10)
    with racing_get():
        threads = _run_threads(site_lock, 2, False, barrier)
    assert all(t.reached_barrier for t in threads), [t.describe() for t in threads]
    assert all(t.error is None for t in threads), [t.describe() for t in threads]
    assert sorted(t.value[1] for t in threads) == [False, True], [t.describe() for t in threads]
    assert SiteLock.objects.count() == 1


@pytest.mark.usefixtures("django_project")
def test_each_manager_instance_has_its_own_filter_on_postgresql() -> None:
    # Formerly DGC011 for both: all_objects is LinkedManager(linked_only=False), which does not
    # filter, so an unlinked row is found and returned; objects hides it, its INSERT fails on
    # unique_together and the narrowed retry misses: the IntegrityError escapes.
    from django.db import IntegrityError
    from race import reset_database
    from realworld.case_manager_instances import link, link_any
    from realworld.models import Membership, Workspace

    reset_database()
    workspace = Workspace.objects.create(name="links")
    hidden = Membership.objects.create(workspace=workspace, user_id=5, linked=False)
    row, created = link_any(workspace, 5)
    assert (row.pk, created) == (hidden.pk, False)
    with pytest.raises(IntegrityError):
        link(workspace, 5)
