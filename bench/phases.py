"""Phase breakdown of one flake8-django-goc run over a tree, measured in-process.

Run by bench/run.py in a fresh interpreter per measurement (so "cold" really sets Django up and
"warm" really only reads the cache), from the directory the paths are relative to:

    python bench/phases.py --settings wagtail.test.settings --mode warm wagtail

Prints one JSON object: seconds per phase, counts and the peak RSS of this process. Phases:

- import: importing the package (without libcst) and Django-free modules;
- django_setup (cold): ``load_schema(use_cache=False)``: settings import, ``django.setup()`` and
  reading every model's ``_meta``, as the plugin does with ``--django-goc-no-cache``;
- cache_load (warm): ``load_schema()`` from a fresh cache (run.py primes it; the run fails if
  Django got set up after all);
- discover, read, gate: walking the tree, reading+decoding every file, the substring gate
  (``pipeline.could_hold_finding``: a get_or_create-family name, or a hand-written check and
  create; counted apart as ``gate_calls`` and ``gate_pairs``); ``span_gate``: the command's
  second gate (``pipeline.worth_parsing``: one definition holds a check and a create), whose
  rejects it does not parse (``span_gate_passed``);
- ast_parse, positions: ``ast.parse`` of gate-passing files (flake8 does it anyway; the standalone
  command pays it) and ``calls.positions_from_ast``;
- handrolled: ``pairs.find_handrolled`` (the hand-written checks, on the ast) on the files the
  pair gate passes;
- libcst_import: the first ``import libcst`` plus one tiny parse (paid once per process);
- libcst_parse: ``libcst.parse_module`` alone on every gate-passing file;
- plugin: ``check.check_source(source, path, schema, tree)`` on every gate-passing file: all the
  plugin does per file inside flake8 (flake8 hands it the ast tree);
- find_calls, module_context, resolve, judge: the same pipeline taken apart, on the files whose
  ast holds a candidate call (``find_calls`` = libcst parse + the visitor; ``traversal`` is
  ``find_calls`` minus that file's ``libcst_parse``).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import resource
import sys
import time

clock = time.perf_counter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", required=True)
    parser.add_argument("--mode", choices=("cold", "warm"), required=True)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    t: dict[str, float] = {}

    start = clock()
    from flake8_django_goc.commands import flake8_compat as cli
    from flake8_django_goc.commands.config import _normalize_pattern
    from flake8_django_goc.find.pairs import could_contain_pair, find_handrolled
    from flake8_django_goc.find.records import could_contain_call
    from flake8_django_goc.judge.verdicts import judge
    from flake8_django_goc.pipeline import (
        check_call,
        check_source,
        could_hold_finding,
        worth_parsing,
    )
    from flake8_django_goc.resolve.receivers import Target, module_context, resolve, with_constants
    from flake8_django_goc.schema.django import build as django_schema

    t["import"] = clock() - start

    # Exactly what the plugin and the command call (django_schema may pause and freeze the GC).
    start = clock()
    if args.mode == "cold":
        schema = django_schema.load_schema(args.settings, use_cache=False)
        t["django_setup"] = clock() - start
    else:
        schema = django_schema.load_schema(args.settings, use_cache=True)
        t["cache_load"] = clock() - start
        if "django.apps" in sys.modules:
            sys.exit("phases.py: --mode warm but the Schema cache was stale: Django was set up")
    if "libcst" in sys.modules:
        sys.exit("phases.py: libcst was imported before any file passed the gate")

    start = clock()
    excluded = cli.Excluder([_normalize_pattern(p, ".") for p in cli.DEFAULT_EXCLUDE], ".")
    files = list(cli.discover(args.paths, excluded))
    t["discover"] = clock() - start

    sources: list[tuple[str, str]] = []
    start = clock()
    for path in files:
        with contextlib.suppress(OSError, SyntaxError, UnicodeDecodeError, LookupError):
            sources.append((path, cli.read_source(path)))  # the command skips these too
    t["read"] = clock() - start

    start = clock()
    gated = [(path, source) for path, source in sources if could_hold_finding(source)]
    t["gate"] = clock() - start
    start = clock()
    worth = sum(1 for _, source in gated if worth_parsing(source))
    t["span_gate"] = clock() - start

    start = clock()
    import libcst

    from flake8_django_goc.find.calls import find_calls, positions_from_ast

    libcst.parse_module("x = 1\n")
    t["libcst_import"] = clock() - start

    keys = ("ast_parse", "positions", "handrolled", "libcst_parse", "plugin", "find_calls")
    keys += ("traversal",)
    keys += ("module_context", "resolve", "judge", "libcst_parse_with_calls", "plugin_with_calls")
    t.update(dict.fromkeys(keys, 0.0))
    counts = dict.fromkeys(("files_with_calls", "calls", "resolved", "findings", "skipped"), 0)
    counts.update(gate_calls=0, gate_pairs=0, files_with_pairs=0)
    for path, source in gated:
        start = clock()
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue  # flake8 reports E999 and runs no plugin on it
        t["ast_parse"] += clock() - start
        calls_gate, pairs_gate = could_contain_call(source), could_contain_pair(source)
        counts["gate_calls"] += calls_gate
        counts["gate_pairs"] += pairs_gate
        if pairs_gate:
            start = clock()
            counts["files_with_pairs"] += bool(find_handrolled(source, tree))
            t["handrolled"] += clock() - start
        start = clock()
        positions = positions_from_ast(tree) if calls_gate else []
        t["positions"] += clock() - start
        start = clock()
        try:
            if calls_gate:
                libcst.parse_module(source)
        except libcst.ParserSyntaxError:
            counts["skipped"] += 1
            continue
        parse = clock() - start
        t["libcst_parse"] += parse
        start = clock()
        result = check_source(source, path, schema, tree)
        plugin = clock() - start
        t["plugin"] += plugin
        counts["calls"] += result.calls
        counts["resolved"] += result.resolved
        counts["findings"] += len(result.reports)
        if not positions:
            continue
        counts["files_with_calls"] += 1
        t["libcst_parse_with_calls"] += parse
        t["plugin_with_calls"] += plugin

        start = clock()
        facts, calls = find_calls(source, positions)
        elapsed = clock() - start
        t["find_calls"] += elapsed
        t["traversal"] += elapsed - parse
        start = clock()
        ctx = module_context(facts, path, schema)
        t["module_context"] += clock() - start
        for found in calls:
            start = clock()
            call = with_constants(found, ctx, schema)
            resolution = resolve(call, ctx, schema)
            t["resolve"] += clock() - start
            start = clock()
            if isinstance(resolution, Target):
                judge(call, resolution)
            else:
                check_call(found, ctx, schema)  # candidates / unresolved: what check_source does
            t["judge"] += clock() - start

    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    counts.update(files=len(files), gate_passed=len(gated), models=len(schema.models))
    counts.update(span_gate_passed=worth)
    json.dump({"mode": args.mode, "seconds": t, "counts": counts, "maxrss_kb": rss_kb}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
