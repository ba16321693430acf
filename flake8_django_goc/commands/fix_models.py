"""``flake8-django-goc fix-models``: add the missing ``UniqueConstraint``s to the models.

Runs the same check as the command (same options, configuration and selection), keeps the
``ConstraintFix`` of every reported finding, merges them per model, and adds each one to
``Meta.constraints`` in the model's source file with libcst, so everything else in the file stays
byte for byte as it was. Then it says what the user still has to do: remove the duplicate rows
the table already holds, and make and apply the migration.

Exit codes: 0 nothing to do or applied, 1 ``--dry-run``/``--diff`` found changes, 2 an error
(bad usage or configuration, Django setup failed, a model file that could not be edited).
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar, cast

import libcst as cst

from flake8_django_goc.commands import check as cli
from flake8_django_goc.commands.duplicates import (
    Wanted,
    add_database_options,
    duplicates_before_edit,
    duplicates_query,
)
from flake8_django_goc.options import FIX, given, parent
from flake8_django_goc.report.formats import Result
from flake8_django_goc.rules import DGC001, DGC002, ConstraintFix
from flake8_django_goc.schema.declared import ConfigError
from flake8_django_goc.schema.django.meta import meta_inheritance
from flake8_django_goc.schema.django.setup import SetupError

if TYPE_CHECKING:
    from flake8_django_goc.rules import Finding
    from flake8_django_goc.schema import ModelFacts, Schema

PROG = f"{cli.PROG} fix-models"
DEFAULT_WIDTH = 88  # black's and ruff's default; used unless pyproject.toml says otherwise

DESCRIPTION = """\
Add the UniqueConstraint each reported finding names to the model's Meta.constraints (the
findings of DGC001, DGC002, DGC004 and DGC012 that carry a fix), then print the follow-up: remove
existing duplicates, run makemigrations. Takes the options of the check command."""

EPILOG = """\
exit codes:
  0 nothing to do, or the constraints were added; 1 --dry-run or --diff found constraints to add;
  2 the check could not run, or a model file could not be edited."""


class FixError(Exception):
    """A model file that cannot be edited; the message says why."""


# ------------------------------------------------------------------------------- collecting


class FixCollector(cli.Checker):
    """The command's Checker, also keeping the fix of each finding it reports."""

    def __init__(
        self,
        schema: Schema,
        selection: cli.Selection,
        disable_noqa: bool,
        serializers: tuple[str, ...] = (),
    ) -> None:
        super().__init__(schema, selection, disable_noqa, serializers, on_report=self._reported)
        self.wanted: dict[tuple[str, tuple[str, ...], tuple[tuple[str, object], ...]], Wanted] = {}

    def _reported(self, result: Result, finding: Finding) -> None:
        # Called for each finding reported, after selection and noqa.
        if finding.fix is not None:
            self.want(finding.fix, result)

    def want(self, fix: ConstraintFix, finding: Result) -> None:
        # One constraint per model and field set; nulls_distinct=False also covers a plain
        # request for the same fields (and shares its name).
        key = (fix.model, tuple(sorted(fix.fields)), tuple(sorted(fix.condition, key=repr)))
        entry = self.wanted.get(key)
        if entry is None:
            entry = self.wanted[key] = Wanted(fix)
        elif fix.nulls_distinct is False and entry.fix.nulls_distinct is not False:
            entry.fix = fix
        entry.findings.append(finding)


# ---------------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class MetaHints:
    """Meta inheritance read from the model class, so the edit keeps inherited options.

    A model without a Meta of its own uses its abstract parent's: a new Meta must subclass
    ``<class base>.Meta`` (``class_base``: index of that base in the class statement) and keep its
    constraints (``class_spread``). A declared Meta without ``constraints`` may inherit them from
    its own bases (``meta_base``, ``meta_spread``).
    """

    class_base: int | None = None
    class_spread: bool = False
    meta_base: int | None = None
    meta_spread: bool = False


@dataclass
class ModelPlan:
    facts: ModelFacts
    wanted: list[Wanted]
    hints: MetaHints = field(default_factory=MetaHints)


@dataclass
class Outcome:
    model: str
    wanted: Wanted
    status: str  # "added", "present", "skipped", "error"
    detail: str = ""


def plan(
    wanted: Iterable[Wanted], schema: Schema, cwd: str
) -> tuple[dict[str, list[ModelPlan]], list[Outcome]]:
    """Group the constraints by model file; constraints that cannot be added become outcomes."""
    by_file: dict[str, dict[str, ModelPlan]] = {}
    outcomes: list[Outcome] = []
    root = os.path.realpath(cwd)
    for entry in sorted(wanted, key=lambda w: (w.fix.model, w.fix.name)):
        fix = entry.fix
        model = schema.models.get(fix.model)
        reason = _cannot_fix(fix, model, schema, root)
        if reason is not None:
            outcomes.append(Outcome(fix.model, entry, "skipped", reason))
            continue
        assert model is not None and model.file is not None
        models = by_file.setdefault(model.file, {})
        if fix.model not in models:
            models[fix.model] = ModelPlan(model, [], meta_hints(fix.model))
        models[fix.model].wanted.append(entry)
    return {path: list(models.values()) for path, models in by_file.items()}, outcomes


def _cannot_fix(
    fix: ConstraintFix, model: ModelFacts | None, schema: Schema, root: str
) -> str | None:
    if model is None:
        return f"{fix.model} is not a model of this project"
    if not model.file or not model.file.endswith(".py"):
        return f"the source file of {fix.model} is not known"
    if os.path.commonpath([root, model.file]) != root or _installed(model.file):
        return f"{fix.model} is defined outside this project ({model.file})"
    if "<locals>" in model.qualname:
        return f"{fix.model} is defined inside a function"
    if fix.condition and not model.backend.partial:
        return f"the {model.backend.vendor} database does not create conditional constraints"
    if fix.nulls_distinct is False:
        if _version(schema.django_version) < (5, 0):
            return "nulls_distinct needs Django 5.0+"
        if not model.backend.nulls_distinct:
            return f"the {model.backend.vendor} database does not support nulls_distinct"
    return None


def _installed(path: str) -> bool:
    parts = path.split(os.sep)
    return "site-packages" in parts or "dist-packages" in parts


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def meta_hints(label: str) -> MetaHints:
    """Meta inheritance of the model class (fix-models runs with Django set up)."""
    return MetaHints(**meta_inheritance(label))


_Tree = TypeVar("_Tree", bound=cst.CSTNode)


def _replaced(tree: _Tree, old: cst.CSTNode, new: cst.CSTNode) -> _Tree:
    """``tree.deep_replace(old, new)``, typed as the tree it returns (libcst's own annotation
    asks ``new`` to be of the tree's type)."""
    return cast(_Tree, tree.deep_replace(old, new))


# ----------------------------------------------------------------------------------- editing


@dataclass(frozen=True)
class Style:
    indent: str  # one level, the module's own
    quote: str
    width: int


def edit_source(
    data: bytes, models: Sequence[ModelPlan], width: int = DEFAULT_WIDTH
) -> tuple[bytes, list[Outcome]]:
    """Add each model's constraints to its Meta in ``data`` (a module's bytes)."""
    try:
        module = cst.parse_module(data)
    except cst.ParserSyntaxError as exc:
        raise FixError(f"libcst cannot parse it ({str(exc).splitlines()[0]})") from None
    style = Style(module.default_indent, _quote(module), width)
    outcomes: list[Outcome] = []
    reference: str | None = None
    q_named: str | None = None  # how Q is named, once a conditional constraint needs it
    for model_plan in models:
        label = model_plan.facts.label
        found = _find_class(module, model_plan.facts.qualname)
        if found is None:
            for entry in model_plan.wanted:
                detail = f"class {model_plan.facts.qualname} not found in the file"
                outcomes.append(Outcome(label, entry, "error", detail))
            continue
        node, depth = found
        existing = _existing_constraints(node)
        todo = []
        for entry in model_plan.wanted:
            if _present(entry.fix, existing):
                outcomes.append(Outcome(label, entry, "present"))
            else:
                todo.append(entry)
        if not todo:
            continue
        if reference is None:
            module, reference = _reference(module, style)
            node, depth = _find_class(module, model_plan.facts.qualname) or (node, depth)
        if q_named is None and any(e.fix.condition for e in todo):
            try:
                module, q_named = _q_reference(module, style, reference)
            except FixError as exc:
                for entry in [e for e in todo if e.fix.condition]:
                    outcomes.append(Outcome(label, entry, "error", str(exc)))
                todo = [e for e in todo if not e.fix.condition]
                if not todo:
                    continue
            node, depth = _find_class(module, model_plan.facts.qualname) or (node, depth)
        try:
            new_node = _add_constraints(
                node, [e.fix for e in todo], reference, style, depth, model_plan.hints
            )
        except FixError as exc:
            outcomes.extend(Outcome(label, e, "error", str(exc)) for e in todo)
            continue
        module = _replaced(module, node, new_node)
        outcomes.extend(Outcome(label, e, "added") for e in todo)
    return module.bytes, outcomes


def _find_class(module: cst.Module, qualname: str) -> tuple[cst.ClassDef, int] | None:
    """The ClassDef of ``qualname`` and how many blocks deep its body is."""
    body: Sequence[cst.CSTNode] = module.body
    node: cst.ClassDef | None = None
    names = qualname.split(".")
    for name in names:
        node = next(
            (s for s in body if isinstance(s, cst.ClassDef) and s.name.value == name),
            None,
        )
        if node is None:
            return None
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    assert node is not None
    return node, len(names)


def _quote(module: cst.Module) -> str:
    # The module's usual quote, so the new strings look like the old ones.
    counts = {'"': 0, "'": 0}

    class Strings(cst.CSTVisitor):
        def visit_SimpleString(self, node: cst.SimpleString) -> None:
            quote = node.quote
            if len(quote) == 1:
                counts[quote] += 1

    module.visit(Strings())
    return "'" if counts["'"] > counts['"'] else '"'


@dataclass(frozen=True)
class _Existing:
    name: str | None
    fields: frozenset[str] | None
    plain: bool  # no condition, expressions, deferrable
    nulls_distinct: bool | None
    # `condition=Q(k=literal, ...)` as a set of pairs; None: no condition or not such a Q.
    condition: frozenset[tuple[str, object]] | None = None


def _existing_constraints(node: cst.ClassDef) -> list[_Existing]:
    meta = _meta(node)
    assign = _constraints_assign(meta) if meta is not None else None
    sequence = _sequence(assign.value) if assign is not None else None
    if sequence is None:
        return []
    found = []
    for element in sequence.elements:
        call = element.value
        if not isinstance(call, cst.Call) or _callee(call.func) != "UniqueConstraint":
            continue
        kwargs = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        fields = _strings(kwargs.get("fields"))
        plain = not any(a.keyword is None for a in call.args) and not (
            {"condition", "deferrable", "include", "opclasses", "expressions"} & set(kwargs)
        )
        only_condition = not any(a.keyword is None for a in call.args) and not (
            {"deferrable", "include", "opclasses", "expressions"} & set(kwargs)
        )
        condition = _q_pairs(kwargs.get("condition")) if only_condition else None
        distinct = kwargs.get("nulls_distinct")
        found.append(
            _Existing(
                _string(kwargs.get("name")),
                frozenset(fields) if fields is not None else None,
                plain,
                False
                if isinstance(distinct, cst.Name) and distinct.value == "False"
                else (None if distinct is None else True),
                condition,
            )
        )
    return found


def _q_pairs(node: cst.BaseExpression | None) -> frozenset[tuple[str, object]] | None:
    """``Q(status="new", ...)`` with literal keyword values, as pairs."""
    import ast

    if not isinstance(node, cst.Call) or _callee(node.func) != "Q" or not node.args:
        return None
    pairs = []
    for arg in node.args:
        if arg.keyword is None:
            return None
        try:
            value = ast.literal_eval(_code(arg.value))
        except (ValueError, SyntaxError):
            return None
        pairs.append((arg.keyword.value, value))
    return frozenset(pairs)


def _present(fix: ConstraintFix, existing: list[_Existing]) -> bool:
    for constraint in existing:
        if constraint.name == fix.name:
            return True
        if fix.condition:
            if constraint.fields == frozenset(fix.fields) and constraint.condition == frozenset(
                fix.condition
            ):
                return True
            continue
        if (
            constraint.plain
            and constraint.fields == frozenset(fix.fields)
            and (fix.nulls_distinct is not False or constraint.nulls_distinct is False)
        ):
            return True
    return False


def _callee(func: cst.BaseExpression) -> str | None:
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


def _string(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _strings(node: cst.BaseExpression | None) -> list[str] | None:
    if not isinstance(node, (cst.List, cst.Tuple)):
        return None
    values = [_string(e.value) for e in node.elements]
    return None if any(v is None for v in values) else [v for v in values if v is not None]


def _meta(node: cst.ClassDef) -> cst.ClassDef | None:
    return next(
        (s for s in _statements(node) if isinstance(s, cst.ClassDef) and s.name.value == "Meta"),
        None,
    )


def _statements(node: cst.ClassDef) -> Sequence[cst.BaseStatement | cst.BaseSmallStatement]:
    body = node.body
    return body.body if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)) else ()


def _constraints_assign(meta: cst.ClassDef) -> cst.Assign | cst.AnnAssign | None:
    for statement in _statements(meta):
        smalls = statement.body if isinstance(statement, cst.SimpleStatementLine) else [statement]
        for small in smalls:
            if isinstance(small, cst.Assign) and any(
                isinstance(t.target, cst.Name) and t.target.value == "constraints"
                for t in small.targets
            ):
                return small
            if (
                isinstance(small, cst.AnnAssign)
                and isinstance(small.target, cst.Name)
                and small.target.value == "constraints"
            ):
                return small
    return None


def _sequence(value: cst.BaseExpression | None) -> cst.List | cst.Tuple | None:
    if isinstance(value, cst.List) or (isinstance(value, cst.Tuple) and value.lpar):
        return value
    # `Base.Meta.constraints + [...]`: the literal on the right is ours to extend.
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Add):
        return _sequence(value.right)
    return None


# --------------------------------------------------------------------------- the constraint


def constraint_text(fix: ConstraintFix, reference: str, style: Style, column: int) -> str:
    """``UniqueConstraint(...)`` as black would lay it out when it starts at ``column``
    (followed by a comma); continuation lines are relative to the start of the call."""
    q = style.quote
    args = ["fields=[" + ", ".join(f"{q}{name}{q}" for name in fix.fields) + "]"]
    if fix.condition:
        pairs = ", ".join(f"{key}={_literal(value, q)}" for key, value in fix.condition)
        args.append(f"condition={_q_name(reference)}({pairs})")
    if fix.nulls_distinct is False:
        args.append("nulls_distinct=False")
    args.append(f"name={q}{fix.name}{q}")
    head = f"{reference}("
    one_line = head + ", ".join(args) + ")"
    if column + len(one_line) + 1 <= style.width:
        return one_line
    inner = ", ".join(args)
    if column + len(style.indent) + len(inner) <= style.width:
        return f"{head}\n{style.indent}{inner}\n)"
    return head + "\n" + "".join(f"{style.indent}{arg},\n" for arg in args) + ")"


def _literal(value: object, quote: str) -> str:
    if isinstance(value, str):
        return quote + value.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote
    return repr(value)


def _q_name(reference: str) -> str:
    """Q, named as the module names UniqueConstraint (``models.Q``), else imported bare."""
    return reference.rsplit(".", 1)[0] + ".Q" if "." in reference else "Q"


def _shift(text: str, prefix: str) -> str:
    first, *rest = text.split("\n")
    return "\n".join([first, *(prefix + line if line else line for line in rest)])


def _width(indent: str) -> int:
    return len(indent.expandtabs(4))


def _add_constraints(
    node: cst.ClassDef,
    fixes: list[ConstraintFix],
    reference: str,
    style: Style,
    depth: int,
    hints: MetaHints,
) -> cst.ClassDef:
    body_indent = style.indent * depth  # where the class's statements start
    meta = _meta(node)
    if meta is None:
        base = _base_code(node, hints.class_base)
        spread = f"*{base}.Meta.constraints" if base and hints.class_spread else None
        header = f"class Meta({base}.Meta):" if base else "class Meta:"
        lines = _constraints_lines(fixes, reference, style, body_indent + style.indent, spread)
        text = header + "\n" + "\n".join(style.indent + line for line in lines) + "\n"
        return _insert_meta(node, _parse_statement(text, style))
    assign = _constraints_assign(meta)
    meta_indent = body_indent + style.indent
    if assign is None:
        base = _base_code(meta, hints.meta_base)
        spread = f"*{base}.constraints" if base and hints.meta_spread else None
        lines = _constraints_lines(fixes, reference, style, meta_indent, spread)
        statement = _parse_statement("\n".join(lines) + "\n", style)
        return _replaced(node, meta, _append_to_block(meta, statement))
    sequence = _sequence(assign.value)
    if sequence is None:
        raise FixError(
            "Meta.constraints is not a list or tuple literal; add the constraint by hand"
        )
    new_sequence = _append_elements(sequence, fixes, reference, style, meta_indent, assign)
    return _replaced(node, sequence, new_sequence)


def _base_code(node: cst.ClassDef, index: int | None) -> str | None:
    if index is None or index >= len(node.bases):
        return None
    return _code(node.bases[index].value)


def _constraints_lines(
    fixes: list[ConstraintFix], reference: str, style: Style, indent: str, spread: str | None
) -> list[str]:
    """``constraints = [...]`` as lines relative to ``indent`` (where the statement starts)."""
    column = _width(indent) + _width(style.indent)
    items = [spread] if spread else []
    items += [constraint_text(fix, reference, style, column) for fix in fixes]
    lines = ["constraints = ["]
    for item in items:
        lines.extend((style.indent + _shift(item, style.indent) + ",").split("\n"))
    lines.append("]")
    return lines


def _parse_statement(text: str, style: Style) -> cst.BaseStatement:
    config = cst.PartialParserConfig(default_indent=style.indent)
    return cst.parse_statement(text, config=config)


def _insert_meta(node: cst.ClassDef, meta: cst.BaseStatement) -> cst.ClassDef:
    """Django's order: fields and managers, then Meta, then methods."""
    block = _as_block(node.body)
    statements = list(block.body)
    position = next(
        (i for i, s in enumerate(statements) if isinstance(s, cst.FunctionDef)), len(statements)
    )
    blank = [cst.EmptyLine(indent=False)]
    if statements == [] or _is_pass(statements):
        statements, position = [], 0
    elif position > 0:
        meta = meta.with_changes(leading_lines=blank)
    elif not getattr(statements[0], "leading_lines", True):  # a method right after the new Meta
        statements[0] = statements[0].with_changes(leading_lines=blank)
    statements.insert(position, meta)
    return node.with_changes(body=block.with_changes(body=statements))


def _append_to_block(meta: cst.ClassDef, statement: cst.BaseStatement) -> cst.ClassDef:
    block = _as_block(meta.body)
    statements = [] if _is_pass(block.body) else list(block.body)
    return meta.with_changes(body=block.with_changes(body=[*statements, statement]))


def _as_block(body: cst.BaseSuite) -> cst.IndentedBlock:
    if isinstance(body, cst.IndentedBlock):
        return body
    # `class Meta: abstract = True` on one line becomes a block.
    assert isinstance(body, cst.SimpleStatementSuite)
    lines = [
        cst.SimpleStatementLine([small.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)])
        for small in body.body
    ]
    return cst.IndentedBlock(body=lines)


def _is_pass(statements: Sequence[cst.CSTNode]) -> bool:
    return (
        len(statements) == 1
        and isinstance(statements[0], cst.SimpleStatementLine)
        and all(isinstance(small, cst.Pass) for small in statements[0].body)
    )


# ------------------------------------------------------------------ appending to a sequence


def _newline(
    indent: str, first_line: cst.TrailingWhitespace | None = None
) -> cst.ParenthesizedWhitespace:
    """A line break inside brackets, the next line indented ``indent`` past the block."""
    return cst.ParenthesizedWhitespace(
        first_line=first_line or cst.TrailingWhitespace(),
        indent=True,
        last_line=cst.SimpleWhitespace(indent),
    )


ListOrTuple = cst.List | cst.Tuple


def _brackets(seq: ListOrTuple) -> tuple[cst.BaseParenthesizableWhitespace, ...]:
    if isinstance(seq, cst.List):
        return seq.lbracket.whitespace_after, seq.rbracket.whitespace_before
    return seq.lpar[-1].whitespace_after, seq.rpar[0].whitespace_before


def _with_brackets(
    seq: ListOrTuple,
    opening: cst.BaseParenthesizableWhitespace,
    closing: cst.BaseParenthesizableWhitespace,
) -> ListOrTuple:
    if isinstance(seq, cst.List):
        return seq.with_changes(
            lbracket=seq.lbracket.with_changes(whitespace_after=opening),
            rbracket=seq.rbracket.with_changes(whitespace_before=closing),
        )
    lpar = [*seq.lpar[:-1], seq.lpar[-1].with_changes(whitespace_after=opening)]
    rpar = [seq.rpar[0].with_changes(whitespace_before=closing), *seq.rpar[1:]]
    return seq.with_changes(lpar=lpar, rpar=rpar)


def _append_elements(
    seq: ListOrTuple,
    fixes: list[ConstraintFix],
    reference: str,
    style: Style,
    indent: str,
    statement: cst.BaseSmallStatement,
) -> ListOrTuple:
    """Append to a list/tuple literal in its own layout: one item per line stays one item per
    line (comments stay where they were), a one-line literal stays on one line if it fits."""
    opening, closing = _brackets(seq)
    elements = list(seq.elements)
    separators = [e.comma.whitespace_after for e in elements if isinstance(e.comma, cst.Comma)]
    breaks = [
        ws for ws in (opening, *separators[:-1]) if isinstance(ws, cst.ParenthesizedWhitespace)
    ]
    if elements and (
        breaks
        or isinstance(closing, cst.ParenthesizedWhitespace)
        or (separators and isinstance(separators[-1], cst.ParenthesizedWhitespace))
    ):
        item_indent = breaks[0].last_line.value if breaks else style.indent
        return _append_multiline(seq, fixes, reference, style, indent, item_indent)
    if elements:
        inline = _append_inline(seq, fixes, reference, style)
        code = _code(_replaced(statement, seq, inline))
        if "\n" not in code and _width(indent) + len(code) <= style.width:
            return inline
    # Empty, or too long for one line: one item per line, with black's magic trailing comma.
    exploded = [
        e.with_changes(comma=cst.Comma(whitespace_after=_newline(style.indent))) for e in elements
    ]
    if not exploded:
        # `[]`: the first new item takes the place of the opening line break.
        first, *fixes = fixes
        text = _shift(
            constraint_text(first, reference, style, _item_column(indent, style)), style.indent
        )
        exploded = [
            cst.Element(
                cst.parse_expression(text), comma=cst.Comma(whitespace_after=_newline(style.indent))
            )
        ]
    exploded[-1] = exploded[-1].with_changes(comma=cst.Comma(whitespace_after=_newline("")))
    seq = _with_brackets(
        seq.with_changes(elements=exploded), _newline(style.indent), cst.SimpleWhitespace("")
    )
    if not fixes:
        return seq
    return _append_multiline(seq, fixes, reference, style, indent, style.indent)


def _item_column(indent: str, style: Style) -> int:
    return _width(indent) + _width(style.indent)


def _append_inline(
    seq: ListOrTuple, fixes: list[ConstraintFix], reference: str, style: Style
) -> ListOrTuple:
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    elements = [*seq.elements[:-1], seq.elements[-1].with_changes(comma=comma)]
    for i, fix in enumerate(fixes):
        value = cst.parse_expression(constraint_text(fix, reference, style, 0))
        last = i == len(fixes) - 1
        elements.append(cst.Element(value, comma=cst.MaybeSentinel.DEFAULT if last else comma))
    return seq.with_changes(elements=elements)


def _append_multiline(
    seq: ListOrTuple,
    fixes: list[ConstraintFix],
    reference: str,
    style: Style,
    indent: str,
    item_indent: str,
) -> ListOrTuple:
    opening, closing = _brackets(seq)
    elements = list(seq.elements)
    last = elements[-1]
    trailing = last.comma if isinstance(last.comma, cst.Comma) else None
    # The line break before the closing bracket: after a trailing comma libcst keeps it in the
    # bracket, unless the comma itself holds it (as in the layout _append_elements builds).
    in_comma = trailing is not None and isinstance(
        trailing.whitespace_after, cst.ParenthesizedWhitespace
    )
    end = trailing.whitespace_after if trailing is not None and in_comma else closing
    if isinstance(end, cst.ParenthesizedWhitespace):
        # `X,  # note` keeps its note; comment lines before the bracket stay before it.
        after_last = _newline(item_indent, end.first_line)
        final: cst.BaseParenthesizableWhitespace = end.with_changes(
            first_line=cst.TrailingWhitespace()
        )
    else:
        after_last, final = _newline(item_indent), end
    column = _width(indent) + _width(item_indent)
    added = [
        cst.Element(
            cst.parse_expression(
                _shift(constraint_text(fix, reference, style, column), item_indent)
            ),
            comma=cst.Comma(whitespace_after=_newline(item_indent)),
        )
        for fix in fixes
    ]
    before = trailing.whitespace_before if trailing is not None else cst.SimpleWhitespace("")
    elements[-1] = last.with_changes(
        comma=cst.Comma(whitespace_before=before, whitespace_after=after_last)
    )
    if trailing is None:  # no trailing comma before, none after
        added[-1] = added[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        closing = final
    elif in_comma:
        added[-1] = added[-1].with_changes(comma=cst.Comma(whitespace_after=final))
    else:
        added[-1] = added[-1].with_changes(comma=cst.Comma())
        closing = final
    return _with_brackets(seq.with_changes(elements=[*elements, *added]), opening, closing)


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


# ------------------------------------------------------------------------------------ imports


def _reference(module: cst.Module, style: Style) -> tuple[cst.Module, str]:
    """How this module can name UniqueConstraint, adding an import when it cannot yet."""
    header = _import_header(module)
    for statement in header:
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and small.relative == ():
                name = _dotted(small.module)
                if isinstance(small.names, cst.ImportStar):
                    if name == "django.db.models":
                        return module, "UniqueConstraint"
                    continue
                for alias in small.names:
                    bound = _alias_name(alias)
                    if name == "django.db" and _dotted(alias.name) == "models":
                        return module, f"{bound}.UniqueConstraint"
                    if name == "django.db.models" and _dotted(alias.name) == "UniqueConstraint":
                        return module, bound
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    if _dotted(alias.name) == "django.db.models":
                        return module, f"{_alias_name(alias)}.UniqueConstraint"
    names_bound = _bound_names(module)
    # A module written with `from django.db.models import CharField, Model` gets
    # UniqueConstraint the same way; otherwise the usual `from django.db import models`.
    from_models = next(
        (
            (statement, small)
            for statement in header
            for small in statement.body
            if isinstance(small, cst.ImportFrom)
            and _dotted(small.module) == "django.db.models"
            and not isinstance(small.names, cst.ImportStar)
        ),
        None,
    )
    if from_models is not None and "UniqueConstraint" not in names_bound:
        statement, small = from_models
        multiline = "\n" in _code(small)
        names = _append_import_multiline(small) if multiline else _append_import_inline(small)
        new_statement = _replaced(statement, small, small.with_changes(names=names))
        if multiline or _width(_code(new_statement).rstrip()) <= style.width:
            return _replaced(module, statement, new_statement), "UniqueConstraint"
        new_import = _parse_statement("from django.db.models import UniqueConstraint\n", style)
        return _insert_after(module, statement, new_import), "UniqueConstraint"
    if "models" not in names_bound:
        new_import = _parse_statement("from django.db import models\n", style)
        anchor = _import_anchor(header)
        return _insert_after(module, anchor, new_import), "models.UniqueConstraint"
    if "UniqueConstraint" not in names_bound:
        new_import = _parse_statement("from django.db.models import UniqueConstraint\n", style)
        return _insert_after(module, _import_anchor(header), new_import), "UniqueConstraint"
    raise FixError("both `models` and `UniqueConstraint` name something else in this module")


def _q_reference(module: cst.Module, style: Style, reference: str) -> tuple[cst.Module, str]:
    """How this module can name Q, next to ``reference`` (how it names UniqueConstraint):
    ``models.Q`` through the same module, else Q imported from django.db.models."""
    if "." in reference:
        return module, _q_name(reference)
    header = _import_header(module)
    from_models = None
    for statement in header:
        for small in statement.body:
            if not (
                isinstance(small, cst.ImportFrom) and _dotted(small.module) == "django.db.models"
            ):
                continue
            if isinstance(small.names, cst.ImportStar):
                return module, "Q"
            if any(_dotted(a.name) == "Q" and a.asname is None for a in small.names):
                return module, "Q"
            from_models = from_models or (statement, small)
    if "Q" in _bound_names(module):
        raise FixError("`Q` names something else in this module; add the condition by hand")
    if from_models is not None:
        statement, small = from_models
        multiline = "\n" in _code(small)
        names = (
            _append_import_multiline(small, "Q") if multiline else _append_import_inline(small, "Q")
        )
        new_statement = _replaced(statement, small, small.with_changes(names=names))
        if multiline or _width(_code(new_statement).rstrip()) <= style.width:
            return _replaced(module, statement, new_statement), "Q"
    new_import = _parse_statement("from django.db.models import Q\n", style)
    return _insert_after(module, _import_anchor(header), new_import), "Q"


def _append_import_inline(
    small: cst.ImportFrom, name: str = "UniqueConstraint"
) -> list[cst.ImportAlias]:
    assert not isinstance(small.names, cst.ImportStar)
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    names = [*small.names[:-1], small.names[-1].with_changes(comma=comma)]
    return [*names, cst.ImportAlias(cst.Name(name))]


def _append_import_multiline(
    small: cst.ImportFrom, name: str = "UniqueConstraint"
) -> list[cst.ImportAlias]:
    assert not isinstance(small.names, cst.ImportStar)
    names = list(small.names)
    last = names[-1]
    separator = next(
        (a.comma.whitespace_after for a in names[:-1] if isinstance(a.comma, cst.Comma)),
        small.lpar.whitespace_after if small.lpar else cst.SimpleWhitespace(" "),
    )
    if isinstance(last.comma, cst.Comma):
        names[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=separator))
        names.append(cst.ImportAlias(cst.Name(name), comma=last.comma))
    else:
        names[-1] = last.with_changes(comma=cst.Comma(whitespace_after=separator))
        names.append(cst.ImportAlias(cst.Name(name)))
    return names


def _import_header(module: cst.Module) -> list[cst.SimpleStatementLine]:
    """The module's leading import statements (after the docstring)."""
    header = []
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            break
        if all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body):
            header.append(statement)
        elif not (len(statement.body) == 1 and isinstance(statement.body[0], cst.Expr)):
            break  # code; a docstring or a bare string is skipped
    return header


def _import_anchor(header: list[cst.SimpleStatementLine]) -> cst.SimpleStatementLine | None:
    django = [
        s
        for s in header
        if any(
            (_dotted(small.module) if isinstance(small, cst.ImportFrom) else "").startswith(
                "django"
            )
            for small in s.body
        )
    ]
    return (django or header)[-1] if (django or header) else None


def _insert_after(
    module: cst.Module, anchor: cst.CSTNode | None, statement: cst.BaseStatement
) -> cst.Module:
    body: list[cst.CSTNode] = list(module.body)
    if anchor is None:
        # After a module docstring and `from __future__` imports, else first.
        index = 0
        while index < len(body) and _docstring_or_future(body[index]):
            index += 1
        body.insert(index, statement)
        return module.with_changes(body=body)
    body.insert(body.index(anchor) + 1, statement)
    return module.with_changes(body=body)


def _docstring_or_future(statement: cst.CSTNode) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    small = statement.body[0]
    if isinstance(small, cst.Expr) and isinstance(
        small.value, (cst.SimpleString, cst.ConcatenatedString)
    ):
        return True
    return isinstance(small, cst.ImportFrom) and _dotted(small.module) == "__future__"


def _dotted(node: cst.BaseExpression | None) -> str:
    if node is None:
        return ""
    return _code(node).replace(" ", "")


def _alias_name(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return _dotted(alias.name)


def _bound_names(module: cst.Module) -> set[str]:
    """Every name the module uses or binds anywhere: an over-approximation, so a new import
    never shadows anything."""
    names: set[str] = set()

    class Names(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            names.add(node.value)

    module.visit(Names())
    return names


# --------------------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    # The check's options without its report ones (--format, --output-file, --exit-zero, -q):
    # fix-models prints its plan.
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[parent(FIX)],
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="files and directories to check (default: .)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print what would be added")
    mode.add_argument("--diff", action="store_true", help="print the changes as a unified diff")
    add_database_options(parser, fix_models=True)
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    cwd = os.getcwd()
    try:
        options = cli.resolve_options(given(args), cwd, os.environ, args.isolated, args.paths)
    except cli.UsageError as exc:
        return _fail(str(exc))
    if not options.settings:
        return _fail("no Django settings module is configured (see `flake8-django-goc --help`)")
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        return _fail(f"no such file or directory: {', '.join(missing)}")
    try:
        # Django itself, never the cache: the edit reads Meta inheritance from the live classes.
        schema = cli.load_project(options, use_cache=False)
    except (SetupError, ConfigError) as exc:
        return _fail(str(exc))

    collector = FixCollector(schema, cli.Selection(options), args.disable_noqa, options.serializers)
    excluded = cli.Excluder(options.exclude, cwd)
    for path in cli.discover(args.paths or ["."], excluded, options.no_migrations):
        collector.check(path)
    failed = collector.finish().failed  # a file the check could not read through
    by_file, outcomes = plan(collector.wanted.values(), schema, cwd)
    if not duplicates_before_edit(args, collector.wanted.values(), schema):
        return 2
    changed: dict[str, tuple[bytes, bytes]] = {}
    width = _line_length(cwd)
    for path, models in sorted(by_file.items()):
        try:
            with open(path, "rb") as file:
                old = file.read()
            new, results = edit_source(old, models, width)
            compile(new, path, "exec")  # never write a file Python cannot read
        except (OSError, FixError, SyntaxError) as exc:
            detail = f"{_relative(path, cwd)}: {exc.strerror if isinstance(exc, OSError) else exc}"
            results = [Outcome(m.facts.label, w, "error", detail) for m in models for w in m.wanted]
            new = old = b""
        outcomes.extend(results)
        if new != old:
            changed[path] = (old, new)

    if args.diff:
        _emit(_diff(changed, cwd))
    else:
        if not args.dry_run:
            for path, (_, new) in changed.items():
                with open(path, "wb") as file:
                    file.write(new)
        _emit(report(outcomes, schema, cwd, dry_run=args.dry_run))
    for outcome in outcomes:
        if outcome.status == "error" or (args.diff and outcome.status == "skipped"):
            _note(f"not added to {outcome.model}: {outcome.wanted.fix.name}: {outcome.detail}")
    if failed or any(outcome.status == "error" for outcome in outcomes):
        return 2
    return 1 if changed and (args.dry_run or args.diff) else 0


def _fail(message: str) -> int:
    _note(message)
    return 2


def _note(message: str) -> None:
    sys.stderr.write(f"{PROG}: {message}\n")


def _line_length(cwd: str) -> int:
    """The project's line length from pyproject.toml (ruff, then black), else 88."""
    path = os.path.join(cwd, "pyproject.toml")
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as file:
            tool = tomllib.load(file).get("tool", {})
    except (OSError, ValueError):
        return DEFAULT_WIDTH
    for table in (tool.get("ruff", {}), tool.get("black", {})):
        value = table.get("line-length", table.get("line_length"))
        if isinstance(value, int) and value > 0:
            return value
    return DEFAULT_WIDTH


def _diff(changed: dict[str, tuple[bytes, bytes]], cwd: str) -> str:
    out: list[str] = []
    for path, (old, new) in sorted(changed.items()):
        name = _relative(path, cwd).replace(os.sep, "/")
        out.extend(
            difflib.unified_diff(
                old.decode("utf-8", "replace").splitlines(keepends=True),
                new.decode("utf-8", "replace").splitlines(keepends=True),
                f"a/{name}",
                f"b/{name}",
            )
        )
    return "".join(out)


def _relative(path: str, cwd: str) -> str:
    relative = os.path.relpath(path, cwd)
    return path if relative.startswith(os.pardir) else relative


def _emit(text: str) -> None:
    if text:
        sys.stdout.write(text)
        sys.stdout.flush()


# ------------------------------------------------------------------------------------- report


def report(outcomes: list[Outcome], schema: Schema, cwd: str, dry_run: bool = False) -> str:
    """What was (or would be) added, what was not and why, and what the user must do next."""
    lines: list[str] = []
    verb = "would add" if dry_run else "added"
    for outcome in outcomes:
        fix = outcome.wanted.fix
        facts = schema.models.get(outcome.model)
        where = _relative(facts.file, cwd) if facts and facts.file else outcome.model
        asked = _asked(outcome.wanted.findings)
        if outcome.status == "added":
            lines.append(f"{where}: {verb} {fix.code()} to {outcome.model}  ({asked})")
            codes = {r.code for r in outcome.wanted.findings}
            if codes & {DGC001, DGC002}:
                existing = DGC002 in codes and not fix.condition
                unlike = "unlike the conditional constraint, " if existing else ""
                lines.append(f"  note: {unlike}{fix.business_rule()}; else change the call.")
            if fix.nulls_distinct is False:
                lines.append("  note: nulls_distinct=False is enforced by PostgreSQL 15+ only.")
        elif outcome.status == "present":
            lines.append(
                f"{where}: {outcome.model} already declares {fix.name}; make and apply its "
                f"migration  ({asked})"
            )
        elif outcome.status == "skipped":
            lines.append(f"not added to {outcome.model}: {outcome.detail}  ({asked})")
    if not outcomes:
        lines.append("Nothing to add: no reported finding names a constraint.")
    added = [o for o in outcomes if o.status == "added"]
    if added:
        lines.extend(_follow_up(added, schema, dry_run))
    return "\n".join(lines) + "\n"


def _asked(findings: list[Result]) -> str:
    shown = [f"{r.code} at {os.path.normpath(r.path)}:{r.line}:{r.column}" for r in findings[:3]]
    more = f" and {len(findings) - 3} more" if len(findings) > 3 else ""
    return ", ".join(shown) + more


def _follow_up(added: list[Outcome], schema: Schema, dry_run: bool) -> list[str]:
    """The query that finds existing duplicates, then makemigrations."""
    imports: dict[str, list[str]] = {}
    queries = []
    for outcome in added:
        facts = schema.models[outcome.model]
        names = imports.setdefault(facts.module, [])
        if facts.qualname.split(".")[0] not in names:
            names.append(facts.qualname.split(".")[0])
        queries.append(duplicates_query(facts, outcome.wanted.fix))
    apps = sorted({outcome.model.split(".")[0] for outcome in added})
    return [
        "",
        "Run without --dry-run to change the files. Then:" if dry_run else "Next:",
        "  1. Remove the duplicate rows the tables already hold, or the migration fails. "
        "Find them in `python manage.py shell`:",
        "       from django.db.models import Count",
        *(f"       from {module} import {', '.join(names)}" for module, names in imports.items()),
        *(f"       {query}" for query in queries),
        f"  2. python manage.py makemigrations {' '.join(apps)}",
        "  3. Review the migration, then: python manage.py migrate",
    ]
