"""Shared helpers of the corpus tools: the package list, venv paths, site-packages.

Standard library only (Python 3.11+: tomllib). Imported by venvs.py, sites.py and run.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field

CORPUS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(CORPUS))
SETTINGS_DIR = os.path.join(CORPUS, "settings")
SITES_DIR = os.path.join(CORPUS, "sites")
META_DIR = os.path.join(CORPUS, "meta")
LABELS_DIR = os.path.join(CORPUS, "labels")
PACKAGES_TOML = os.path.join(CORPUS, "packages.toml")
STAMP = ".goc-corpus-stamp.json"
PYTHON = os.environ.get("GOC_CORPUS_PYTHON", "python3")


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    django: str
    settings: str
    lint: tuple[str, ...]
    requires: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    system: tuple[str, ...] = ()
    python: str = ""
    extras: tuple[str, ...] = ()
    extra_pythonpath: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"

    def requirements(self) -> list[str]:
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return [f"{self.name}{extras}=={self.version}", self.django, *self.requires]


def load_packages(path: str = PACKAGES_TOML) -> list[Package]:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    out = []
    for t in data.get("package", []):
        out.append(
            Package(
                name=t["name"],
                version=t["version"],
                django=t["django"],
                settings=t["settings"],
                lint=tuple(t["lint"]),
                requires=tuple(t.get("requires", ())),
                exclude=tuple(t.get("exclude", ())),
                system=tuple(t.get("system", ())),
                python=t.get("python", ""),
                extras=tuple(t.get("extras", ())),
            )
        )
    return out


def select(packages: list[Package], only: str | None) -> list[Package]:
    if not only:
        return packages
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    by_name = {p.name: p for p in packages}
    missing = [w for w in wanted if w not in by_name]
    if missing:
        sys.exit(f"unknown package(s): {', '.join(missing)} (see packages.toml)")
    return [by_name[w] for w in wanted]


def venvs_root() -> str:
    return os.environ.get("GOC_CORPUS_VENVS") or os.path.expanduser(
        "~/.cache/flake8-django-goc-corpus/venvs"
    )


def venv_dir(pkg: Package) -> str:
    return os.path.join(venvs_root(), pkg.key)


def venv_python(pkg: Package) -> str:
    return os.path.join(venv_dir(pkg), "bin", "python")


def base_python(pkg: Package) -> str:
    """The interpreter the package's venv is made with (packages.toml ``python``, else python3).

    A name like python3.12 is looked up on PATH and, when that fails (a pyenv shim of a version
    that is not active), among ~/.pyenv/versions/*/bin/.
    """
    import glob
    import shutil

    name = pkg.python or PYTHON
    if os.path.isabs(name):
        return name
    found = shutil.which(name)
    if found and subprocess.run([found, "-c", "pass"], capture_output=True).returncode == 0:
        return found
    for cand in sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/*/bin/{name}")), reverse=True):
        if subprocess.run([cand, "-c", "pass"], capture_output=True).returncode == 0:
            return cand
    sys.exit(f"{pkg.key}: no working {name} found (PATH, ~/.pyenv/versions)")


def venv_bin(pkg: Package, tool: str) -> str:
    return os.path.join(venv_dir(pkg), "bin", tool)


_SITE_CACHE: dict[str, str] = {}


def site_packages(pkg: Package) -> str:
    """The venv's purelib directory (asked of the venv's own interpreter once)."""
    py = venv_python(pkg)
    if py not in _SITE_CACHE:
        out = subprocess.run(
            [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        _SITE_CACHE[py] = out
    return _SITE_CACHE[py]


def stamp_key(pkg: Package) -> str:
    """What an installed venv must match to be reused."""
    fields = {"requirements": pkg.requirements(), "repo": REPO, "stamp-version": 1}
    if pkg.python:
        fields["python"] = pkg.python
    blob = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def env_for(pkg: Package, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment to run tools in a package's venv with its settings importable."""
    env = dict(os.environ if base is None else base)
    env["DJANGO_SETTINGS_MODULE"] = pkg.settings
    parts = [SETTINGS_DIR]
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env["VIRTUAL_ENV"] = venv_dir(pkg)
    env["PATH"] = os.path.join(venv_dir(pkg), "bin") + os.pathsep + env.get("PATH", "")
    env.pop("PYTHONHOME", None)
    return env
