"""Find get_or_create-family calls with libcst and describe them as plain records.

One parse, one traversal. Positions come from the ``ast`` tree flake8 already parsed (libcst's
PositionProvider would walk the whole module again). No Django here.
"""

from __future__ import annotations

import ast
import bisect
import dataclasses
import re
from collections.abc import Iterable, Sequence
from typing import Any

import libcst as cst

from flake8_django_goc.find.bulk import constructed, is_bulk_call
from flake8_django_goc.find.records import (
    BULK_GATE,
    GATE,
    Binding,
    CallArgs,
    CallSite,
    Constructed,
    Frame,
    ImportBinding,
    LocalCall,
    ModuleFacts,
    Step,
    Value,
    could_contain_call,
)
from flake8_django_goc.schema import UNKNOWN
from flake8_django_goc.schema.orm import BULK_METHODS, BULK_OPTIONS, METHODS

__all__ = ["GATE", "METHODS", "could_contain_call", "find_calls", "positions_from_ast"]


def positions_from_ast(tree: ast.AST, source: str | None = None) -> list[tuple[int, int]]:
    """(line, col) of every candidate call, in the order libcst's traversal meets them.

    With ``source`` (the tree's text), only the statements and expressions whose lines mention a
    method's name are walked: a call's method name is on one of the call's own lines, and most
    of a module never mentions it."""
    lines = _gate_lines(source) if source is not None else None
    found = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and (
                node.func.attr in METHODS
                or (
                    node.func.attr in BULK_METHODS
                    and any(k.arg in BULK_OPTIONS for k in node.keywords)  # as _Finder.visit_Call
                )
            )
        ):
            found.append(
                (node.lineno, node.col_offset, -(node.end_lineno or 0), -(node.end_col_offset or 0))
            )
        for child in ast.iter_child_nodes(node):
            if lines is None or _may_mention(child, lines):
                stack.append(child)
    found.sort()  # source order; a call and its receiver call share a start: the outer one first
    return [(line, col) for line, col, _, _ in found]


def _gate_lines(source: str) -> list[int] | None:
    """The sorted numbers of the lines holding a gate word; None when counting ``\n`` could
    disagree with the tokenizer's line numbers (a lone CR, a form feed...)."""
    if _ODD_BREAKS.search(source) or ("\r" in source and _LONE_CR.search(source)):
        return None
    found: set[int] = set()
    for word in (GATE, BULK_GATE):
        start = source.find(word)
        while start != -1:
            found.add(source.count("\n", 0, start) + 1)
            start = source.find(word, start + 1)
    return sorted(found)


def _may_mention(node: ast.AST, lines: list[int]) -> bool:
    """Whether ``node``'s lines (a definition's decorators included) hold a gate word; a node
    without a position (``arguments``, ``comprehension``...) may."""
    first = getattr(node, "lineno", None)
    if first is None:
        return True
    for decorator in getattr(node, "decorator_list", ()):
        first = min(first, decorator.lineno)
    last = getattr(node, "end_lineno", None) or first
    index = bisect.bisect_left(lines, first)
    return index < len(lines) and lines[index] <= last


# Characters str.splitlines() treats as line breaks but Python's tokenizer does not.
_ODD_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_LONE_CR = re.compile("\r(?!\n)")  # a line break of its own, which str.count("\n") misses


def without_idle_functions(
    source: str, tree: ast.AST, positions: Sequence[tuple[int, int]]
) -> str | None:
    """``source`` without the functions that hold no candidate call; None when nothing can be
    dropped. A module-level function keeps its header (its name is in ``top_functions``, for
    the calls that pass it a model), with ``...`` for a body; a method or a nested function
    goes whole, decorators included, leaving ``...`` in its place.

    Calls are scoped, so such a body can neither hold a call nor bind a name a call uses, and a
    ``def`` inside a class or a function binds nothing the finder reads; most code lives in
    them, and libcst's parse and traversal cost grows with the code it sees. Positions come from
    ``tree``, so the lines need not stay where they were."""
    if _ODD_BREAKS.search(source):
        return None
    call_lines = sorted({line for line, _ in positions})
    dropped: list[tuple[int, int, str]] = []  # first and last line dropped, indentation
    lines = source.splitlines(keepends=True)

    def indent_of(line_number: int) -> str:
        line = lines[line_number - 1]
        return line[: len(line) - len(line.lstrip(" \t"))]

    def visit(statements: Iterable[ast.AST], module_level: bool) -> None:
        for node in statements:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                end = node.end_lineno or node.lineno
                index = bisect.bisect_left(call_lines, start)
                if index < len(call_lines) and call_lines[index] <= end:
                    visit(node.body, False)  # it holds a call: keep it, drop what it nests
                    continue
                if end > len(lines):
                    continue
                if not module_level:
                    dropped.append((start, end, indent_of(start)))
                    continue
                first = node.body[0].lineno
                if first > node.lineno and first <= end:
                    dropped.append((first, end, indent_of(first)))
                continue
            # A class body is not module level; an if/try/with/match block keeps its level.
            inner = module_level and not isinstance(node, ast.ClassDef)
            for block in ("body", "orelse", "finalbody", "handlers", "cases"):
                children = getattr(node, block, None)
                if isinstance(children, list):
                    visit(children, inner)

    visit(getattr(tree, "body", []), True)
    if not dropped:
        return None
    parts: list[str] = []
    done = 0  # lines already copied
    for first, end, indent in dropped:
        parts.extend(lines[done : first - 1])
        parts.append(f"{indent}...\n")
        done = end
    parts.extend(lines[done:])
    return "".join(parts)


def find_calls(
    source: str,
    positions: Sequence[tuple[int, int]] | None = None,
    tree: ast.AST | None = None,
) -> tuple[ModuleFacts, list[CallSite]]:
    """Parse ``source`` once and return its import table and candidate calls.

    ``positions`` and ``tree`` are flake8's ``ast`` of the same source: where each call starts,
    and which function bodies libcst need not see. Raises ``libcst.ParserSyntaxError`` for code
    libcst cannot parse.
    """
    reduced = without_idle_functions(source, tree, positions) if tree and positions else None
    module = finder = None
    if reduced is not None:
        try:
            module = cst.parse_module(reduced)
            finder = _Finder(module)
            module.visit(finder)
        except cst.ParserSyntaxError:
            module = finder = None
        if finder is not None and positions is not None and len(positions) != len(finder.calls):
            module = finder = None  # never seen; the full source is the safe answer
    if module is None or finder is None:
        module = cst.parse_module(source)
        finder = _Finder(module)
        module.visit(finder)
    if positions is None or len(positions) != len(finder.calls):
        positions = _positions_from_libcst(module, finder.call_nodes)
    calls = [
        dataclasses.replace(call, line=line, col=col)
        for call, (line, col) in zip(finder.calls, positions, strict=True)
    ]
    local = tuple(c for c in finder.local_calls if c.callee in finder.top_functions)
    counts = {
        name: len(re.findall(rf"(?<![\w.]){re.escape(name)}\s*\(", source))
        - len(re.findall(rf"\bdef\s+{re.escape(name)}\s*\(", source))
        for name in {c.callee for c in local}
    }
    facts = ModuleFacts(
        finder.imports,
        frozenset(finder.classes),
        finder.connected,
        local_calls=local,
        local_call_counts=counts,
    )
    return facts, calls


def _positions_from_libcst(module: cst.Module, nodes: list[cst.Call]) -> list[tuple[int, int]]:
    # Fallback only (standalone use without an ast tree, or an ast/libcst disagreement).
    from libcst.metadata import MetadataWrapper, PositionProvider

    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    return [(positions[n].start.line, positions[n].start.column) for n in nodes]


class _Finder(cst.CSTVisitor):
    def __init__(self, module: cst.Module) -> None:
        super().__init__()
        self.module = module
        self.calls: list[CallSite] = []
        self.call_nodes: list[cst.Call] = []
        self.imports: dict[str, ImportBinding] = {}
        self.classes: list[str] = []
        self.scope: list[Frame] = [Frame("module", "")]
        self.with_items: list[str] = []
        self.local_calls: list[LocalCall] = []
        self.top_functions: set[str] = set()
        self.functions: list[cst.FunctionDef] = []  # the definitions holding the node visited
        self.connected: dict[str, str] = {}
        self.order = 0

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    # -- imports and scopes --------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            dotted = _dotted(alias.name)
            if dotted is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.imports[alias.asname.name.value] = ImportBinding(dotted)
            else:
                top = dotted.split(".")[0]
                self.imports[top] = ImportBinding(top)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        module = _dotted(node.module) if node.module is not None else ""
        if module is None:
            return
        level = len(node.relative)
        for alias in node.names:
            if not isinstance(alias.name, cst.Name):
                continue
            bound = alias.name.value
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                bound = alias.asname.name.value
            self.imports[bound] = ImportBinding(module, alias.name.value, level)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        bases = tuple(self.code(arg.value) for arg in node.bases)
        if self.scope[-1].kind == "function" and len(node.bases) == 1 and _is_proxy(node):
            # class ProxyUser(User): class Meta: proxy = True — inside a function: the name
            # holds a proxy of its base, with the base's table and constraints.
            self.order += 1
            steps = tuple(self.steps(node.bases[0].value, cheap=True))
            self.scope[-1].bindings.append(
                Binding(node.name.value, self.order, steps, kind="proxy")
            )
        self.scope.append(Frame("class", node.name.value, bases))
        if all(frame.kind in ("module", "class") for frame in self.scope):
            self.classes.append(".".join(frame.name for frame in self.scope[1:]))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        frame = self.scope.pop()
        if frame.name == "Meta" and self.scope[-1].kind == "class":
            # A form's or serializer's `class Meta: model = M`, for `self.Meta.model.objects`.
            self.scope[-1].bindings.extend(
                dataclasses.replace(b, name="Meta.model")
                for b in frame.bindings
                if b.name == "model"
            )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if len(self.scope) == 1:
            self.top_functions.add(node.name.value)
        decorators = tuple(self.code(d.decorator) for d in node.decorators)
        frame = Frame("function", node.name.value, decorators)
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            annotation = self.code(param.annotation.annotation) if param.annotation else None
            frame.bindings.append(Binding(param.name.value, -1, None, annotation=annotation))
        self.scope.append(frame)
        self.functions.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scope.pop()
        self.functions.pop()

    # -- bindings: what a name holds, for resolving `basket.lines.get_or_create(...)` ----------
    def bind(self, target: cst.BaseExpression, value: cst.BaseExpression | None, **kw: Any) -> None:
        self.order += 1
        steps = tuple(self.steps(value, cheap=True)) if value is not None else None
        if isinstance(target, cst.Name):
            if value is not None and isinstance(value, (cst.Dict, cst.Call)):
                items, complete = self.dict_items(value)
                if items is not None and complete:
                    kw["items"] = items
            self.scope[-1].bindings.append(Binding(target.value, self.order, steps, **kw))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for i, element in enumerate(target.elements):
                if isinstance(element.value, cst.Name):
                    binding = Binding(element.value.value, self.order, steps, index=i, **kw)
                    self.scope[-1].bindings.append(binding)
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            # self.basket = ...: kept on the function frame under its dotted name
            name = f"{target.value.value}.{target.attr.value}"
            self.scope[-1].bindings.append(Binding(name, self.order, steps, **kw))
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            key = _subscript_key(target)
            self.changed(target.value.value, None if key is None else (key,))  # d["k"] = v

    def changed(self, name: str, keys: Sequence[str] | None) -> None:
        """``name`` is changed in place: setting ``keys``, or (None) in a way not known."""
        frame = self.scope[-1]
        frame.mutated.add(name)
        if keys is None:
            frame.reshaped.add(name)
        else:
            frame.added_keys.setdefault(name, set()).update(keys)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self.changed(node.target.value, None)  # d |= {...}
        elif isinstance(node.target, cst.Subscript) and isinstance(node.target.value, cst.Name):
            self.changed(node.target.value.value, None)

    def visit_Del(self, node: cst.Del) -> None:
        target = node.target
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            self.changed(target.value.value, None)

    # A binding applies after its value is computed: a call in the value itself
    # (`parent, _ = Folder.objects.get_or_create(parent=parent)`) sees the name's earlier value.
    def leave_Assign(self, original_node: cst.Assign) -> None:
        for target in original_node.targets:
            self.bind(target.target, original_node.value)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        annotation = self.code(original_node.annotation.annotation)
        self.bind(
            original_node.target, original_node.value, kind="annotation", annotation=annotation
        )

    def leave_NamedExpr(self, original_node: cst.NamedExpr) -> None:
        self.bind(original_node.target, original_node.value)

    def visit_For(self, node: cst.For) -> None:
        self.bind(node.target, node.iter, kind="for")

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self.bind(node.target, node.iter, kind="for")

    # -- calls ---------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in METHODS):
            if isinstance(func, cst.Attribute) and is_bulk_call(func.attr.value, node):
                self.add_call(
                    node, func, constructed(node, self.functions[-1] if self.functions else None)
                )
            elif isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
                self.other_call(func.value.value, func.attr.value, node)
            elif isinstance(func, cst.Name) and node.args:
                self.local_call(func.value, node)
            return
        self.add_call(node, func)

    def add_call(
        self, node: cst.Call, func: cst.Attribute, objects: Constructed | None = None
    ) -> None:
        receiver = tuple(self.steps(func.value))
        self.order += 1
        self.call_nodes.append(node)
        decorators = [d for f in self.scope if f.kind == "function" for d in f.bases]
        self.calls.append(
            CallSite(
                method=func.attr.value,
                line=0,  # filled in from the positions
                col=0,
                receiver=receiver,
                receiver_code=self.code(func.value),
                args=self.call_args(node.args),
                scope=tuple(self.scope),
                order=self.order,
                guards=(*decorators, *self.with_items),
                objects=objects,
            )
        )

    def local_call(self, name: str, node: cst.Call) -> None:
        """A call of a plain name: kept for parameters its arguments may tell (resolve)."""
        self.order += 1

        def chain(value: cst.BaseExpression) -> tuple[Step, ...] | None:
            if not isinstance(value, (cst.Name, cst.Attribute)):
                return None
            steps = tuple(self.steps(value, cheap=True))
            return steps if all(s.kind in ("name", "attr") for s in steps) else None

        self.local_calls.append(
            LocalCall(
                name,
                tuple(chain(a.value) for a in node.args if a.keyword is None and not a.star),
                tuple(
                    (a.keyword.value, chain(a.value))
                    for a in node.args
                    if a.keyword is not None and not a.star
                ),
                tuple(self.scope),
                self.order,
                unpacked=any(a.star for a in node.args),
            )
        )

    def other_call(self, owner: str, method: str, node: cst.Call) -> None:
        """Calls that tell what a name holds: in-place dict changes, signal connections."""
        if method in _MUTATORS:
            self.changed(owner, self.updated_keys(node) if method == "update" else None)
        elif method == "connect" and len(self.scope) == 1 and node.args:
            handler = node.args[0].value
            sender = next(
                (a.value for a in node.args if a.keyword and a.keyword.value == "sender"), None
            )
            if isinstance(handler, cst.Name) and sender is not None:
                self.connected[handler.value] = self.code(sender)

    def visit_With(self, node: cst.With) -> None:
        self.with_items.extend(self.code(item.item) for item in node.items)
        for item in node.items:  # `with ... as name`: bound to something not followed
            if item.asname is not None and isinstance(item.asname.name, cst.Name):
                self.bind(item.asname.name, None)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self.bind(node.name.name, None)  # `except E as name`: bound to the exception

    def leave_With(self, original_node: cst.With) -> None:
        del self.with_items[len(self.with_items) - len(original_node.items) :]

    def steps(self, node: cst.BaseExpression, cheap: bool = False) -> Iterable[Step]:
        """The receiver chain; ``cheap`` skips source text of big sub-expressions (bindings)."""
        if isinstance(node, cst.Name):
            yield Step("name", node.value)
        elif isinstance(node, cst.Attribute):
            yield from self.steps(node.value, cheap)
            yield Step("attr", node.attr.value)
        elif isinstance(node, cst.Call):
            yield from self.steps(node.func, cheap)
            yield Step("call", args=self.call_args(node.args, cheap))
        elif isinstance(node, cst.Subscript):
            yield from self.steps(node.value, cheap)
            index = node.slice[0].slice if len(node.slice) == 1 else None
            if isinstance(index, cst.Index) and isinstance(index.value, cst.Integer):
                yield Step("index", index.value.value)
            else:
                yield Step("index", "?")
        elif isinstance(node, cst.Await):
            yield from self.steps(node.expression, cheap)
        else:
            yield Step("expr", "" if cheap else self.code(node))

    def call_args(self, args: Sequence[cst.Arg], cheap: bool = False) -> CallArgs:
        kwargs: list[tuple[str, Value]] = []
        positional: list[Value] = []
        star_args: list[Value] = []
        star_kwargs: list[Value] = []
        for arg in args:
            if arg.star == "**":
                value = self.value(arg.value, cheap)
                if value.items is not None and value.items_complete:
                    kwargs.extend(value.items)  # **{"name": x} is the same as name=x
                else:
                    star_kwargs.append(value)
            elif arg.star == "*":
                star_args.append(self.value(arg.value, cheap))
            elif arg.keyword is not None:
                kwargs.append((arg.keyword.value, self.value(arg.value, cheap)))
            else:
                positional.append(self.value(arg.value, cheap))
        return CallArgs(tuple(kwargs), tuple(positional), tuple(star_args), tuple(star_kwargs))

    def updated_keys(self, node: cst.Call) -> tuple[str, ...] | None:
        """The keys ``d.update({"k": v})`` / ``d.update(k=v)`` sets; None when not all known."""
        keys: list[str] = []
        for arg in node.args:
            if arg.keyword is not None and not arg.star:
                keys.append(arg.keyword.value)
                continue
            items, complete = self.dict_items(arg.value) if not arg.star else (None, False)
            if items is None or not complete:
                return None
            keys.extend(key for key, _ in items)
        return tuple(keys)

    def value(self, node: cst.BaseExpression, cheap: bool = False) -> Value:
        if cheap and not isinstance(node, _CHEAP_NODES):
            return Value("<expr>")
        code = self.code(node)
        items, complete = self.dict_items(node)
        patterns = _key_patterns(node) if not complete and isinstance(node, cst.Dict) else None
        return Value(code, _literal(node, code), items, complete, patterns)

    def dict_items(
        self, node: cst.BaseExpression
    ) -> tuple[tuple[tuple[str, Value], ...] | None, bool]:
        """Keys of ``{"k": v}`` / ``dict(k=v)``; complete is False if some keys are not literal."""
        entries: list[tuple[str, Value]] = []
        complete = True
        if isinstance(node, cst.Dict):
            for element in node.elements:
                key = None
                if isinstance(element, cst.DictElement) and isinstance(
                    element.key, cst.SimpleString
                ):
                    key = element.key.evaluated_value
                if isinstance(key, str):
                    entries.append((key, self.value(element.value)))
                else:
                    complete = False
            return tuple(entries), complete
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value == "dict"
        ):
            parsed = self.call_args(node.args)
            complete = not (parsed.positional or parsed.star_args or parsed.star_kwargs)
            return parsed.kwargs, complete
        return None, True


def _is_proxy(node: cst.ClassDef) -> bool:
    """Whether the class body has ``class Meta:`` with ``proxy = True``."""
    for statement in node.body.body:
        if not (isinstance(statement, cst.ClassDef) and statement.name.value == "Meta"):
            continue
        for line in statement.body.body:
            for small in getattr(line, "body", ()):
                if (
                    isinstance(small, cst.Assign)
                    and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Name)
                    and small.targets[0].target.value == "proxy"
                    and isinstance(small.value, cst.Name)
                    and small.value.value == "True"
                ):
                    return True
    return False


def _key_patterns(node: cst.Dict) -> tuple[str, ...] | None:
    """A regular expression for each computed key of a dict literal; None with a ** part."""
    patterns = []
    for element in node.elements:
        if not isinstance(element, cst.DictElement):
            return None  # **other: any number of keys
        key = element.key
        if isinstance(key, cst.SimpleString):
            continue
        if isinstance(key, cst.FormattedString):
            parts = [
                re.escape(part.value) if isinstance(part, cst.FormattedStringText) else ".*"
                for part in key.parts
            ]
            patterns.append("".join(parts))
        else:
            patterns.append(".*")
    return tuple(patterns)


def _dotted(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


# Dict methods that change it in place.
def _subscript_key(node: cst.Subscript) -> str | None:
    """The key of ``d["k"]``, else None."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    key = node.slice[0].slice.value
    value = key.evaluated_value if isinstance(key, cst.SimpleString) else None
    return value if isinstance(value, str) else None


_MUTATORS = frozenset({"update", "setdefault", "pop", "popitem", "clear", "__setitem__"})

# Nodes whose source text is short enough to keep even for bindings.
_CHEAP_NODES = (cst.Name, cst.Attribute, cst.SimpleString, cst.Integer, cst.Float)

_LITERAL_NODES = (
    cst.Integer,
    cst.Float,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.UnaryOperation,
    cst.Tuple,
    cst.List,
    cst.Set,
)


def _literal(node: cst.BaseExpression, code: str) -> Any:
    if isinstance(node, cst.Name):
        return {"None": None, "True": True, "False": False}.get(node.value, UNKNOWN)
    if not isinstance(node, _LITERAL_NODES):
        return UNKNOWN
    try:
        value = ast.literal_eval(code.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return UNKNOWN
    if isinstance(value, (list, set)):
        value = tuple(value)
    return value
