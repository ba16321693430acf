"""Every option, declared once: the flake8 plugin's ``add_options``, the command's and
fix-models' argparse parsers, the configuration keys the config files may set and the options
table of the docs are all built from ``OPTIONS``, so their names, kinds and help texts agree.

Imports nothing heavy (no flake8, no Django): the command builds its parser from it on every run.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from flake8_django_goc.commands.flake8_compat import DEFAULT_EXCLUDE, split_list

if TYPE_CHECKING:
    from flake8.options.manager import OptionManager

FLAKE8 = "flake8"  # the plugin, options read by flake8
CHECK = "check"  # the standalone command
FIX = "fix-models"
FRONT_ENDS = (FLAKE8, CHECK, FIX)

Kind = Literal["str", "list", "bool", "flag", "count", "choice", "jobs"]
# "flake8": a key of the [flake8] section and of [tool.flake8-django-goc] in pyproject.toml;
# "pyproject": of [tool.flake8-django-goc] only (flake8 would reject a key it does not know).
Config = Literal["flake8", "pyproject"] | None


def jobs(value: str) -> int:
    """``-j``: a number or ``auto`` (one per CPU), as flake8's."""
    if value.strip().lower() == "auto":
        return os.cpu_count() or 1
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'auto', got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


@dataclass(frozen=True)
class Option:
    name: str  # the long flag without its dashes; also the config key
    kind: Kind
    help: str
    fronts: tuple[str, ...]
    config: Config = None
    metavar: str | None = None
    aliases: tuple[str, ...] = ()  # more flags, e.g. "-j", "--no-cache"
    choices: tuple[str, ...] = ()
    default: Any = None  # the command's default when the option is given nowhere

    @property
    def flag(self) -> str:
        return f"--{self.name}"

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


ALL = (FLAKE8, CHECK, FIX)
COMMANDS = (CHECK, FIX)
CODE_LISTS = (
    ("select", "codes (prefixes) to report (default: DGC)"),
    ("extend-select", "codes to add to the selection (DGC101, DGC1 for the opt-in codes)"),
    ("ignore", "codes to ignore (default: DGC1, the opt-in codes)"),
    ("extend-ignore", "codes to add to the ignored ones"),
)
DEFAULT_EXCLUDE_TEXT = ",".join(DEFAULT_EXCLUDE)

OPTIONS: tuple[Option, ...] = (
    Option(
        "django-settings-module",
        "str",
        "dotted path of the Django settings module (default: from the config files, then "
        "$DJANGO_SETTINGS_MODULE, then the os.environ.setdefault() line of manage.py)",
        ALL,
        "flake8",
        "MODULE",
    ),
    Option(
        "django-project-root",
        "str",
        "the directory holding manage.py, put on sys.path (default: the nearest directory "
        "holding manage.py, walking up from the current directory, then from the paths "
        "checked; else the directory of the config file; else the current directory)",
        ALL,
        "flake8",
        "DIR",
    ),
    *(
        Option(name, "list", f"comma-separated {what}", COMMANDS, "flake8", "CODES")
        for name, what in CODE_LISTS
    ),
    Option(
        "exclude",
        "list",
        "comma-separated glob patterns of files and directories to skip, replacing the "
        f"default ({DEFAULT_EXCLUDE_TEXT}); directories holding a pyvenv.cfg are always "
        "skipped when walking",
        COMMANDS,
        "flake8",
        "PATTERNS",
    ),
    Option("extend-exclude", "list", "patterns to add to them", COMMANDS, "flake8", "PATTERNS"),
    Option(
        "no-migrations",
        "bool",
        "skip files in migrations/ directories (named files too)",
        COMMANDS,
        "pyproject",
    ),
    Option(
        "format",
        "choice",
        "output format",
        (CHECK,),
        choices=("default", "github", "json", "sarif"),
        default="default",
    ),
    Option(
        "output-file", "str", "write the report to FILE instead of stdout", (CHECK,), None, "FILE"
    ),
    Option(
        "django-goc-stats",
        "bool",
        "print how many get_or_create-family calls were tied to a model, on stderr",
        (FLAKE8, CHECK),
        "flake8",
    ),
    Option(
        "django-goc-no-cache",
        "bool",
        "set Django up even when the cached model facts are still fresh",
        (FLAKE8, CHECK),
        "flake8",
        aliases=("--no-cache",),
    ),
    Option(
        "django-goc-extra-unique",
        "str",
        "unique sets the database has but the models do not declare (a unique index made "
        "by a RunSQL migration): whitespace-separated app.Model:field1,field2 entries",
        ALL,
        "flake8",
        "ENTRIES",
    ),
    Option(
        "django-goc-serializers",
        "list",
        "comma-separated decorators or context managers that serialise a code path (a "
        "lock): race findings under them are not reported",
        ALL,
        "flake8",
        "NAMES",
    ),
    Option(
        "jobs",
        "jobs",
        "processes that read and parse the files, this one included: a number or 'auto' "
        "(the default: one per CPU), as flake8's -j",
        (CHECK,),
        metavar="N",
        aliases=("-j",),
    ),
    Option("exit-zero", "flag", "exit 0 even when something is reported", (CHECK,)),
    Option("disable-noqa", "flag", "ignore noqa comments", COMMANDS),
    Option("isolated", "flag", "ignore the configuration files", COMMANDS),
    Option(
        "quiet",
        "count",
        "-q: print only the paths of files with findings (default format); -qq: no report",
        (CHECK,),
        aliases=("-q",),
        default=0,
    ),
    Option(
        "color",
        "choice",
        "colour the default format and show progress on a terminal: auto (the default: when "
        "the stream is a terminal; NO_COLOR turns it off, FORCE_COLOR on), always or never",
        (CHECK,),
        choices=("auto", "always", "never"),
        default="auto",
    ),
)

BY_NAME = {option.name: option for option in OPTIONS}


def for_front(front: str) -> list[Option]:
    return [option for option in OPTIONS if front in option.fronts]


def config_keys(kind: str, where: Config = None) -> tuple[str, ...]:
    """The config keys of ``kind`` options (``bool``: only those read from ``where``)."""
    return tuple(
        o.name
        for o in OPTIONS
        if o.kind == kind and o.config is not None and (where is None or o.config == where)
    )


def key_list() -> str:
    """The keys the config files take, for the help epilog."""
    flake8 = [o.name for o in OPTIONS if o.config == "flake8"]
    pyproject = [o.name for o in OPTIONS if o.config == "pyproject"]
    return f"{', '.join(flake8)}; pyproject also takes {', '.join(pyproject)}"


# ------------------------------------------------------------------------------------ argparse


def parent(front: str) -> argparse.ArgumentParser:
    """The options of ``front`` (CHECK or FIX), for ``ArgumentParser(parents=[...])``.

    Options the config files may set default to None, so the command line overrides a config
    value only when given."""
    parser = argparse.ArgumentParser(add_help=False)
    for option in for_front(front):
        flags = [*(a for a in option.aliases if not a.startswith("--")), option.flag]
        flags += [a for a in option.aliases if a.startswith("--")]
        kwargs: dict[str, Any] = {"help": option.help, "dest": option.dest}
        if option.kind == "bool":
            kwargs.update(action="store_true", default=None)
        elif option.kind == "flag":
            kwargs.update(action="store_true")
        elif option.kind == "count":
            kwargs.update(action="count", default=option.default)
        elif option.kind == "choice":
            kwargs.update(choices=list(option.choices), default=option.default)
        elif option.kind == "jobs":
            kwargs.update(type=jobs, default=os.cpu_count() or 1, metavar=option.metavar)
        else:
            kwargs.update(metavar=option.metavar)
            if option.kind == "list":
                kwargs.update(type=split_list)
        parser.add_argument(*flags, **kwargs)
    return parser


def given(args: argparse.Namespace) -> dict[str, Any]:
    """The configuration keys given on the command line (they override the config files)."""
    values = {o.name: getattr(args, o.dest, None) for o in OPTIONS if o.config is not None}
    return {key: value for key, value in values.items() if value is not None}


# ------------------------------------------------------------------------------------- flake8


def add_flake8_options(manager: OptionManager) -> None:
    """The plugin's options, registered with flake8 (read from its config files too)."""
    for option in for_front(FLAKE8):
        kwargs: dict[str, Any] = {"parse_from_config": True, "help": option.help}
        if option.kind == "bool":
            kwargs.update(action="store_true")
        elif option.kind == "list":
            kwargs.update(default=[], comma_separated_list=True, metavar=option.metavar)
        else:
            kwargs.update(default=None, metavar=option.metavar)
            if option.name == "django-project-root":
                # flake8 makes it absolute: relative to the config file that set it, else to
                # the current directory.
                kwargs.update(normalize_paths=True)
        manager.add_option(option.flag, **kwargs)


# --------------------------------------------------------------------------------------- docs


def markdown_table(options: Sequence[Option] = OPTIONS) -> str:
    """The options table of the docs (docs/options.md, README)."""
    names = {FLAKE8: "flake8", CHECK: "command", FIX: "fix-models"}
    rows = [
        "| option | config key | front ends | what it does |",
        "|---|---|---|---|",
    ]
    for option in options:
        flags = ", ".join(f"`{flag}`" for flag in (option.flag, *option.aliases))
        if option.config == "flake8":
            key = f"`{option.name}`"
        elif option.config == "pyproject":
            key = f"`{option.name}` (pyproject only)"
        else:
            key = ""
        fronts = ", ".join(names[front] for front in option.fronts)
        text = option.help.replace(DEFAULT_EXCLUDE_TEXT, f"`{DEFAULT_EXCLUDE_TEXT}`")
        rows.append(f"| {flags} | {key} | {fronts} | {text} |")
    return "\n".join(rows) + "\n"


DOCS_HEADER = """\
# Options

Every option of the flake8 plugin, the `flake8-django-goc` command and `flake8-django-goc
fix-models`, declared once in `flake8_django_goc/options.py` (this page is generated from it:
`python scripts/render_options.py`). A config key is read from the `[flake8]` section of
`setup.cfg`, `tox.ini` or `.flake8`, and by the commands also from `[tool.flake8-django-goc]` in
`pyproject.toml`; the command line overrides it key by key.

"""


def docs_page() -> str:
    return DOCS_HEADER + markdown_table()
