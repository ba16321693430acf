"""The documentation of every rule, in one place.

Each ``RuleDoc`` has the sections of a ruff rule page (What it does, Why is this bad?, Example,
Use instead, References). ``flake8-django-goc explain CODE`` prints them, SARIF output carries them
as rule help, and ``scripts/render_docs.py`` renders ``docs/rules/`` from them, so the three never
drift. Only ``rules`` is imported: explaining a rule needs no Django settings.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from flake8_django_goc.rules import OPT_IN, RULES

DOCS_URI = "https://github.com/flake8-django-goc/flake8-django-goc/blob/main/docs/rules"
FIX_MODELS = "flake8-django-goc fix-models"

# Django documentation and tickets the rules cite (each checked for what it is about).
GET_OR_CREATE = (
    "Django docs: QuerySet.get_or_create()",
    "https://docs.djangoproject.com/en/stable/ref/models/querysets/#get-or-create",
)
UPDATE_OR_CREATE = (
    "Django docs: QuerySet.update_or_create()",
    "https://docs.djangoproject.com/en/stable/ref/models/querysets/#update-or-create",
)
CONSTRAINTS = (
    "Django docs: constraints reference (UniqueConstraint)",
    "https://docs.djangoproject.com/en/stable/ref/models/constraints/",
)
CONDITION = (
    "Django docs: UniqueConstraint.condition",
    "https://docs.djangoproject.com/en/stable/ref/models/constraints/"
    "#django.db.models.UniqueConstraint.condition",
)
DEFERRABLE = (
    "Django docs: UniqueConstraint.deferrable",
    "https://docs.djangoproject.com/en/stable/ref/models/constraints/"
    "#django.db.models.UniqueConstraint.deferrable",
)
NULLS_DISTINCT = (
    "Django docs: UniqueConstraint.nulls_distinct",
    "https://docs.djangoproject.com/en/stable/ref/models/constraints/"
    "#django.db.models.UniqueConstraint.nulls_distinct",
)
ATOMIC_REQUESTS = (
    "Django docs: tying transactions to HTTP requests (ATOMIC_REQUESTS)",
    "https://docs.djangoproject.com/en/stable/topics/db/transactions/"
    "#tying-transactions-to-http-requests",
)
MANAGER_QUERYSET = (
    "Django docs: modifying a manager's initial QuerySet",
    "https://docs.djangoproject.com/en/stable/topics/db/managers/"
    "#modifying-a-manager-s-initial-queryset",
)
MYSQL_ISOLATION = (
    "Django docs: MySQL isolation level",
    "https://docs.djangoproject.com/en/stable/ref/databases/#mysql-isolation-level",
)
POSTGRES_ISOLATION = (
    "Django docs: PostgreSQL isolation level",
    "https://docs.djangoproject.com/en/stable/ref/databases/#isolation-level",
)
TICKET_12579 = (
    "Django ticket #12579: get_or_create()'s behavior depends on the database's uniqueness "
    "restrictions",
    "https://code.djangoproject.com/ticket/12579",
)
TICKET_30199 = (
    "Django ticket #30199: get_or_create() documentation encourages unsafe usage",
    "https://code.djangoproject.com/ticket/30199",
)
TICKET_20581 = (
    "Django ticket #20581: support DEFERRABLE INITIALLY DEFERRED for UNIQUE constraints",
    "https://code.djangoproject.com/ticket/20581",
)
TICKET_34701 = (
    "Django ticket #34701: add support for NULLS [NOT] DISTINCT to UniqueConstraint",
    "https://code.djangoproject.com/ticket/34701",
)
TICKET_27683 = (
    "Django ticket #27683: change the default transaction isolation level to READ COMMITTED "
    "on MySQL",
    "https://code.djangoproject.com/ticket/27683",
)
PROJECT_RULES = (
    "flake8-django-goc README: how calls are tied to models",
    "https://github.com/flake8-django-goc/flake8-django-goc#rules",
)

SECTIONS = ("what", "why", "example", "use_instead", "references")


@dataclass(frozen=True)
class RuleDoc:
    code: str
    name: str  # kebab-case, stable: SARIF turns it into the rule's name
    what: str  # Markdown
    why: str  # Markdown
    example: str  # Python
    use_instead: str  # Python
    references: tuple[tuple[str, str], ...]  # (title, url)
    fixable: bool = False  # fix-models can add the constraint the finding names
    notes: str = ""  # Markdown, optional

    def __post_init__(self) -> None:
        # Sources are written indented inside this module; store them flush left.
        for name in ("what", "why", "example", "use_instead", "notes"):
            object.__setattr__(self, name, textwrap.dedent(getattr(self, name)).strip())

    @property
    def summary(self) -> str:
        """The one-line description, the same text as ``rules.RULES``."""
        return RULES[self.code]

    @property
    def summary_sentence(self) -> str:
        return _sentence(self.summary)

    @property
    def opt_in(self) -> bool:
        return self.code.startswith(OPT_IN)

    @property
    def uri(self) -> str:
        return f"{DOCS_URI}/{self.code}.md"

    @property
    def title(self) -> str:
        return f"{self.code}: {self.name}"

    def status(self) -> str:
        if self.opt_in:
            on = f"Opt-in: reported only when selected, e.g. `--extend-select {self.code}`."
        else:
            on = "On by default."
        if self.fixable:
            on += f" The constraint it names can be added by `{FIX_MODELS}`."
        return on


_DOCS: tuple[RuleDoc, ...] = (
    RuleDoc(
        code="DGC001",
        name="uncovered-lookup",
        fixable=True,
        what="""
            Checks `get_or_create()`, `update_or_create()` and their async forms
            (`aget_or_create()`, `aupdate_or_create()`) whose lookup no database uniqueness
            guarantee covers: no primary key, `unique=True` field, `OneToOneField`,
            `unique_together` or `UniqueConstraint` has all its fields among the values the call
            writes.

            Only plain keyword arguments count: on create Django writes the keys without `__`
            (`title__iexact=...` narrows the SELECT but is not written), and `defaults` never make
            a lookup safe. A constraint the model's database does not create (a partial
            constraint on MySQL, say) does not count either.
        """,
        why="""
            `get_or_create()` is a SELECT followed by an INSERT. Two concurrent requests (two
            workers, a double click) can both miss and both insert:

            ```text
            request A: SELECT ... WHERE customer_id=7 AND status='new'   -> no row
            request B: SELECT ... WHERE customer_id=7 AND status='new'   -> no row
            request A: INSERT (7, 'new');  request B: INSERT (7, 'new')  -> two rows
            ```

            Only a unique constraint turns the second INSERT into an `IntegrityError`, which
            Django catches and answers with the first request's row. Without one the table
            silently collects duplicates, and every later `get_or_create()` or `get()` with that
            lookup raises `MultipleObjectsReturned`: a 500 for that customer from then on.
        """,
        example="""
            class Order(models.Model):
                customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
                status = models.CharField(max_length=20, default="new")


            order, created = Order.objects.get_or_create(customer=customer, status="new")
        """,
        use_instead="""
            class Order(models.Model):
                customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
                status = models.CharField(max_length=20, default="new")

                class Meta:
                    constraints = [
                        models.UniqueConstraint(
                            fields=["customer", "status"], name="shop_order_customer_status_uniq"
                        ),
                    ]


            order, created = Order.objects.get_or_create(customer=customer, status="new")
        """,
        notes="""
            Or look the row up by a field that is already unique, and put the other values in
            `defaults`. Before migrating a new constraint, remove the duplicates the table
            already holds (`fix-models` prints the query that finds them).
        """,
        references=(GET_OR_CREATE, UPDATE_OR_CREATE, CONSTRAINTS, TICKET_12579, TICKET_30199),
    ),
    RuleDoc(
        code="DGC002",
        name="conditional-constraint-not-met",
        fixable=True,
        what="""
            Checks calls covered only by a conditional `UniqueConstraint(condition=Q(...))` when
            the row the call would create is not shown to satisfy the condition. The created row
            is evaluated as Django builds it: the plain lookup values, then `defaults` /
            `create_defaults`, then each field's default. A condition that cannot be evaluated
            (an `F()` expression, a value only known at run time) is reported as not shown.
        """,
        why="""
            A partial unique index only compares rows that satisfy its condition. When the
            created row falls outside it, two concurrent calls both miss in the SELECT and both
            INSERT without any `IntegrityError`:

            ```text
            request A: SELECT ... WHERE owner_id=7            -> no row
            request B: SELECT ... WHERE owner_id=7            -> no row
            request A and B: INSERT (7, 'frozen')             -> two rows, the index ignores both
            ```

            The next `get_or_create(owner=user)` raises `MultipleObjectsReturned` (a 500).
        """,
        example="""
            class Basket(models.Model):
                owner = models.ForeignKey(User, on_delete=models.CASCADE)
                status = models.CharField(max_length=10, default="open")

                class Meta:
                    constraints = [
                        models.UniqueConstraint(
                            fields=["owner"], condition=Q(status="open"), name="one_open_basket"
                        ),
                    ]


            basket, _ = Basket.objects.get_or_create(owner=user, defaults={"status": "frozen"})
        """,
        use_instead="""
            # Look up the values that put the row under the condition ...
            basket, _ = Basket.objects.get_or_create(owner=user, status="open")

            # ... or, if every row must be unique, make the constraint unconditional.
            models.UniqueConstraint(fields=["owner"], name="shop_basket_owner_uniq")
        """,
        notes="""
            `fix-models` adds the unconditional constraint the message names. That changes
            what the table accepts (here: one basket per owner, whatever its status), so review
            it, or fix the call instead. MySQL, MariaDB and Oracle do not create conditional
            constraints at all; there such a call is reported as DGC001.
        """,
        references=(GET_OR_CREATE, CONDITION, TICKET_12579),
    ),
    RuleDoc(
        code="DGC003",
        name="deferred-constraint",
        what="""
            Checks calls covered only by a unique constraint created
            `deferrable=Deferrable.DEFERRED` (`DEFERRABLE INITIALLY DEFERRED`).
        """,
        why="""
            `get_or_create()` relies on the losing INSERT raising `IntegrityError` inside its
            savepoint. A deferred constraint is checked at COMMIT instead:

            ```text
            request A and B (inside transaction.atomic()): SELECT -> no row; INSERT -> accepted
            get_or_create() returns (obj, True) to both; the view carries on with its row
            COMMIT of B -> IntegrityError, outside get_or_create(): the request fails with a 500
            ```

            That happens under `transaction.atomic()` and `ATOMIC_REQUESTS`.
            `update_or_create()` always opens its own transaction, so it hits the trap even
            outside `atomic()`.
        """,
        example="""
            class Reservation(models.Model):
                room = models.CharField(max_length=10)
                night = models.DateField()

                class Meta:
                    constraints = [
                        models.UniqueConstraint(
                            fields=["room", "night"],
                            name="one_booking_per_night",
                            deferrable=models.Deferrable.DEFERRED,
                        ),
                    ]


            with transaction.atomic():
                booking, created = Reservation.objects.get_or_create(room="101", night=day)
        """,
        use_instead="""
            class Reservation(models.Model):
                room = models.CharField(max_length=10)
                night = models.DateField()

                class Meta:
                    constraints = [
                        models.UniqueConstraint(
                            fields=["room", "night"],
                            name="one_booking_per_night",
                            deferrable=models.Deferrable.IMMEDIATE,
                        ),
                    ]
        """,
        notes="""
            If other code needs the deferred check (swapping two values in one transaction),
            keep it deferrable but `IMMEDIATE` and run `SET CONSTRAINTS ... DEFERRED` where it
            is needed. Deferrable constraints exist on PostgreSQL and Oracle only.
        """,
        references=(GET_OR_CREATE, UPDATE_OR_CREATE, DEFERRABLE, ATOMIC_REQUESTS, TICKET_20581),
    ),
    RuleDoc(
        code="DGC004",
        name="null-in-unique-set",
        fixable=True,
        what="""
            Checks calls whose every covering unique set contains a nullable field the lookup
            sets to `None` (on Oracle, also `""`, which Oracle stores as NULL).
        """,
        why="""
            A unique constraint never compares NULLs: two rows `("SPRING", NULL)` do not
            collide (PostgreSQL, MySQL, SQLite). So the race inserts both:

            ```text
            request A and B: SELECT ... WHERE code='SPRING' AND campaign IS NULL -> no row
            request A and B: INSERT ('SPRING', NULL)                           -> two rows
            ```

            and every later `get_or_create(code="SPRING", campaign=None)` raises
            `MultipleObjectsReturned` (a 500).
        """,
        example="""
            class Coupon(models.Model):
                code = models.CharField(max_length=20)
                campaign = models.CharField(max_length=50, null=True, blank=True)

                class Meta:
                    unique_together = [("code", "campaign")]


            coupon, _ = Coupon.objects.get_or_create(code=code, campaign=None)
        """,
        use_instead="""
            class Coupon(models.Model):
                code = models.CharField(max_length=20)
                campaign = models.CharField(max_length=50, null=True, blank=True)

                class Meta:
                    constraints = [
                        # PostgreSQL 15+, Django 5.0+: NULLs compare equal here.
                        models.UniqueConstraint(
                            fields=["code", "campaign"],
                            nulls_distinct=False,
                            name="shop_coupon_code_campaign_uniq",
                        ),
                    ]


            coupon, _ = Coupon.objects.get_or_create(code=code, campaign=None)
        """,
        notes="""
            Elsewhere, look up a non-null value instead (an empty string, a sentinel row).
            `nulls_distinct=False` needs Django 5.0+ and PostgreSQL 15+; other databases skip
            such a constraint, and `fix-models` does not add it there.
        """,
        references=(GET_OR_CREATE, NULLS_DISTINCT, TICKET_34701),
    ),
    RuleDoc(
        code="DGC005",
        name="lookup-overridden-by-defaults",
        what="""
            Checks calls that repeat a lookup key in `defaults` (or, for `update_or_create()`,
            in `create_defaults`) with a different value.
        """,
        why="""
            On create, Django writes the lookup values updated by `defaults`: defaults win. The
            created row does not match the lookup, so the next call does not find it and creates
            another row:

            ```text
            call 1: SELECT ... WHERE email='old@x' -> no row; INSERT (email='new@x')
            call 2: SELECT ... WHERE email='old@x' -> no row; INSERT (email='new@x')
            ```

            With a unique constraint the second INSERT fails instead, and the retry `get()`
            (still looking for `old@x`) finds nothing, so the `IntegrityError` escapes: a 500.
        """,
        example="""
            customer, _ = Customer.objects.update_or_create(
                email=email, defaults={"email": new_email, "name": name}
            )
        """,
        use_instead="""
            customer, _ = Customer.objects.update_or_create(
                email=email, defaults={"name": name}
            )
        """,
        notes="""
            To change the looked-up field itself, fetch the row and update it explicitly. For
            values that should only be written on create, use `create_defaults` (Django 5.0+).
        """,
        references=(GET_OR_CREATE, UPDATE_OR_CREATE),
    ),
    RuleDoc(
        code="DGC006",
        name="lookup-not-written",
        what="""
            Checks calls whose SELECT has conditions that the created row is not shown to meet:

            - `.filter(...)` / `.exclude(...)` before the call,
            - a manager whose `get_queryset()` filters (`Order.paid.get_or_create(...)`),
            - a related manager after `.all()` or `.filter()`
              (`customer.orders.all().get_or_create(...)`: the foreign key is then only a
              filter, not written),
            - a lookup key with `__` (`color__iexact="red"`) next to a covered lookup.

            Django writes only the plain keyword arguments of the call (and `defaults`).
        """,
        why="""
            The created row does not match the SELECT that looked for it:

            ```text
            call 1: SELECT ... WHERE status='paid' AND number='N-1' -> no row; INSERT status='new'
            call 2: SELECT ... WHERE status='paid' AND number='N-1' -> no row; INSERT again
            ```

            Without a constraint the table fills with duplicates. With one (here on `number`)
            the second INSERT fails, the retry `get()` still cannot see the row, and the
            `IntegrityError` escapes: a 500 on every call after the first.
        """,
        example="""
            order, _ = Order.objects.filter(status="paid").get_or_create(
                customer=customer, number=number
            )
        """,
        use_instead="""
            order, _ = Order.objects.get_or_create(customer=customer, number=number, status="paid")
        """,
        notes="""
            A filter the created row provably meets is fine, e.g.
            `Order.objects.filter(status="new")` when `status` defaults to `"new"`, or when the
            same value is passed as a plain keyword argument.
        """,
        references=(GET_OR_CREATE, UPDATE_OR_CREATE, MANAGER_QUERYSET),
    ),
    RuleDoc(
        code="DGC007",
        name="isolation-above-read-committed",
        what="""
            Reports a database configured to run transactions above READ COMMITTED:
            `"isolation_level": "repeatable read"` or `"serializable"` on MySQL/MariaDB (or such
            a level in `init_command` when `isolation_level` is `None`), and
            `IsolationLevel.REPEATABLE_READ` or `IsolationLevel.SERIALIZABLE` on PostgreSQL (or
            `-c default_transaction_isolation=...` in `options`). It is reported once, at that
            line of the settings module: every get_or_create-family call on that database is
            affected.
        """,
        why="""
            Inside a transaction (`transaction.atomic()`, `ATOMIC_REQUESTS`) every read sees the
            snapshot the transaction started with. The losing request gets its
            `IntegrityError`, retries the `get()`, and still cannot see the winner's row:

            ```text
            request A and B (in transactions): SELECT -> no row; both INSERT; A commits
            B: IntegrityError -> retry SELECT reads B's old snapshot -> still no row
            get_or_create() re-raises the IntegrityError: a 500 (SERIALIZABLE: OperationalError)
            ```

            The unique constraint is right; the isolation level defeats the recovery.
        """,
        example="""
            DATABASES = {
                "default": {
                    "ENGINE": "django.db.backends.mysql",
                    "NAME": "shop",
                    "OPTIONS": {"isolation_level": "repeatable read"},
                }
            }
        """,
        use_instead="""
            DATABASES = {
                "default": {
                    "ENGINE": "django.db.backends.mysql",
                    "NAME": "shop",
                    # Django's default for MySQL since 2.0.
                    "OPTIONS": {"isolation_level": "read committed"},
                }
            }
        """,
        notes="""
            If the higher level is a deliberate choice, keep these calls out of long
            transactions or retry the whole transaction on `IntegrityError` /
            `OperationalError`. Django used MySQL's server default (REPEATABLE READ) before 2.0.
        """,
        references=(GET_OR_CREATE, MYSQL_ISOLATION, POSTGRES_ISOLATION, TICKET_27683, TICKET_30199),
    ),
    RuleDoc(
        code="DGC100",
        name="unresolved-model",
        what="""
            Reports calls of the get_or_create family that the linter could not tie to a model:
            the receiver is a parameter, a variable of unknown type, a manager it does not know,
            or an owner that could be several models with different verdicts. The message says
            why.
        """,
        why="""
            It is not a bug in itself: it is a call nobody checked. If its lookup is not
            covered, it has the same race as DGC001 (duplicate rows, then
            `MultipleObjectsReturned` and a 500), and no other rule will tell you. Select this
            code when you want every call either judged or looked at by a person.
        """,
        example="""
            def get_tag(manager, name):
                return manager.get_or_create(name=name)
        """,
        use_instead="""
            def get_tag(name):
                return Tag.objects.get_or_create(name=name)
        """,
        notes="""
            Where the call must stay generic, check it by hand and silence it with
            `# noqa: DGC100`.
        """,
        references=(GET_OR_CREATE, PROJECT_RULES),
    ),
    RuleDoc(
        code="DGC101",
        name="dynamic-lookup",
        what="""
            Reports calls whose lookup comes from `**kwargs` (`get_or_create(**lookup)`): the
            keys are not known statically, so the call is not judged.
        """,
        why="""
            Whether a unique constraint covers the lookup depends on its keys. An unchecked
            lookup can have the DGC001 race (duplicate rows, then `MultipleObjectsReturned` and
            a 500) or the DGC005 trap without any report.
        """,
        example="""
            lookup = {"name": name, "kind": kind}
            tag, _ = Tag.objects.get_or_create(**lookup, defaults={"color": color})
        """,
        use_instead="""
            tag, _ = Tag.objects.get_or_create(name=name, kind=kind, defaults={"color": color})
        """,
        notes="""
            When the keys really are dynamic, check that every set of keys the code can pass is
            covered, and silence the call with `# noqa: DGC101`.
        """,
        references=(GET_OR_CREATE,),
    ),
)

DOCS: dict[str, RuleDoc] = {doc.code: doc for doc in _DOCS}


# ---------------------------------------------------------------------------------- rendering


def markdown(doc: RuleDoc) -> str:
    """The rule's page: the text of ``docs/rules/<code>.md`` and of ``explain <code>``."""
    parts = [
        f"# {doc.title}",
        f"{_code_spans(doc.summary_sentence)} {doc.status()}",
        f"## What it does\n\n{doc.what}",
        f"## Why is this bad?\n\n{doc.why}",
        f"## Example\n\n```python\n{doc.example}\n```",
        f"Use instead:\n\n```python\n{doc.use_instead}\n```",
    ]
    if doc.notes:
        parts.append(doc.notes)
    parts.append("## References\n\n" + "\n".join(f"- [{t}]({u})" for t, u in doc.references))
    return "\n\n".join(parts) + "\n"


def index_markdown() -> str:
    """``docs/rules/index.md``: every rule with its one-line summary."""
    rows = [
        f"| [{doc.code}]({doc.code}.md) | {doc.name} | {_code_spans(doc.summary_sentence)} | "
        f"{'opt-in' if doc.opt_in else 'on'} | {'yes' if doc.fixable else ''} |"
        for doc in DOCS.values()
    ]
    return (
        "# Rules\n\n"
        "Generated by `scripts/render_docs.py` from `flake8_django_goc/rule_docs.py`; "
        "`flake8-django-goc explain CODE` prints the same text at the terminal.\n\n"
        "| code | name | summary | default | `fix-models` |\n"
        "|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )


def rendered_files() -> dict[str, str]:
    """File name -> content of every page under ``docs/rules/``."""
    files = {f"{code}.md": markdown(doc) for code, doc in DOCS.items()}
    files["index.md"] = index_markdown()
    return files


def summary_lines() -> str:
    """``explain`` without a code: one line per rule."""
    width = max(len(doc.name) for doc in DOCS.values())
    lines = [f"{doc.code}  {doc.name:<{width}}  {doc.summary}" for doc in DOCS.values()]
    return "\n".join(lines) + "\n"


def plain_text(text: str) -> str:
    """Markdown prose as plain text (SARIF ``text`` fields): paragraphs unwrapped, code fences
    and backticks dropped, list items and fenced lines kept on their own lines."""
    out: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        stripped = line.strip().replace("`", "")
        if fenced or not stripped or stripped.startswith("- ") or not out or not out[-1]:
            out.append(line.replace("`", "") if fenced else stripped)
        else:
            out[-1] += " " + stripped
    return "\n".join(out).strip()


def lookup(code: str) -> RuleDoc | None:
    return DOCS.get(code.strip().upper())


def _code_spans(text: str) -> str:
    """Markdown for a plain summary: code-like words (``filter()``, ``**kwargs``,
    ``create_defaults``) in backticks, so Markdown does not read them as emphasis."""
    words = []
    for word in text.split(" "):
        core = word.rstrip(".,;:")
        parts = [
            f"`{part}`" if any(mark in part for mark in ("()", "*", "_")) else part
            for part in core.split("/")
        ]
        words.append("/".join(parts) + word[len(core) :])
    return " ".join(words)


def _sentence(text: str) -> str:
    text = text.replace(" (opt-in)", "")
    first = text.split(" ", 1)[0]
    if first.isalpha():  # not code like "filter()/exclude()", which keeps its case
        text = text[:1].upper() + text[1:]
    return text + ("" if text.endswith(".") else ".")
