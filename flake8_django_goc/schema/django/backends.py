"""What each database backend creates of a unique constraint, read without connecting."""

from __future__ import annotations

from typing import Any

from flake8_django_goc.schema import BackendFacts

# What each vendor's schema editor creates (Django's _unique_supported()); no server is contacted,
# so server-version-dependent features take the versions Django currently supports.
_VENDOR_FEATURES: dict[str, dict[str, Any]] = {
    "postgresql": {},
    "sqlite": {"deferrable": False, "nulls_distinct": False, "covering": False},
    "mysql": {
        "covering": False,
        "partial": False,
        "functional": False,
        "deferrable": False,
        "nulls_distinct": False,
        "note": "MariaDB ignores functional unique constraints; MySQL 8.0.13+ enforces them",
    },
    "oracle": {"partial": False, "nulls_distinct": False, "covering": False},
}


def backend_for(model: Any, cache: dict[str, BackendFacts]) -> BackendFacts:
    from django.db import router

    try:
        alias = router.db_for_write(model) or "default"
    except Exception:
        alias = "default"
    if alias not in cache:
        cache[alias] = backend_facts(alias)
    return cache[alias]


def backend_facts(alias: str) -> BackendFacts:
    from django.conf import settings

    engine = str(settings.DATABASES.get(alias, {}).get("ENGINE", ""))
    vendor = database_vendor(alias, engine)
    features = _VENDOR_FEATURES.get(vendor)
    if features is None:
        return BackendFacts(alias=alias, vendor=vendor or engine or "unknown")
    return BackendFacts(alias=alias, vendor=_VENDOR_NAMES.get(vendor, vendor), **features)


_VENDOR_NAMES = {
    "postgresql": "PostgreSQL",
    "sqlite": "SQLite",
    "mysql": "MySQL/MariaDB",
    "oracle": "Oracle",
}


def database_vendor(alias: str, engine: str) -> str:
    """The backend's vendor ("postgresql", "mysql", ...): asked from the backend, which imports its
    driver; read from the ENGINE path when the driver is not importable. Never connects."""
    from django.db import connections

    try:
        return str(connections[alias].vendor)
    except Exception:
        return vendor_from_engine(engine)


def vendor_from_engine(engine: str) -> str:
    lowered = engine.lower()
    for needle, vendor in (
        ("postgis", "postgresql"),
        ("postgres", "postgresql"),
        ("psycopg", "postgresql"),
        ("mysql", "mysql"),
        ("mariadb", "mysql"),
        ("sqlite", "sqlite"),
        ("oracle", "oracle"),
    ):
        if needle in lowered:
            return vendor
    return "unknown"
