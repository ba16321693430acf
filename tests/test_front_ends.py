"""Never wrong in silence (issue #10), through the real flake8 and the real command: files that
cannot be parsed, plain flake8 with a broken environment, output documents when the check cannot
run, and the project found from anywhere inside it (a monorepo's backend/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flake8_run import run_flake8
from test_bad_input import make_project
from test_cli import CALL, SETTINGS, dgc_lines, run_cli, write

SYNTAX = f"from app.models import Thing\n\n\ndef f(:\n    {CALL}\n"


# ---------------------------------------------------------------------- odd files, both front ends


def odd_corpus(root: Path) -> None:
    """Files whose decoding or parsing is unusual, each holding a call."""
    imports = b"from app.models import Thing\n"
    call = CALL.encode()
    files = {
        # bytes the declared codec cannot decode: flake8 reads the file as latin-1
        "bad_utf8.py": b"# -*- coding: utf-8 -*-\n" + imports + b"x = '\xff\xfe'; " + call + b"\n",
        "bad_cookie.py": b"# -*- coding: klingon -*-\n" + imports + call + b"\n",
        "bom.py": b"\xef\xbb\xbf" + imports + b"\n" + call + b"\n",
        "bom_bad.py": b"\xef\xbb\xbf" + imports + b"x = '\xff'\n" + call + b"\n",
        "latin.py": b"# coding: latin-1\n" + imports + b"x = '\xe9'; " + call + b"\n",
        "crlf.py": imports.replace(b"\n", b"\r\n") + b"\r\n" + call + b"\r\n",
        "cr.py": imports.replace(b"\n", b"\r") + b"def f():\r    " + call + b"\r",
        "formfeed.py": imports + b"\x0c\n\x0cdef f():\n    " + call + b"\n",
    }
    for name, data in files.items():
        (root / "app" / name).write_bytes(data)
    write(root, "app/syntax.py", SYNTAX)


def test_plugin_and_command_agree_on_odd_files(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    odd_corpus(root)
    settings = ("--django-settings-module", SETTINGS)
    by_flake8 = run_flake8("--select", "DGC,E999", *settings, "app", cwd=root)
    by_cli = run_cli(*settings, "app", cwd=root)
    assert "Traceback" not in by_flake8.stderr + by_cli.stderr
    flake8_dgc = dgc_lines(by_flake8.stdout)
    # every odd file but the syntax error holds one reported call, in both front ends
    assert sorted({line.split(":")[0] for line in flake8_dgc}) == sorted(
        f"app/{name}"
        for name in (
            "bad_cookie.py",
            "bad_utf8.py",
            "bom.py",
            "bom_bad.py",
            "cr.py",
            "crlf.py",
            "formfeed.py",
            "latin.py",
            "views.py",
        )
    ), by_flake8.stdout
    assert dgc_lines(by_cli.stdout) == flake8_dgc
    # the file neither could check: flake8 says E999, the command says so and exits 2
    assert "app/syntax.py:4:" in by_flake8.stdout and "E999" in by_flake8.stdout
    assert by_cli.returncode == 2
    assert by_cli.stderr == (
        "flake8-django-goc: skipped app/syntax.py:4: "
        "cannot parse it (SyntaxError: invalid syntax)\n"
    )


def test_a_syntax_error_is_listed_in_every_format(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    write(root, "app/syntax.py", SYNTAX)
    settings = ("--django-settings-module", SETTINGS, "app")
    as_json = run_cli(*settings, "--format", "json", cwd=root)
    assert as_json.returncode == 2
    document = json.loads(as_json.stdout)
    assert document["skipped"] == [
        {
            "path": "app/syntax.py",
            "line": 4,
            "reason": "cannot parse it (SyntaxError: invalid syntax)",
            "internal": False,
        }
    ]
    assert [f["path"] for f in document["findings"]] == ["app/views.py"]  # the rest is checked

    as_sarif = run_cli(*settings, "--format", "sarif", cwd=root)
    assert as_sarif.returncode == 2
    (invocation,) = json.loads(as_sarif.stdout)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["level"] == "error"
    assert "cannot parse it (SyntaxError: invalid syntax)" in notification["message"]["text"]
    (location,) = notification["locations"]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "app/syntax.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 4},
    }

    as_github = run_cli(*settings, "--format", "github", cwd=root)
    assert as_github.returncode == 2
    assert as_github.stdout.splitlines()[-1] == (
        "::error file=app/syntax.py,line=4,title=flake8-django-goc::"
        "skipped: cannot parse it (SyntaxError: invalid syntax)"
    )


# ----------------------------------------------------------------- plain flake8 is never harmed

BROKEN = "raise RuntimeError('DATABASE_URL is not set')\n"


def style_project(tmp_path: Path) -> Path:
    root = make_project(tmp_path, settings=BROKEN)
    write(root, "app/style.py", "import os\nx=1\n")  # F401 and E225
    return root


def test_plain_flake8_warns_once_and_runs_when_the_environment_settings_fail(
    tmp_path: Path,
) -> None:
    root = style_project(tmp_path)
    result = run_flake8("app", cwd=root, env={"DJANGO_SETTINGS_MODULE": SETTINGS})
    assert result.returncode == 1, result.stderr
    assert "app/style.py:1:1: F401" in result.stdout and "app/style.py:2:2: E225" in result.stdout
    assert "Traceback" not in result.stderr
    (warning,) = result.stderr.splitlines()
    assert warning.startswith("flake8-django-goc: DGC checks skipped: cannot import the Django ")
    assert "RuntimeError: DATABASE_URL is not set" in warning
    assert warning.endswith("(select DGC explicitly to make this an error)")


def test_settings_from_manage_py_count_like_the_environment(tmp_path: Path) -> None:
    root = style_project(tmp_path)
    write(
        root,
        "manage.py",
        f'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "{SETTINGS}")\n',
    )
    result = run_flake8(cwd=root / "app")
    assert result.returncode == 1, result.stderr
    assert "./style.py:1:1: F401" in result.stdout
    assert "DGC checks skipped" in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "config"),
    [
        (("--select", "DGC,E,F"), None),
        (("--extend-select", "DGC"), None),
        (("--django-settings-module", SETTINGS), None),
        ((), f"[flake8]\ndjango-settings-module = {SETTINGS}\n"),
    ],
    ids=["select", "extend-select", "command-line-settings", "config-settings"],
)
def test_explicit_selection_or_configured_settings_stay_fatal(
    tmp_path: Path, args: tuple[str, ...], config: str | None
) -> None:
    root = style_project(tmp_path)
    if config:
        write(root, "setup.cfg", config)
    result = run_flake8(
        *args, "app", cwd=root, env={"DJANGO_SETTINGS_MODULE": SETTINGS}, isolated=config is None
    )
    output = result.stdout + result.stderr  # flake8 prints its ExecutionError on stdout
    assert result.returncode != 0
    assert "Traceback" not in output
    assert "RuntimeError: DATABASE_URL is not set" in output
    assert "DGC checks skipped" not in output
    assert "F401" not in output  # flake8 stopped: the configured check cannot run


# ------------------------------------------------------------- documents when the check cannot run


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("setup", "RuntimeError: DATABASE_URL is not set"),
        ("config", "no-migrations must be true or false"),
        ("missing", "no such file or directory: nope.py"),
    ],
)
def test_output_documents_are_written_when_the_check_cannot_run(
    tmp_path: Path, case: str, needle: str
) -> None:
    root = make_project(tmp_path, settings=BROKEN if case == "setup" else "")
    if case == "config":
        write(root, "pyproject.toml", "[tool.flake8-django-goc]\nno-migrations = 'yes'\n")
    args = ["--django-settings-module", SETTINGS, *(["nope.py"] if case == "missing" else [])]
    isolated = case != "config"

    out = root / "report.sarif"
    sarif = run_cli(
        *args, "--format", "sarif", "--output-file", str(out), cwd=root, isolated=isolated
    )
    assert sarif.returncode == 2 and needle in sarif.stderr and "Traceback" not in sarif.stderr
    run = json.loads(out.read_text())["runs"][0]
    assert run["results"] == []
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["level"] == "error" and needle in notification["message"]["text"]

    out = root / "report.json"
    as_json = run_cli(
        *args, "--format", "json", "--output-file", str(out), cwd=root, isolated=isolated
    )
    assert as_json.returncode == 2 and as_json.stdout == ""
    document = json.loads(out.read_text())
    assert document["findings"] == [] and needle in document["error"]["message"]

    github = run_cli(*args, "--format", "github", cwd=root, isolated=isolated)
    assert github.returncode == 2
    (line,) = github.stdout.splitlines()
    assert line.startswith("::error title=flake8-django-goc::") and needle in line


# ------------------------------------------------------------------ the project found from anywhere


def monorepo(tmp_path: Path, manage: bool = True) -> Path:
    """repo/backend/ is the Django project (manage.py, site_cfg, app); repo/ holds other code."""
    repo = tmp_path / "repo"
    backend = repo / "backend"
    backend.mkdir(parents=True)
    make_project(backend)
    if manage:
        write(
            backend,
            "manage.py",
            "import os\nimport sys\n\n\ndef main():\n"
            f'    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{SETTINGS}")\n\n\n'
            'if __name__ == "__main__":\n    main()\n',
        )
    write(repo, "frontend/build.py", "x = 1\n")
    return repo


def test_monorepo_from_the_repository_root_and_from_a_subdirectory(tmp_path: Path) -> None:
    repo = monorepo(tmp_path)
    from_root = run_cli("backend/", cwd=repo)
    assert from_root.returncode == 1, from_root.stderr
    assert from_root.stdout.startswith("backend/app/views.py:5:12: DGC001 ")
    from_app = run_cli(cwd=repo / "backend" / "app")
    assert from_app.returncode == 1, from_app.stderr
    assert from_app.stdout.startswith("./views.py:5:12: DGC001 ")
    by_flake8 = run_flake8("--select", "DGC", cwd=repo / "backend" / "app")
    assert by_flake8.returncode == 1, by_flake8.stderr
    assert dgc_lines(by_flake8.stdout) == dgc_lines(from_app.stdout)
    # flake8 from the repository root: manage.py is found from the path checked
    by_flake8 = run_flake8("--select", "DGC", "backend/", cwd=repo)
    assert dgc_lines(by_flake8.stdout) == dgc_lines(from_root.stdout)
    # a pyproject.toml of another tool above is not a config file of ours
    write(repo, "pyproject.toml", '[project]\nname = "flake8-django-goc-user"\n')
    assert run_cli("backend/", cwd=repo, isolated=False).stdout == from_root.stdout


def test_config_file_found_above_and_project_root_option(tmp_path: Path) -> None:
    repo = monorepo(tmp_path, manage=False)
    # no manage.py: the settings come from the config file, the root from its option, relative
    # to the config file's directory
    write(
        repo,
        "setup.cfg",
        f"[flake8]\ndjango-settings-module = {SETTINGS}\ndjango-project-root = backend\n",
    )
    (repo / "frontend" / "deep").mkdir()
    found = run_cli("../../backend/app", cwd=repo / "frontend" / "deep", isolated=False)
    assert found.returncode == 1, found.stderr
    assert found.stdout.startswith("../../backend/app/views.py:5:12: DGC001 ")
    by_flake8 = run_flake8("--select", "DGC", "backend", cwd=repo, isolated=False)
    assert dgc_lines(by_flake8.stdout) == [
        "backend/" + line[len("../../backend/") :] for line in dgc_lines(found.stdout)
    ]
    # without it, the root is the config file's directory: site_cfg is not importable there
    write(repo, "setup.cfg", f"[flake8]\ndjango-settings-module = {SETTINGS}\n")
    lost = run_cli("backend", cwd=repo, isolated=False)
    assert lost.returncode == 2 and "No module named 'site_cfg'" in lost.stderr
    given = run_cli("--django-project-root", "backend", "backend", cwd=repo, isolated=False)
    assert given.returncode == 1, given.stderr
    bad = run_cli("--django-project-root", "nowhere", "backend", cwd=repo)
    assert bad.returncode == 2 and "'nowhere'" in bad.stderr and "Traceback" not in bad.stderr
