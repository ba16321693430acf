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
      "skipped": [{"path": "odd.py", "reason": "cannot decode it ...", "internal": false}],
      "stats": {"files": 3, "calls": 5, "resolved": 4}
    }

``path`` is the path as given or walked (the same text the default format prints); ``level`` is
``error`` for DGC0xx and ``warning`` for the opt-in diagnostics DGC1xx (the same level is used
by ``github``, ``::error``/``::warning``, and ``sarif``); ``stats.files`` counts files that hold at
least one get_or_create-family call; ``skipped`` lists files that could not be checked
(``internal``: an internal error, which makes the exit code 2).
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
    internal: bool = False  # an internal error (exit code 2), not a file we cannot read


@dataclass
class Run:
    results: list[Result] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: int = 0  # files holding at least one call
    calls: int = 0
    resolved: int = 0
    failed: bool = False  # an internal error kept a file from being checked


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


def render_default(run: Run, quiet: int = 0) -> str:
    if quiet:  # like flake8 -q: each file with findings once
        return "".join(f"{path}\n" for path in dict.fromkeys(r.path for r in run.results))
    return "".join(f"{r.path}:{r.line}:{r.column}: {r.code} {r.message}\n" for r in run.results)


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
    return "".join(lines)


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
            {"path": s.path, "reason": s.reason, "internal": s.internal} for s in run.skipped
        ],
        "stats": {"files": run.files, "calls": run.calls, "resolved": run.resolved},
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
    notifications = [
        {
            "level": "error" if s.internal else "warning",
            "message": {"text": f"skipped {s.path}: {s.reason}"},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact(s.path, root)}}],
        }
        for s in run.skipped
    ]
    invocation: dict[str, object] = {"executionSuccessful": not run.failed}
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


def render(name: str, run: Run, quiet: int = 0) -> str:
    """The report in format ``name``; ``quiet`` >= 2 prints nothing (flake8's ``-qq``)."""
    if quiet >= 2:
        return ""
    return FORMATS[name](run, quiet)
