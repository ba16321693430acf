"""The command's text gate for hand-written checks (find/gate.py) never drops a file the finder
would report on: whenever ``find_handrolled`` finds a pair, a check or a validator on a file,
``may_hold_pair`` lets the file through."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from flake8_django_goc.find.gate import may_hold_pair
from flake8_django_goc.find.pairs import could_contain_pair, find_handrolled

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _sources() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*.py") if could_contain_pair(p.read_text("utf-8")))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_file_with_a_finding_passes(path: Path) -> None:
    source = path.read_text("utf-8")
    try:
        tree = ast.parse(source)
    except SyntaxError:
        pytest.skip("not Python (a bad-input fixture)")
    if find_handrolled(source, tree):
        assert may_hold_pair(source)


def test_the_fixtures_hold_findings() -> None:
    # Guards the test above: it must see files with findings, and files the gate drops.
    sources = [p.read_text("utf-8") for p in _sources()]
    with_findings = [s for s in sources if find_handrolled(s, None)]
    assert len(with_findings) >= 10
    assert any(not may_hold_pair(s) for s in sources)


PAIR = """\
    try:
        row = Tag.objects.get(name=name)
    except Tag.DoesNotExist:
        row = Tag.objects.create(name=name)
"""


@pytest.mark.parametrize(
    "source",
    [
        "def f(name):\n" + PAIR,
        "async def f(name):\n" + PAIR,
        "class V:\n    def f(self, name):\n" + textwrap.indent(PAIR, "    "),
        # A nested definition between the check and the create: the outer span runs on.
        "def f(name):\n    try:\n        row = Tag.objects.get(name=name)\n"
        "        def g():\n            pass\n"
        "    except Tag.DoesNotExist:\n        row = Tag.objects.create(name=name)\n",
        # A line of a string that starts like a definition: the rest is that line's span.
        'def f(name):\n    """Example:\ndef g(): ...\n"""\n' + PAIR,
        "def f(qs):\n    if qs.filter(slug=1).exists():\n        raise ValueError\n",
        "class S:\n    slug = F(validators=[UniqueValidator(queryset=Tag.objects.all())])\n",
    ],
)
def test_shapes_pass(source: str) -> None:
    assert find_handrolled(source, None), "the finder itself must find something here"
    assert may_hold_pair(source)


@pytest.mark.parametrize(
    "source",
    [
        # A test that creates in one method and checks in another.
        "class T:\n    def test_a(self):\n        Tag.objects.create(name='a')\n\n"
        "    def test_b(self):\n        if not Tag.objects.filter(name='a').exists():\n"
        "            pass\n",
        # A create at module level, the check in a function.
        "Tag.objects.create(name='a')\n\ndef f():\n    if not Tag.objects.exists():\n"
        "        pass\n",
    ],
)
def test_create_and_check_in_different_definitions_are_dropped(source: str) -> None:
    assert could_contain_pair(source)
    assert not find_handrolled(source, None)
    assert not may_hold_pair(source)
