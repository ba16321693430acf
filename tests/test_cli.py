"""The standalone command: the same findings as ``flake8 --select DGC``, its options, config files,
exit codes and output formats. Runs go through subprocesses, as users run it (and because Django
is set up once per process); pure parts (selection, discovery, config merging, noqa) in process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flake8_run import PROJECT, run_flake8
from test_bad_input import make_project

from flake8_django_goc.commands import check as cli
from flake8_django_goc.find import calls
from flake8_django_goc.report import formats
from flake8_django_goc.rules import OPT_IN, RULES, opted_in

SETTINGS = "site_cfg.settings"
CALL = 'Thing.objects.get_or_create(name="a")'


def run_cli(
    *args: str,
    cwd: Path = PROJECT,
    env: dict[str, str] | None = None,
    isolated: bool = True,
    module: str = "flake8_django_goc",
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", module, *(["--isolated"] if isolated else []), *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_code(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def dgc_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if ": DGC" in line]


def assert_clean_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    for needle in needles:
        assert needle in result.stderr, output


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A tiny project: app/views.py:5:12 holds one DGC001 call."""
    return make_project(tmp_path)


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------ agreement with flake8


@pytest.mark.parametrize(
    ("flake8_select", "cli_select", "paths"),
    [
        (("--select", "DGC"), (), (".",)),
        (("--select", "DGC,DGC1"), ("--select", "DGC,DGC1"), (".",)),
        (("--select", "DGC"), ("--select", "DGC"), ("cases", "shop/", "./library")),
    ],
    ids=["default", "opt-in", "named-paths"],
)
def test_same_findings_as_flake8_on_the_fixture_project(
    flake8_select: tuple[str, ...], cli_select: tuple[str, ...], paths: tuple[str, ...]
) -> None:
    settings = ("--django-settings-module", "goc_project.settings")
    by_flake8 = run_flake8(*flake8_select, *settings, *paths)
    by_cli = run_cli(*cli_select, *settings, *paths)
    assert by_flake8.returncode == 1, by_flake8.stderr
    assert by_cli.returncode == 1, by_cli.stderr
    assert "skipped" not in by_cli.stderr, by_cli.stderr
    expected = by_flake8.stdout.splitlines()
    assert len(expected) > 20
    assert by_cli.stdout.splitlines() == expected


def test_any_number_of_processes_gives_the_same_report(project: Path) -> None:
    """The files are shared out to this process and the forked workers as they ask: one
    process, one worker and several must print the same report, each finding and each skipped
    file under its own path."""
    for i in range(60):
        if i % 7 == 3:
            text = f"def f(:\n    {CALL}\n"  # cannot be parsed: a note naming this file
        elif i % 3 == 0:
            text = f"from app.models import Thing\n\n\ndef f{i}():\n    return {CALL}\n"
        else:
            text = f"x = {i}\n"
        write(project, f"app/many/m{i:02}.py", text)
    runs = {
        jobs: run_cli("-j", jobs, "--django-settings-module", SETTINGS, "app", cwd=project)
        for jobs in ("1", "2", "5")
    }
    one = runs["1"]
    assert one.returncode == 2, one.stderr
    assert "Traceback" not in one.stderr, one.stderr
    assert [line.split(": ")[1] for line in one.stderr.splitlines()] == [
        f"skipped app/many/m{i:02}.py:1" for i in range(60) if i % 7 == 3
    ]
    assert [line.split(":")[0] for line in one.stdout.splitlines()] == [
        *(f"app/many/m{i:02}.py" for i in range(60) if i % 3 == 0 and i % 7 != 3),
        "app/views.py",
    ]
    for jobs in ("2", "5"):
        assert (runs[jobs].returncode, runs[jobs].stdout, runs[jobs].stderr) == (
            2,
            one.stdout,
            one.stderr,
        ), jobs


DYNAMIC = (
    "from app.models import Thing\n\n\ndef f(kw):\n    return Thing.objects.get_or_create(**kw)\n"
)


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("--select", "DGC1"),
        ("--extend-select", "DGC101"),
        ("--select", "DGC", "--extend-select", "DGC10"),
        ("--select", "DGC001,DGC101", "--ignore", "DGC1"),
        ("--select", "DGC1", "--ignore", "DGC"),
        ("--extend-ignore", "DGC001"),
        ("--select", "DGC,DGC101", "--ignore", "DGC00"),
        ("--select", "D", "--extend-select", "DGC101", "--extend-ignore", "DGC10"),
    ],
)
def test_selection_matches_flake8(project: Path, args: tuple[str, ...]) -> None:
    write(project, "app/dyn.py", DYNAMIC)
    settings = ("--django-settings-module", SETTINGS)
    by_flake8 = run_flake8(*args, *settings, "app", cwd=project)
    by_cli = run_cli(*args, *settings, "app", cwd=project)
    assert by_cli.returncode in (0, 1), by_cli.stderr
    assert dgc_lines(by_cli.stdout) == dgc_lines(by_flake8.stdout)


# Built at run time: ruff reads noqa comments even inside string literals.
Q = "# " + "noqa"
NOQA_CASES = f"""\
from app.models import Thing

{CALL}  {Q}
{CALL}  {Q}: DGC001
{CALL}  {Q}:DGC001
{CALL}  {Q.upper()}: DGC
{CALL}  {Q}: E501,DGC001
{CALL}  {Q}: E501 DGC001
{CALL}  {Q}: E501
{CALL}  {Q}: dgc001
{CALL}  {Q} : E501
{CALL}  {Q}:  E501
{CALL}  {Q}: DGC002
{CALL}  {Q}: DGC0
{CALL}  # some text {Q}: DGC001 more
{CALL}  {Q[0]}{Q[2:]}
x = Thing.objects.get_or_create(  {Q}: DGC001
    name="a",
)
x = Thing.objects.get_or_create(
    name="a",
)  {Q}: DGC001
x = Thing.objects.get_or_create(
    name="a",  {Q}: DGC001
)
x = Thing.objects.get_or_create(name=\"\"\"a
b\"\"\")  {Q}: DGC001
x = Thing.objects.get_or_create(name="a") \\
    if x else None  {Q}: DGC001
s = "{Q}"; {CALL}
"""


def test_noqa_variants_match_flake8(project: Path) -> None:
    write(project, "app/noqa.py", NOQA_CASES)
    write(project, "app/whole.py", NOQA_CASES + "# flake8: noqa\n")
    # On a line with code the file-level form is just an unrelated comment, as in flake8.
    write(project, "app/code_line.py", f"from app.models import Thing\n{CALL}  # flake8: noqa\n")
    settings = ("--django-settings-module", SETTINGS)
    by_flake8 = run_flake8("--select", "DGC", *settings, "app", cwd=project)
    by_cli = run_cli(*settings, "app", cwd=project)
    assert dgc_lines(by_cli.stdout) == dgc_lines(by_flake8.stdout)
    reported = [line.split(":")[:3] for line in dgc_lines(by_cli.stdout)]
    assert reported == [
        ["app/code_line.py", "2", "1"],
        # Reported: a noqa comment naming E501 only, lower-case codes (flake8 compares codes
        # case-sensitively), a different code, no space after the hash,
        *(["app/noqa.py", str(n), "1"] for n in (9, 10, 13, 16)),
        # and noqa after the closing bracket or on an argument line of a multi-line call.
        ["app/noqa.py", "20", "5"],
        ["app/noqa.py", "23", "5"],
        ["app/views.py", "5", "12"],
    ]
    disabled = run_cli(*settings, "--disable-noqa", "app/noqa.py", cwd=project)
    assert len(dgc_lines(disabled.stdout)) == 20


NOQA_SOURCES = [
    NOQA_CASES,
    "x = 1\n\n\ndef f():\n    return (\n        1,  # noqa\n    )\n",
    'x = """\n# noqa\n"""\ny = 2\n',
    "x = (\n",  # tokenize fails: flake8 maps nothing
    "if x:\n    y = 1 \\\n        + 2\nz = 3",
]


@pytest.mark.parametrize("source", NOQA_SOURCES)
def test_noqa_line_mapping_is_flake8s(source: str) -> None:
    from flake8.processor import FileProcessor

    options = argparse.Namespace(
        hang_closing=False, indent_size=4, max_line_length=79, max_doc_length=None, verbose=0
    )
    lines = source.splitlines(keepends=True)
    processor = FileProcessor("x.py", options, lines=list(lines))
    assert cli.noqa_line_mapping(lines) == processor._noqa_line_mapping


@pytest.mark.parametrize(
    ("select", "extend_select", "ignore", "extend_ignore"),
    [
        (None, None, None, None),
        (["DGC"], None, None, None),
        (["DGC1"], None, None, None),
        (["DGC", "DGC101"], None, None, None),
        (None, ["DGC10"], None, None),
        (["E", "W"], None, None, None),
        (["E", "W"], ["DGC"], None, None),
        (None, None, ["E501"], None),
        (["DGC"], None, ["DGC0"], None),
        (["DGC001"], None, ["DGC"], None),
        (["DGC"], None, None, ["DGC001", "DGC00"]),
        (["D"], ["DGC101"], ["DG"], ["DGC10"]),
        (None, ["DGC1"], ["DGC1"], None),
        (None, ["DGC011"], None, None),  # an opt-in rule among default-on ones: by its code
        (["DGC01"], None, None, None),
        ([], None, [], None),
    ],
)
def test_selection_is_flake8s_decision(
    select: list[str] | None,
    extend_select: list[str] | None,
    ignore: list[str] | None,
    extend_ignore: list[str] | None,
) -> None:
    from flake8.style_guide import Decision, DecisionEngine

    engine = DecisionEngine(
        argparse.Namespace(
            select=select,
            extend_select=extend_select,
            ignore=ignore,
            extend_ignore=extend_ignore,
            extended_default_select=["C90", "F", "E", "W", "DGC"],
            extended_default_ignore=list(OPT_IN),  # as the plugin registers it
        )
    )
    chosen = opted_in([*(select or ()), *(extend_select or ())])
    options = cli.Options(
        settings=None,
        select=select,
        extend_select=extend_select or [],
        ignore=ignore,
        extend_ignore=extend_ignore or [],
        exclude=[],
        no_migrations=False,
        stats=False,
        no_cache=False,
    )
    selection = cli.Selection(options)
    for code in RULES:
        by_flake8 = engine.decision_for(code) is Decision.Selected
        if code.startswith(OPT_IN):
            by_flake8 = by_flake8 and code in chosen  # the plugin's opt-in filter
        assert selection.wants(code) == by_flake8, code


def test_gate_is_the_finders() -> None:
    from flake8_django_goc import pipeline
    from flake8_django_goc.find import pairs

    assert cli.could_hold_finding is pipeline.could_hold_finding
    for source in (
        "x.get_or_create()",
        "try:\n    M.objects.get()\nexcept M.DoesNotExist:\n    M.objects.create()\n",
        "import os\n",
    ):
        assert pipeline.could_hold_finding(source) == (
            calls.could_contain_call(source) or pairs.could_contain_pair(source)
        )


# ---------------------------------------------------------------------------------- exit codes


def test_exit_codes(project: Path) -> None:
    settings = ("--django-settings-module", SETTINGS)
    found = run_cli(*settings, cwd=project)
    assert found.returncode == 1, found.stderr
    assert found.stdout == (
        "./app/views.py:5:12: DGC001 Thing.objects.get_or_create() looks up (name) but no unique "
        "constraint on app.Thing covers them: concurrent calls can insert duplicate rows. "
        'Fix: add models.UniqueConstraint(fields=["name"], name="app_thing_name_uniq") (this '
        "makes (name) unique for every row: check that it is the business rule) or look up by a "
        "unique field (id).\n"
    )
    assert found.stderr == ""
    assert run_cli(*settings, "--exit-zero", cwd=project).returncode == 0
    assert run_cli(*settings, "app/models.py", cwd=project).returncode == 0
    assert run_cli(*settings, "--ignore", "DGC001", cwd=project).returncode == 0
    # Problems that mean the check did not run are never hidden by --exit-zero.
    missing = run_cli(*settings, "--exit-zero", "app/nope.py", cwd=project)
    assert_clean_error(missing, "no such file or directory: app/nope.py")
    usage = run_cli("--format", "xml", cwd=project)
    assert usage.returncode == 2 and "invalid choice" in usage.stderr


def test_internal_error_on_a_file_exits_2_after_checking_the_others(project: Path) -> None:
    write(project, "app/boom.py", f"from app.models import Thing\n{CALL}\n")
    code = f"""
import sys
from flake8_django_goc import pipeline as check
from flake8_django_goc.commands import check as cli
real = check.judge_parsed
def judge_parsed(parsed, filename, *args):
    if filename.endswith("boom.py"):
        raise RuntimeError("kaboom")
    return real(parsed, filename, *args)
cli.judge_parsed = judge_parsed
sys.exit(cli.main(["--isolated", "--exit-zero", "--django-settings-module", "{SETTINGS}"]))
"""
    result = run_code(code, project)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "flake8-django-goc: skipped ./app/boom.py: internal error RuntimeError: kaboom" in (
        result.stderr
    )
    assert "./app/views.py:5:12: DGC001" in result.stdout
    assert "Traceback" not in result.stderr


def test_no_settings(project: Path) -> None:
    result = run_cli("app", cwd=project)
    assert_clean_error(result, "no Django settings module is configured", "DJANGO_SETTINGS_MODULE")
    by_env = run_cli("app", cwd=project, env={"DJANGO_SETTINGS_MODULE": SETTINGS})
    assert by_env.returncode == 1, by_env.stderr


def test_bad_settings(tmp_path: Path) -> None:
    missing = run_cli("--django-settings-module", "nope.settings", "--exit-zero", cwd=tmp_path)
    assert_clean_error(
        missing,
        "flake8-django-goc: cannot import the Django settings module 'nope.settings'",
        "ModuleNotFoundError: No module named 'nope'",
    )
    (tmp_path / "p").mkdir()
    root = make_project(tmp_path / "p", settings="raise RuntimeError('DATABASE_URL is not set')\n")
    raising = run_cli("--django-settings-module", SETTINGS, cwd=root)
    assert_clean_error(raising, "RuntimeError: DATABASE_URL is not set")
    assert raising.stderr.count("\n") == 1  # one paragraph


def test_nothing_selected_is_an_error(project: Path) -> None:
    write(project, "setup.cfg", "[flake8]\nselect = E,W,F\n")
    result = run_cli("--django-settings-module", SETTINGS, cwd=project, isolated=False)
    assert_clean_error(result, "no DGC code is selected", "select = E,W,F (from [flake8] of setup")
    extended = run_cli(
        "--django-settings-module", SETTINGS, "--extend-select", "DGC", cwd=project, isolated=False
    )
    assert extended.returncode == 1, extended.stderr


# ------------------------------------------------------------------------------ files and paths


def test_odd_files_are_skipped_without_crashing(project: Path) -> None:
    write(project, "app/syntax.py", f"def f(:\n    {CALL}\n")
    (project / "app" / "bytes.py").write_bytes(b"x = '\xff\xfe'  # _or_create\n")
    (project / "app" / "cookie.py").write_bytes(b"# -*- coding: klingon -*-\n# _or_create\n")
    (project / "app" / "nul.py").write_bytes(b"x = 1\0  # _or_create\n")
    (project / "app" / "latin.py").write_bytes(
        b"# -*- coding: latin-1 -*-\nfrom app.models import Thing\nx = '\xe9'; "
        + CALL.encode()
        + b"\n"
    )
    (project / "app" / "bom_crlf.py").write_bytes(
        b"\xef\xbb\xbffrom app.models import Thing\r\n\r\n" + CALL.encode() + b"  # x\r\n"
    )
    result = run_cli("--django-settings-module", SETTINGS, "app", cwd=project)
    # Files Python cannot parse were not checked: the run is incomplete (issue #10: exit 2 and
    # a note each, where it used to pass them in silence); undecodable files are read as
    # latin-1, as flake8 reads them.
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    nul, syntax = result.stderr.splitlines()
    assert nul.startswith("flake8-django-goc: skipped app/nul.py: cannot parse it ("), nul
    assert nul.endswith("Error: source code string cannot contain null bytes)"), nul
    assert syntax == (
        "flake8-django-goc: skipped app/syntax.py:1: cannot parse it (SyntaxError: invalid syntax)"
    )
    assert [line.split(" ")[0] for line in result.stdout.splitlines()] == [
        "app/bom_crlf.py:3:1:",
        "app/latin.py:3:11:",  # as flake8 counts: the UTF-8 byte offset (2 for the e-acute) + 1
        "app/views.py:5:12:",
    ]
    by_flake8 = run_flake8(
        "--select", "DGC", "--django-settings-module", SETTINGS, "app", cwd=project
    )
    assert dgc_lines(by_flake8.stdout) == dgc_lines(result.stdout)


def tree(root: Path, files: list[str]) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


def discovered(root: Path, paths: list[str], **options: object) -> list[str]:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        resolved = cli.resolve_options(
            {k.replace("_", "-"): v for k, v in options.items()}, str(root), {}, isolated=True
        )
        excluded = cli.Excluder(resolved.exclude, str(root))
        return list(cli.discover(paths, excluded, resolved.no_migrations))
    finally:
        os.chdir(cwd)


def test_discovery_walks_sorted_python_files_with_default_excludes(tmp_path: Path) -> None:
    tree(
        tmp_path,
        [
            "b.py",
            "a.py",
            "notes.txt",
            "pkg/z.py",
            "pkg/sub/y.py",
            "pkg/migrations/0001_initial.py",
            *(f"{d}/x.py" for d in (".git", "__pycache__", ".tox", ".venv", "venv", "build")),
            *(f"{d}/x.py" for d in ("node_modules", "dist", "thing.egg", ".nox", ".eggs")),
            "env/pyvenv.cfg",
            "env/lib/site.py",
        ],
    )
    assert discovered(tmp_path, ["."]) == [
        "./a.py",
        "./b.py",
        "./pkg/z.py",
        "./pkg/migrations/0001_initial.py",
        "./pkg/sub/y.py",
    ]
    assert discovered(tmp_path, ["pkg"], no_migrations=True) == ["pkg/z.py", "pkg/sub/y.py"]
    # Named files are checked whatever their name, except migrations with --no-migrations.
    named = ["notes.txt", ".venv/x.py", "pkg/migrations/0001_initial.py"]
    assert discovered(tmp_path, named) == named
    assert discovered(tmp_path, named, no_migrations=True) == named[:2]
    # --exclude replaces the defaults (as in flake8); --extend-exclude adds to them.
    assert "./build/x.py" in discovered(tmp_path, ["."], exclude=["pkg"])
    assert discovered(tmp_path, ["."], exclude=["pkg"])[:2] == ["./a.py", "./b.py"]
    assert discovered(tmp_path, ["."], extend_exclude=["b.py", "./pkg/sub"]) == [
        "./a.py",
        "./pkg/z.py",
        "./pkg/migrations/0001_initial.py",
    ]
    # A pattern that names a file explicitly given excludes it too (flake8 does the same).
    assert discovered(tmp_path, ["a.py", "b.py"], extend_exclude=["a.py"]) == ["b.py"]


def test_excludes_and_no_migrations_end_to_end(project: Path) -> None:
    write(project, "app/migrations/0001_initial.py", f"from app.models import Thing\n{CALL}\n")
    write(project, "app/legacy/old.py", f"from app.models import Thing\n{CALL}\n")
    settings = ("--django-settings-module", SETTINGS)

    def files(*args: str) -> list[str]:
        result = run_cli(*settings, *args, cwd=project)
        assert result.returncode in (0, 1), result.stderr
        return [line.split(":")[0] for line in result.stdout.splitlines()]

    assert files() == ["./app/legacy/old.py", "./app/migrations/0001_initial.py", "./app/views.py"]
    assert files("--no-migrations") == ["./app/legacy/old.py", "./app/views.py"]
    assert files("--extend-exclude", "legacy,views.py") == ["./app/migrations/0001_initial.py"]
    assert files("--no-migrations", "app/migrations/0001_initial.py") == []


# ------------------------------------------------------------------------------- configuration


@pytest.mark.parametrize("name", ["setup.cfg", "tox.ini", ".flake8", "pyproject.toml"])
def test_settings_from_each_config_file(project: Path, name: str) -> None:
    if name == "pyproject.toml":
        text = f'[tool.flake8-django-goc]\ndjango_settings_module = "{SETTINGS}"\n'
    else:
        text = f"[flake8]\ndjango_settings_module = {SETTINGS}\nextend-exclude = views.py\n"
    write(project, "app/more.py", f"from app.models import Thing\n{CALL}\n")
    write(project, name, text)
    result = run_cli(cwd=project, isolated=False)
    expected = ["./app/more.py"] + (["./app/views.py"] if name == "pyproject.toml" else [])
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == expected, result.stderr
    assert run_cli(cwd=project, isolated=True).returncode == 2  # --isolated: no settings


def test_config_precedence(project: Path) -> None:
    write(project, "app/dyn.py", DYNAMIC)
    # Only the first flake8 config file with a [flake8] section counts, as in flake8.
    write(project, "setup.cfg", "[metadata]\nname = x\n")
    write(project, "tox.ini", f"[flake8]\ndjango-settings-module = {SETTINGS}\nselect = DGC002\n")
    write(project, ".flake8", "[flake8]\nselect = DGC001\n")
    assert run_cli(cwd=project, isolated=False).stdout == ""  # tox.ini: DGC002 only

    write(project, "pyproject.toml", '[tool.flake8-django-goc]\nselect = ["DGC001", "DGC101"]\n')
    both = run_cli(cwd=project, isolated=False)  # pyproject's select wins, settings from tox.ini
    assert [line.split(" ")[1] for line in both.stdout.splitlines()] == ["DGC101", "DGC001"]

    cli_wins = run_cli("--select", "DGC1", cwd=project, isolated=False)
    assert [line.split(" ")[1] for line in cli_wins.stdout.splitlines()] == ["DGC101"]
    # Each key on its own: extend-ignore on the command line keeps pyproject's select.
    extended = run_cli("--extend-ignore", "DGC101", cwd=project, isolated=False)
    assert [line.split(" ")[1] for line in extended.stdout.splitlines()] == ["DGC001"]


def test_config_merging_in_process(tmp_path: Path) -> None:
    write(
        tmp_path, ".flake8", "[flake8]\nexclude = a,b\nextend_ignore = E501\ndjango-goc-stats=on\n"
    )
    write(tmp_path, "pyproject.toml", '[tool.flake8-django-goc]\nexclude = "c, d"\n')
    options = cli.resolve_options(
        {"extend-exclude": ["./e"]}, str(tmp_path), {"DJANGO_SETTINGS_MODULE": "x.s"}, False
    )
    assert options.exclude == ["c", "d", str(tmp_path / "e")]
    assert options.extend_ignore == ["E501"]
    assert options.stats is True
    assert options.settings == "x.s"
    assert options.origin["exclude"] == "[tool.flake8-django-goc] in pyproject.toml"
    assert options.origin["extend-ignore"] == "[flake8] of .flake8"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[tool.flake8-django-goc]\nselct = ['DGC']\n", "unknown key 'selct'"),
        ("[tool.flake8-django-goc]\nselect = 1\n", "select must be a list of strings"),
        ("[tool.flake8-django-goc]\nno-migrations = 'yes'\n", "no-migrations must be true"),
        ("[tool.flake8-django-goc\n", "cannot read pyproject.toml"),
    ],
)
def test_bad_pyproject(project: Path, text: str, needle: str) -> None:
    write(project, "pyproject.toml", text)
    result = run_cli("--django-settings-module", SETTINGS, cwd=project, isolated=False)
    assert_clean_error(result, needle)


def test_help_documents_precedence() -> None:
    text = cli.build_parser().format_help()
    assert "the command line, [tool.flake8-django-goc] in" in " ".join(text.split())
    assert "--no-migrations" in text and "--exit-zero" in text


# ------------------------------------------------------------------------------------- formats


def test_json_format(project: Path) -> None:
    write(project, "app/syntax.py", f"x = 1\ndef f(:\n    {CALL}\n")
    result = run_cli("--django-settings-module", SETTINGS, "--format", "json", cwd=project)
    assert result.returncode == 2  # incomplete: app/syntax.py was not checked
    document = json.loads(result.stdout)
    assert document["format_version"] == 1
    assert document["tool"]["name"] == "flake8-django-goc"
    (finding,) = document["findings"]
    assert finding["path"] == "./app/views.py"
    assert (finding["line"], finding["column"], finding["code"]) == (5, 12, "DGC001")
    assert finding["level"] == "error"
    assert finding["message"].startswith("Thing.objects.get_or_create() looks up (name)")
    assert document["skipped"] == [
        {
            "path": "./app/syntax.py",
            "line": 2,
            "reason": "cannot parse it (SyntaxError: invalid syntax)",
            "internal": False,
        }
    ]
    assert document["stats"] == {"files": 1, "calls": 1, "resolved": 1}
    assert document["error"] is None
    empty = run_cli(
        "--django-settings-module", SETTINGS, "--format", "json", "app/models.py", cwd=project
    )
    assert json.loads(empty.stdout)["findings"] == []


def test_sarif_format(project: Path) -> None:
    write(project, "app/dyn.py", DYNAMIC)
    args = ("--django-settings-module", SETTINGS, "--format", "sarif", "--select", "DGC,DGC1")
    result = run_cli(*args, "app", cwd=project)
    assert result.returncode == 1, result.stderr
    sarif = json.loads(result.stdout)
    assert sarif["$schema"].endswith("sarif-schema-2.1.0.json")
    assert sarif["version"] == "2.1.0"
    (run,) = sarif["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "flake8-django-goc"
    assert driver["version"] and driver["informationUri"].startswith("https://")
    rules = driver["rules"]
    assert [rule["id"] for rule in rules] == list(RULES)
    for rule in rules:
        assert rule["name"].isidentifier()
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] in {"error", "warning", "note"}  # note: DGC202
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file:///")
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["DGC101", "DGC001"]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] == ("warning" if r["ruleId"] == "DGC101" else "error")
        assert r["message"]["text"]
        (location,) = r["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert artifact["uri"] in {"app/dyn.py", "app/views.py"}
        region = location["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_github_format(project: Path) -> None:
    result = run_cli("--django-settings-module", SETTINGS, "--format", "github", cwd=project)
    assert result.stdout.startswith(
        "::error file=app/views.py,line=5,col=12,title=DGC001::Thing.objects.get_or_create() "
        "looks up (name)"
    )
    assert result.stdout.count("\n") == 1


def test_github_escaping() -> None:
    run = formats.Run(
        results=[formats.Result("a,b:c%/x.py", 3, 4, "DGC101", "50% done\r\nnext, line: x")]
    )
    assert formats.render("github", run) == (
        "::warning file=a%2Cb%3Ac%25/x.py,line=3,col=4,title=DGC101::"
        "50%25 done%0D%0Anext, line: x\n"
    )


def test_sarif_uris_are_relative_and_escaped(tmp_path: Path) -> None:
    run = formats.Run(
        results=[
            formats.Result(os.path.join(".", "sub dir", "a#b.py"), 1, 1, "DGC001", "m"),
            formats.Result(str(tmp_path.parent / "elsewhere.py"), 1, 1, "DGC001", "m"),
        ]
    )
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        sarif = json.loads(formats.render("sarif", run))
    finally:
        os.chdir(cwd)
    first, second = (
        r["locations"][0]["physicalLocation"]["artifactLocation"]
        for r in sarif["runs"][0]["results"]
    )
    assert first == {"uri": "sub%20dir/a%23b.py", "uriBaseId": "%SRCROOT%"}
    assert second == {"uri": (tmp_path.parent / "elsewhere.py").as_uri()}


def test_output_file_quiet_and_stats(project: Path) -> None:
    settings = ("--django-settings-module", SETTINGS)
    out = project / "report.json"
    written = run_cli(*settings, "--format", "json", "--output-file", str(out), cwd=project)
    assert written.returncode == 1 and written.stdout == ""
    assert json.loads(out.read_text())["findings"][0]["code"] == "DGC001"
    quiet = run_cli(*settings, "-q", cwd=project)
    assert (quiet.returncode, quiet.stdout) == (1, "./app/views.py\n")
    silent = run_cli(*settings, "-qq", cwd=project)
    assert (silent.returncode, silent.stdout) == (1, "")
    stats = run_cli(*settings, "--django-goc-stats", cwd=project)
    assert stats.stderr == (
        "flake8-django-goc: 1 get_or_create-family calls in 1 files; 1 tied to a model (100%), "
        "0 not (select DGC100 to see why).\n"
    )


# --------------------------------------------------------------------------------- performance


def test_neither_flake8_nor_libcst_is_imported_for_files_without_calls(project: Path) -> None:
    code = f"""
import sys
from flake8_django_goc.commands import check as cli
rc = cli.main(["--isolated", "--django-settings-module", "{SETTINGS}", *sys.argv[1:]])
print(rc, "flake8" in sys.modules, "libcst" in sys.modules)
"""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}

    def modules(*paths: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", code, *paths],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return result.stdout.splitlines()[-1]

    assert modules("app/models.py", "site_cfg") == "0 False False"
    assert modules("app") == "1 False True"


def test_python_dash_m_and_version(project: Path) -> None:
    result = run_cli("--version", cwd=project)
    assert result.returncode == 0 and result.stdout.startswith("flake8-django-goc ")
