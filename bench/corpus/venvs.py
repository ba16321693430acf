"""Create (or reuse) one virtualenv per corpus package and install it.

    python3 bench/corpus/venvs.py                 # every package in packages.toml
    python3 bench/corpus/venvs.py --only wiki,django-taggit
    python3 bench/corpus/venvs.py --force         # reinstall even when the stamp matches
    python3 bench/corpus/venvs.py --check         # also run django.setup() with the settings
    python3 bench/corpus/venvs.py --apt           # apt-get install the Debian packages some need

Each venv lives at $GOC_CORPUS_VENVS/<name>-<version> (default
~/.cache/flake8-django-goc-corpus/venvs/). It gets the pinned package, its Django pin and extra
requirements, flake8, and this repository's plugin in editable mode (``pip install -e <repo>``),
so later edits of flake8_django_goc/ are seen without reinstalling. A stamp file in the venv
records what was installed; a rerun whose requirements match skips the install. A package's
``system`` list (packages.toml) names Debian packages it needs to build or set up (C headers,
GDAL); they are checked with dpkg and installed with --apt.
Standard library only; Python 3.11+ (tomllib).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402


def is_current(pkg: corpus.Package) -> bool:
    path = os.path.join(corpus.venv_dir(pkg), corpus.STAMP)
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return False
    return data.get("key") == corpus.stamp_key(pkg) and os.path.exists(corpus.venv_python(pkg))


def check_setup(pkg: corpus.Package) -> tuple[bool, str]:
    proc = subprocess.run(
        [corpus.venv_python(pkg), "-c", "import django; django.setup(); print(django.get_version())"],
        env=corpus.env_for(pkg),
        capture_output=True,
        text=True,
        cwd=corpus.site_packages(pkg),
    )
    if proc.returncode != 0:
        return False, (proc.stderr.strip().splitlines() or ["?"])[-1]
    return True, "django " + proc.stdout.strip()


def ensure(pkg: corpus.Package, force: bool = False, quiet: bool = False) -> bool:
    """Install pkg's venv unless its stamp is current. Returns True when usable.

    A lock file beside the venv keeps two concurrent runs from installing into it at once.
    """
    if not force and is_current(pkg):
        if not quiet:
            print(f"{pkg.key}: up to date ({corpus.venv_dir(pkg)})")
        return True
    os.makedirs(corpus.venvs_root(), exist_ok=True)
    with open(os.path.join(corpus.venvs_root(), pkg.key + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure_locked(pkg, force, quiet)


def missing_system(pkg: corpus.Package) -> list[str]:
    """Debian packages of packages.toml's ``system`` list that dpkg does not show installed."""
    missing = []
    for name in pkg.system:
        proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True)
        if proc.returncode != 0 or "install ok installed" not in proc.stdout:
            missing.append(name)
    return missing


APT = False  # set by --apt


def _ensure_locked(pkg: corpus.Package, force: bool, quiet: bool) -> bool:
    missing = missing_system(pkg) if pkg.system else []
    if missing and APT:
        print(f"{pkg.key}: apt-get install {' '.join(missing)}", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, stdout=subprocess.DEVNULL)
        missing = missing_system(pkg)
    if missing:
        print(f"{pkg.key}: needs the Debian packages {' '.join(missing)}: run"
              f" 'apt-get install {' '.join(missing)}' (or venvs.py --apt) first", file=sys.stderr)

    if not force and is_current(pkg):
        if not quiet:
            print(f"{pkg.key}: up to date ({corpus.venv_dir(pkg)})")
        return True
    vdir = corpus.venv_dir(pkg)
    os.makedirs(corpus.venvs_root(), exist_ok=True)
    start = time.monotonic()
    print(f"{pkg.key}: installing into {vdir}", flush=True)
    stamp = os.path.join(vdir, corpus.STAMP)
    if os.path.exists(stamp):
        os.unlink(stamp)
    steps = []
    # --clear: a venv that is not current is made anew (the pip cache keeps that quick).
    steps.append([corpus.base_python(pkg), "-m", "venv", "--clear", vdir])
    pip = [corpus.venv_python(pkg), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    steps.append(pip + ["--upgrade", "pip", "setuptools", "wheel"])
    steps.append(pip + [*pkg.requirements(), "flake8>=7,<8", "-e", corpus.REPO])
    log = os.path.join(corpus.venvs_root(), pkg.key + ".install.log")
    open(log, "w").close()
    for cmd in steps:
        os.makedirs(vdir, exist_ok=True)
        with open(log, "a") as logf:
            logf.write("$ " + " ".join(cmd) + "\n")
            logf.flush()
            proc = subprocess.run(cmd, stdout=logf, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            print(f"{pkg.key}: FAILED: {' '.join(cmd)} (see {log})", file=sys.stderr)
            with open(log) as f:
                tail = f.read().splitlines()[-15:]
            print("\n".join("    " + t for t in tail), file=sys.stderr)
            return False
    with open(stamp, "w") as f:
        json.dump(
            {"key": corpus.stamp_key(pkg), "requirements": pkg.requirements(), "repo": corpus.REPO,
             "installed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
            f,
            indent=1,
        )
    print(f"{pkg.key}: installed in {time.monotonic() - start:.0f}s", flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated package names")
    ap.add_argument("--force", action="store_true", help="reinstall even when up to date")
    ap.add_argument("--check", action="store_true", help="run django.setup() with each settings module")
    ap.add_argument("--apt", action="store_true", help="apt-get install the packages' 'system' requirements")
    args = ap.parse_args(argv)
    global APT
    APT = args.apt
    failed = []
    for pkg in corpus.select(corpus.load_packages(), args.only):
        ok = ensure(pkg, force=args.force)
        if ok and args.check:
            ok, msg = check_setup(pkg)
            print(f"{pkg.key}: django.setup() {'ok' if ok else 'FAILED'}: {msg}", flush=True)
        if not ok:
            failed.append(pkg.name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
