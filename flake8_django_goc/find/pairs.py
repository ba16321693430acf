"""Hand-written get-or-create and uniqueness checks, found on flake8's ``ast`` tree (no libcst).

A *pair* is a check on a model followed, on the path where the check found nothing, by a create:
``try: M.objects.get(...) except M.DoesNotExist: M.objects.create(...)``, ``if not qs.exists():
...create(...)``, ``x = qs.first(); if x is None: ...``, ``if not qs.update(...): ...create()``.
A *python check* is ``if qs.exists(): raise ...``; a *validator* is DRF's ``UniqueValidator`` /
``UniqueTogetherValidator``. Only positions, receiver chains and argument texts are recorded
here; resolve and judge (judge/handrolled.py) decide what they mean. Only functions that hold one
of them go on to libcst (for the scopes their receivers are resolved in).
"""

from __future__ import annotations

import ast
import bisect
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from flake8_django_goc.find.expressions import Dicts, call_args, steps, value
from flake8_django_goc.find.records import (
    CallArgs,
    Check,
    Handling,
    HandRolled,
    Pair,
    PyCheck,
    Step,
    Validator,
)
from flake8_django_goc.find.scopes import Definition, ScopeBuilder
from flake8_django_goc.schema import UNKNOWN
from flake8_django_goc.schema.orm import (
    COUNT_METHODS,
    CREATE_METHODS,
    EXISTS_METHODS,
    FIRST_METHODS,
    GET_METHODS,
    SAVE_METHODS,
    UPDATE_METHODS,
)

# Checks whose result a name keeps for a later `if x:` (x = qs.first(), n = qs.update(...)).
_NAMED_CHECKS = frozenset((*FIRST_METHODS, *UPDATE_METHODS, *COUNT_METHODS, *EXISTS_METHODS))

# Text gate: a pair needs a create and a check; a python check an exists() and a raise.
_CREATES = ("create(", ".save(", "asave(")
# A catch-all handler also runs on a get()'s DoesNotExist (`except Exception: create()`);
# `hasattr(user, "profile")` / `getattr(user, "profile", None)` read a one-to-one row.
_OTHER_CHECKS = ("except Exception", "except BaseException", "except:", "hasattr(", "getattr(")
_CHECKS = (
    "DoesNotExist",
    "exists(",
    "first(",
    "last(",
    "count(",
    "update(",
    "filter(",
    *_OTHER_CHECKS,
)
VALIDATORS = ("UniqueValidator", "UniqueTogetherValidator")


# Exceptions whose handler sees an IntegrityError (django.db's hierarchy, and the catch-alls).
_INTEGRITY = frozenset({"IntegrityError", "DatabaseError", "Error", "Exception", "BaseException"})
_MISSING = frozenset({"DoesNotExist", "ObjectDoesNotExist"})
_CATCH_ALL = frozenset({"Exception", "BaseException"})  # a bare except too


def could_contain_pair(source: str) -> bool:
    if any(v in source for v in VALIDATORS):
        return True
    if "exists(" in source and "raise" in source:
        return True
    return any(c in source for c in _CREATES) and any(c in source for c in _CHECKS)


def find_handrolled(source: str, tree: ast.AST | None) -> HandRolled:
    if not could_contain_pair(source):
        return HandRolled()
    if tree is None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return HandRolled()
    finder = _Finder()
    hot = Hot(source)
    builder: ScopeBuilder | None = None
    for node, parents in _definitions(getattr(tree, "body", []), hot, ()):
        before = (len(finder.pairs), len(finder.checks), len(finder.validators))
        if isinstance(node, ast.ClassDef):
            finder.class_body(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            finder.function(node)
        else:
            finder.module_statement(node)
        if before == (len(finder.pairs), len(finder.checks), len(finder.validators)):
            continue
        builder = builder or ScopeBuilder(tree)
        inside = (*parents, node) if isinstance(node, Definition) else parents
        finder.pairs[before[0] :] = [
            replace(p, scope=builder.scope(inside, p.line, p.col))
            for p in finder.pairs[before[0] :]
        ]
        finder.checks[before[1] :] = [
            replace(c, scope=builder.scope(inside, c.check.line, c.check.col))
            for c in finder.checks[before[1] :]
        ]
        finder.validators[before[2] :] = [
            replace(v, scope=builder.scope(inside, v.line, v.col))
            for v in finder.validators[before[2] :]
        ]
    if builder is None:
        return HandRolled()
    return HandRolled(
        tuple(finder.pairs), tuple(finder.checks), tuple(finder.validators), builder.module_facts()
    )


def _method_call(node: ast.AST) -> tuple[ast.Call, str] | None:
    if isinstance(node, ast.Await):
        node = node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node, node.func.attr
    return None


def _last_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return _last_name(node.func)
    return ""


def _is_atomic(node: ast.expr) -> bool:
    return _last_name(node) == "atomic"


def _short(node: ast.AST) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _check_of(node: ast.expr, dicts: Dicts | None = None) -> Check | None:
    """A check expression: ``qs.exists()``, ``qs.count()``, ``qs.first()``, ``qs.get(...)``,
    ``qs.update(...)``, ``len(qs)``, a bare ``qs``."""
    if isinstance(node, ast.Await):
        node = node.value
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "len"
        and len(node.args) == 1
    ):
        receiver = steps(node.args[0], dicts)
        if receiver is None:
            return None
        return Check("len", node.lineno, node.col_offset, _short(node), receiver)
    if isinstance(node, ast.Name):
        return Check("bool", node.lineno, node.col_offset, node.id, (Step("name", node.id),))
    accessor = _accessor_probe(node)
    if accessor is not None:
        return accessor
    found = _method_call(node)
    if found is None:
        return None
    call, method = found
    base = method.removeprefix("a") if method.startswith("a") else method
    if base not in ("exists", "count", "first", "last", "get", "update"):
        return None
    if call.args and base != "update":
        return None  # os.path.exists(p), str.count(x), dict.get(k): no queryset method
    if base in ("exists", "count", "first", "last") and call.keywords:
        return None
    receiver = steps(call.func.value, dicts)  # type: ignore[attr-defined]
    if receiver is None:
        return None
    kwargs = call_args(call, dicts) if base == "get" else CallArgs()
    return Check(method, call.lineno, call.col_offset, _short(call), receiver, kwargs)


_MIRRORED: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.Eq,
    ast.NotEq: ast.NotEq,
    ast.Lt: ast.Gt,
    ast.Gt: ast.Lt,
    ast.LtE: ast.GtE,
    ast.GtE: ast.LtE,
}


def _none_found(op: ast.cmpop, right: ast.expr) -> bool | None:
    """Whether ``count <op> right`` holds exactly when nothing was found (True), exactly when
    something was (False), or neither (None): ``== 0``, ``< 1``, ``<= 0`` against ``!= 0``,
    ``> 0``, ``>= 1``."""
    if not isinstance(right, ast.Constant) or type(right.value) is not int:
        return None
    value = right.value
    if value == 0 and isinstance(op, (ast.Eq, ast.LtE)):
        return True
    if value == 1 and isinstance(op, ast.Lt):
        return True
    if value == 0 and isinstance(op, (ast.NotEq, ast.Gt)):
        return False
    if value == 1 and isinstance(op, ast.GtE):
        return False
    return None


# Which branch of an `if` runs after the check found nothing / found a row.
Branch = str | None  # "body", "else" or None (either may run for another reason)
IfCheck = tuple[Check, Branch, Branch]  # (check, missing branch, found branch)


def _if_check(
    test: ast.expr, names: dict[str, Check], dicts: Dicts | None = None
) -> IfCheck | None:
    """The check of an if-test and which branch is its *missing* path and which its *found*
    path, else None. In ``a and not qs.exists()`` the body runs only after a miss, but the else
    branch also when ``a`` is false; in ``a or qs.exists()`` the else branch runs only after a
    miss. Operands that are themselves ``and``/``or`` are not read."""
    if isinstance(test, ast.BoolOp):
        operands = [
            _if_check(operand, names, dicts)
            for operand in test.values
            if not isinstance(operand, ast.BoolOp)
        ]
        found = [f for f in operands if f is not None]
        # `not flag and qs.exists()`: a bare name is a queryset only when nothing else is a check.
        found.sort(key=lambda f: f[0].method == "bool")
        if not found:
            return None
        first, missing, _ = found[0]
        if isinstance(test.op, ast.And):  # the body runs only where every operand is true
            return (first, "body", None) if missing == "body" else (first, None, "body")
        # `or`: the else branch runs only where every operand is false
        return (first, None, "else") if missing == "body" else (first, "else", None)
    negated = False
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        negated, test = True, test.operand
    if isinstance(test, ast.Await):
        test = test.value
    if isinstance(test, ast.NamedExpr):
        test = test.target  # `if not (x := qs.first()):` — x is in names
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if isinstance(left, ast.Constant) and type(op) in _MIRRORED:
            left, op, right = right, _MIRRORED[type(op)](), left  # `0 == qs.count()`
        if isinstance(left, ast.NamedExpr):
            left = left.target
        if isinstance(left, ast.Name) and left.id in names and isinstance(right, ast.Constant):
            named = names[left.id]
            if right.value is None and isinstance(op, (ast.Is, ast.IsNot)):
                return _plain(named, isinstance(op, ast.Is) != negated)
            none = _none_found(op, right)
            return None if none is None else _plain(named, none != negated)
        counted = _check_of(left, dicts)
        counts = ("count", "acount", "len", "update", "aupdate")
        none = _none_found(op, right)
        if counted is not None and counted.method in counts and none is not None:
            return _plain(counted, none != negated)
        none_test = isinstance(right, ast.Constant) and right.value is None
        if (
            counted is not None
            and counted.method in FIRST_METHODS
            and none_test
            and isinstance(op, (ast.Is, ast.IsNot))
        ):  # `qs.first() is None`
            return _plain(counted, isinstance(op, ast.Is) != negated)
        return None
    if isinstance(test, ast.Name) and test.id in names:
        return _plain(names[test.id], negated)
    check = _check_of(test, dicts)
    if check is None or (check.method in GET_METHODS and check.owner is None):
        return None
    if check.method == "bool" and not negated:
        return None  # `if qs:` alone is too common to read as a check
    return _plain(check, negated)


def _plain(check: Check, body_missing: bool) -> IfCheck:
    return (check, "body", "else") if body_missing else (check, "else", "body")


def _raises(body: list[ast.stmt]) -> bool:
    return any(isinstance(s, ast.Raise) for s in body)


def _catches(handler: ast.ExceptHandler, names: frozenset[str]) -> bool:
    if handler.type is None:
        return True  # a bare except catches everything
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(_last_name(t) in names for t in types)


@dataclass
class _Context:
    outer_atomic: bool = False
    handler: ast.ExceptHandler | None = None  # the innermost IntegrityError handler
    own_atomic: bool = False  # an atomic() block opened inside that handler's try
    enclosing_atomic: bool = False  # an atomic() open where that handler's try starts
    # Where select_for_update() first ran inside atomic(): a check after it is serialised (a
    # lock of the check's own rows starts where the check does, and locks no missing row).
    lock: tuple[int, int] | None = None

    def copy(self, **changes: Any) -> _Context:
        new = _Context(
            self.outer_atomic, self.handler, self.own_atomic, self.enclosing_atomic, self.lock
        )
        for name, change in changes.items():
            setattr(new, name, change)
        return new

    def serialises(self, check: Check) -> bool:
        return self.lock is not None and self.lock < (check.line, check.col)


@dataclass
class _Pending:
    check: Check
    done: bool = False
    # (name, attribute) assigned on the missing path before the insert: `x.f = v`.
    changed: set[tuple[str, str]] = field(default_factory=set)
    # After the branch that built it: only this instance's save() inserts on the missing path
    # (`if x is None: x = M(...)` then `x.save()`); other creates after it run either way.
    only: str | None = None
    refuses: bool = False  # the found path raises


Built = dict[str, tuple[ast.Call | None, list[ast.keyword]]]  # x = M(...); x.f = v


@dataclass
class _After:
    """What a statement leaves for the rest of its block: the statements after an `if` whose
    found path exits, or after a `try` whose body exits, run only after a miss (``pending``);
    an instance built on the missing path (``built``); a name falsy exactly after a miss
    (``try: x = qs.get() except DoesNotExist: x = None``)."""

    pending: _Pending | None = None
    built: Built = field(default_factory=dict)
    names: dict[str, Check] = field(default_factory=dict)


class _Finder:
    def __init__(self) -> None:
        self.pairs: list[Pair] = []
        self.checks: list[PyCheck] = []
        self.validators: list[Validator] = []
        self.dicts: Dicts = {}
        self.made: dict[str, ast.Call] = {}  # x = M(...) anywhere before, in source order
        self.built: list[Built] = []

    # -- functions -----------------------------------------------------------------------------
    def module_statement(self, node: ast.stmt) -> None:
        """A try/if/with at module level (``try: X = M.objects.get(...) except ...``)."""
        self.dicts, self.made = {}, {}
        self.block([node], _Context(), None)

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        ctx = _Context(outer_atomic=any(_is_atomic(d) for d in node.decorator_list))
        self.dicts = _LazyDicts(node)
        self.made = {}
        self.block(node.body, ctx, None)

    def block(self, body: list[ast.stmt], ctx: _Context, pending: _Pending | None) -> Built:
        names: dict[str, Check] = {}  # x = qs.first() / n = qs.update(...), for a later `if x`
        # x = M(...); x.f = v: what the enclosing block built before this one runs holds here.
        outer = self.built[-1] if self.built else None
        built = {n: (made, list(kw)) for n, (made, kw) in outer.items()} if outer else {}
        self.built.append(built)
        self.statements(body, ctx, pending, names, built)
        self.built.pop()
        return built

    def statements(
        self,
        body: list[ast.stmt],
        ctx: _Context,
        pending: _Pending | None,
        names: dict[str, Check],
        built: Built,
    ) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue  # visited on their own
            if pending is not None and not pending.done:
                self.find_create(stmt, ctx, pending, built)
            if ctx.lock is None and ctx.outer_atomic:
                ctx.lock = self.locks(stmt)
            if self.made and isinstance(stmt, ast.Expr):
                saved = _method_call(stmt.value)
                if saved is not None and saved[1] in SAVE_METHODS:
                    instance = saved[0].func.value  # type: ignore[attr-defined]
                    if isinstance(instance, ast.Name):
                        self.made.pop(instance.id, None)  # in the table now: a save() updates
            after = self.statement(stmt, ctx, pending, names)
            if after is not None:
                pending = after.pending or pending
                built.update(after.built)
                names.update(after.names)

    def locks(self, stmt: ast.stmt) -> tuple[int, int] | None:
        if isinstance(stmt, (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.While)):
            return None  # a lock taken in a nested block is found when it is visited
        if isinstance(stmt, ast.Assign) and _lazy_queryset(stmt.value):
            return None  # `qs = M.objects.select_for_update().filter(...)` locks nothing yet
        for node in _walk_here(stmt):
            if not isinstance(node, ast.Call):
                continue
            if _last_name(node.func) == "select_for_update" or any(
                isinstance(a, ast.Constant) and isinstance(a.value, str) and _ADVISORY in a.value
                for a in node.args
            ):
                return (node.lineno, node.col_offset)
        return None

    def statement(
        self, stmt: ast.stmt, ctx: _Context, pending: _Pending | None, names: dict[str, Check]
    ) -> _After | None:
        if isinstance(stmt, _SIMPLE) and stmt.value is not None:
            self.expression_pairs(stmt.value, ctx, names)
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            source = stmt.value
            made = isinstance(source, ast.Call) and _constructor(source)
            check = _check_of(source, self.dicts) if source is not None else None
            named = check is not None and (check.method in _NAMED_CHECKS or check.owner is not None)
            for target in targets:
                if isinstance(target, ast.Name):
                    if made:
                        self.made[target.id] = source  # type: ignore[assignment]
                    elif self.made:
                        self.made.pop(target.id, None)
                    if named:
                        names[target.id] = check  # type: ignore[assignment]
                    elif names:
                        names.pop(target.id, None)
            return None
        if self.made and isinstance(stmt, (ast.For, ast.AsyncFor)):
            for bound in _walk_here(stmt.target):
                if isinstance(bound, ast.Name):
                    self.made.pop(bound.id, None)
        if isinstance(stmt, ast.If):
            return self.if_statement(stmt, ctx, pending, names)
        if isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            return self.try_statement(stmt, ctx, pending)  # type: ignore[arg-type]
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            atomic = any(_is_atomic(item.context_expr) for item in stmt.items)
            inner = ctx.copy(
                outer_atomic=ctx.outer_atomic or atomic,
                own_atomic=ctx.own_atomic or (atomic and ctx.handler is not None),
            )
            self.block(stmt.body, inner, pending)
            ctx.lock = ctx.lock or inner.lock
            return None
        for block in ("body", "orelse"):
            children = getattr(stmt, block, None)
            if isinstance(children, list) and not isinstance(stmt, ast.ClassDef):
                self.block(children, ctx.copy(), pending)
        return None

    def expression_pairs(self, value: ast.expr, ctx: _Context, names: dict[str, Check]) -> None:
        """A check and a create in one expression: ``qs.first() or M.objects.create(...)``,
        ``qs.get() if qs.exists() else M.objects.create(...)``."""
        for node in _walk_here(value):
            missing: list[ast.expr] = []
            check: Check | None = None
            if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
                first = node.values[0]
                check = names.get(first.id) if isinstance(first, ast.Name) else None
                check = check or _check_of(first, self.dicts)
                if check is not None:
                    missing = node.values[1:]  # evaluated only when the check found nothing
            elif isinstance(node, ast.IfExp):
                found = _if_check(node.test, names, self.dicts)
                if found is not None and found[1] is not None:
                    check = found[0]
                    missing = [node.body if found[1] == "body" else node.orelse]
            for operand in missing:
                assert check is not None
                pending = _Pending(check)
                self.find_create(ast.Expr(value=operand), ctx, pending, {})
                if pending.done:
                    break

    def if_statement(
        self, stmt: ast.If, ctx: _Context, pending: _Pending | None, names: dict[str, Check]
    ) -> _After | None:
        for node in ast.walk(stmt.test):  # `if (x := qs.first()) is None:` names x too
            if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                named = _check_of(node.value, self.dicts)
                if named is not None and named.method in _NAMED_CHECKS:
                    names[node.target.id] = named
        found = _if_check(stmt.test, names, self.dicts)
        body_pending = else_pending = pending
        fresh: _Pending | None = None
        if found is not None:
            check, missing, found_path = found
            fresh = _Pending(check)
            if missing == "body":
                body_pending = fresh
            elif missing == "else":
                else_pending = fresh
            if (
                found_path == "body"
                and check.method in (*EXISTS_METHODS, *COUNT_METHODS)
                and _raises(stmt.body)
            ):
                self.checks.append(PyCheck(check, serialised=ctx.serialises(check)))
        body_built = self.block(stmt.body, ctx.copy(), body_pending)
        else_built = self.block(stmt.orelse, ctx.copy(), else_pending)
        if found is None or fresh is None or fresh.done:
            return None
        missing = found[1]
        if missing is None:
            return None
        other = stmt.orelse if missing == "body" else stmt.body
        fresh.refuses = _raises(other)
        branch = body_built if missing == "body" else else_built
        return _after_miss(fresh, _exits(other), branch, self.built[-1] if self.built else {})

    def try_statement(
        self, stmt: ast.Try, ctx: _Context, pending: _Pending | None
    ) -> _After | None:
        # `except Exception:` (or a bare except) also runs on the get()'s DoesNotExist.
        missing = [h for h in stmt.handlers if _catches(h, _MISSING | _CATCH_ALL)]
        integrity = [h for h in stmt.handlers if _catches(h, _INTEGRITY)]
        body_ctx = ctx.copy()
        if integrity:
            body_ctx = ctx.copy(
                handler=integrity[0], own_atomic=False, enclosing_atomic=ctx.outer_atomic
            )
        check = self.get_in(stmt.body) if missing else None
        if check is None and missing:
            check = _accessor_in(stmt.body, missing)
        self.block(stmt.body, body_ctx, pending)
        ctx.lock = ctx.lock or body_ctx.lock
        after: _After | None = None
        for handler in stmt.handlers:
            handler_pending = pending
            if handler in missing and check is not None:
                handler_pending = _Pending(check)
            built = self.block(handler.body, ctx.copy(), handler_pending)
            if handler_pending is None or handler_pending is pending or handler_pending.done:
                continue
            # The rest of the block after the try: only the missing path reaches it when the
            # body exits (`try: return qs.get() except DoesNotExist: pass`) and so does every
            # other handler.
            others = [h for h in stmt.handlers if h is not handler]
            found_exits = _exits(stmt.body) or _exits(stmt.orelse)  # `else: return`
            exits = found_exits and all(_exits(h.body) for h in others)
            before = self.built[-1] if self.built else {}
            after = _after_miss(handler_pending, exits, built, before) or after
        self.block(stmt.orelse, ctx.copy(), pending)
        self.block(stmt.finalbody, ctx.copy(), pending)
        if check is not None:
            # `try: x = qs.get(...) except DoesNotExist: x = None` (a row is always truthy), or
            # `try: qs.get(...); found = True except DoesNotExist: found = False`: x is falsy
            # after a miss only.
            name = _assigned_from(stmt.body, check) or _flag(stmt.body, missing, check)
            if name is not None:
                after = after or _After()
                after.names[name] = check
        return after

    def get_in(self, body: list[ast.stmt]) -> Check | None:
        """The get() whose DoesNotExist the handler catches: the first one in the try body."""
        for stmt in body:
            for node in _walk_here(stmt):
                found = _method_call(node) if isinstance(node, (ast.Call, ast.Await)) else None
                if found is not None and found[1] in GET_METHODS:
                    check = _check_of(node, self.dicts)  # type: ignore[arg-type]
                    if check is not None:
                        return check
        return None

    # -- the create on the missing path --------------------------------------------------------
    def find_create(
        self,
        stmt: ast.stmt,
        ctx: _Context,
        pending: _Pending,
        built: Built,
    ) -> None:
        if isinstance(stmt, (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.While)):
            return  # nested blocks are searched when they are visited, with their context
        if isinstance(stmt, (ast.AugAssign, ast.AnnAssign, ast.Assign)):
            for target in stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                    pending.changed.add((target.value.id, target.attr))
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, source = stmt.targets[0], stmt.value
            if (
                isinstance(target, ast.Name)
                and isinstance(source, ast.Call)
                and _constructor(source)
            ):
                built[target.id] = (source, list(source.keywords))
                return
            if isinstance(target, ast.Name):
                built.pop(target.id, None)  # rebound: no longer the instance the check saw
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                made = built.setdefault(target.value.id, (None, []))
                made[1].append(ast.keyword(arg=target.attr, value=source))
                # `ns.found = M.objects.create(...)` still inserts: look on.
        for node in _walk_here(stmt):
            found = _method_call(node) if isinstance(node, ast.Call) else None
            if found is None:
                continue
            call, method = found
            func = call.func
            assert isinstance(func, ast.Attribute)
            if method in CREATE_METHODS and pending.only is None:
                receiver = steps(func.value, self.dicts)
                if receiver is None:
                    continue
                self.add_pair(pending, call, method, receiver, call_args(call, self.dicts), ctx)
                return
            if method not in SAVE_METHODS:
                continue
            instance: str | None = None
            constructor: ast.Call | None
            if pending.only is not None and not isinstance(func.value, ast.Name):
                continue
            if isinstance(func.value, ast.Call) and _constructor(func.value):
                constructor, keywords = func.value, list(func.value.keywords)  # M(...).save()
            elif isinstance(func.value, ast.Name) and pending.only in (None, func.value.id):
                instance = func.value.id
                constructor, keywords = built.get(instance, (None, []))
                if constructor is None and instance in self.made:
                    constructor = self.made[instance]  # made before the check
                    keywords = [*constructor.keywords, *keywords]
            else:
                continue
            if constructor is not None:
                chain = steps(constructor.func, self.dicts)
                fake = ast.Call(func=constructor.func, args=constructor.args, keywords=keywords)
            elif instance is not None and _clears_pk(keywords):
                # `x.pk = None; x.save()` on the missing path: a copy, inserted as a new row of
                # x's own model (judge falls back to the check's model when x's is not known
                # and the check looked up x's own attributes).
                chain = (Step("name", instance), Step("attr", "__class__"))
                kept = [k for k in keywords if k.arg not in ("pk", "id")]
                fake = ast.Call(func=ast.Name(instance), args=[], keywords=kept)
            else:
                continue  # maybe a row read before: its save() is an UPDATE, no insert
            if chain is None:
                continue
            receiver = (*chain, Step("attr", "_default_manager"))
            changed = tuple(sorted(a for n, a in pending.changed if n == instance))
            self.add_pair(
                pending, call, method, receiver, call_args(fake, self.dicts), ctx, instance, changed
            )
            return

    def add_pair(
        self,
        pending: _Pending,
        call: ast.Call,
        method: str,
        receiver: tuple[Step, ...],
        written: CallArgs,
        ctx: _Context,
        instance: str | None = None,
        changed: tuple[str, ...] = (),
    ) -> None:
        pending.done = True
        handler = ctx.handler
        reraises = handler is not None and _reraises(handler)
        handling = Handling(
            handler_line=handler.lineno if handler is not None else None,
            handler_reraises=reraises,
            own_atomic=ctx.own_atomic,
            outer_atomic=ctx.outer_atomic,
            serialised=ctx.serialises(pending.check),
            enclosing_atomic=ctx.enclosing_atomic,
        )
        self.pairs.append(
            Pair(
                pending.check,
                call.lineno,
                call.col_offset,
                method,
                receiver,
                written,
                handling,
                instance=instance,
                changed=changed,
                refuses=pending.refuses,
            )
        )

    # -- DRF validators ------------------------------------------------------------------------
    def class_body(self, node: ast.ClassDef) -> None:
        for stmt in node.body:
            if not isinstance(stmt, ast.Assign):
                continue
            target = stmt.targets[0]
            name = target.id if isinstance(target, ast.Name) else None
            for call, field_name in _validator_calls(stmt.value, name):
                kind = _last_name(call.func)
                queryset = next((k.value for k in call.keywords if k.arg == "queryset"), None)
                if queryset is None and call.args:
                    queryset = call.args[0]
                receiver = steps(queryset) if queryset is not None else None
                if receiver is None:
                    continue
                fields: tuple[str, ...] = ()
                lookup = next((k.value for k in call.keywords if k.arg == "lookup"), None)
                iexact = isinstance(lookup, ast.Constant) and lookup.value == "iexact"
                if (
                    lookup is not None
                    and not iexact
                    and not (isinstance(lookup, ast.Constant) and lookup.value == "exact")
                ):
                    continue  # `lookup="icontains"`: no equality a unique constraint states
                if kind == "UniqueValidator" and field_name is not None:
                    fields = (f"{field_name}__iexact",) if iexact else (field_name,)
                elif kind == "UniqueTogetherValidator":
                    listed = next((k.value for k in call.keywords if k.arg == "fields"), None)
                    if listed is None and len(call.args) > 1:
                        listed = call.args[1]
                    literal = value(listed).literal if listed is not None else UNKNOWN
                    if isinstance(literal, tuple) and all(isinstance(f, str) for f in literal):
                        fields = literal
                if fields:
                    self.validators.append(
                        Validator(call.lineno, call.col_offset, kind, receiver, fields)
                    )


# Statements whose value may hold a check and a create in one expression.
_SIMPLE = (ast.Expr, ast.Assign, ast.AnnAssign, ast.Return)
# `cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])`: a lock the code takes by hand.
_ADVISORY = "pg_advisory"
# Queryset methods that return a queryset without running it.
_LAZY = frozenset(
    {
        "filter",
        "exclude",
        "all",
        "order_by",
        "select_related",
        "prefetch_related",
        "select_for_update",
        "only",
        "defer",
        "annotate",
        "using",
        "distinct",
    }
)


def _lazy_queryset(node: ast.expr) -> bool:
    """``M.objects.select_for_update().filter(...)``: a queryset not yet evaluated."""
    return isinstance(node, ast.Call) and _last_name(node.func) in _LAZY


def _clears_pk(keywords: list[ast.keyword]) -> bool:
    """``x.pk = None`` / ``x.id = None`` among the attributes set: the next save() inserts."""
    return any(
        k.arg in ("pk", "id") and isinstance(k.value, ast.Constant) and k.value.value is None
        for k in keywords
    )


def _reraises(handler: ast.ExceptHandler) -> bool:
    """Whether the handler lets the IntegrityError go on (`raise`, `raise exc`, after logging
    it): it handles nothing. Raising another exception (a ValidationError) is an answer."""
    for stmt in handler.body:
        if isinstance(stmt, ast.Raise):
            exc = stmt.exc
            return exc is None or (isinstance(exc, ast.Name) and exc.id == handler.name)
        if isinstance(stmt, (ast.Return, ast.Continue, ast.Break)):
            return False
    return False


def _exits(body: list[ast.stmt]) -> bool:
    """Whether a block never falls through to the statement after it."""
    for stmt in body:
        if isinstance(stmt, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
            return True
        if isinstance(stmt, ast.If) and stmt.orelse and _exits(stmt.body) and _exits(stmt.orelse):
            return True
        if isinstance(stmt, (ast.With, ast.AsyncWith)) and _exits(stmt.body):
            return True
    return False


def _after_miss(pending: _Pending, others_exit: bool, built: Built, before: Built) -> _After | None:
    """What the missing path leaves for the rest of the block: every statement there when the
    other paths exit; else only the save() of an instance it built (not one ``before`` the
    branch) and did not save."""
    if others_exit:
        after = _Pending(pending.check, changed=pending.changed, refuses=pending.refuses)
        return _After(after, built)
    made = [
        n
        for n, (constructor, _) in built.items()
        if constructor is not None and before.get(n, (None, []))[0] is not constructor
    ]
    if len(made) != 1:
        return None
    return _After(_Pending(pending.check, changed=pending.changed, only=made[0]), built)


def _assigned_from(body: list[ast.stmt], check: Check) -> str | None:
    """The name the try body binds to the check's get() itself (``x = qs.get(...)``)."""
    for stmt in body:
        if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
            continue
        value = stmt.value.value if isinstance(stmt.value, ast.Await) else stmt.value
        target = stmt.targets[0]
        if (value.lineno, value.col_offset) == (check.line, check.col) and isinstance(
            target, ast.Name
        ):
            return target.id
    return None


def _flag(body: list[ast.stmt], handlers: list[ast.ExceptHandler], check: Check) -> str | None:
    """``found = True`` in the try body after the get(), ``found = False`` in its handlers."""

    def constant(stmt: ast.stmt) -> tuple[str, object] | None:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and isinstance(stmt.value, ast.Constant)
        ):
            return stmt.targets[0].id, stmt.value.value
        return None

    truthy = {
        found[0]
        for stmt in body
        if stmt.lineno > check.line
        and (found := constant(stmt)) is not None
        and found[1] not in (None, False, 0, "")
    }
    for name in truthy:
        falsy = [
            found[1]
            for handler in handlers
            for stmt in handler.body
            if (found := constant(stmt)) is not None and found[0] == name
        ]
        if falsy and all(v in (None, False, 0, "") for v in falsy):
            return name
    return None


def _validator_calls(
    node: ast.expr, field_name: str | None
) -> Iterator[tuple[ast.Call, str | None]]:
    """DRF validators constructed in a class attribute's value, each with the model field it
    guards: the attribute's name, the ``source=`` of the serializer field holding it, or the key
    of ``extra_kwargs = {"email": {"validators": [...]}}``."""
    if isinstance(node, ast.Call):
        if _last_name(node.func) in VALIDATORS:
            yield node, field_name
            return
        source = next((k.value for k in node.keywords if k.arg == "source"), None)
        if isinstance(source, ast.Constant) and isinstance(source.value, str):
            field_name = source.value.replace(".", "__")
    if isinstance(node, ast.Dict):
        for key, item in zip(node.keys, node.values, strict=True):
            keyed = (
                key.value
                if isinstance(key, ast.Constant) and isinstance(key.value, str)
                else field_name
            )
            if keyed != "validators" and field_name == "extra_kwargs":
                yield from _validator_calls(item, keyed)
            else:
                yield from _validator_calls(item, field_name)
        return
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.keyword):
            child = child.value
        if isinstance(child, ast.expr):
            yield from _validator_calls(child, field_name)


def _constructor(node: ast.Call) -> bool:
    """``M(...)``: a call of a capitalised name or attribute (a class), not ``m.save()``; or of
    a model reached by name: ``self.model(...)`` in a manager, ``cls.objects.model(...)``,
    ``self.__class__(...)``, ``type(self)(...)``."""
    func = node.func
    named = _last_name(func)
    typed = isinstance(func, ast.Call) and _last_name(func.func) == "type"
    by_name = named[:1].isupper() or named in ("model", "__class__") or typed
    return by_name and steps(func) is not None


def _accessor_probe(node: ast.expr) -> Check | None:
    """``hasattr(user, "profile")`` / ``getattr(user, "profile", None)``: reading a reverse
    one-to-one accessor queries its row (judge finds the relation from the insert's model).
    The receiver is left empty: no model is named here."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("hasattr", "getattr")
        and not node.keywords
        and len(node.args) == (2 if node.func.id == "hasattr" else 3)
    ):
        return None
    owner_node, name = node.args[0], node.args[1]
    if node.func.id == "getattr" and not (
        isinstance(node.args[2], ast.Constant) and node.args[2].value is None
    ):
        return None
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
        return None
    owner = steps(owner_node)
    if owner is None or any(s.kind not in ("name", "attr") for s in owner):
        return None
    return Check(
        "get",
        node.lineno,
        node.col_offset,
        _short(node),
        (),
        owner=owner,
        owner_code=ast.unparse(owner_node),
        accessor=name.value,
    )


def _accessor_in(body: list[ast.stmt], handlers: list[ast.ExceptHandler]) -> Check | None:
    """``x = owner.profile`` first in a try whose handler catches ``Profile.DoesNotExist``:
    reading a reverse one-to-one accessor is a get() that raises the related model's
    DoesNotExist (judge checks that ``Profile`` has one unique relation to the owner's model).
    Not ``ObjectDoesNotExist``, which names no model."""
    models = [
        t.value
        for h in handlers
        for t in (h.type.elts if isinstance(h.type, ast.Tuple) else [h.type])
        if isinstance(t, ast.Attribute) and t.attr == "DoesNotExist"
    ]
    if len(models) != 1 or not body:
        return None
    model = steps(models[0])
    first = body[0]
    read = first.value if isinstance(first, (ast.Assign, ast.Expr, ast.Return)) else None
    if model is None or not isinstance(read, ast.Attribute):
        return None
    owner = steps(read.value)
    if owner is None or any(s.kind not in ("name", "attr") for s in owner):
        return None
    receiver = (*model, Step("attr", "_default_manager"))
    return Check(
        "get",
        read.lineno,
        read.col_offset,
        _short(read),
        receiver,
        owner=owner,
        owner_code=ast.unparse(read.value),
        accessor=read.attr,
    )


class _LazyDicts(Mapping[str, ast.Dict]):
    """``_constant_dicts`` of a function, computed when a ``**name`` first asks (rarely)."""

    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.node = node
        self._found: dict[str, ast.Dict] | None = None

    @property
    def found(self) -> dict[str, ast.Dict]:
        if self._found is None:
            self._found = _constant_dicts(self.node)
        return self._found

    def __getitem__(self, name: str) -> ast.Dict:
        return self.found[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.found)

    def __len__(self) -> int:
        return len(self.found)


def _constant_dicts(node: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, ast.Dict]:
    """Names the function binds once, to a dict literal with string keys, and never changes
    (no item assignment, ``del``, augmented assignment or method call on them): ``**params``
    then passes exactly those keys."""
    dicts: dict[str, ast.Dict] = {}
    args = node.args
    parameters = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    bound: dict[str, int] = {a.arg: 1 for a in parameters if a is not None}
    changed: set[str] = set()
    for sub in _walk_here(node):
        if sub is node:
            continue
        if isinstance(sub, ast.Assign):
            for target in sub.targets:
                if isinstance(target, ast.Name):
                    bound[target.id] = bound.get(target.id, 0) + 1
                    if isinstance(sub.value, ast.Dict) and all(
                        isinstance(k, ast.Constant) and isinstance(k.value, str)
                        for k in sub.value.keys
                    ):
                        dicts[target.id] = sub.value
        elif isinstance(sub, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.NamedExpr)):
            target = sub.target
            if isinstance(target, ast.Name):
                changed.add(target.id)
        elif isinstance(sub, ast.Subscript) and not isinstance(sub.ctx, ast.Load):
            if isinstance(sub.value, ast.Name):
                changed.add(sub.value.id)
        elif (
            isinstance(sub, ast.Attribute)
            and isinstance(sub.value, ast.Name)
            and sub.attr in ("update", "pop", "popitem", "setdefault", "clear", "__setitem__")
        ):
            changed.add(sub.value.id)
    return {n: d for n, d in dicts.items() if bound.get(n) == 1 and n not in changed}


class Hot:
    """Whether a definition's text holds the tokens a pair, a python check or a validator
    needs, so that only definitions holding all a finding needs are analysed. The lines of the
    rare tokens (a create, an exists()) are found once per file and bisected; the common ones
    (a check, a branch) are looked for with ``str.find`` within the span of a definition that
    has a rare one (C speed, stops at the first hit)."""

    CREATE = ("create(", "save(")
    EXISTS = ("exists(", "count(")
    # `filter(` alone is no check: `qs = ...filter(...)` is checked by `if not qs:`.
    CHECK = (
        "DoesNotExist",
        "exists(",
        "if not ",
        "first(",
        "count(",
        "update(",
        "last(",
        "len(",
        *_OTHER_CHECKS,
    )
    # every shape branches (`qs.first() or create()` too); a test that creates and asserts does not
    BRANCH = ("if ", "except", " or ")

    def __init__(self, source: str) -> None:
        self.source = source
        self.create = self.token_lines(self.CREATE)
        self.exists = self.token_lines(self.EXISTS)
        self.validator = self.token_lines(VALIDATORS)
        self._lengths: list[int] | None = None

    def token_lines(self, tokens: tuple[str, ...]) -> list[int]:
        offsets: list[int] = []
        find = self.source.find
        for token in tokens:
            at = find(token)
            while at != -1:
                offsets.append(at)
                at = find(token, at + 1)
        offsets.sort()
        lines: list[int] = []
        line, done = 1, 0
        for at in offsets:
            line += self.source.count("\n", done, at)
            done = at
            lines.append(line)
        return lines

    @staticmethod
    def within(lines: list[int], node: ast.stmt) -> bool:
        index = bisect.bisect_left(lines, node.lineno)
        return index < len(lines) and lines[index] <= (node.end_lineno or node.lineno)

    def has(self, tokens: tuple[str, ...], node: ast.stmt) -> bool:
        if self._lengths is None:
            # Offset of line n (1-based): the lengths of the lines before it and their "\n"s.
            self._lengths = list(itertools.accumulate(map(len, self.source.split("\n")), initial=0))
        lengths = self._lengths
        lines = len(lengths) - 1
        first = min(node.lineno, lines) - 1
        last = min(node.end_lineno or node.lineno, lines)
        start, end = lengths[first] + first, lengths[last] + last
        find = self.source.find
        return any(find(token, start, end) != -1 for token in tokens)

    def function(self, node: ast.stmt) -> bool:
        if self.within(self.create, node):
            if self.has(self.CHECK, node) and self.has(self.BRANCH, node):
                return True
        elif not self.within(self.exists, node):
            return False
        return self.within(self.exists, node) and self.has(("raise",), node)


_MODULE_BLOCKS = (ast.Try, ast.If, ast.With)


def _definitions(
    body: list[ast.stmt], hot: Hot, parents: tuple[Definition, ...]
) -> Iterator[tuple[ast.stmt, tuple[Definition, ...]]]:
    """The functions that may hold a pair or a python check and the classes that may declare
    a validator, with the definitions around them; found through statements only (no walk of
    expressions). Nested definitions lie inside their parent's lines."""
    for stmt in body:
        inner = parents
        if not parents and isinstance(stmt, _MODULE_BLOCKS) and hot.function(stmt):
            yield stmt, parents  # module-level code runs too (at import)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not hot.function(stmt):
                continue
            yield stmt, parents
            inner = (*parents, stmt)
        elif isinstance(stmt, ast.ClassDef):
            validators = hot.within(hot.validator, stmt)
            if not validators and not hot.function(stmt):
                continue
            if validators:
                yield stmt, parents
            inner = (*parents, stmt)
        for block in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(stmt, block, None)
            if isinstance(children, list):
                yield from _definitions(children, hot, inner)


def _walk_here(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` in source order that does not enter nested functions, classes or lambdas."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        children = [
            c
            for c in ast.iter_child_nodes(current)
            if not isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
        ]
        stack.extend(reversed(children))
