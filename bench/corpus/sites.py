"""Enumerate the call sites of the corpus with the standard library's ``ast``.

    python3 bench/corpus/sites.py                  # every package; writes sites/<pkg>.tsv
    python3 bench/corpus/sites.py --only wiki --print
    python3 bench/corpus/sites.py --root DIR --only wiki   # walk DIR instead of the venv's site-packages

Never imports flake8_django_goc or flake8: the list is what the source holds, not what the linter
sees. Each package's lint directories (packages.toml, relative to its venv's site-packages) are
walked like flake8 walks them: ``*.py`` files, skipping flake8's default excludes and the
package's ``exclude`` patterns (fnmatch against every path component).

sites/<pkg>.tsv -- every call ``<receiver>.<method>(...)`` with method one of get_or_create,
update_or_create, aget_or_create, aupdate_or_create:

    path<TAB>line<TAB>col<TAB>method<TAB>receiver

path is relative to site-packages; line is the line where the ast.Call starts (node.lineno),
col is node.col_offset + 1 (what flake8 prints as the column); receiver is the source text of
the expression before ``.method`` with runs of whitespace collapsed to one space.

sites/<pkg>.handrolled.tsv -- CANDIDATE lines for hand-written check-then-create code, for human
labellers only (deliberately over-inclusive; most candidates are not races):

    path<TAB>line<TAB>col<TAB>method<TAB>receiver<TAB>kind<TAB>note

  kind a  ``except X.DoesNotExist`` / ``except ObjectDoesNotExist`` (also inside a tuple) whose
          handler body holds a ``.create(`` or ``.save(`` call. line/col: the ``except``.
  kind b  an ``if`` whose test holds a ``.exists()``, ``.count()``, ``.first()``, ``.last()`` or
          ``.update(`` call, or a name that the enclosing function (or module) assigned from such
          a call, and whose body or else branch holds a ``.create(`` or ``.save(`` call.
          line/col: the ``if``.
  kind c  an ``if`` whose test holds a ``.exists()`` call and whose body raises. line/col: the ``if``.
  kind d  a ``bulk_create(`` call with ``ignore_conflicts=`` or ``update_conflicts=``.
          line/col: the call.
  kind e  a DRF ``UniqueValidator(`` / ``UniqueTogetherValidator(`` construction. line/col: the call.
  kind f  an ``if`` whose test holds a check as in kind b, whose branches hold no ``.create(`` or
          ``.save(`` call, and after which a later statement of the same block holds one: the
          guard clause (``if qs.exists(): return`` then create) and the instance built in a
          branch and saved after it. line/col: the ``if``.
  kind g  an ``except X.DoesNotExist`` / ``except ObjectDoesNotExist`` whose handler holds no
          ``.create(`` or ``.save(`` call, after whose ``try`` a later statement of the same block
          holds one (``try: return get() except DoesNotExist: pass`` then create; ``x = None`` in
          the handler, then ``if x is None:``). line/col: the ``except``.

  For a, b, f and g, method/receiver name the first ``.create(``/``.save(`` call found in the branch
  and note gives its line; for c the ``.exists()`` receiver; for d the ``bulk_create`` receiver
  (note: the conflict keywords given); for e the validator and its ``queryset`` (note: ``fields``).

Files that fail to parse are printed and written to sites/<pkg>.unparsed.txt.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402

METHODS = ("get_or_create", "update_or_create", "aget_or_create", "aupdate_or_create")
FLAKE8_DEFAULT_EXCLUDE = (".svn", "CVS", ".bzr", ".hg", ".git", "__pycache__", ".tox", ".nox", ".eggs", "*.egg")
CHECK_CALLS = {"exists", "count", "first", "last", "update", "aexists", "acount", "afirst", "alast", "aupdate"}
WRITE_CALLS = {"create", "save", "acreate", "asave"}
VALIDATORS = {"UniqueValidator", "UniqueTogetherValidator"}
SITES_HEADER = "path\tline\tcol\tmethod\treceiver"
HANDROLLED_HEADER = "path\tline\tcol\tmethod\treceiver\tkind\tnote"


def excluded(rel: str, patterns: tuple[str, ...]) -> bool:
    parts = rel.split(os.sep)
    for pat in (*FLAKE8_DEFAULT_EXCLUDE, *patterns):
        if any(fnmatch.fnmatch(p, pat) for p in parts) or fnmatch.fnmatch(rel, pat):
            return True
    return False


def iter_files(root: str, dirs: tuple[str, ...], exclude: tuple[str, ...]):
    for d in dirs:
        top = os.path.join(root, d)
        if os.path.isfile(top):
            yield d
            continue
        for dp, dn, fn in os.walk(top):
            rel_dir = os.path.relpath(dp, root)
            dn[:] = sorted(x for x in dn if not excluded(os.path.join(rel_dir, x), exclude))
            for f in sorted(fn):
                rel = os.path.join(rel_dir, f)
                if f.endswith(".py") and not excluded(rel, exclude):
                    yield rel


def segment(src: str, node: ast.AST) -> str:
    text = ast.get_source_segment(src, node) or "?"
    return re.sub(r"\s+", " ", text).strip()


def call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Attribute):
            return f.attr
        if isinstance(f, ast.Name):
            return f.id
    return None


def walk_no_defs(nodes):
    """ast.walk over statements, not descending into nested functions/classes/lambdas."""
    stack = list(nodes)
    while stack:
        n = stack.pop()
        yield n
        for c in ast.iter_child_nodes(n):
            if not isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                stack.append(c)


def first_write(nodes) -> ast.Call | None:
    found = [n for n in walk_no_defs(nodes) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and n.func.attr in WRITE_CALLS]
    found.sort(key=lambda n: (n.lineno, n.col_offset))
    return found[0] if found else None


def mentions_dne(expr: ast.AST | None) -> bool:
    if expr is None:
        return False
    for n in ast.walk(expr):
        if isinstance(n, ast.Attribute) and n.attr == "DoesNotExist":
            return True
        if isinstance(n, ast.Name) and n.id in ("ObjectDoesNotExist", "DoesNotExist"):
            return True
    return False


class Scanner:
    def __init__(self, rel: str, src: str, tree: ast.Module):
        self.rel, self.src, self.tree = rel, src, tree
        self.sites: list[tuple] = []
        self.hand: list[tuple] = []

    def run(self):
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in METHODS:
                self.sites.append((self.rel, node.lineno, node.col_offset + 1, node.func.attr,
                                   segment(self.src, node.func.value)))
            elif isinstance(node, ast.Call):
                name = call_name(node)
                if name == "bulk_create" and any(k.arg in ("ignore_conflicts", "update_conflicts") for k in node.keywords):
                    kws = ",".join(k.arg for k in node.keywords if k.arg in ("ignore_conflicts", "update_conflicts", "unique_fields", "update_fields"))
                    recv = segment(self.src, node.func.value) if isinstance(node.func, ast.Attribute) else "-"
                    self.add(node, "bulk_create", recv, "d", kws)
                elif name in VALIDATORS:
                    kw = {k.arg: k.value for k in node.keywords if k.arg}
                    qs = kw.get("queryset") or (node.args[0] if node.args else None)
                    fields = kw.get("fields") or (node.args[1] if len(node.args) > 1 else None)
                    self.add(node, name, segment(self.src, qs) if qs is not None else "-", "e",
                             f"fields={segment(self.src, fields)}" if fields is not None else "")
        # scopes: module and every function
        scopes = [self.tree] + [n for n in ast.walk(self.tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for scope in scopes:
            body = scope.body
            tracked = self.tracked_names(body)
            for node in walk_no_defs(body):
                if isinstance(node, ast.Try):
                    for h in node.handlers:
                        if mentions_dne(h.type):
                            w = first_write(h.body)
                            if w is not None:
                                self.add(h, w.func.attr, segment(self.src, w.func.value), "a", f"write at line {w.lineno}")
                elif isinstance(node, ast.If):
                    check = self.check_in(node.test, tracked)
                    if check:
                        w = first_write(node.body + node.orelse)
                        if w is not None:
                            self.add(node, w.func.attr, segment(self.src, w.func.value), "b",
                                     f"test: {check}; write at line {w.lineno}")
                    ex = [n for n in ast.walk(node.test) if call_name(n) in ("exists", "aexists")]
                    if ex and any(isinstance(s, ast.Raise) for s in walk_no_defs(node.body)):
                        recv = segment(self.src, ex[0].func.value) if isinstance(ex[0].func, ast.Attribute) else "-"
                        self.add(node, "exists", recv, "c", "body raises")
            for block in self.blocks(body):
                self.later_writes(block, tracked)

    @staticmethod
    def blocks(body):
        """Every statement list of a scope (its body, and the bodies nested in its statements)."""
        yield body
        for node in walk_no_defs(body):
            for name in ("body", "orelse", "finalbody"):
                children = getattr(node, name, None)
                if isinstance(children, list) and children and isinstance(children[0], ast.stmt):
                    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                        yield children
            if isinstance(node, ast.Try):
                for h in node.handlers:
                    yield h.body

    def later_writes(self, block, tracked: set[str]) -> None:
        """Kinds f and g: a check whose own branches do not write, and a write later in the block."""
        for i, stmt in enumerate(block):
            if isinstance(stmt, ast.If):
                check = self.check_in(stmt.test, tracked)
                if not check or first_write(stmt.body + stmt.orelse) is not None:
                    continue
                w = first_write(block[i + 1 :])
                if w is not None:
                    self.add(stmt, w.func.attr, segment(self.src, w.func.value), "f",
                             f"test: {check}; write after the if at line {w.lineno}")
            elif isinstance(stmt, ast.Try):
                for h in stmt.handlers:
                    if not mentions_dne(h.type) or first_write(h.body) is not None:
                        continue
                    w = first_write(block[i + 1 :])
                    if w is not None:
                        self.add(h, w.func.attr, segment(self.src, w.func.value), "g",
                                 f"write after the try at line {w.lineno}")

    def tracked_names(self, body) -> set[str]:
        names = set()
        for n in walk_no_defs(body):
            if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value is not None:
                calls = {call_name(c) for c in ast.walk(n.value)}
                if calls & CHECK_CALLS:
                    targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                    for t in targets:
                        for x in ast.walk(t):
                            if isinstance(x, ast.Name):
                                names.add(x.id)
            elif isinstance(n, ast.NamedExpr) and {call_name(c) for c in ast.walk(n.value)} & CHECK_CALLS:
                names.add(n.target.id)
        return names

    def check_in(self, test: ast.AST, tracked: set[str]) -> str:
        for n in ast.walk(test):
            name = call_name(n)
            if name in CHECK_CALLS:
                return f".{name}()"
            if isinstance(n, ast.Name) and n.id in tracked:
                return f"name {n.id}"
        return ""

    def add(self, node, method, recv, kind, note):
        self.hand.append((self.rel, node.lineno, node.col_offset + 1, method, recv, kind, note))


def scan_package(root: str, pkg: corpus.Package):
    sites, hand, bad = [], [], []
    for rel in iter_files(root, pkg.lint, pkg.exclude):
        path = os.path.join(root, rel)
        try:
            with open(path, "rb") as f:
                raw = f.read()
            src = raw.decode("utf-8")
            tree = ast.parse(src, filename=rel)
        except (SyntaxError, UnicodeDecodeError, ValueError) as exc:
            bad.append((rel, f"{type(exc).__name__}: {exc}".replace("\n", " ")))
            continue
        s = Scanner(rel, src, tree)
        s.run()
        sites.extend(s.sites)
        hand.extend(s.hand)
    sites.sort(key=lambda r: (r[0], r[1], r[2]))
    hand = sorted(set(hand), key=lambda r: (r[0], r[1], r[2], r[5]))
    return sites, hand, bad


def clean(v) -> str:
    return str(v).replace("\t", " ").replace("\n", " ")


def write_tsv(path: str, header: str, rows, preamble: str = ""):
    with open(path, "w") as f:
        if preamble:
            f.write(preamble)
        f.write(header + "\n")
        for r in rows:
            f.write("\t".join(clean(v) for v in r) + "\n")


def read_sites(pkg_name: str) -> list[dict]:
    """Rows of sites/<pkg>.tsv as dicts (used by run.py)."""
    path = os.path.join(corpus.SITES_DIR, f"{pkg_name}.tsv")
    rows = []
    with open(path) as f:
        header = None
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            if header is None:
                header = line.split("\t")
                continue
            rows.append(dict(zip(header, line.split("\t"))))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Enumerate the corpus call sites with ast.")
    ap.add_argument("--only", help="comma-separated package names")
    ap.add_argument("--root", help="walk this directory instead of the package venv's site-packages")
    ap.add_argument("--print", action="store_true", help="print the rows to stdout")
    ap.add_argument("--no-write", action="store_true", help="do not write sites/*.tsv")
    args = ap.parse_args(argv)
    total = total_hand = 0
    os.makedirs(corpus.SITES_DIR, exist_ok=True)
    for pkg in corpus.select(corpus.load_packages(), args.only):
        vpy = corpus.venv_python(pkg)
        if pkg.python and not args.root and os.path.realpath(sys.prefix) != os.path.realpath(corpus.venv_dir(pkg)):
            # A package for a newer Python (packages.toml ``python``): parse it with that
            # Python's grammar, by running this script with the venv's interpreter.
            cmd = [vpy, os.path.abspath(__file__), "--only", pkg.name]
            cmd += ["--print"] if args.print else []
            cmd += ["--no-write"] if args.no_write else []
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            lines = out.splitlines()
            print("\n".join(x for x in lines if not x.startswith("total: ")))
            for x in lines:
                m = re.match(r"total: (\d+) sites, (\d+) hand-rolled", x)
                if m:
                    total += int(m[1])
                    total_hand += int(m[2])
            continue
        root = args.root or corpus.site_packages(pkg)
        sites, hand, bad = scan_package(root, pkg)
        total += len(sites)
        total_hand += len(hand)
        print(f"{pkg.key}: {len(sites)} sites, {len(hand)} hand-rolled candidates, {len(bad)} unparsed files")
        for rel, err in bad:
            print(f"  unparsed: {rel}: {err}")
        if args.print:
            for r in sites:
                print("\t".join(clean(v) for v in r))
            for r in hand:
                print("\t".join(clean(v) for v in r))
        if not args.no_write:
            pre = f"# {pkg.key}: call sites of {', '.join(METHODS)} (bench/corpus/sites.py)\n"
            write_tsv(os.path.join(corpus.SITES_DIR, f"{pkg.name}.tsv"), SITES_HEADER, sites, pre)
            pre = f"# {pkg.key}: hand-rolled check-then-create CANDIDATES, kinds a-g (see bench/corpus/sites.py)\n"
            write_tsv(os.path.join(corpus.SITES_DIR, f"{pkg.name}.handrolled.tsv"), HANDROLLED_HEADER, hand, pre)
            unp = os.path.join(corpus.SITES_DIR, f"{pkg.name}.unparsed.txt")
            if bad:
                with open(unp, "w") as f:
                    f.writelines(f"{rel}\t{err}\n" for rel, err in bad)
            elif os.path.exists(unp):
                os.unlink(unp)
    print(f"total: {total} sites, {total_hand} hand-rolled candidates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
