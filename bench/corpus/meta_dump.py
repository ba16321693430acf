"""Dump the model facts a labeller needs to judge uniqueness by hand.

Run inside a corpus package's venv, with its settings (run.py and --all do this for you):

    DJANGO_SETTINGS_MODULE=wiki_settings PYTHONPATH=bench/corpus/settings \\
        ~/.cache/flake8-django-goc-corpus/venvs/wiki-0.13.0/bin/python bench/corpus/meta_dump.py [APP_LABEL ...] [--json]

    python3 bench/corpus/meta_dump.py --all [--only pkg,...]   # writes meta/<pkg>.txt for each package

Imports Django only (never flake8_django_goc), calls django.setup(), and prints for every model
(or the models of the given app labels): label, module.class, db_table, managed, proxy /
concrete model, multi-table parents, primary key field(s), every concrete field with
null/unique/db_index/default/relation target, unique_together, every UniqueConstraint (fields
or expressions, condition, deferrable, nulls_distinct, include) in Meta.constraints order (other
constraints too, marked), indexes that are unique, managers (name, class, queryset class, and
whether get_queryset is overridden), the alias router.db_for_write gives and its ENGINE, and the
reverse relation accessor names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def _default(field):
    from django.db.models.fields import NOT_PROVIDED

    d = field.default
    if d is NOT_PROVIDED:
        return None
    if callable(d):
        mod = getattr(d, "__module__", "?")
        name = getattr(d, "__qualname__", None) or getattr(d, "__name__", None) or repr(d)
        return f"callable {mod}.{name}"
    return f"literal {d!r}"


def _db_default(field):
    from django.db.models.fields import NOT_PROVIDED

    d = getattr(field, "db_default", NOT_PROVIDED)
    return None if d is NOT_PROVIDED else _expr(d)


def _expr(e) -> str:
    try:
        return str(e)
    except Exception:  # pragma: no cover - defensive
        return repr(e)


def _constraint(c) -> dict:
    from django.db.models import UniqueConstraint

    out = {"name": getattr(c, "name", None), "class": f"{type(c).__module__}.{type(c).__qualname__}"}
    if isinstance(c, UniqueConstraint):
        out["unique"] = True
        out["fields"] = list(c.fields)
        out["expressions"] = [_expr(e) for e in getattr(c, "expressions", ())]
        out["condition"] = _expr(c.condition) if c.condition is not None else None
        out["deferrable"] = str(c.deferrable) if c.deferrable is not None else None
        out["nulls_distinct"] = getattr(c, "nulls_distinct", None)
        out["include"] = list(getattr(c, "include", ()) or ())
        out["opclasses"] = list(getattr(c, "opclasses", ()) or ())
    else:
        out["unique"] = False
        for attr in ("condition", "expressions", "index_type"):
            v = getattr(c, attr, None)
            if v is not None and v != ():
                out[attr] = _expr(v) if not isinstance(v, (list, tuple)) else [_expr(x) for x in v]
    return out


def _manager(name, mgr) -> dict:
    from django.db.models import Manager

    qs_class = getattr(mgr, "_queryset_class", None)
    cls = type(mgr)
    own_gq = None
    for klass in cls.__mro__:
        if "get_queryset" in klass.__dict__:
            own_gq = f"{klass.__module__}.{klass.__qualname__}"
            break
    return {
        "name": name,
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "queryset_class": f"{qs_class.__module__}.{qs_class.__qualname__}" if qs_class else None,
        "get_queryset_defined_by": own_gq,
        "overrides_get_queryset": own_gq not in (None, f"{Manager.__module__}.BaseManager", "django.db.models.manager.BaseManager"),
    }


def model_facts(model) -> dict:
    from django.db import connections, router

    opts = model._meta
    fields = []
    for f in opts.concrete_fields:
        d = {
            "name": f.name,
            "attname": f.attname,
            "column": f.column,
            "type": type(f).__name__,
            "null": f.null,
            "unique": f.unique,
            "primary_key": f.primary_key,
            "db_index": f.db_index,
            "default": _default(f),
            "db_default": _db_default(f),
            "declared_on": f.model._meta.label if f.model is not model else None,
        }
        if f.is_relation and f.related_model is not None:
            rm = f.related_model
            d["relation"] = rm if isinstance(rm, str) else rm._meta.label
            try:
                target = f.target_field.name if f.many_to_one or f.one_to_one else None
            except Exception:
                target = None
            d["to_field"] = target
        fields.append(d)
    m2m = []
    for f in opts.local_many_to_many + [x for x in opts.many_to_many if x not in opts.local_many_to_many]:
        through = f.remote_field.through
        m2m.append({
            "name": f.name,
            "to": f.related_model if isinstance(f.related_model, str) else f.related_model._meta.label,
            "through": through if isinstance(through, str) else through._meta.label,
            "auto_created_through": (not isinstance(through, str)) and through._meta.auto_created is not False,
        })
    private = [{"name": f.name, "type": type(f).__name__} for f in opts.private_fields]
    pk = opts.pk
    pk_fields = [pk.name]
    composite = type(pk).__name__ == "CompositePrimaryKey"
    if composite:
        pk_fields = list(getattr(pk, "field_names", ()))
    reverse = []
    for rel in opts.related_objects:
        reverse.append({
            "accessor": rel.get_accessor_name(),
            "from": rel.related_model._meta.label,
            "field": rel.field.name,
            "kind": type(rel).__name__,
        })
    alias = router.db_for_write(model)
    try:
        engine = connections.databases[alias]["ENGINE"]
    except Exception as exc:  # pragma: no cover
        engine = f"? ({exc})"
    indexes = []
    for ix in opts.indexes:
        indexes.append({"name": ix.name, "fields": list(ix.fields), "expressions": [_expr(e) for e in ix.expressions],
                        "condition": _expr(ix.condition) if ix.condition is not None else None})
    return {
        "label": opts.label,
        "class": f"{model.__module__}.{model.__qualname__}",
        "db_table": opts.db_table,
        "managed": opts.managed,
        "proxy": opts.proxy,
        "abstract": opts.abstract,
        "swapped": opts.swapped,
        "concrete_model": opts.concrete_model._meta.label,
        "mti_parents": [{"parent": p._meta.label, "link": (f.name if f is not None else None)}
                        for p, f in opts.parents.items()],
        "pk": {"fields": pk_fields, "name": pk.name, "type": type(pk).__name__, "composite": composite},
        "fields": fields,
        "many_to_many": m2m,
        "private_fields": private,
        "unique_together": [list(u) for u in opts.unique_together],
        "constraints": [_constraint(c) for c in opts.constraints],
        "indexes": indexes,
        "default_manager": opts.default_manager.name if opts.default_manager else None,
        "base_manager": type(opts.base_manager).__qualname__,
        "managers": [_manager(m.name, m) for m in opts.managers],
        "db_for_write": alias,
        "engine": engine,
        "reverse_relations": reverse,
    }


def collect(app_labels: list[str]) -> list[dict]:
    import django
    from django.apps import apps

    django.setup()
    if app_labels:
        models = []
        for label in app_labels:
            models.extend(apps.get_app_config(label).get_models(include_auto_created=True))
    else:
        models = apps.get_models(include_auto_created=True)
    return sorted((model_facts(m) for m in models), key=lambda d: d["label"].lower())


def render(facts: list[dict]) -> str:
    import django
    from django.conf import settings

    out = [
        f"# Django {django.get_version()}; settings {os.environ.get('DJANGO_SETTINGS_MODULE')}",
        "# databases: " + ", ".join(f"{a}={d.get('ENGINE')}" for a, d in settings.DATABASES.items()),
        f"# {len(facts)} models (auto-created m2m through models included)",
        "",
    ]
    for m in facts:
        kind = "proxy" if m["proxy"] else ("unmanaged" if not m["managed"] else "concrete")
        out.append(f"== {m['label']}  ({m['class']})")
        out.append(f"   table {m['db_table']}; {kind}; concrete model {m['concrete_model']}"
                   + ("; swapped by " + m["swapped"] if m["swapped"] else ""))
        if m["mti_parents"]:
            out.append("   MTI parents: " + ", ".join(f"{p['parent']} via {p['link']}" for p in m["mti_parents"]))
        out.append(f"   pk: {', '.join(m['pk']['fields'])} ({m['pk']['type']})")
        out.append(f"   write db: {m['db_for_write']} ({m['engine']})")
        out.append("   fields:")
        for f in m["fields"]:
            bits = [f["type"]]
            if f["primary_key"]:
                bits.append("PK")
            if f["unique"]:
                bits.append("UNIQUE")
            bits.append("null" if f["null"] else "not null")
            if f["db_index"] and not f["unique"]:
                bits.append("db_index")
            if f["default"]:
                bits.append("default " + f["default"])
            if f.get("db_default"):
                bits.append("db_default " + f["db_default"])
            if f.get("relation"):
                bits.append("-> " + f["relation"] + (f".{f['to_field']}" if f.get("to_field") else ""))
            if f["declared_on"]:
                bits.append("from " + f["declared_on"])
            col = f" [column {f['column']}]" if f["column"] != f["name"] else ""
            out.append(f"     {f['name']}{col}: " + "; ".join(bits))
        for f in m["many_to_many"]:
            out.append(f"     {f['name']}: ManyToMany -> {f['to']} through {f['through']}"
                       + (" (auto)" if f["auto_created_through"] else ""))
        for f in m["private_fields"]:
            out.append(f"     {f['name']}: {f['type']} (not a column)")
        out.append("   unique_together: " + ("; ".join("(" + ", ".join(u) + ")" for u in m["unique_together"]) or "-"))
        if m["constraints"]:
            out.append("   constraints (Meta.constraints order):")
            for i, c in enumerate(m["constraints"], 1):
                if c["unique"]:
                    what = "fields (" + ", ".join(c["fields"]) + ")" if c["fields"] else "expressions (" + ", ".join(c["expressions"]) + ")"
                    extra = []
                    for k in ("condition", "deferrable", "nulls_distinct"):
                        if c.get(k) is not None:
                            extra.append(f"{k}={c[k]}")
                    if c.get("include"):
                        extra.append("include=(" + ", ".join(c["include"]) + ")")
                    out.append(f"     {i}. UniqueConstraint {c['name']}: {what}" + ("; " + "; ".join(extra) if extra else ""))
                else:
                    rest = {k: v for k, v in c.items() if k not in ("name", "class", "unique")}
                    rest = str(rest)
                    if len(rest) > 300:
                        rest = rest[:300] + "...(cut)"
                    out.append(f"     {i}. {c['class']} {c['name']} (not unique): {rest}")
        else:
            out.append("   constraints: -")
        if m["indexes"]:
            out.append("   indexes (not unique): " + "; ".join(
                f"{ix['name']}(" + ", ".join(ix["fields"] or ix["expressions"]) + ")" + (f" where {ix['condition']}" if ix["condition"] else "")
                for ix in m["indexes"]))
        out.append(f"   managers (default {m['default_manager']}):")
        for mg in m["managers"]:
            gq = f"; get_queryset from {mg['get_queryset_defined_by']}" if mg["overrides_get_queryset"] else ""
            out.append(f"     {mg['name']}: {mg['class']}; queryset {mg['queryset_class']}{gq}")
        if m["reverse_relations"]:
            out.append("   reverse accessors: " + ", ".join(
                f"{r['accessor']} ({r['from']}.{r['field']}, {r['kind']})" for r in m["reverse_relations"]))
        out.append("")
    return "\n".join(out)


def run_all(only: str | None) -> int:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import corpus

    os.makedirs(corpus.META_DIR, exist_ok=True)
    failed = []
    for pkg in corpus.select(corpus.load_packages(), only):
        if not os.path.exists(corpus.venv_python(pkg)):
            print(f"{pkg.key}: no venv (run venvs.py)", file=sys.stderr)
            failed.append(pkg.name)
            continue
        proc = subprocess.run(
            [corpus.venv_python(pkg), os.path.abspath(__file__)],
            env=corpus.env_for(pkg), capture_output=True, text=True, cwd=corpus.site_packages(pkg),
        )
        if proc.returncode != 0:
            print(f"{pkg.key}: FAILED\n{proc.stderr[-3000:]}", file=sys.stderr)
            failed.append(pkg.name)
            continue
        path = os.path.join(corpus.META_DIR, f"{pkg.name}.txt")
        with open(path, "w") as f:
            f.write(f"# {pkg.key} ({pkg.django}) -- bench/corpus/meta_dump.py\n")
            f.write(proc.stdout)
        n = proc.stdout.count("\n== ") + proc.stdout.startswith("== ")
        print(f"{pkg.key}: {n} models -> {os.path.relpath(path)}")
    return 1 if failed else 0


def main(argv=None) -> int:
    import warnings

    warnings.filterwarnings("ignore")
    args = list(sys.argv[1:] if argv is None else argv)
    if "--all" in args:
        args.remove("--all")
        only = None
        if "--only" in args:
            i = args.index("--only")
            only = args[i + 1]
        return run_all(only)
    as_json = "--json" in args
    labels = [a for a in args if not a.startswith("--")]
    facts = collect(labels)
    if as_json:
        json.dump(facts, sys.stdout, indent=1, default=str)
        print()
    else:
        print(render(facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
