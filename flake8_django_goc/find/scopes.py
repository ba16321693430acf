"""Scopes for hand-written checks, read from the ``ast`` tree: the same Frame/Binding/ImportBinding
records the libcst finder (find/calls.py) builds, so resolve/receivers.py follows a pair's
receivers exactly as it follows a get_or_create() receiver.

Why not libcst: a file that holds only hand-written checks would need a libcst parse of the
functions that hold them, which costs about 1 ms per line kept (Django's db/models/constraints.py:
0.3 s); these records cost a walk of the statements of a few functions. Orders are source
positions (``line * 10_000 + col``): a binding applies to a call that starts after it, as in
the finder's traversal order.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence

from flake8_django_goc.find.expressions import steps
from flake8_django_goc.find.records import (
    Binding,
    Frame,
    ImportBinding,
    ModuleFacts,
    Scope,
    Step,
)

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def order_of(line: int, col: int) -> int:
    return line * 10_000 + col


class ScopeBuilder:
    """Frames for positions inside given definitions of one module, each built once."""

    def __init__(self, tree: ast.AST) -> None:
        self.tree = tree
        self._module: Frame | None = None
        self._frames: dict[int, Frame] = {}

    def module_facts(self) -> ModuleFacts:
        imports: dict[str, ImportBinding] = {}
        classes: list[str] = []
        for node in _statements(getattr(self.tree, "body", [])):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        imports[alias.asname] = ImportBinding(alias.name)
                    else:
                        top = alias.name.split(".")[0]
                        imports[top] = ImportBinding(top)
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    bound = alias.asname or alias.name
                    imports[bound] = ImportBinding(node.module or "", alias.name, node.level)
        _classes(getattr(self.tree, "body", []), [], classes)
        return ModuleFacts(imports=imports, classes=frozenset(classes))

    def scope(self, parents: Sequence[Definition], line: int, col: int) -> Scope:
        frames = [self.module()]
        guards: list[str] = []
        for node in parents:
            frames.append(self.frame(node))
            if not isinstance(node, ast.ClassDef):
                guards.extend(ast.unparse(d) for d in node.decorator_list)
        if parents and not isinstance(parents[-1], ast.ClassDef):
            guards.extend(_with_items(parents[-1].body, line))
        return Scope(tuple(frames), order_of(line, col), tuple(guards))

    def module(self) -> Frame:
        if self._module is None:
            frame = Frame("module", "")
            _bind_block(getattr(self.tree, "body", []), frame)
            self._module = frame
        return self._module

    def frame(self, node: Definition) -> Frame:
        found = self._frames.get(id(node))
        if found is not None:
            return found
        if isinstance(node, ast.ClassDef):
            frame = Frame("class", node.name, tuple(ast.unparse(b) for b in node.bases))
        else:
            decorators = tuple(ast.unparse(d) for d in node.decorator_list)
            frame = Frame("function", node.name, decorators)
            args = node.args
            for param in (*args.posonlyargs, *args.args, *args.kwonlyargs):
                annotation = ast.unparse(param.annotation) if param.annotation else None
                frame.bindings.append(Binding(param.arg, -1, None, annotation=annotation))
        _bind_block(node.body, frame)
        if isinstance(node, ast.ClassDef):
            frame.bindings.extend(_meta_model(node))
        self._frames[id(node)] = frame
        return frame


def _meta_model(node: ast.ClassDef) -> Iterable[Binding]:
    """``class Meta: model = M`` of a form or serializer, bound as ``Meta.model`` on the class
    (``self.Meta.model.objects...``)."""
    for stmt in node.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
            for line in stmt.body:
                if (
                    isinstance(line, ast.Assign)
                    and len(line.targets) == 1
                    and isinstance(line.targets[0], ast.Name)
                    and line.targets[0].id == "model"
                ):
                    found = steps(line.value)
                    if found is not None:
                        yield Binding("Meta.model", order_of(line.lineno, 0), found)


def _statements(body: Iterable[ast.AST], into_definitions: bool = True) -> Iterable[ast.AST]:
    """Every statement, nested ones included (those of nested functions and classes only with
    ``into_definitions``); expressions are not walked (imports are statements)."""
    for stmt in body:
        definition = isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        if definition and not into_definitions:
            continue
        yield stmt
        for block in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(stmt, block, None)
            if isinstance(children, list):
                yield from _statements(children, into_definitions)


def _classes(body: Iterable[ast.stmt], prefix: list[str], out: list[str]) -> None:
    for stmt in body:
        if isinstance(stmt, ast.ClassDef):
            out.append(".".join([*prefix, stmt.name]))
            _classes(stmt.body, [*prefix, stmt.name], out)


def _with_items(body: list[ast.stmt], line: int) -> list[str]:
    """Source text of the `with` items whose block holds ``line`` (outermost first)."""
    found: list[str] = []
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if not stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno):
            continue
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            found.extend(ast.unparse(item.context_expr) for item in stmt.items)
        for block in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(stmt, block, None)
            if isinstance(children, list):
                found.extend(_with_items(children, line))
    return found


def _bind_block(body: Iterable[ast.AST], frame: Frame) -> None:
    """The bindings a scope's own statements make (not those of nested functions/classes)."""

    def chain(value: ast.expr | None) -> tuple[Step, ...] | None:
        if value is None:
            return None
        found = steps(value)
        return found if found is not None else (Step("expr", ""),)

    def bind(target: ast.expr, value: ast.expr | None, **kw: object) -> None:
        order = order_of(target.lineno, target.col_offset)
        value_steps = chain(value)
        if isinstance(target, ast.Name):
            frame.bindings.append(Binding(target.id, order, value_steps, **kw))  # type: ignore[arg-type]
        elif isinstance(target, (ast.Tuple, ast.List)):
            for i, element in enumerate(target.elts):
                if isinstance(element, ast.Name):
                    frame.bindings.append(
                        Binding(element.id, order, value_steps, index=i, **kw)  # type: ignore[arg-type]
                    )
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            name = f"{target.value.id}.{target.attr}"
            frame.bindings.append(Binding(name, order, value_steps, **kw))  # type: ignore[arg-type]

    # Statements only: a receiver is never bound inside an expression (a comprehension's
    # variable is not seen here; walking every expression would cost more than the rest).
    for node in _statements(body, into_definitions=False):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                bind(target, node.value)
        elif isinstance(node, ast.AnnAssign):
            annotation = ast.unparse(node.annotation)
            bind(node.target, node.value, kind="annotation", annotation=annotation)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            bind(node.target, node.iter, kind="for")
    frame.bindings.sort(key=lambda b: b.order)
