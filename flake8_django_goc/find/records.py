"""Plain records describing get_or_create-family calls, and the text gate. No libcst here.

The finder (``calls``) produces them; resolve and judge consume them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flake8_django_goc.schema import UNKNOWN

# The cheapest test that a source can hold a call (every method name contains it).
GATE = "_or_create"
BULK_GATE = "bulk_create"  # bulk_create() / abulk_create() (DGC012)


@dataclass(frozen=True)
class Value:
    """An argument: source text, value when a literal, keys when a dict literal."""

    code: str
    literal: Any = UNKNOWN
    items: tuple[tuple[str, Value], ...] | None = None  # dict literal / dict(...) with str keys
    items_complete: bool = True  # False when the dict also has ** parts or computed keys
    # A dict literal whose only other keys are computed (`{f"{side}_id": pk}`): one regular
    # expression per computed key (an f-string's text parts kept); None with a ** part.
    key_patterns: tuple[str, ...] | None = None
    # Known never to be NULL: a model instance (`self` in a model) or a non-null field read from
    # one (`billing.workspace_id`); set by resolve, which knows the types.
    not_null: bool = False

    @property
    def is_literal(self) -> bool:
        return self.literal is not UNKNOWN


@dataclass(frozen=True)
class CallArgs:
    kwargs: tuple[tuple[str, Value], ...] = ()
    positional: tuple[Value, ...] = ()
    star_args: tuple[Value, ...] = ()  # *expr
    star_kwargs: tuple[Value, ...] = ()  # **expr that is not a literal dict
    # `**lookup` of a dict literal later changed in place by key (`lookup.update({"k": v})`):
    # its keys are in kwargs, but those changes set (`maybe_keys`) may or may not be there.
    changed: tuple[Value, ...] = ()
    maybe_keys: tuple[str, ...] = ()

    def get(self, key: str) -> Value | None:
        for k, v in self.kwargs:
            if k == key:
                return v
        return None


@dataclass(frozen=True)
class Step:
    """One link of a receiver chain: ``Name``, ``.attr``, ``(...)`` or ``[...]``/other."""

    kind: str  # "name", "attr", "call", "index", "expr"
    name: str = ""
    args: CallArgs | None = None


@dataclass(frozen=True)
class Binding:
    """A name bound in a scope: ``x = expr``, ``a, b = expr``, ``for x in expr``, ``x: T``."""

    name: str
    order: int  # traversal order: a binding applies to calls with a larger order
    value: tuple[Step, ...] | None = None
    index: int | None = None  # position in a tuple target
    kind: str = "assign"  # "assign", "for" (an element of value), "annotation", "proxy"
    annotation: str | None = None
    # `lookup = {"name": x}`: the literal dict's items, for a later `get_or_create(**lookup)`.
    items: tuple[tuple[str, Value], ...] | None = None


@dataclass(eq=False)
class Frame:
    """An enclosing class or function of a call; its bindings fill in as the traversal goes on."""

    kind: str  # "class" or "function"
    name: str
    bases: tuple[str, ...] = ()  # class bases / function decorators, as source text
    bindings: list[Binding] = field(default_factory=list)
    # Names changed in place somewhere in the frame (`d["k"] = v`, `d.update(...)`): a dict
    # bound to one of them is not known from its literal.
    mutated: set[str] = field(default_factory=set)
    # Of those, the keys set by changes that name them (`d["k"] = v`, `d.update({"k": v})`,
    # `d.update(k=v)`), and the names also changed in a way that does not name its keys
    # (`d.update(other)`, `d.pop("k")`, `del d["k"]`): a `defaults` dict changed only by the
    # former still has known keys (values of the added keys unknown).
    added_keys: dict[str, set[str]] = field(default_factory=dict)
    reshaped: set[str] = field(default_factory=set)

    def known_keys(self, name: str) -> frozenset[str] | None:
        """The keys a dict bound to ``name`` may gain in place; None when not known."""
        if name in self.reshaped:
            return None
        return frozenset(self.added_keys.get(name, ()))

    def lookup(self, name: str, before: int) -> Binding | None:
        """The last binding of ``name`` made before ``before`` (any, for class attributes)."""
        found = None
        for binding in self.bindings:
            if binding.name == name and (binding.order < before or self.kind == "class"):
                found = binding
        return found


@dataclass(frozen=True)
class CallSite:
    method: str
    line: int
    col: int
    receiver: tuple[Step, ...]
    receiver_code: str
    args: CallArgs
    scope: tuple[Frame, ...] = ()
    order: int = 0
    # Source text of what encloses the call and may serialise it: the decorators of enclosing
    # functions and the context managers of enclosing `with` statements (`advisory_lock`).
    guards: tuple[str, ...] = ()
    objects: Constructed | None = None  # bulk_create(): the objects, when built in the function


@dataclass(frozen=True)
class Constructed:
    """Objects passed to bulk_create() that the same function builds with ``Model(k=v, ...)``."""

    constructors: tuple[tuple[tuple[Step, ...], tuple[str, ...]], ...]  # callee, keyword names
    # Attributes assigned anywhere in the function (`obj.pk = ...` would give them a pk).
    assigned: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ImportBinding:
    """``import module`` / ``from [.]module import attr``; level counts the leading dots."""

    module: str
    attr: str | None = None
    level: int = 0


@dataclass(frozen=True)
class ModuleFacts:
    imports: dict[str, ImportBinding] = field(default_factory=dict)
    classes: frozenset[str] = frozenset()  # qualnames of classes defined in the module
    # Signal receivers connected at module level: `post_save.connect(handler, sender=Project)`
    # gives {"handler": "Project"} (the sender's source text).
    connected: dict[str, str] = field(default_factory=dict)
    # Hand-written get-or-create and uniqueness checks (find/pairs.py), with their scopes.
    handrolled: HandRolled | None = None
    # Calls of the module's own top-level functions seen in the bodies libcst parsed, and how
    # often each such name is called in the whole source: a parameter is told by its callers
    # only when every call of the function in the module was seen.
    local_calls: tuple[LocalCall, ...] = ()
    local_call_counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LocalCall:
    """``create_prefixes(subnet, Prefix)``: a call of a top-level function of the module."""

    callee: str
    positional: tuple[tuple[Step, ...] | None, ...]  # None: not a plain name or attribute chain
    keywords: tuple[tuple[str, tuple[Step, ...] | None], ...]
    scope: tuple[Frame, ...]
    order: int
    unpacked: bool = False  # *args or **kwargs: positions not known


@dataclass(frozen=True)
class Scope:
    frames: tuple[Frame, ...]
    order: int
    guards: tuple[str, ...]  # decorators of enclosing functions, enclosing `with` items


# ------------------------------------------------- hand-written checks (find/pairs.py)


@dataclass(frozen=True)
class Check:
    """What was looked up: the receiver chain, the check call's own keyword arguments."""

    method: str  # get, exists, first, count, update, len, bool
    line: int
    col: int
    text: str  # source text, for the message
    receiver: tuple[Step, ...]
    kwargs: CallArgs = field(default_factory=CallArgs)  # get()'s lookup (not update()'s values)
    # `x = user.profile` in a `try` whose `except Profile.DoesNotExist` creates: reading the
    # reverse one-to-one accessor is the get() (receiver: the exception's model's default
    # manager; owner: the chain of `user`; owner_code: its source text).
    owner: tuple[Step, ...] | None = None
    owner_code: str = ""
    accessor: str = ""  # `profile`


@dataclass(frozen=True)
class Handling:
    """Where the create runs: which IntegrityError handler, which transactions."""

    handler_line: int | None = None  # an `except IntegrityError` (or a base class) around it
    handler_reraises: bool = False  # the handler only re-raises
    own_atomic: bool = False  # a `with transaction.atomic()` between that handler and the create
    outer_atomic: bool = False  # the code runs in a transaction opened in this function
    serialised: bool = False  # select_for_update() of another row inside atomic() came first
    # An atomic() was already open where the handler's try starts: the insert's own atomic()
    # is then a savepoint, and a deferred constraint fires at a COMMIT outside the try.
    enclosing_atomic: bool = False


@dataclass(frozen=True)
class Pair:
    check: Check
    line: int  # the call that inserts: create()/acreate(), or save()/asave() of the new instance
    col: int
    create_method: str
    receiver: tuple[Step, ...]  # the create's receiver (`M._default_manager` for `M(...)`)
    written: CallArgs
    handling: Handling = field(default_factory=Handling)
    # The saved instance's name for `x.save()`: the save writes every field of x, so a check
    # that looked up `f=x.f` looked up what the save writes.
    instance: str | None = None
    changed: tuple[str, ...] = ()  # attributes of that instance set after the check
    scope: Scope | None = None  # where the create runs: both receivers are resolved there
    # The check's found path raises (`if qs.exists(): raise ValidationError(...)` before the
    # insert): the code wants an error, not the existing row.
    refuses: bool = False


@dataclass(frozen=True)
class PyCheck:
    """``if qs.exists(): raise``: uniqueness checked only in Python (DGC010)."""

    check: Check
    serialised: bool = False
    scope: Scope | None = None


@dataclass(frozen=True)
class Validator:
    """DRF's ``UniqueValidator(queryset=...)`` on a field / ``UniqueTogetherValidator``."""

    line: int
    col: int
    kind: str  # "UniqueValidator" or "UniqueTogetherValidator"
    receiver: tuple[Step, ...]
    fields: tuple[str, ...]
    scope: Scope | None = None


@dataclass(frozen=True)
class HandRolled:
    pairs: tuple[Pair, ...] = ()
    checks: tuple[PyCheck, ...] = ()
    validators: tuple[Validator, ...] = ()
    facts: ModuleFacts | None = None  # the import table, from the ast (no libcst needed)

    def __bool__(self) -> bool:
        return bool(self.pairs or self.checks or self.validators)


def could_contain_call(source: str) -> bool:
    return GATE in source or BULK_GATE in source
