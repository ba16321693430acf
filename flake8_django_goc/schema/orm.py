"""The Django ORM's vocabulary, as names: which methods do what. No Django import.

Shared by the finder (which calls to look at), the resolver (what a chain returns) and the
Schema builder (which manager methods are plain queryset chains).
"""

from __future__ import annotations

# The get_or_create family: SELECT, then INSERT on a miss.
METHODS = frozenset({"get_or_create", "aget_or_create", "update_or_create", "aupdate_or_create"})

# bulk_create() with ignore_conflicts/update_conflicts (DGC012): found as calls too.
BULK_METHODS = frozenset({"bulk_create", "abulk_create"})
BULK_OPTIONS = frozenset({"ignore_conflicts", "update_conflicts"})

# Queryset/manager methods that return a queryset of the same model (get_or_create keeps working).
CHAIN_METHODS = frozenset(
    {
        "all",
        "alias",
        "annotate",
        "complex_filter",
        "db_manager",
        "defer",
        "distinct",
        "exclude",
        "extra",
        "filter",
        "get_queryset",
        "none",
        "only",
        "order_by",
        "prefetch_related",
        "reverse",
        "select_for_update",
        "select_related",
        "using",
    }
)
# Chain methods whose arguments restrict the get() but are not written on create (DGC006).
FILTER_METHODS = frozenset({"filter", "exclude", "complex_filter"})
# update_or_create() takes create_defaults (Django 5.0+) as well as defaults.
CREATE_DEFAULTS_METHODS = frozenset({"update_or_create", "aupdate_or_create"})
# Methods returning one instance of the rows' model.
INSTANCE_METHODS = frozenset(
    {"get", "aget", "create", "acreate", "first", "afirst", "last", "alast", "latest", "alatest"}
    | {"earliest", "aearliest", "get_object_or_404"}
)

# The hand-written check-then-create (DGC008-DGC010): the calls that check, and that insert.
CREATE_METHODS = frozenset({"create", "acreate"})
SAVE_METHODS = frozenset({"save", "asave"})
GET_METHODS = frozenset({"get", "aget"})
FIRST_METHODS = frozenset({"first", "afirst", "last", "alast"})
EXISTS_METHODS = frozenset({"exists", "aexists"})
COUNT_METHODS = frozenset({"count", "acount"})
UPDATE_METHODS = frozenset({"update", "aupdate"})
