"""Output formats of the standalone command: default, github, json and sarif.

Every format renders the same ``Run``. Positions are the ones flake8 prints: 1-based lines, and
1-based columns counted as flake8 counts them (``ast`` column offset + 1, i.e. UTF-8 bytes).

``json`` shape (stable; fields are only ever added, ``format_version`` changes on a breaking
change)::

    {
      "format_version": 1,
      "tool": {"name": "flake8-django-goc", "version": "0.1.0"},
      "findings": [
        {"path": "shop/views.py", "line": 16, "column": 16, "code": "DGC001",
         "level": "error", "message": "Order.objects.get_or_create() looks up ..."}
      ],
      "skipped": [{"path": "odd.py", "line": 3, "reason": "cannot parse it (SyntaxError: ...)",
                   "internal": false}],
      "stats": {"files": 3, "calls": 5, "resolved": 4},
      "error": null
    }

``path`` is the path as given or walked (the same text the default format prints); ``level`` is
``error`` for DGC0xx and ``warning`` for the opt-in diagnostics DGC1xx (the same level is used
by ``github``, ``::error``/``::warning``, and ``sarif``); ``stats.files`` counts files that hold at
least one get_or_create-family call; ``skipped`` lists files that could not be checked, which
makes the check incomplete and the exit code 2 (``line``: where, when known, else null;
``internal``: an internal error, please report it); ``error`` is null, or
``{"message": ...}`` when the check could not run at all (Django setup failed, bad
configuration, a missing path): then ``findings`` is empty and the exit code 2.

Every format reports skipped files and a run that could not run: ``sarif`` as
``invocations[0].toolExecutionNotifications`` (level ``error``, with the location) and
``executionSuccessful: false``; ``github`` as ``::error`` commands. The document is always
written, also when the check cannot run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from flake8_django_goc import __version__
from flake8_django_goc.rules import RULES, severity

NAME = "flake8-django-goc"
INFORMATION_URI = "https://github.com/flake8-django-goc/flake8-django-goc"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
JSON_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Result:
    path: str  # as given on the command line or produced by the directory walk
    line: int
    column: int  # 1-based, as flake8 prints it
    code: str
    message: str  # without the code


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str
    internal: bool = False  # an internal error (please report it), not a file we cannot read
    line: int | None = None  # where the reason is, when known (a syntax error)


@dataclass
class Run:
    results: list[Result] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: int = 0  # files holding at least one call
    calls: int = 0
    resolved: int = 0
    failed: bool = False  # the check is incomplete: a file was skipped (exit code 2)
    checked: int = 0  # files read
    error: str | None = None  # the check could not run at all (setup failure, bad config)
    warnings: list[str] = field(default_factory=list)  # parts of the project that were left out


@dataclass(frozen=True)
class RuleHelp:
    name: str
    short: str
    full: str
    text: str
    markdown: str
    uri: str | None = None


def rule_help(code: str) -> RuleHelp:
    """The documentation of one rule, from its declaration (the source of ``docs/rules/``)."""
    from flake8_django_goc.rules.docs import markdown, plain_text

    doc = RULES[code]
    return RuleHelp(
        name="".join(part.capitalize() for part in doc.name.split("-")),
        short=doc.summary_sentence,
        full=plain_text(doc.what),
        text=f"{code}: {doc.summary_sentence} {plain_text(doc.why)} See {doc.uri}",
        markdown=markdown(doc),
        uri=doc.uri,
    )


def level(code: str) -> str:
    # Opt-in diagnostics say what the linter could not judge, not that the code is wrong.
    return severity(code)


# ------------------------------------------------------------------------------------- default


def render_default(run: Run, quiet: int = 0, color: bool = False) -> str:
    """flake8's ``path:line:col: CODE message``; with ``color``, the path bold and the code red
    (yellow for the opt-in diagnostics), as a terminal shows them."""
    bold, reset = ("\x1b[1m", "\x1b[0m") if color else ("", "")
    if quiet:  # like flake8 -q: each file with findings once
        paths = dict.fromkeys(r.path for r in run.results)
        return "".join(f"{bold}{path}{reset}\n" for path in paths)
    lines = []
    for r in run.results:
        hue = ("\x1b[1;31m" if level(r.code) == "error" else "\x1b[1;33m") if color else ""
        lines.append(
            f"{bold}{r.path}{reset}:{r.line}:{r.column}: {hue}{r.code}{reset} {r.message}\n"
        )
    return "".join(lines)


# -------------------------------------------------------------------------------------- github


def escape_data(text: str) -> str:
    """A workflow command's message (GitHub's ``escapeData``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (GitHub's ``escapeProperty``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(run: Run, quiet: int = 0) -> str:
    lines = []
    for r in run.results:
        # GitHub resolves annotation paths against the workspace: drop "./", use "/".
        path = _posix(os.path.normpath(r.path))
        props = ",".join(
            f"{key}={escape_property(str(value))}"
            for key, value in (
                ("file", path),
                ("line", r.line),
                ("col", r.column),
                ("title", r.code),
            )
        )
        kind = "notice" if level(r.code) == "note" else level(r.code)  # GitHub's name for it
        lines.append(f"::{kind} {props}::{escape_data(r.message)}\n")
    for s in run.skipped:
        lines.append(_github_error(f"skipped: {s.reason}", s.path, s.line))
    for warning in run.warnings:
        lines.append(f"::warning title={escape_property(NAME)}::{escape_data(warning)}\n")
    if run.error is not None:
        lines.append(_github_error(run.error))
    return "".join(lines)


def _github_error(message: str, path: str | None = None, line: int | None = None) -> str:
    props = [("title", NAME)]
    if path is not None:
        props.insert(0, ("file", _posix(os.path.normpath(path))))
        if line is not None:
            props.insert(1, ("line", str(line)))
    text = ",".join(f"{key}={escape_property(value)}" for key, value in props)
    return f"::error {text}::{escape_data(message)}\n"


# ---------------------------------------------------------------------------------------- json


def render_json(run: Run, quiet: int = 0) -> str:
    document = {
        "format_version": JSON_FORMAT_VERSION,
        "tool": {"name": NAME, "version": __version__},
        "findings": [
            {
                "path": r.path,
                "line": r.line,
                "column": r.column,
                "code": r.code,
                "level": level(r.code),
                "message": r.message,
            }
            for r in run.results
        ],
        "skipped": [
            {"path": s.path, "line": s.line, "reason": s.reason, "internal": s.internal}
            for s in run.skipped
        ],
        "stats": {"files": run.files, "calls": run.calls, "resolved": run.resolved},
        "error": None if run.error is None else {"message": run.error},
        "warnings": list(run.warnings),
    }
    return json.dumps(document, indent=2) + "\n"


# --------------------------------------------------------------------------------------- sarif


def render_sarif(run: Run, quiet: int = 0, root: str | None = None) -> str:
    root = root or os.getcwd()
    codes = list(RULES)
    rules = []
    for code in codes:
        doc = rule_help(code)
        rule: dict[str, object] = {
            "id": code,
            "name": doc.name,
            "shortDescription": {"text": doc.short},
            "fullDescription": {"text": doc.full},
            "help": {"text": doc.text, "markdown": doc.markdown},
            "defaultConfiguration": {"level": level(code)},
        }
        if doc.uri:
            rule["helpUri"] = doc.uri
        rules.append(rule)
    results = [
        {
            "ruleId": r.code,
            "ruleIndex": codes.index(r.code),
            "level": level(r.code),
            "message": {"text": r.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": _artifact(r.path, root),
                        "region": {"startLine": r.line, "startColumn": r.column},
                    }
                }
            ],
        }
        for r in run.results
    ]
    notifications: list[dict[str, object]] = []
    for s in run.skipped:
        location: dict[str, object] = {"artifactLocation": _artifact(s.path, root)}
        if s.line is not None:
            location["region"] = {"startLine": s.line}
        notifications.append(
            {
                "level": "error",  # a file not checked: the run is incomplete
                "message": {"text": f"skipped {s.path}: {s.reason}"},
                "locations": [{"physicalLocation": location}],
            }
        )
    notifications.extend({"level": "warning", "message": {"text": w}} for w in run.warnings)
    if run.error is not None:
        notifications.append({"level": "error", "message": {"text": run.error}})
    successful = not run.failed and not run.skipped and run.error is None
    invocation: dict[str, object] = {"executionSuccessful": successful}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": NAME,
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(root).resolve().as_uri() + "/"}},
                "invocations": [invocation],
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _posix(path: str) -> str:
    return path.replace(os.sep, "/")


def _artifact(path: str, root: str) -> dict[str, str]:
    """A relative URI under %SRCROOT% (the current directory), else an absolute file URI."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, root)
    except ValueError:  # another drive on Windows
        relative = os.pardir
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return {"uri": Path(absolute).as_uri()}
    return {"uri": quote(_posix(relative)), "uriBaseId": "%SRCROOT%"}


Renderer = Callable[[Run, int], str]
FORMATS: dict[str, Renderer] = {
    "default": render_default,
    "github": render_github,
    "json": render_json,
    "sarif": render_sarif,
}


def render(name: str, run: Run, quiet: int = 0, color: bool = False) -> str:
    """The report in format ``name``; ``quiet`` >= 2 prints nothing (flake8's ``-qq``);
    ``color`` applies to the default format only (the others are for machines)."""
    if quiet >= 2:
        return ""
    if name == "default":
        return render_default(run, quiet, color)
    return FORMATS[name](run, quiet)
