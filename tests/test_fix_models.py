"""``flake8-django-goc fix-models``: the libcst edit of a models module (in process, exact text),
then the whole command on a copy of example/ plus an app of edge cases (in subprocesses): Django
accepts the result, the linter then reports the calls as covered, makemigrations sees the new
constraints, a second run changes nothing, and nothing else in the files moved."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flake8_django_goc.commands.duplicates import Wanted
from flake8_django_goc.commands.fix_models import (
    MetaHints,
    ModelPlan,
    Style,
    constraint_text,
    edit_source,
)
from flake8_django_goc.rules import ConstraintFix, constraint_name
from flake8_django_goc.schema import ModelFacts

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example"


def fix(fields: tuple[str, ...] = ("name", "kind"), nulls_distinct: bool | None = None):
    return ConstraintFix("app.Thing", fields, constraint_name("app.Thing", fields), nulls_distinct)


def edit(
    source: str,
    *fixes: ConstraintFix,
    qualname: str = "Thing",
    hints: MetaHints | None = None,
    width: int = 88,
) -> tuple[str, list[str]]:
    facts = ModelFacts("app.Thing", "Thing", "app.models", qualname, {}, ())
    wanted = [Wanted(f) for f in fixes or (fix(),)]
    data, outcomes = edit_source(
        textwrap.dedent(source).encode(), [ModelPlan(facts, wanted, hints or MetaHints())], width
    )
    return data.decode(), [o.status for o in outcomes]


def only_inserted(old: str, new: str) -> bool:
    """Every line of ``old`` is still in ``new``, in order and unchanged."""
    matcher = difflib.SequenceMatcher(a=old.splitlines(True), b=new.splitlines(True))
    return all(tag in ("equal", "insert") for tag, *_ in matcher.get_opcodes())


def replaced_lines(old: str, new: str) -> list[str]:
    matcher = difflib.SequenceMatcher(a=old.splitlines(True), b=new.splitlines(True))
    return [
        line
        for tag, i1, i2, _, _ in matcher.get_opcodes()
        if tag != "equal" and tag != "insert"
        for line in old.splitlines(True)[i1:i2]
    ]


# -------------------------------------------------------------------------------- the edit


def test_creates_meta_before_the_methods() -> None:
    old = '''\
        from django.db import models


        class Thing(models.Model):
            """A thing."""

            name = models.CharField(max_length=10)  # the name
            kind = models.CharField(max_length=10)

            def __str__(self):
                return self.name
        '''
    new, status = edit(old)
    assert status == ["added"]
    assert new == textwrap.dedent('''\
        from django.db import models


        class Thing(models.Model):
            """A thing."""

            name = models.CharField(max_length=10)  # the name
            kind = models.CharField(max_length=10)

            class Meta:
                constraints = [
                    models.UniqueConstraint(
                        fields=["name", "kind"], name="app_thing_name_kind_uniq"
                    ),
                ]

            def __str__(self):
                return self.name
        ''')
    assert only_inserted(textwrap.dedent(old), new)


def test_creates_meta_at_the_end_and_replaces_a_lone_pass() -> None:
    new, _ = edit("""\
        from django.db import models


        class Thing(models.Model):
            name = models.CharField(max_length=10)
        """)
    assert "    name = models.CharField(max_length=10)\n\n    class Meta:\n" in new
    assert new.endswith("        ]\n")
    new, _ = edit("""\
        from django.db import models


        class Thing(models.Model):
            class Meta:
                pass
        """)
    assert "pass" not in new and "    class Meta:\n        constraints = [\n" in new


def test_meta_before_a_first_method_gets_a_blank_line() -> None:
    new, _ = edit("""\
        from django.db import models


        class Thing(models.Model):
            def __str__(self):
                return "x"
        """)
    assert new.endswith('        ]\n\n    def __str__(self):\n        return "x"\n')
    assert "class Thing(models.Model):\n    class Meta:\n" in new


def test_adds_constraints_to_an_existing_meta_in_place() -> None:
    old = """\
        from django.db import models


        class Thing(models.Model):
            class Meta:
                ordering = ["name"]  # newest last
                unique_together = [("code", "campaign")]
        """
    new, _ = edit(old)
    assert only_inserted(textwrap.dedent(old), new)
    assert new.endswith(
        '        unique_together = [("code", "campaign")]\n'
        "        constraints = [\n"
        "            models.UniqueConstraint(\n"
        '                fields=["name", "kind"], name="app_thing_name_kind_uniq"\n'
        "            ),\n"
        "        ]\n"
    )


def test_one_line_meta_becomes_a_block() -> None:
    new, _ = edit("""\
        from django.db import models


        class Thing(models.Model):
            class Meta: ordering = ["name"]
        """)
    assert '    class Meta:\n        ordering = ["name"]\n        constraints = [\n' in new


def test_appends_to_a_multiline_list_keeping_comments() -> None:
    old = """\
        from django.db import models


        class Thing(models.Model):
            class Meta:
                constraints = [
                    # One per code.
                    models.UniqueConstraint(fields=["code"], name="code"),  # by code
                    # more later
                ]
        """
    new, _ = edit(old)
    assert only_inserted(textwrap.dedent(old), new)
    assert new.endswith(
        "            # One per code.\n"
        '            models.UniqueConstraint(fields=["code"], name="code"),  # by code\n'
        "            models.UniqueConstraint(\n"
        '                fields=["name", "kind"], name="app_thing_name_kind_uniq"\n'
        "            ),\n"
        "            # more later\n"
        "        ]\n"
    )


def test_appends_to_a_multiline_tuple_without_trailing_comma() -> None:
    old = """\
        from django.db import models


        class Thing(models.Model):
            class Meta:
                constraints = (  # keep
                    models.UniqueConstraint(fields=["code"], name="code"),
                    models.UniqueConstraint(fields=["x"], name="x")  # x
                )
        """
    new, _ = edit(old)
    assert replaced_lines(textwrap.dedent(old), new) == [
        '            models.UniqueConstraint(fields=["x"], name="x")  # x\n'
    ]
    assert new.endswith(
        '            models.UniqueConstraint(fields=["x"], name="x"),  # x\n'
        "            models.UniqueConstraint(\n"
        '                fields=["name", "kind"], name="app_thing_name_kind_uniq"\n'
        "            )\n"
        "        )\n"
    )


def test_one_line_tuple_stays_on_one_line_when_it_fits() -> None:
    new, _ = edit(
        """\
        from django.db import models


        class Thing(models.Model):
            class Meta:
                constraints = (models.UniqueConstraint(fields=["a"], name="a"),)
        """,
        fix(("b",)),
    )
    # 135 characters on one line: too long for 88, so one item per line.
    assert new.endswith(
        "        constraints = (\n"
        '            models.UniqueConstraint(fields=["a"], name="a"),\n'
        '            models.UniqueConstraint(fields=["b"], name="app_thing_b_uniq"),\n'
        "        )\n"
    )
    wide, _ = edit(
        """\
        from django.db import models


        class Thing(models.Model):
            class Meta:
                constraints = (models.UniqueConstraint(fields=["a"], name="a"),)
        """,
        fix(("b",)),
        width=135,
    )
    assert wide.endswith(
        '        constraints = (models.UniqueConstraint(fields=["a"], name="a"), '
        'models.UniqueConstraint(fields=["b"], name="app_thing_b_uniq"))\n'
    )


@pytest.mark.parametrize("empty", ["[]", "()", "[\n        ]"])
def test_fills_an_empty_literal(empty: str) -> None:
    source = (
        "from django.db import models\n\n\nclass Thing(models.Model):\n"
        f"    class Meta:\n        constraints = {empty}\n"
    )
    new, _ = edit(source, fix(("b",)))
    opening, closing = ("(", ")") if empty == "()" else ("[", "]")
    assert new.endswith(
        f"        constraints = {opening}\n"
        '            models.UniqueConstraint(fields=["b"], name="app_thing_b_uniq"),\n'
        f"        {closing}\n"
    )


def test_extends_the_literal_of_a_concatenation() -> None:
    new, _ = edit(
        """\
        from django.db import models


        class Thing(Base):
            class Meta(Base.Meta):
                constraints = Base.Meta.constraints + [
                    models.UniqueConstraint(fields=["a"], name="a"),
                ]
        """,
        fix(("b",)),
    )
    assert new.endswith(
        '            models.UniqueConstraint(fields=["a"], name="a"),\n'
        '            models.UniqueConstraint(fields=["b"], name="app_thing_b_uniq"),\n'
        "        ]\n"
    )


def test_constraints_that_are_not_a_literal_are_an_error() -> None:
    source = """\
        from django.db import models


        class Thing(models.Model):
            class Meta:
                constraints = make_constraints()
        """
    new, status = edit(source)
    assert status == ["error"] and new == textwrap.dedent(source)


def test_missing_class_is_an_error() -> None:
    assert edit("x = 1\n")[1] == ["error"]


@pytest.mark.parametrize(
    ("existing", "status"),
    [
        ('models.UniqueConstraint(fields=["x"], name="app_thing_name_kind_uniq")', "present"),
        ('models.UniqueConstraint(fields=("kind", "name"), name="other")', "present"),
        ('UniqueConstraint(fields=["name", "kind"], name="other")', "present"),
        # A conditional constraint on the same fields is what DGC002 asks to complete.
        ('models.UniqueConstraint(fields=["name", "kind"], condition=Q(a=1), name="c")', "added"),
        ('models.UniqueConstraint(Lower("name"), "kind", name="f")', "added"),
    ],
)
def test_a_constraint_already_there_is_not_added_twice(existing: str, status: str) -> None:
    source = (
        "from django.db import models\n\n\nclass Thing(models.Model):\n"
        f"    class Meta:\n        constraints = [\n            {existing},\n        ]\n"
    )
    new, statuses = edit(source)
    assert statuses == [status]
    assert (new == source) == (status == "present")


def test_nulls_distinct_needs_its_own_constraint() -> None:
    source = (
        "from django.db import models\n\n\nclass Thing(models.Model):\n"
        "    class Meta:\n"
        '        constraints = [models.UniqueConstraint(fields=["name", "kind"], name="n")]\n'
    )
    new, statuses = edit(source, fix(nulls_distinct=False))
    assert statuses == ["added"]
    assert (
        "            models.UniqueConstraint(\n"
        '                fields=["name", "kind"],\n'
        "                nulls_distinct=False,\n"
        '                name="app_thing_name_kind_uniq",\n'
        "            ),\n"
    ) in new
    again, statuses = edit(new, fix(nulls_distinct=False))
    assert statuses == ["present"] and again == new


def test_module_style_is_followed() -> None:
    """Two-space indentation, single quotes, and a `from django.db.models import ...` module
    that has no `models` name: UniqueConstraint joins that import."""
    old = """\
        from django.db.models import CharField, Model


        class Thing(Model):
          name = CharField(max_length=10, default='x')
          kind = CharField(max_length=10, default='y')
        """
    new, _ = edit(old)
    assert new == textwrap.dedent("""\
        from django.db.models import CharField, Model, UniqueConstraint


        class Thing(Model):
          name = CharField(max_length=10, default='x')
          kind = CharField(max_length=10, default='y')

          class Meta:
            constraints = [
              UniqueConstraint(fields=['name', 'kind'], name='app_thing_name_kind_uniq'),
            ]
        """)


def test_multiline_import_gets_the_name_in_its_layout() -> None:
    new, _ = edit("""\
        from django.db.models import (
            CharField,
            Model,
        )


        class Thing(Model):
            name = CharField(max_length=10)
        """)
    assert new.startswith(
        "from django.db.models import (\n    CharField,\n    Model,\n    UniqueConstraint,\n)\n"
    )
    assert (
        '            UniqueConstraint(fields=["name", "kind"], name="app_thing_name_kind_uniq"),\n'
        in new
    )


def test_missing_import_is_added_after_the_imports() -> None:
    old = '''\
        """Models."""

        from __future__ import annotations

        import os

        from app.base import Model


        class Thing(Model):
            pass
        '''
    new, _ = edit(old)
    assert only_inserted(textwrap.dedent(old).replace("    pass\n", ""), new)
    assert "from app.base import Model\nfrom django.db import models\n\n\nclass Thing" in new
    assert "            models.UniqueConstraint(\n" in new


@pytest.mark.parametrize(
    ("imports", "reference"),
    [
        ("from django.db import models as m\n", "m.UniqueConstraint("),
        ("from django.db.models import UniqueConstraint as UC\n", "UC("),
        ("from django.db.models import *\n", "UniqueConstraint("),
        ("import django.db.models\n", "django.db.models.UniqueConstraint("),
        # `models` names something else here: import the class instead.
        ("from . import models\n", "UniqueConstraint("),
    ],
)
def test_the_module_own_name_for_the_class_is_used(imports: str, reference: str) -> None:
    new, _ = edit(f"{imports}\n\nclass Thing(Base):\n    pass\n", fix(("b",)))
    assert f"            {reference}fields=" in new
    if imports.startswith("from . import"):
        assert new.startswith(imports + "from django.db.models import UniqueConstraint\n")
    else:
        assert new.startswith(imports + "\n\nclass Thing")


def test_inherited_abstract_meta_is_kept() -> None:
    """A model without Meta inherits its abstract parent's: a new Meta must subclass it and keep
    its constraints (what the running model classes tell fix-models through MetaHints)."""
    new, _ = edit(
        """\
        from django.db import models


        class Thing(Stamped, Mixin):
            name = models.CharField(max_length=10)
        """,
        hints=MetaHints(class_base=0, class_spread=True),
    )
    assert new.endswith(
        "    class Meta(Stamped.Meta):\n"
        "        constraints = [\n"
        "            *Stamped.Meta.constraints,\n"
        "            models.UniqueConstraint(\n"
        '                fields=["name", "kind"], name="app_thing_name_kind_uniq"\n'
        "            ),\n"
        "        ]\n"
    )
    new, _ = edit(
        """\
        from django.db import models


        class Thing(Stamped):
            class Meta(Stamped.Meta):
                ordering = ["name"]
        """,
        hints=MetaHints(meta_base=0, meta_spread=True),
    )
    assert '        ordering = ["name"]\n        constraints = [\n' in new
    assert "            *Stamped.Meta.constraints,\n" in new


def test_nested_class_and_crlf_newlines() -> None:
    source = (
        "from django.db import models\r\n\r\n\r\nclass Outer:\r\n"
        "    class Thing(models.Model):\r\n        name = models.CharField(max_length=10)\r\n"
    )
    data, _ = edit_source(
        source.encode(),
        [
            ModelPlan(
                ModelFacts("app.Thing", "Thing", "app.models", "Outer.Thing", {}, ()),
                [Wanted(fix(("b",)))],
            )
        ],
    )
    new = data.decode()
    assert "\n" not in new.replace("\r\n", "")
    assert new.startswith(source)
    assert (
        "        class Meta:\r\n            constraints = [\r\n"
        '                models.UniqueConstraint(fields=["b"], name="app_thing_b_uniq"),\r\n'
    ) in new


def test_constraint_text_follows_black() -> None:
    style = Style("    ", '"', 88)
    short = ConstraintFix("a.B", ("x",), "n")
    assert constraint_text(short, "models.UniqueConstraint", style, 12) == (
        'models.UniqueConstraint(fields=["x"], name="n")'
    )
    long = ConstraintFix("a.B", ("customer", "status"), "shop_order_customer_status_uniq")
    assert constraint_text(long, "models.UniqueConstraint", style, 12) == (
        "models.UniqueConstraint(\n"
        '    fields=["customer", "status"], name="shop_order_customer_status_uniq"\n'
        ")"
    )
    longer = ConstraintFix("a.B", ("customer", "status"), "x" * 60, nulls_distinct=False)
    assert constraint_text(longer, "UniqueConstraint", style, 12).count("\n") == 4


# ------------------------------------------------------------------------- the whole command

PLACES = '''\
"""Places: an abstract parent's Meta, tuples, multi-table inheritance."""

from django.db import models


class Stamped(models.Model):
    slug = models.SlugField()

    class Meta:
        abstract = True
        ordering = ["slug"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="%(app_label)s_%(class)s_slug_uniq"),
        ]


class Event(Stamped):
    kind = models.CharField(max_length=20)
    day = models.DateField()


class Venue(models.Model):
    code = models.CharField(max_length=10)
    city = models.CharField(max_length=50)
    name = models.CharField(max_length=50)

    class Meta:
        constraints = (models.UniqueConstraint(fields=["code"], name="venue_code_uniq"),)


class Room(models.Model):
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE)
    number = models.CharField(max_length=10)
    floor = models.IntegerField()

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["number"], name="room_number_uniq"),  # by number
            # more to come
        )


class Place(models.Model):
    name = models.CharField(max_length=50)
    city = models.CharField(max_length=50)


class Restaurant(Place):
    cuisine = models.CharField(max_length=20)

    def __str__(self) -> str:
        return self.name
'''

TAGS = """\
from django.db.models import CharField, Model


class Tag(Model):
  # Two-space indentation and single quotes: what is added must look the same.
  name = CharField(max_length=50)
  kind = CharField(max_length=20, default='plain')

  def __str__(self):
    return self.name


class Label(Model):
  text = CharField(max_length=50)

  class Meta:
    constraints = ()
"""

EXTRA_VIEWS = """\
from django.contrib.auth.models import User

from .models import Event, Label, Restaurant, Room, Tag, Venue


def calls(day, venue):
    Event.objects.get_or_create(kind="talk", day=day)
    Venue.objects.get_or_create(city="Oslo", name="Main")
    Room.objects.get_or_create(venue=venue, floor=1)
    Restaurant.objects.get_or_create(name="Pasta", city="Oslo")
    Tag.objects.get_or_create(name="django", kind="topic")
    Label.objects.get_or_create(text="x")


def not_ours(first, last):
    # auth.User lives in Django: fix-models says so and leaves it alone.
    return User.objects.get_or_create(first_name=first, last_name=last)
"""

# The example's findings that carry a constraint (README): views.py line -> code.
FIXED_EXAMPLE_LINES = {16: "DGC001", 28: "DGC002", 46: "DGC004"}
ADDED = [
    # Literal lookup values become the condition of a partial constraint (issue #10).
    "extra_event_day_kind_talk_uniq",
    "extra_label_text_uniq",
    "extra_place_name_city_uniq",
    "extra_room_venue_floor_1_uniq",
    "extra_tag_name_kind_uniq",
    "extra_venue_city_name_uniq",
    "shop_basket_owner_uniq",
    "shop_coupon_code_campaign_uniq",
    "shop_order_customer_status_new_uniq",
]


def make_project(root: Path) -> Path:
    """example/ plus an `extra` app of edge cases, and SQLite settings for manage.py."""
    project = root / "project"
    shutil.copytree(
        EXAMPLE, project, ignore=shutil.ignore_patterns(".flake8-django-goc-cache", "__pycache__")
    )
    settings = project / "mysite" / "settings.py"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace('    "shop",\n', '    "shop",\n    "extra",\n'), "utf-8")
    (project / "mysite" / "settings_sqlite.py").write_text(
        "from .settings import *  # noqa: F403\n\n"
        'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}\n',
        encoding="utf-8",
    )
    (project / "extra" / "models").mkdir(parents=True)
    (project / "extra" / "__init__.py").write_text("", encoding="utf-8")
    (project / "extra" / "models" / "__init__.py").write_text(
        "from .places import Event, Place, Restaurant, Room, Stamped, Venue\n"
        "from .tags import Label, Tag\n\n"
        '__all__ = ["Event", "Label", "Place", "Restaurant", "Room", "Stamped", "Tag", "Venue"]\n',
        encoding="utf-8",
    )
    (project / "extra" / "models" / "places.py").write_text(PLACES, encoding="utf-8")
    (project / "extra" / "models" / "tags.py").write_text(TAGS, encoding="utf-8")
    (project / "extra" / "views.py").write_text(EXTRA_VIEWS, encoding="utf-8")
    return project


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, *args], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )


def command(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(project, "-m", "flake8_django_goc", *args)


def manage(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(project, "manage.py", *args, "--settings=mysite.settings_sqlite")


MODEL_FILES = ("shop/models.py", "extra/models/places.py", "extra/models/tags.py")


def snapshot(project: Path) -> dict[str, str]:
    return {name: (project / name).read_text(encoding="utf-8") for name in MODEL_FILES}


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], str]:
    """The project before (initial migrations made) and after one fix-models run."""
    project = make_project(tmp_path_factory.mktemp("fix"))
    made = manage(project, "makemigrations", "shop", "extra")
    assert made.returncode == 0, made.stdout + made.stderr
    before = snapshot(project)
    result = command(project, "fix-models")
    assert result.returncode == 0, result.stdout + result.stderr
    return project, before, result.stdout


def test_fix_models_adds_every_constraint(fixed: tuple[Path, dict[str, str], str]) -> None:
    project, _, stdout = fixed
    for name in ADDED:
        assert f'name="{name}"' in stdout or f"name='{name}'" in stdout, (name, stdout)
    after = snapshot(project)
    for name in ADDED:
        assert any(name in text for text in after.values()), name
    # The follow-up: duplicates first, then makemigrations for the apps touched.
    # A partial constraint's duplicates are only the rows its condition selects.
    assert 'Order.objects.filter(status="new").values("customer").annotate(n=Count("pk"))' in stdout
    assert (
        ".filter(n__gt=1)" in stdout and "from shop.models import Basket, Coupon, Order" in stdout
    )
    assert "python manage.py makemigrations extra shop" in stdout
    assert (
        "note: unlike the conditional constraint, this makes (owner) unique for every row: "
        "check that it is the business rule" in stdout  # DGC002's unconditional fix
    )
    # Every DGC001 constraint asks the same of the user.
    assert (
        'note: this makes (customer) unique for every row with status="new": check that it '
        "is the business rule" in stdout
    )
    assert "note: this makes (name, city) unique for every row: check" in stdout
    assert "not added to auth.User: auth.User is defined outside this project" in stdout


def test_rest_of_the_files_is_byte_identical(fixed: tuple[Path, dict[str, str], str]) -> None:
    project, before, _ = fixed
    after = snapshot(project)
    assert only_inserted(before["shop/models.py"], after["shop/models.py"])
    venue = '(models.UniqueConstraint(fields=["code"], name="venue_code_uniq"),)'
    assert replaced_lines(before["extra/models/places.py"], after["extra/models/places.py"]) == [
        f"        constraints = {venue}\n"
    ]
    assert replaced_lines(before["extra/models/tags.py"], after["extra/models/tags.py"]) == [
        "from django.db.models import CharField, Model\n",
        "    constraints = ()\n",
    ]
    places = after["extra/models/places.py"]
    # The comment after the last item stays there; the comment line stays before the bracket.
    assert (
        '            models.UniqueConstraint(fields=["number"], name="room_number_uniq"),'
        "  # by number\n"
        "            models.UniqueConstraint(\n"
        '                fields=["venue"],\n'
        "                condition=models.Q(floor=1),\n"
        '                name="extra_room_venue_floor_1_uniq",\n'
        "            ),\n"
        "            # more to come\n"
        "        )\n"
    ) in places
    # The MTI fix lands on the parent whose table has the fields.
    assert "class Place(models.Model):\n    name = models.CharField(max_length=50)\n" in places
    assert places.index("extra_place_name_city_uniq") < places.index("class Restaurant")
    assert "    class Meta(Stamped.Meta):\n        constraints = [\n" in places
    assert "            *Stamped.Meta.constraints,\n" in places
    tags = after["extra/models/tags.py"]
    assert tags.startswith("from django.db.models import CharField, Model, UniqueConstraint\n")
    assert (
        "  class Meta:\n    constraints = [\n"
        "      UniqueConstraint(fields=['name', 'kind'], name='extra_tag_name_kind_uniq'),\n"
        "    ]\n\n  def __str__(self):\n"
    ) in tags
    assert tags.endswith(
        "    constraints = (\n"
        "      UniqueConstraint(fields=['text'], name='extra_label_text_uniq'),\n"
        "    )\n"
    )


def test_django_accepts_the_result(fixed: tuple[Path, dict[str, str], str]) -> None:
    project, _, _ = fixed
    check = manage(project, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    # What Django sees: inherited Meta options kept, the new constraints present.
    probe = run(
        project,
        "-c",
        "import django, os\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'mysite.settings_sqlite'\n"
        "django.setup()\n"
        "from django.apps import apps\n"
        "event = apps.get_model('extra.Event')._meta\n"
        "assert event.ordering == ['slug'], event.ordering\n"
        "names = sorted(c.name for m in apps.get_models() for c in m._meta.constraints)\n"
        "print(' '.join(names))\n",
    )
    assert probe.returncode == 0, probe.stderr
    names = probe.stdout.split()
    assert set(ADDED) <= set(names)
    assert "extra_event_slug_uniq" in names  # the abstract parent's constraint, still there


def test_makemigrations_sees_the_new_constraints(fixed: tuple[Path, dict[str, str], str]) -> None:
    project, _, _ = fixed
    result = manage(project, "makemigrations", "--check", "--dry-run")
    assert result.returncode == 1, result.stdout + result.stderr
    for name in ADDED:
        assert name in result.stdout, (name, result.stdout)


def test_linter_reports_the_calls_as_covered(fixed: tuple[Path, dict[str, str], str]) -> None:
    project, _, _ = fixed
    result = command(project, "--format", "json", "shop/views.py", "extra/views.py")
    findings = json.loads(result.stdout)["findings"]
    shop = {f["line"]: f["code"] for f in findings if f["path"] == "shop/views.py"}
    for line in FIXED_EXAMPLE_LINES:
        assert line not in shop, findings
    assert set(shop.values()) == {"DGC001", "DGC005", "DGC006"}  # the ones no constraint fixes
    extra = [f for f in findings if f["path"] == "extra/views.py"]
    assert [(f["line"], f["code"]) for f in extra] == [(17, "DGC001")]  # auth.User only


def test_second_run_changes_nothing(fixed: tuple[Path, dict[str, str], str]) -> None:
    project, _, _ = fixed
    after = snapshot(project)
    result = command(project, "fix-models")
    assert result.returncode == 0, result.stdout + result.stderr
    assert snapshot(project) == after
    assert ": added " not in result.stdout and "Next:" not in result.stdout
    assert "not added to auth.User" in result.stdout


@pytest.mark.parametrize("mode", ["--dry-run", "--diff"])
def test_dry_run_and_diff_write_nothing(tmp_path: Path, mode: str) -> None:
    project = make_project(tmp_path)
    before = snapshot(project)
    result = command(project, "fix-models", mode)
    assert result.returncode == 1, result.stdout + result.stderr
    assert snapshot(project) == before
    if mode == "--dry-run":
        assert "would add" in result.stdout and "Run without --dry-run" in result.stdout
        return
    # The diff is exactly the change a real run makes.
    applied = command(project, "fix-models")
    assert applied.returncode == 0, applied.stderr
    after = snapshot(project)
    expected = "".join(
        "".join(
            difflib.unified_diff(
                before[name].splitlines(True),
                after[name].splitlines(True),
                f"a/{name}",
                f"b/{name}",
            )
        )
        for name in sorted(MODEL_FILES)
    )
    assert result.stdout == expected
    assert "auth.User" in result.stderr  # what was left alone is said on stderr


def test_nothing_to_do_exits_0(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    result = command(project, "fix-models", "--dry-run", "shop/models.py")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Nothing to add: no reported finding names a constraint.\n"


def test_selection_and_noqa_are_respected(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    views = project / "shop" / "views.py"
    text = views.read_text(encoding="utf-8")
    views.write_text(
        text.replace('status="new")\n', 'status="new")  # noqa: DGC001\n', 1), encoding="utf-8"
    )
    result = command(project, "fix-models", "--dry-run", "--extend-ignore", "DGC002", "shop")
    assert result.returncode == 1, result.stderr
    assert "shop_coupon_code_campaign_uniq" in result.stdout
    assert "shop_order_customer" not in result.stdout  # silenced inline
    assert "shop_basket_owner_uniq" not in result.stdout  # DGC002 ignored


def test_a_model_that_cannot_be_edited_exits_2(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    places = project / "extra" / "models" / "places.py"
    places.write_text(
        PLACES.replace("constraints = (models.", "constraints = list((models.").replace(
            '"venue_code_uniq"),)', '"venue_code_uniq"),))'
        ),
        encoding="utf-8",
    )
    result = command(project, "fix-models")
    assert result.returncode == 2
    assert "not added to extra.Venue" in result.stderr
    assert "not a list or tuple literal" in result.stderr
    assert "Traceback" not in result.stderr
    assert "extra_event_day_kind_talk_uniq" in places.read_text(encoding="utf-8")  # the rest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "json"], "unrecognized arguments: --format"),
        (["--dry-run", "--diff"], "not allowed with argument"),
        (["missing_dir"], "no such file or directory"),
        # manage.py names the settings, so a root without one (issue #10's discovery)
        (["--isolated", "--django-project-root", "extra"], "no Django settings module"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    project = make_project(tmp_path)
    result = command(project, "fix-models", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_help_lists_the_check_options() -> None:
    result = command(ROOT, "fix-models", "--help")
    assert result.returncode == 0
    for option in ("--dry-run", "--diff", "--django-settings-module", "--extend-ignore"):
        assert option in result.stdout
    assert "--output-file" not in result.stdout
