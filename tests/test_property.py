"""Generated Python source through the finder and the per-file pipeline: they never crash.

Three sources of programs: hypothesmith's grammar-based generator (``from_grammar``: any text the
grammar allows, often not even compilable), its libcst-based one (``from_node``: valid modules),
and a strategy of our own that splices random expressions, keyword arguments, ``**`` parts,
awaits and receiver chains into get_or_create-shaped call templates, inside random contexts
(functions, async functions, classes, lambdas, comprehensions, decorators). Each goes through
``calls.find_calls`` (with positions from ``ast`` when ``ast.parse`` succeeds, as the plugin does)
and through ``check.check_source`` with a small hand-built Schema. ``libcst.ParserSyntaxError``
is the only exception allowed; and where both ``ast`` and libcst parse the code, the positions
the plugin takes from ``ast`` must be the ones libcst itself computes.
"""

from __future__ import annotations

import ast
import warnings

import hypothesmith
import libcst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flake8_django_goc.find.calls import find_calls, positions_from_ast
from flake8_django_goc.pipeline import check_source
from flake8_django_goc.schema import (
    UNKNOWN,
    BackendFacts,
    Condition,
    FieldFacts,
    ManagerFacts,
    ModelFacts,
    RelationFacts,
    Schema,
    UniqueSet,
)

# hypothesmith's generator compiles what it draws: its SyntaxWarnings are not ours.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# ------------------------------------------------------------------------------------ schema

MANAGERS = (
    ManagerFacts("objects", "django.db.models.manager.Manager"),
    ManagerFacts(
        "open_things",
        "app.models.OpenManager",
        lookup=(("status", "open"),),
        filters=(("status", "open"),),
        methods=(("for_owner", (("filter", "owner", UNKNOWN),)),),
    ),
)
ACTIVE = Condition("AND", False, (("active", True),), "Q(active=True)")
THING = ModelFacts(
    label="app.Thing",
    object_name="Thing",
    module="app.models",
    qualname="Thing",
    fields={
        f.name: f
        for f in (
            FieldFacts("id", "id", primary_key=True, unique=True),
            FieldFacts("name", "name", unique=True, default=""),
            FieldFacts("slug", "slug", default=""),
            FieldFacts("status", "status", default="open"),
            FieldFacts("active", "active", default=True),
            FieldFacts("campaign", "campaign", null=True),
            FieldFacts("owner", "owner_id", is_relation=True, related_label="app.Owner"),
        )
    },
    unique_sets=(
        UniqueSet(("id",), "primary key"),
        UniqueSet(("name",), "unique=True"),
        UniqueSet(("owner", "slug"), "UniqueConstraint", name="c", condition=ACTIVE),
        UniqueSet(("slug",), "UniqueConstraint", name="d", deferred=True),
        UniqueSet(("slug", "campaign"), "unique_together"),
        UniqueSet(
            ("slug",),
            "UniqueConstraint",
            name="l",
            expressions="Lower(F(slug))",
            ci_fields=("slug",),
        ),
    ),
    managers=MANAGERS,
    backend=BackendFacts(vendor="PostgreSQL"),
    mro=("app.models.Thing", "app.models.Base"),
)
OWNER = ModelFacts(
    label="app.Owner",
    object_name="Owner",
    module="app.models",
    qualname="Owner",
    fields={"id": FieldFacts("id", "id", primary_key=True, unique=True)},
    unique_sets=(UniqueSet(("id",), "primary key"),),
    managers=MANAGERS[:1],
    relations=(
        RelationFacts("things", "reverse_fk", "app.Thing", ("owner",)),
        RelationFacts("tags", "m2m", "app.Thing", (), through="app.Thing"),
    ),
    backend=BackendFacts(vendor="MySQL", partial=False, deferrable=False),
    mro=("app.models.Owner", "app.models.Base"),
)
SCHEMA = Schema(
    models={m.label: m for m in (THING, OWNER)},
    by_path={"app.models.Thing": "app.Thing", "app.models.Owner": "app.Owner"},
    module_files={"app.models": "/nonexistent/app/models.py"},
    constants={"app.models.Thing.OPEN": "open", "app.models.Thing.Status.DONE": "done"},
    user_model=None,
)

# -------------------------------------------------------------------------- the properties


def run_pipeline(source: str) -> None:
    """find_calls and check_source on ``source``; only a libcst parse error may escape."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # "'int' object is not callable"
            tree: ast.Module | None = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    try:
        positions = positions_from_ast(tree) if tree is not None else None
        _, calls = find_calls(source, positions)
    except libcst.ParserSyntaxError:
        return
    if tree is not None:  # walking only the lines that mention a name finds the same calls
        assert positions_from_ast(tree, source) == positions
    if positions is not None and len(positions) == len(calls):
        # The plugin takes positions from ast, matched to libcst's calls by order: they must be
        # the ones libcst computes itself (ast counts columns in UTF-8 bytes, libcst in chars).
        _, own = find_calls(source)
        assert [(c.line, _byte_col(source, c.line, c.col)) for c in own] == positions
    check_source(source, "app/views.py", SCHEMA, tree)
    check_source(source, "app/__init__.py", SCHEMA, None)  # positions from libcst


def _byte_col(source: str, line: int, col: int) -> int:
    """libcst counts columns in characters, ast in UTF-8 bytes."""
    text = source.splitlines()[line - 1] if line - 1 < len(source.splitlines()) else ""
    return len(text[:col].encode("utf-8"))


@SETTINGS
@given(hypothesmith.from_grammar())
def test_grammar_generated_source(source: str) -> None:
    run_pipeline(source)


@settings(SETTINGS, max_examples=20)  # from_node draws slowly
@given(hypothesmith.from_node())
def test_node_generated_source(source: str) -> None:
    run_pipeline(source)


# ------------------------------------------------ get_or_create-shaped calls in random contexts

NAMES = st.sampled_from(["x", "n", "self", "Thing", "Owner", "models", "obj", "kw", "request"])
ATTRS = st.sampled_from(
    ["objects", "open_things", "things", "tags", "OPEN", "Status", "DONE", "owner", "pk", "user"]
)
LEAVES = st.one_of(
    NAMES,
    st.builds("{}.{}".format, NAMES, ATTRS),
    st.integers(-3, 300).map(str),
    st.sampled_from(["None", "True", "False", "...", "1.5", "2j", "b'x'", "'a'", '"é"', "f'{x}'"]),
    st.text("abc_é'\"\\", max_size=4).map(repr),
)
KEYS = st.sampled_from(
    [
        *("name", "slug", "status", "active", "campaign", "owner", "owner_id", "pk", "id"),
        *("missing", "name__iexact", "slug__in", "owner__name", "defaults", "create_defaults"),
        "using",
    ]
)


def _expressions(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pairs = st.lists(st.tuples(KEYS, children), max_size=3)
    return st.one_of(
        st.builds("{}({})".format, NAMES, children),
        st.builds("{}.{}".format, children.map("({})".format), ATTRS),
        st.builds("{}[{}]".format, children, children),
        st.builds("({} if {} else {})".format, children, children, children),
        st.builds("[{}, {}]".format, children, children),
        st.builds("({},)".format, children),
        st.builds("{{{}}}".format, children),
        pairs.map(lambda ps: "{" + ", ".join(f"{k!r}: {v}" for k, v in ps) + "}"),
        pairs.map(lambda ps: "dict(" + ", ".join(f"{k}={v}" for k, v in ps) + ")"),
        st.builds("{{**{}, 'name': {}}}".format, children, children),
        st.builds("(lambda q: {})".format, children),
        st.builds("[{} for x in {}]".format, children, children),
        st.builds("-{}".format, children),
        st.builds("({} or {})".format, children, children),
        st.builds("await {}".format, children),
        st.builds("(yield {})".format, children),
    )


EXPRESSIONS = st.recursive(LEAVES, _expressions, max_leaves=8)
RECEIVERS = st.one_of(
    st.sampled_from(
        [
            "Thing.objects",
            "Thing.open_things",
            "Thing._default_manager",
            "models.Thing.objects",
            "m.Thing.objects",
            "Owner.objects",
            "owner.things",
            "self.owner.things",
            "self.tags",
            "Thing.objects.filter(status='x').exclude(active=False).using('other')",
            "Thing.open_things.for_owner(owner)",
            "Thing.objects.select_for_update().all()",
            "self.model.objects",
            "cls.objects",
            "type(self).objects",
            "x[0].things",
            "(a or b)",
            "get().objects",
            "Thing.objects.get_or_create(name=n)[0].owner.things",
        ]
    ),
    EXPRESSIONS,
)
METHOD = st.sampled_from(["get_or_create", "update_or_create", "aget_or_create"])
ARG = st.one_of(
    st.builds("{}={}".format, KEYS, EXPRESSIONS),
    st.builds("defaults={{{}: {}}}".format, KEYS.map(repr), EXPRESSIONS),
    st.builds("create_defaults=dict({}={})".format, KEYS, EXPRESSIONS),
    st.builds("**{{{}: {}}}".format, KEYS.map(repr), EXPRESSIONS),
    st.builds("**{}".format, EXPRESSIONS),
    st.builds("*{}".format, EXPRESSIONS),
    EXPRESSIONS,
)


@st.composite
def call_source(draw: st.DrawFn) -> str:
    args = draw(st.lists(ARG, max_size=5))
    prefix = draw(st.sampled_from(["", "await ", "obj, created = ", "x = ", "return "]))
    call = f"{draw(RECEIVERS)}.{draw(METHOD)}({', '.join(args)})"
    if draw(st.booleans()):
        call = f"{call}[0].things.{draw(METHOD)}(name={draw(EXPRESSIONS)})"
    statement = prefix + call
    header = draw(
        st.lists(
            st.sampled_from(
                [
                    "from app.models import Thing, Owner",
                    "from app import models",
                    "import app.models as m",
                    "from .models import Thing",
                    "from ..app.models import Owner as Thing",
                    "from app.models import *",
                    "import app",
                    "class Thing(models.Model):\n    OPEN = 'o'",
                    "Thing = Owner",
                    "owner: Owner = get()",
                    "for owner in Owner.objects.all(): pass",
                ]
            ),
            max_size=4,
        )
    )
    wrap = draw(
        st.sampled_from(
            [
                "{s}",
                "def f(self, owner: Owner, x=1, *a, **kw):\n    {s}",
                "async def f(self, request):\n    owner = Owner.objects.get()\n    {s}",
                "class V(Base):\n    model = Thing\n    def get(self, cls):\n        {s}",
                "class V:\n    @classmethod\n    async def m(cls):\n        {s}",
                "@decorate({s})\ndef f(): pass",
                "lambda: {s}",
                "[{s} for owner in Owner.objects.all() if owner]",
                "with atomic():\n    try:\n        {s}\n    except E:\n        pass",
                "if x:\n    {s}\nelse:\n    {s}",
            ]
        )
    )
    return "\n".join([*header, wrap.format(s=statement), ""])


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(call_source())
def test_generated_get_or_create_calls(source: str) -> None:
    run_pipeline(source)


def test_generated_calls_are_mostly_valid_python_with_calls() -> None:
    """The template strategy mostly produces code both parsers accept, with candidate calls in
    it, so the properties above check the real pipeline and not just the error path."""
    parsed = []

    @settings(max_examples=80, deadline=None, derandomize=True, database=None)
    @given(call_source())
    def collect(source: str) -> None:
        try:
            tree = ast.parse(source)
            _, calls = find_calls(source, positions_from_ast(tree))
        except (SyntaxError, libcst.ParserSyntaxError):
            parsed.append(0)
            return
        parsed.append(len(calls))

    collect()
    assert sum(1 for n in parsed if n) >= len(parsed) // 2, parsed
