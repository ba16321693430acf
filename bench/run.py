"""Benchmark and robustness runs of flake8-django-goc on real code: Wagtail, Django, django-oscar.

A script, not a test. Stdlib only; it drives the tools installed in the bench venv (see
bench/README.md for the one install command):

    bench/.venv/bin/python bench/run.py                      # timing, all targets, 5 runs each
    bench/.venv/bin/python bench/run.py --targets wagtail --runs 3 --out /tmp/bench.json
    bench/.venv/bin/python bench/run.py --check              # robustness + agreement

Timing (default mode), per target, each variant run ``--runs`` times in interleaved rounds (every
round runs every variant once, so slow drift of the machine hits all variants alike):

  flake8           flake8 -j1 without the plugin (bench/flake8_without_plugin.py)
  flake8+dgc cold  flake8 -j1 with the plugin, --django-goc-no-cache (django.setup() every run)
  flake8+dgc warm  flake8 -j1 with the plugin, the Schema cache fresh
  select cold/warm flake8 -j1 --select DGC
  select-jauto     flake8 --select DGC with flake8's default -j (one job per core)
  command cold/warm  flake8-django-goc (the standalone command)
  phases cold/warm bench/phases.py: the same pipeline timed phase by phase, in-process

Every run gets its own fresh process; wall time is measured around it, CPU time and peak RSS
come from ``os.wait4``. The Schema cache lives in a temporary directory
(FLAKE8_DJANGO_GOC_CACHE_DIR) and is refreshed right before every warm run, so a concurrent edit
of the package (which rightly invalidates the cache) cannot turn a warm run into a cold one.

--check runs, per target, ``flake8 --select DGC,DGC1`` (cold) and ``--select DGC`` (warm) and
the standalone command with the same selections, fails on any internal-error note, traceback or
exit status 2, and requires both tools to print the same finding lines.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

BENCH = os.path.dirname(os.path.abspath(__file__))
SITES = os.path.join(BENCH, "sites")
WITHOUT_PLUGIN = os.path.join(BENCH, "flake8_without_plugin.py")
PHASES = os.path.join(BENCH, "phases.py")


@dataclass(frozen=True)
class Target:
    name: str
    package: str  # importable package whose directory is the tree (cwd = its parent)
    settings: str
    pythonpath: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()  # relative to the cwd; default: (package,)
    root: str | None = None  # cwd; default: the package's parent directory


TARGETS = {
    "wagtail": Target("wagtail", "wagtail", "wagtail.test.settings"),
    "django": Target("django", "django", "django_bench_settings", (SITES,)),
    "oscar": Target("oscar", "oscar", "oscar_bench_settings", (SITES,)),
}

# variant -> (tool, cold?, extra flake8 args)
VARIANTS = {
    "flake8": ("baseline", None, ["-j1"]),
    "flake8+dgc cold": ("flake8", True, ["-j1"]),
    "flake8+dgc warm": ("flake8", False, ["-j1"]),
    "select cold": ("flake8", True, ["-j1", "--select", "DGC"]),
    "select warm": ("flake8", False, ["-j1", "--select", "DGC"]),
    "select-jauto cold": ("flake8", True, ["--select", "DGC"]),
    "select-jauto warm": ("flake8", False, ["--select", "DGC"]),
    "command cold": ("command", True, []),
    "command warm": ("command", False, []),
    "phases cold": ("phases", True, []),
    "phases warm": ("phases", False, []),
}
JAUTO = ("select-jauto cold", "select-jauto warm")

# (name, numerator variant, denominator variant, limit, applies to)
RATIOS = [
    ("flake8+dgc / flake8, cold", "flake8+dgc cold", "flake8", 1.12, "wagtail"),
    ("flake8+dgc / flake8, warm", "flake8+dgc warm", "flake8", 1.06, "wagtail"),
    ("command / flake8 -j1 --select DGC, cold", "command cold", "select cold", 0.15, "wagtail"),
    ("command / flake8 -j1 --select DGC, warm", "command warm", "select warm", 0.10, "wagtail"),
    ("command / flake8 --select DGC, cold", "command cold", "select-jauto cold", 0.15, "wagtail"),
    ("command / flake8 --select DGC, warm", "command warm", "select-jauto warm", 0.10, "wagtail"),
]
CANDIDATE_LIMIT = 2.0

STATS_RE = re.compile(
    r"flake8-django-goc: (\d+) get_or_create-family calls in (\d+) files; (\d+) tied to a model"
)
FINDING_RE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>DGC\d+) ")
INTERNAL_RE = re.compile(r"internal error|Traceback \(most recent call last\)")


# ------------------------------------------------------------------------------------ helpers


@dataclass
class Proc:
    returncode: int
    wall: float
    cpu: float
    maxrss_kb: int
    stdout: str
    stderr: str


def run(cmd: list[str], cwd: str, env: dict[str, str]) -> Proc:
    """Run ``cmd`` to completion; wall time, and CPU time and peak RSS from wait4."""
    with tempfile.TemporaryFile("w+b") as out, tempfile.TemporaryFile("w+b") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Proc(
            proc.returncode,
            wall,
            usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


@dataclass
class Env:
    venv: str
    cache_root: str

    @property
    def python(self) -> str:
        # python3, like the console scripts' shebang: the cache key holds sys.executable.
        return os.path.join(self.venv, "bin", "python3")

    def script(self, name: str) -> str:
        return os.path.join(self.venv, "bin", name)

    def environ(self, target: Target) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("FLAKE8_DJANGO_GOC", "PYTHON")) and k != "DJANGO_SETTINGS_MODULE"
        }
        env["DJANGO_SETTINGS_MODULE"] = target.settings
        env["FLAKE8_DJANGO_GOC_CACHE_DIR"] = os.path.join(self.cache_root, target.name)
        if target.pythonpath:
            env["PYTHONPATH"] = os.pathsep.join(target.pythonpath)
        return env

    def command(self, variant: str, target: Target) -> list[str]:
        tool, cold, extra = VARIANTS[variant]
        paths = list(target.paths or (target.package,))
        if tool == "baseline":
            return [self.python, WITHOUT_PLUGIN, "--isolated", *extra, *paths]
        no_cache = ["--django-goc-no-cache"] if cold else []
        if tool == "flake8":
            return [self.script("flake8"), "--isolated", *extra, *no_cache, *paths]
        if tool == "command":
            return [self.script("flake8-django-goc"), "--isolated", *no_cache, *paths]
        mode = "cold" if cold else "warm"
        return [self.python, PHASES, "--settings", target.settings, "--mode", mode, *paths]

    def prime_cache(self, target: Target, cwd: str) -> None:
        """Make the Schema cache fresh (builds it only if a package or project file changed)."""
        code = "from flake8_django_goc.schema.django.build import load_schema as l; l(%r)"
        proc = run([self.python, "-c", code % target.settings], cwd, self.environ(target))
        if proc.returncode:
            sys.exit(f"priming the Schema cache for {target.name} failed:\n{proc.stderr}")


def target_root(env: Env, target: Target) -> str:
    if target.root:
        return target.root
    code = f"import os, {target.package} as m; print(os.path.dirname(os.path.dirname(m.__file__)))"
    proc = run([env.python, "-c", code], BENCH, env.environ(target))
    if proc.returncode:
        sys.exit(f"cannot import {target.package} in {env.venv}:\n{proc.stderr}")
    return proc.stdout.strip()


def count_files(root: str, paths: tuple[str, ...]) -> tuple[int, int]:
    files = lines = 0
    for path in paths:
        for dirpath, _, names in os.walk(os.path.join(root, path)):
            for name in names:
                if name.endswith(".py"):
                    files += 1
                    with open(os.path.join(dirpath, name), "rb") as f:
                        lines += f.read().count(b"\n")
    return files, lines


def check_sane(variant: str, proc: Proc) -> None:
    ok = proc.returncode in (0, 1)
    if not ok or INTERNAL_RE.search(proc.stderr):
        sys.exit(f"{variant}: exit status {proc.returncode}\n{proc.stderr[-3000:]}")


# ------------------------------------------------------------------------------------- timing


@dataclass
class Series:
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    phases: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "median": statistics.median(self.walls),
            "min": min(self.walls),
            "cpu_median": statistics.median(self.cpus),
            "maxrss_mb_median": statistics.median(self.rss) / 1024,
            "walls": self.walls,
        }


def time_target(env: Env, target: Target, runs: int, variants: list[str]) -> dict:
    root = target_root(env, target)
    paths = tuple(target.paths or (target.package,))
    files, lines = count_files(root, paths)
    print(
        f"\n== {target.name}: {root} {' '.join(paths)} ({files} files, {lines} lines)", flush=True
    )
    environ = env.environ(target)
    env.prime_cache(target, root)
    series = {v: Series() for v in variants}
    for round_no in range(1, runs + 1):
        print(f"  round {round_no}/{runs}:", end="", flush=True)
        for variant in variants:
            if not VARIANTS[variant][1] and VARIANTS[variant][0] != "baseline":
                env.prime_cache(target, root)  # warm: make sure the cache is fresh
            proc = run(env.command(variant, target), root, environ)
            if VARIANTS[variant][0] == "phases":
                if proc.returncode:
                    sys.exit(f"{variant}: {proc.stderr}")
                series[variant].phases.append(json.loads(proc.stdout))
            else:
                check_sane(variant, proc)
            s = series[variant]
            s.walls.append(proc.wall)
            s.cpus.append(proc.cpu)
            s.rss.append(proc.maxrss_kb)
            print(f" {variant} {proc.wall:.2f}s", end=";", flush=True)
        print(flush=True)
    result = {
        "root": root,
        "paths": paths,
        "files": files,
        "lines": lines,
        "variants": {v: s.summary() for v, s in series.items()},
    }
    for variant in ("phases cold", "phases warm"):
        if variant in series:
            result["variants"][variant]["phases"] = phase_summary(series[variant].phases)
    result["ratios"] = ratios(target.name, result)
    return result


def phase_summary(samples: list[dict]) -> dict:
    """Median seconds per phase, the counts (same every run) and the candidate-file ratio."""
    keys = samples[0]["seconds"]
    med = {k: statistics.median(s["seconds"][k] for s in samples) for k in keys}
    cand = [s["seconds"]["plugin"] / s["seconds"]["libcst_parse"] for s in samples]
    with_calls = [
        s["seconds"]["plugin_with_calls"] / s["seconds"]["libcst_parse_with_calls"] for s in samples
    ]
    return {
        "seconds": med,
        "counts": samples[0]["counts"],
        "maxrss_mb_median": statistics.median(s["maxrss_kb"] for s in samples) / 1024,
        "plugin_over_parse": statistics.median(cand),
        "plugin_over_parse_files_with_calls": statistics.median(with_calls),
    }


def ratios(target: str, result: dict) -> list[dict]:
    v = result["variants"]
    out = []
    for name, num, den, limit, applies in RATIOS:
        if num in v and den in v:
            value = v[num]["median"] / v[den]["median"]
            by_min = v[num]["min"] / v[den]["min"]
            by_cpu = v[num]["cpu_median"] / v[den]["cpu_median"]
            official = target == applies
            out.append(
                {
                    "name": name,
                    "ratio": value,
                    "ratio_of_mins": by_min,
                    "ratio_of_cpu": by_cpu,
                    "limit": limit,
                    "official": official,
                    "pass": value <= limit,
                }
            )
    for mode in ("cold", "warm"):
        phases = v.get(f"phases {mode}", {}).get("phases")
        if phases:
            value = phases["plugin_over_parse"]
            out.append(
                {
                    "name": f"plugin / libcst parse on candidate files, {mode}",
                    "ratio": value,
                    "ratio_of_mins": None,
                    "ratio_of_cpu": None,
                    "limit": CANDIDATE_LIMIT,
                    "official": True,
                    "pass": value <= CANDIDATE_LIMIT,
                }
            )
    return out


def print_timing(results: dict) -> None:
    for name, result in results.items():
        print(f"\n{name}: {result['files']} files, {result['lines']} lines")
        print(f"  {'variant':<20} {'median s':>9} {'min s':>8} {'cpu s':>8} {'RSS MB':>8}")
        for variant, s in result["variants"].items():
            print(
                f"  {variant:<20} {s['median']:>9.2f} {s['min']:>8.2f} {s['cpu_median']:>8.2f}"
                f" {s['maxrss_mb_median']:>8.0f}"
            )
        for mode in ("cold", "warm"):
            phases = result["variants"].get(f"phases {mode}", {}).get("phases")
            if not phases:
                continue
            c = phases["counts"]
            print(
                f"  phases {mode} (medians, s; {c['files']} files, {c['gate_passed']} pass the "
                f"gate, {c['files_with_calls']} with calls, {c['calls']} calls, "
                f"{c['resolved']} resolved, {c['models']} models, "
                f"peak RSS {phases['maxrss_mb_median']:.0f} MB):"
            )
            items = [f"{k} {s:.3f}" for k, s in phases["seconds"].items()]
            for i in range(0, len(items), 6):
                print("    " + ", ".join(items[i : i + 6]))
            print(
                f"    plugin/parse on gate-passing files {phases['plugin_over_parse']:.2f}, "
                f"on files with calls {phases['plugin_over_parse_files_with_calls']:.2f}"
            )
        print(f"  {'ratio':<50} {'medians':>7} {'mins':>6} {'cpu':>6} {'target':>7}")
        for r in result["ratios"]:
            verdict = ("PASS" if r["pass"] else "FAIL") if r["official"] else "info"
            extra = [
                f"{r[k]:.3f}" if r.get(k) is not None else "-"
                for k in ("ratio_of_mins", "ratio_of_cpu")
            ]
            print(
                f"  {r['name']:<50} {r['ratio']:>7.3f} {extra[0]:>6} {extra[1]:>6} "
                f"{'<= ' + str(r['limit']):>7}  {verdict}"
            )


# -------------------------------------------------------------------------------------- check


def findings(stdout: str) -> list[str]:
    return sorted(line for line in stdout.splitlines() if FINDING_RE.match(line))


def stats(stderr: str) -> tuple[int, int, int] | None:
    match = STATS_RE.search(stderr)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def check_target(env: Env, target: Target) -> dict:
    root = target_root(env, target)
    paths = list(target.paths or (target.package,))
    environ = env.environ(target)
    print(f"\n== check {target.name}: {root} {' '.join(paths)}", flush=True)
    problems: list[str] = []
    report: dict = {"root": root, "paths": paths}
    flake8 = [env.script("flake8"), "--isolated", "--django-goc-stats"]
    command = [env.script("flake8-django-goc"), "--isolated", "--django-goc-stats"]
    for select, cold in (("DGC,DGC1", True), ("DGC", False)):
        if not cold:
            env.prime_cache(target, root)
        extra = ["--select", select, *(["--django-goc-no-cache"] if cold else [])]
        out = {}
        for tool, base in (("flake8", flake8), ("command", command)):
            proc = run([*base, *extra, *paths], root, environ)
            out[tool] = proc
            if proc.returncode not in (0, 1):
                problems.append(f"{tool} --select {select}: exit status {proc.returncode}")
            for line in proc.stderr.splitlines():
                if INTERNAL_RE.search(line):
                    problems.append(f"{tool} --select {select}: {line}")
            if tool == "flake8" and any(
                not FINDING_RE.match(line) for line in proc.stdout.splitlines()
            ):
                problems.append(f"flake8 --select {select} printed non-DGC lines")
        a, b = findings(out["flake8"].stdout), findings(out["command"].stdout)
        only_a = sorted(set(a) - set(b))
        only_b = sorted(set(b) - set(a))
        if a != b:
            problems.append(
                f"--select {select}: findings differ: {len(only_a)} only from flake8, "
                f"{len(only_b)} only from the command"
                + "".join(f"\n    flake8:  {x}" for x in only_a[:10])
                + "".join(f"\n    command: {x}" for x in only_b[:10])
            )
        st_a, st_b = stats(out["flake8"].stderr), stats(out["command"].stderr)
        if st_a != st_b:
            problems.append(f"--select {select}: stats differ: flake8 {st_a}, command {st_b}")
        skipped = [
            line
            for proc in out.values()
            for line in proc.stderr.splitlines()
            if "flake8-django-goc" in line and "skipped" in line
        ]
        codes = collections.Counter(FINDING_RE.match(x)["code"] for x in a)
        report[select] = {
            "mode": "cold" if cold else "warm",
            "findings": len(a),
            "by_code": dict(sorted(codes.items())),
            "agree": a == b,
            "stats": st_a,
            "skipped_notes": skipped,
            "seconds": {tool: round(p.wall, 2) for tool, p in out.items()},
        }
        calls, files, resolved = st_a or (0, 0, 0)
        share = f"{resolved / calls:.0%}" if calls else "-"
        print(
            f"  --select {select} ({'cold' if cold else 'warm'}): {len(a)} findings "
            f"{dict(sorted(codes.items()))}; flake8 and command agree: {a == b}; "
            f"{calls} calls in {files} files, {resolved} resolved ({share}); "
            f"{len(skipped)} skipped-file notes; "
            f"flake8 {out['flake8'].wall:.1f}s, command {out['command'].wall:.1f}s",
            flush=True,
        )
        for line in skipped:
            print(f"    {line}")
    report["problems"] = problems
    for problem in problems:
        print(f"  PROBLEM: {problem}")
    return report


# --------------------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--targets",
        default="wagtail,django,oscar",
        help="comma-separated: " + ", ".join(TARGETS) + " (default: all)",
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per variant (default 5)")
    parser.add_argument("--variants", help="comma-separated subset of: " + ", ".join(VARIANTS))
    parser.add_argument(
        "--no-jobs-auto",
        action="store_true",
        help="skip the flake8 --select DGC runs with flake8's default -j",
    )
    parser.add_argument(
        "--check", action="store_true", help="robustness and agreement instead of timing"
    )
    parser.add_argument(
        "--django-src",
        metavar="DIR",
        help="also a Django source checkout or sdist (its django/ and tests/)",
    )
    parser.add_argument(
        "--venv", default=os.path.join(BENCH, ".venv"), help="the bench venv (default: bench/.venv)"
    )
    parser.add_argument("--out", help="write all results as JSON to this file")
    parser.add_argument(
        "--show", metavar="JSON", help="print the tables of an earlier --out file and exit"
    )
    args = parser.parse_args()
    if args.show:
        with open(args.show, encoding="utf-8") as file:
            saved = json.load(file)
        for name, result in saved["results"].items():
            result["ratios"] = ratios(name, result)
        print_timing(saved["results"])
        print(f"\n{saved['meta']}")
        return 0

    targets = dict(TARGETS)
    names = [n.strip() for n in args.targets.split(",") if n.strip()]
    if args.django_src:
        src = os.path.abspath(args.django_src)
        targets["django-src"] = Target(
            "django-src",
            "django",
            "django_tests_settings",
            (SITES, os.path.join(src, "tests")),  # the test apps import as top-level packages
            ("django", "tests"),
            src,
        )
        if "django-src" not in names:
            names.append("django-src")
    unknown = [n for n in names if n not in targets]
    if unknown:
        parser.error(f"unknown target(s): {', '.join(unknown)}")
    if args.variants:
        variants = [v.strip() for v in args.variants.split(",")]
        bad = [v for v in variants if v not in VARIANTS]
        if bad:
            parser.error(f"unknown variant(s): {', '.join(bad)}")
    else:
        variants = [v for v in VARIANTS if not (args.no_jobs_auto and v in JAUTO)]
    if not os.path.exists(os.path.join(args.venv, "bin", "flake8-django-goc")):
        parser.error(f"no bench venv at {args.venv}: see bench/README.md")

    cache_root = tempfile.mkdtemp(prefix="goc-bench-cache-")
    env = Env(os.path.abspath(args.venv), cache_root)
    meta = {
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_start": os.getloadavg(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "runs": args.runs,
    }
    try:
        if args.check:
            results = {name: check_target(env, targets[name]) for name in names}
            failed = [f"{n}: {p}" for n, r in results.items() for p in r["problems"]]
            print("\ncheck:", "FAILED" if failed else "OK (no internal error, findings agree)")
        else:
            if not args.runs >= 1:
                parser.error("--runs must be at least 1")
            versions = run([env.python, WITHOUT_PLUGIN, "--version"], BENCH, dict(os.environ))
            if "flake8-django-goc" in versions.stdout:
                sys.exit("the baseline wrapper did not remove the plugin: " + versions.stdout)
            results = {name: time_target(env, targets[name], args.runs, variants) for name in names}
            print_timing(results)
            failed = [
                f"{n}: {r['name']}"
                for n, res in results.items()
                for r in res["ratios"]
                if r["official"] and not r["pass"]
            ]
    finally:
        shutil.rmtree(cache_root, ignore_errors=True)
    meta["loadavg_end"] = os.getloadavg()
    print(f"\nload average at start {meta['loadavg_start']}, at end {meta['loadavg_end']}")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as file:
            json.dump(
                {"meta": meta, "mode": "check" if args.check else "timing", "results": results},
                file,
                indent=1,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
