"""The libcst finder: which calls it sees, where, and what it records. No Django."""

from __future__ import annotations

import ast

import pytest

from flake8_django_goc.find.calls import ImportBinding, find_calls, positions_from_ast

SOURCE = """\
import shop.models
import shop.models as sm
from shop import models
from shop.models import Order as O, Basket
from . import local
from ..pkg.mod import Thing


async def view(request):
    order, _ = await O.objects.aget_or_create(
        number="1",
        defaults={"status": "new", **extra},
    )
    x = [Basket.objects.filter(a=1).get_or_create(owner=u)[0] for u in users]
    y = f(Order.objects.update_or_create(**{"number": "2"}, create_defaults=dict(s=1)))
    return Order.objects.get_or_create(n=1)[0].lines.get_or_create(p=2)


class Manager:
    def get_or_create(self, **kw):
        return super().get_or_create(**kw)
"""


def test_finds_every_call_with_ast_positions() -> None:
    tree = ast.parse(SOURCE)
    facts, calls = find_calls(SOURCE, positions_from_ast(tree))
    _, fallback = find_calls(SOURCE)  # libcst's own positions must agree
    assert [(c.line, c.col) for c in calls] == [(c.line, c.col) for c in fallback]
    assert [(c.method, c.line, c.col) for c in calls] == [
        ("aget_or_create", 10, 21),
        ("get_or_create", 14, 9),
        ("update_or_create", 15, 10),
        ("get_or_create", 16, 11),
        ("get_or_create", 16, 11),
        ("get_or_create", 21, 15),
    ]
    first = calls[0]
    assert first.receiver_code == "O.objects"
    defaults = first.args.get("defaults")
    assert defaults is not None and defaults.items is not None
    assert [k for k, _ in defaults.items] == ["status"] and not defaults.items_complete
    assert [f.kind for f in first.scope] == ["module", "function"]
    assert first.scope[-1].name == "view"
    chained = calls[1]
    assert [s.kind for s in chained.receiver] == ["name", "attr", "attr", "call"]
    assert chained.receiver[3].args is not None
    assert chained.receiver[3].args.kwargs[0][0] == "a"
    expanded = calls[2]
    assert [k for k, _ in expanded.args.kwargs] == ["number", "create_defaults"]
    assert expanded.args.kwargs[0][1].literal == "2"
    outer, inner = calls[3], calls[4]
    assert outer.receiver_code.endswith(".lines") and inner.receiver_code == "Order.objects"
    assert [(f.kind, f.name) for f in calls[5].scope] == [
        ("module", ""),
        ("class", "Manager"),
        ("function", "get_or_create"),
    ]
    assert facts.imports["shop"] == ImportBinding("shop")
    assert facts.imports["sm"] == ImportBinding("shop.models")
    assert facts.imports["models"] == ImportBinding("shop", "models")
    assert facts.imports["O"] == ImportBinding("shop.models", "Order")
    assert facts.imports["local"] == ImportBinding("", "local", 1)
    assert facts.imports["Thing"] == ImportBinding("pkg.mod", "Thing", 2)
    assert facts.classes == {"Manager"}


@pytest.mark.parametrize(
    ("code", "literal"),
    [("1", 1), ("-1", -1), ("'a' 'b'", "ab"), ("None", None), ("True", True), ("(1, 2)", (1, 2))],
)
def test_literals(code: str, literal: object) -> None:
    _, (call,) = find_calls(f"M.objects.get_or_create(x={code})")
    assert call.args.kwargs[0][1].literal == literal


def test_non_literals_stay_unknown() -> None:
    _, (call,) = find_calls("M.objects.get_or_create(x=y, z=f(1), w=[a])")
    assert not any(v.is_literal for _, v in call.args.kwargs)


def test_plain_functions_and_other_names_are_not_calls() -> None:
    _, calls = find_calls("get_or_create(a=1)\nx.get_or_create_thing(a=1)\nx.get_or_create\n")
    assert calls == []


def test_bindings_record_what_names_hold() -> None:
    source = (
        "def f(basket: Basket, n):\n"
        "    order, created = Order.objects.get_or_create(n=n)\n"
        "    for line in basket.lines.all():\n"
        "        line.tags.get_or_create(name='x')\n"
        "    order = None\n"
    )
    _, (_, inner) = find_calls(source)
    frame = inner.scope[-1]
    assert frame.lookup("basket", inner.order).annotation == "Basket"
    order = frame.lookup("order", inner.order)
    assert order.index == 0 and [s.kind for s in order.value] == ["name", "attr", "attr", "call"]
    line = frame.lookup("line", inner.order)
    assert line.kind == "for" and line.value[-2].name == "all"
    assert frame.lookup("order", 10**6).value[0].name == "None"  # the later `order = None`


REDUCIBLE = '''\
import x


def idle(a):
    """Docstring."""
    for i in a:
        yield i


@register(M.objects.get_or_create(name="decorator"))
def decorated():
    return 1


async def busy(shelf: Shelf):
    def inner_idle():
        return [j for j in range(3)]

    return await shelf.volumes.aget_or_create(title="t")


class Views:
    def one_liner(self): return 1

    @property
    def idle_method(self):
        return self.pk

    def other(self):
        if True:
            pass
        return M.objects.get_or_create(n=1)
'''


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_idle_function_bodies_are_dropped_before_libcst_sees_them(newline: str) -> None:
    from flake8_django_goc.find.calls import without_idle_functions

    source = REDUCIBLE.replace("\n", newline)
    tree = ast.parse(source)
    positions = positions_from_ast(tree)
    reduced = without_idle_functions(source, tree, positions)
    assert reduced is not None
    assert "yield i" not in reduced and "range(3)" not in reduced
    assert "def idle(a):" in reduced  # a module-level function keeps its header
    # A method or a nested function without a call goes whole, with its decorators.
    assert "inner_idle" not in reduced and "one_liner" not in reduced
    assert "idle_method" not in reduced and "@property" not in reduced
    assert 'get_or_create(name="decorator")' in reduced and "aget_or_create" in reduced
    ast.parse(reduced)  # still valid Python
    _, full = find_calls(source, positions)
    _, pruned = find_calls(source, positions, tree)
    assert [(c.line, c.col, c.receiver, c.args) for c in full] == [
        (c.line, c.col, c.receiver, c.args) for c in pruned
    ]
    assert pruned[1].scope[-1].lookup("shelf", pruned[1].order).annotation == "Shelf"


def test_sources_with_odd_line_breaks_are_not_reduced() -> None:
    from flake8_django_goc.find.calls import without_idle_functions

    source = "def f():\n    return 1\x0c\n\nM.objects.get_or_create(a=1)\n"
    tree = ast.parse(source)
    assert without_idle_functions(source, tree, positions_from_ast(tree)) is None
    _, (call,) = find_calls(source, positions_from_ast(tree), tree)
    assert call.line == 4


PRUNED_WALK = """\
@register(M.objects.get_or_create(name="decorator"))
@other
def f(a=M.objects.update_or_create(k=1)):
    x = [M.objects.aget_or_create(k=i) for i in range(3)]
    y = lambda: M.objects.bulk_create([M()], ignore_conflicts=True)
    z = f"{M.objects.get_or_create(k=2)}"
    match x:
        case [1]:
            M.objects.get_or_create(k=3)
    return (M.objects
        .filter(a=1)
        .
        get_or_create(k=4))


@decorate(M.objects.get_or_create(k=5))
class C:
    def m(self):
        return 1
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_the_pruned_walk_finds_every_call(newline: str) -> None:
    """Only the lines that mention a method's name are walked: decorators above a definition's
    own line, a call whose name is on its last line, comprehensions and f-strings included."""
    source = PRUNED_WALK.replace("\n", newline)
    tree = ast.parse(source)
    full = positions_from_ast(tree)
    assert len(full) == 8
    assert positions_from_ast(tree, source) == full
