"""Run flake8-django-goc on the real-world corpus and score it against the human labels.

    python3 bench/corpus/run.py                          # every package (installs venvs as needed)
    python3 bench/corpus/run.py --only wiki,django-taggit
    python3 bench/corpus/run.py --json /tmp/corpus.json  # also write every number and finding
    python3 bench/corpus/run.py --markdown               # a results table for bench/README.md
    python3 bench/corpus/run.py --no-install             # use the venvs as they are
    python3 bench/corpus/run.py --quiet                  # no per-site disagreement lists

Standard library only, like bench/run.py. Per package it runs, in the package's venv with cwd =
its site-packages and bench/corpus/settings on PYTHONPATH:

    flake8 --isolated --select DGC --extend-select DGC100,DGC011 --django-settings-module <settings> \\
        --format '%(path)s:%(row)d:%(col)d:%(code)s:%(text)s' [--extend-exclude ...] <lint dirs>

(after checking that django.setup() works with the settings), then compares the findings with
labels/<pkg>.tsv and labels/<pkg>.handrolled.tsv (see README.md for the format; a missing or
partial file only makes sites "unlabelled").

Call sites (the four methods) are the rows of sites/<pkg>.tsv. A finding belongs to the site whose
call spans its line (the site on that line first). Per package and in total it prints: sites,
labelled sites, exact matches (the set of codes reported at the site equals the labelled set;
DGC100 means "not tied to a model", so it matches exactly the label ``dynamic``), precision and
recall of DGC001-DGC006 over (site, code) pairs on non-``dynamic`` labelled sites, the share of
non-``dynamic`` labelled sites tied to a model (no DGC100), internal errors (stderr lines
"flake8-django-goc: skipped ... internal error" and tracebacks), and every disagreement.

Hand-rolled check-then-create codes (DGC008-DGC010, and DGC012 of bulk_create()): their sites
are the lines where they are reported; labels/<pkg>.handrolled.tsv labels such lines (and may
name lines the linter missed).
Precision and recall are over (path, line, code) pairs; reported lines with no label count as
unlabelled, not as errors.

Exit status 0 unless the run itself failed (a venv could not be made, django.setup() failed,
flake8 stopped with a critical error -- e.g. the plugin could not read the models --, or exited
with a status other than 0 or 1).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
import sites as sites_mod  # noqa: E402

JUDGED = tuple(f"DGC00{i}" for i in range(1, 7))  # DGC001..DGC006
# Codes reported where no get_or_create-family call is: the hand-written checks and bulk_create().
HANDROLLED = ("DGC008", "DGC009", "DGC010", "DGC012")
NOT_TIED = "DGC100"
# Opt-in codes the labels may expect at a call site (DGC011: a unique value the get() does not
# look for); selected so that such a site can match exactly. Not part of precision/recall.
OPT_IN = ("DGC011",)
INTERNAL = re.compile(r"flake8-django-goc: skipped .*internal error")
FINDING = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+):(?P<code>[A-Z]+\d+):(?P<text>.*)$")
CODE = re.compile(r"^DGC\d{3}$")


# ----------------------------------------------------------------------------- labels


class LabelError(Exception):
    pass


def read_labels(path: str) -> dict[tuple[str, int], dict]:
    """labels/<pkg>.tsv -> {(path, line): label}. Missing file -> {}."""
    if not os.path.exists(path):
        return {}
    out: dict[tuple[str, int], dict] = {}
    header = None
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cols = line.split("\t")
            if header is None:
                header = [c.strip() for c in cols]
                need = ["path", "line", "method", "model", "expected", "reason"]
                if header[:6] != need:
                    raise LabelError(f"{path}:{n}: header must be {' '.join(need)} (tab-separated)")
                continue
            if len(cols) < 5:
                raise LabelError(f"{path}:{n}: expected 6 tab-separated columns, got {len(cols)}")
            cols += [""] * (6 - len(cols))
            p, ln, method, model, expected, reason = (c.strip() for c in cols[:6])
            try:
                lineno = int(ln)
            except ValueError:
                raise LabelError(f"{path}:{n}: line {ln!r} is not a number") from None
            exp = expected.replace(" ", "")
            if exp in ("ok", "dynamic"):
                codes = frozenset()
            else:
                codes = frozenset(c.upper() for c in exp.split(",") if c)
                bad = [c for c in codes if not CODE.match(c)]
                if not codes or bad:
                    raise LabelError(f"{path}:{n}: expected must be ok, dynamic or DGC codes, not {expected!r}")
            key = (os.path.normpath(p), lineno)
            if key in out:
                raise LabelError(f"{path}:{n}: {p}:{lineno} labelled twice")
            out[key] = {"path": key[0], "line": lineno, "method": method, "model": model,
                        "expected": exp, "codes": codes, "dynamic": exp == "dynamic", "reason": reason}
    return out


# ----------------------------------------------------------------------------- linting


def flake8_command(pkg: corpus.Package, jobs: str) -> list[str]:
    cmd = [corpus.venv_bin(pkg, "flake8"), "--isolated", "--select", "DGC", "--extend-select", ",".join((NOT_TIED, *OPT_IN)),
           "--django-settings-module", pkg.settings, "--format", "%(path)s:%(row)d:%(col)d:%(code)s:%(text)s",
           "--jobs", jobs]
    if pkg.exclude:
        cmd += ["--extend-exclude", ",".join(pkg.exclude)]
    return cmd + list(pkg.lint)


def lint(pkg: corpus.Package, jobs: str) -> dict:
    cwd = corpus.site_packages(pkg)
    start = time.monotonic()
    proc = subprocess.run(flake8_command(pkg, jobs), cwd=cwd, env=corpus.env_for(pkg), capture_output=True, text=True)
    findings = []
    other_stdout = []
    for line in proc.stdout.splitlines():
        m = FINDING.match(line)
        if not m:
            if line.strip():
                other_stdout.append(line)
            continue
        p = os.path.normpath(m["path"])
        findings.append({"path": p, "line": int(m["line"]), "col": int(m["col"]), "code": m["code"], "text": m["text"]})
    stderr = proc.stderr.splitlines()
    internal = [s for s in stderr if INTERNAL.search(s)]
    tracebacks = sum(1 for s in stderr if s.startswith("Traceback (most recent call last)"))
    return {"returncode": proc.returncode, "findings": findings, "stderr": stderr, "internal": internal,
            "tracebacks": tracebacks, "other_stdout": other_stdout, "seconds": time.monotonic() - start}


def call_spans(root: str, rows: list[dict]) -> dict[tuple[str, int, int], int]:
    """(path, line, col) -> end line of that call, by parsing the files again with ast."""
    spans: dict[tuple[str, int, int], int] = {}
    for rel in sorted({r["path"] for r in rows}):
        try:
            with open(os.path.join(root, rel), encoding="utf-8") as f:
                tree = ast.parse(f.read())
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in sites_mod.METHODS:
                spans[(rel, node.lineno, node.col_offset + 1)] = node.end_lineno or node.lineno
    return spans


# ----------------------------------------------------------------------------- scoring


def empty_counts() -> dict:
    return {"sites": 0, "labelled": 0, "unlabelled": 0, "exact": 0, "tp": 0, "fp": 0, "fn": 0,
            "nondynamic": 0, "tied": 0, "dynamic_labelled": 0,
            "hr_reported": 0, "hr_labelled": 0, "hr_unlabelled": 0, "hr_tp": 0, "hr_fp": 0, "hr_fn": 0,
            "reported_sites": 0, "off_site": 0, "internal": 0, "tracebacks": 0, "stray_labels": 0}


def ratio(a: int, b: int):
    return a / b if b else None


def fmt(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def score(pkg: corpus.Package, result: dict, labels_dir: str = corpus.LABELS_DIR) -> dict:
    root = corpus.site_packages(pkg)
    rows = sites_mod.read_sites(pkg.name)
    for r in rows:
        r["line"] = int(r["line"])
        r["col"] = int(r["col"])
        r["path"] = os.path.normpath(r["path"])
    spans = call_spans(root, rows)
    by_file: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        r["end"] = spans.get((r["path"], r["line"], r["col"]), r["line"])
        r["findings"] = []
        by_file[r["path"]].append(r)

    hr_findings: list[dict] = []
    off_site: list[dict] = []
    for f in result["findings"]:
        if f["code"] in HANDROLLED:
            hr_findings.append(f)
            continue
        cands = [r for r in by_file.get(f["path"], ()) if r["line"] <= f["line"] <= r["end"]]
        if cands:
            same = [r for r in cands if r["line"] == f["line"]]
            pick = same or sorted(cands, key=lambda r: r["end"] - r["line"])  # innermost call
            if len(pick) > 1:
                exact = [r for r in pick if r["col"] == f["col"]]
                pick = exact or pick
            pick[0]["findings"].append(f)
        else:
            off_site.append(f)

    labels = read_labels(os.path.join(labels_dir, f"{pkg.name}.tsv"))
    c = empty_counts()
    c["sites"] = len(rows)
    c["internal"] = len(result["internal"])
    c["tracebacks"] = result["tracebacks"]
    c["off_site"] = len(off_site)
    disagreements = []
    site_keys = set()
    seen_lines: set[tuple[str, int]] = set()
    for r in rows:
        key = (r["path"], r["line"])
        site_keys.add(key)
        if key in seen_lines:
            continue  # two calls on one line share one label
        seen_lines.add(key)
        same_line = [x for x in by_file[r["path"]] if x["line"] == r["line"]]
        found = [f for x in same_line for f in x["findings"]]
        reported = frozenset(f["code"] for f in found)
        c["reported_sites"] += bool(found)
        lab = labels.get(key)
        if lab is None:
            c["unlabelled"] += 1
            continue
        c["labelled"] += 1
        tied = NOT_TIED not in reported
        codes = reported - {NOT_TIED}
        if lab["dynamic"]:
            c["dynamic_labelled"] += 1
            match = not tied
        else:
            c["nondynamic"] += 1
            c["tied"] += tied
            match = tied and codes == lab["codes"]
            rj, lj = codes & set(JUDGED), lab["codes"] & set(JUDGED)
            c["tp"] += len(rj & lj)
            c["fp"] += len(rj - lj)
            c["fn"] += len(lj - rj)
        c["exact"] += match
        if not match:
            disagreements.append({
                "where": f"{r['path']}:{r['line']}", "method": r["method"], "model": lab["model"],
                "labelled": lab["expected"] or "ok", "reported": ",".join(sorted(reported)) or "ok",
                "reason": lab["reason"], "messages": [f"{f['code']} {f['text']}" for f in found],
            })
    stray = sorted(k for k in labels if k not in site_keys)
    c["stray_labels"] = len(stray)

    # hand-rolled codes
    hlabels = read_labels(os.path.join(labels_dir, f"{pkg.name}.handrolled.tsv"))
    rep_by_line: dict[tuple[str, int], set[str]] = defaultdict(set)
    msgs: dict[tuple[str, int], list[str]] = defaultdict(list)
    for f in hr_findings:
        rep_by_line[(f["path"], f["line"])].add(f["code"])
        msgs[(f["path"], f["line"])].append(f"{f['code']} {f['text']}")
    c["hr_reported"] = len(rep_by_line)
    hr_disagree = []
    for key in sorted(set(rep_by_line) | set(hlabels)):
        rep = frozenset(rep_by_line.get(key, ()))
        lab = hlabels.get(key)
        if lab is None:
            c["hr_unlabelled"] += 1
            continue
        c["hr_labelled"] += 1
        want = lab["codes"] & set(HANDROLLED)
        got = rep & set(HANDROLLED)
        c["hr_tp"] += len(want & got)
        c["hr_fp"] += len(got - want)
        c["hr_fn"] += len(want - got)
        if want != got:
            hr_disagree.append({"where": f"{key[0]}:{key[1]}", "labelled": lab["expected"] or "ok",
                                "reported": ",".join(sorted(got)) or "ok", "reason": lab["reason"],
                                "messages": msgs.get(key, [])})
    return {"counts": c, "disagreements": disagreements, "handrolled_disagreements": hr_disagree,
            "off_site": off_site, "stray_labels": [f"{p}:{ln}" for p, ln in stray]}


def derived(c: dict) -> dict:
    return {
        "precision": ratio(c["tp"], c["tp"] + c["fp"]),
        "recall": ratio(c["tp"], c["tp"] + c["fn"]),
        "tied_share": ratio(c["tied"], c["nondynamic"]),
        "exact_share": ratio(c["exact"], c["labelled"]),
        "hr_precision": ratio(c["hr_tp"], c["hr_tp"] + c["hr_fp"]),
        "hr_recall": ratio(c["hr_tp"], c["hr_tp"] + c["hr_fn"]),
    }


# ----------------------------------------------------------------------------- output


def print_package(name: str, rep: dict, quiet: bool) -> None:
    c, d = rep["counts"], derived(rep["counts"])
    print(f"== {name}")
    print(f"   sites {c['sites']}, labelled {c['labelled']} (dynamic {c['dynamic_labelled']}), unlabelled {c['unlabelled']}")
    print(f"   exact {c['exact']}/{c['labelled']} ({fmt(d['exact_share'])}); DGC001-006 precision {fmt(d['precision'])}"
          f" recall {fmt(d['recall'])} (tp {c['tp']} fp {c['fp']} fn {c['fn']}); tied {c['tied']}/{c['nondynamic']}"
          f" ({fmt(d['tied_share'])})")
    print(f"   hand-rolled DGC008-010,012: reported lines {c['hr_reported']}, labelled {c['hr_labelled']},"
          f" unlabelled {c['hr_unlabelled']}; precision {fmt(d['hr_precision'])} recall {fmt(d['hr_recall'])}")
    print(f"   sites with a finding {c['reported_sites']}; internal errors {c['internal']}, tracebacks {c['tracebacks']},"
          f" findings off any site {c['off_site']},"
          f" labels off any site {c['stray_labels']}")
    if quiet:
        return
    for x in rep["disagreements"]:
        print(f"   ! {x['where']} {x['method']} [{x['model']}] labelled {x['labelled']} reported {x['reported']}")
        if x["reason"]:
            print(f"       label: {x['reason']}")
        for m in x["messages"]:
            print(f"       linter: {m}")
    for x in rep["handrolled_disagreements"]:
        print(f"   ! hand-rolled {x['where']} labelled {x['labelled']} reported {x['reported']}")
        if x["reason"]:
            print(f"       label: {x['reason']}")
        for m in x["messages"]:
            print(f"       linter: {m}")
    for f in rep["off_site"]:
        print(f"   ? finding off any call site: {f['path']}:{f['line']}:{f['col']} {f['code']} {f['text']}")
    for s in rep["stray_labels"]:
        print(f"   ? label at {s} names no call site of sites/{name}.tsv")
    for s in rep.get("internal_lines", []):
        print(f"   internal: {s}")


def markdown(packages: list[corpus.Package], reports: dict, total: dict) -> str:
    lines = ["| package | version | Django | sites | labelled | exact | precision | recall | tied | internal errors |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for pkg in packages:
        rep = reports.get(pkg.name)
        if rep is None or "counts" not in rep:
            lines.append(f"| {pkg.name} | {pkg.version} | {pkg.django} | - | - | - | - | - | - | failed |")
            continue
        c, d = rep["counts"], derived(rep["counts"])
        lines.append(f"| {pkg.name} | {pkg.version} | {pkg.django.replace('django', '').lstrip('=')} | {c['sites']} |"
                     f" {c['labelled']} | {c['exact']} | {fmt(d['precision'])} | {fmt(d['recall'])} |"
                     f" {fmt(d['tied_share'])} | {c['internal'] + c['tracebacks']} |")
    c, d = total, derived(total)
    lines.append(f"| **total** | | | {c['sites']} | {c['labelled']} | {c['exact']} | {fmt(d['precision'])} |"
                 f" {fmt(d['recall'])} | {fmt(d['tied_share'])} | {c['internal'] + c['tracebacks']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Score flake8-django-goc on the real-world corpus.")
    ap.add_argument("--only", help="comma-separated package names")
    ap.add_argument("--json", metavar="FILE", help="write every number, finding and disagreement as JSON")
    ap.add_argument("--markdown", action="store_true", help="print a results table for bench/README.md")
    ap.add_argument("--no-install", action="store_true", help="do not create or update venvs")
    ap.add_argument("--jobs", default="1", help="flake8 --jobs (default 1)")
    ap.add_argument("--quiet", action="store_true", help="no per-site disagreement lists")
    ap.add_argument("--labels", default=corpus.LABELS_DIR, help="the labels directory (default bench/corpus/labels)")
    args = ap.parse_args(argv)

    import venvs  # noqa: E402 - only the runner installs

    packages = corpus.select(corpus.load_packages(), args.only)
    reports: dict[str, dict] = {}
    total = empty_counts()
    failed = []
    for pkg in packages:
        if args.no_install:
            if not os.path.exists(corpus.venv_python(pkg)):
                print(f"== {pkg.name}: no venv at {corpus.venv_dir(pkg)} (run venvs.py)", file=sys.stderr)
                failed.append(pkg.name)
                reports[pkg.name] = {"error": "no venv"}
                continue
        elif not venvs.ensure(pkg, quiet=True):
            failed.append(pkg.name)
            reports[pkg.name] = {"error": "install failed"}
            continue
        ok, msg = venvs.check_setup(pkg)
        if not ok:
            print(f"== {pkg.name}: django.setup() failed with {pkg.settings}: {msg}", file=sys.stderr)
            failed.append(pkg.name)
            reports[pkg.name] = {"error": f"django.setup() failed: {msg}"}
            continue
        result = lint(pkg, args.jobs)
        critical = [x for x in result["other_stdout"] + result["stderr"] if "critical error" in x.lower()
                    or "flake8-django-goc: reading the models" in x]
        if critical:
            print(f"== {pkg.name}: flake8 stopped: " + " | ".join(critical[:3]), file=sys.stderr)
            failed.append(pkg.name)
        elif result["returncode"] not in (0, 1):
            print(f"== {pkg.name}: flake8 exited {result['returncode']}", file=sys.stderr)
            print("\n".join(result["stderr"][-20:]), file=sys.stderr)
            failed.append(pkg.name)
        if not result["findings"]:
            print(f"== {pkg.name}: note: flake8 printed no DGC finding at all (DGC100 included)", file=sys.stderr)
        for line in result["other_stdout"][:5]:
            print(f"   stdout: {line}", file=sys.stderr)
        try:
            rep = score(pkg, result, args.labels)
        except (LabelError, FileNotFoundError) as exc:
            print(f"== {pkg.name}: {exc}", file=sys.stderr)
            failed.append(pkg.name)
            reports[pkg.name] = {"error": str(exc)}
            continue
        rep["internal_lines"] = result["internal"][:20]
        rep["stderr_tail"] = result["stderr"][-50:]
        rep["seconds"] = round(result["seconds"], 1)
        rep["returncode"] = result["returncode"]
        rep["findings"] = result["findings"]
        reports[pkg.name] = rep
        for k, v in rep["counts"].items():
            total[k] += v
        if not args.markdown:
            print_package(pkg.name, rep, args.quiet)
    if not args.markdown:
        d = derived(total)
        print("== total")
        print(f"   sites {total['sites']}, labelled {total['labelled']}, unlabelled {total['unlabelled']};"
              f" exact {total['exact']}/{total['labelled']} ({fmt(d['exact_share'])});"
              f" precision {fmt(d['precision'])} recall {fmt(d['recall'])}; tied {fmt(d['tied_share'])};"
              f" hand-rolled precision {fmt(d['hr_precision'])} recall {fmt(d['hr_recall'])}"
              f" (unlabelled {total['hr_unlabelled']}); internal errors {total['internal']},"
              f" tracebacks {total['tracebacks']}")
    else:
        print(markdown(packages, reports, total))
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"packages": reports, "total": total, "total_derived": derived(total), "failed": failed},
                      f, indent=1, default=str)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
