"""Documentation and tickets the rules cite (each checked for what it is about)."""

from __future__ import annotations

GET_OR_CREATE = (
    "Django docs: QuerySet.get_or_create()",
    "https://docs.djangoproject.com/en/stable/ref/models/querysets/#get-or-create",
)
UPDATE_OR_CREATE = (
    "Django docs: QuerySet.update_or_create()",
    "https://docs.djangoproject.com/en/stable/ref/models/querysets/#update-or-create",
)
CONSTRAINTS = (
    "Django docs: constraints reference (UniqueConstraint)",
    "https://docs.djangoproject.com/en/stable/ref/models/constraints/",
)
CONDITION = (
    "Django docs: UniqueConstraint.condition",
    "https://docs.djangoproject.com/en/stable/ref/models/constraints/"
    "#django.db.models.UniqueConstraint.condition",
)
DEFERRABLE = (
    "Django docs: UniqueConstraint.deferrable",
    "https://docs.djangoproject.com/en/stable/ref/models/constraints/"
    "#django.db.models.UniqueConstraint.deferrable",
)
NULLS_DISTINCT = (
    "Django docs: UniqueConstraint.nulls_distinct",
    "https://docs.djangoproject.com/en/stable/ref/models/constraints/"
    "#django.db.models.UniqueConstraint.nulls_distinct",
)
ATOMIC_REQUESTS = (
    "Django docs: tying transactions to HTTP requests (ATOMIC_REQUESTS)",
    "https://docs.djangoproject.com/en/stable/topics/db/transactions/"
    "#tying-transactions-to-http-requests",
)
MANAGER_QUERYSET = (
    "Django docs: modifying a manager's initial QuerySet",
    "https://docs.djangoproject.com/en/stable/topics/db/managers/"
    "#modifying-a-manager-s-initial-queryset",
)
MYSQL_ISOLATION = (
    "Django docs: MySQL isolation level",
    "https://docs.djangoproject.com/en/stable/ref/databases/#mysql-isolation-level",
)
POSTGRES_ISOLATION = (
    "Django docs: PostgreSQL isolation level",
    "https://docs.djangoproject.com/en/stable/ref/databases/#isolation-level",
)
TICKET_12579 = (
    "Django ticket #12579: get_or_create()'s behavior depends on the database's uniqueness "
    "restrictions",
    "https://code.djangoproject.com/ticket/12579",
)
TICKET_30199 = (
    "Django ticket #30199: get_or_create() documentation encourages unsafe usage",
    "https://code.djangoproject.com/ticket/30199",
)
TICKET_20581 = (
    "Django ticket #20581: support DEFERRABLE INITIALLY DEFERRED for UNIQUE constraints",
    "https://code.djangoproject.com/ticket/20581",
)
TICKET_34701 = (
    "Django ticket #34701: add support for NULLS [NOT] DISTINCT to UniqueConstraint",
    "https://code.djangoproject.com/ticket/34701",
)
TICKET_27683 = (
    "Django ticket #27683: change the default transaction isolation level to READ COMMITTED "
    "on MySQL",
    "https://code.djangoproject.com/ticket/27683",
)
PROJECT_RULES = (
    "flake8-django-goc README: how calls are tied to models",
    "https://github.com/flake8-django-goc/flake8-django-goc#rules",
)
BULK_CREATE = (
    "Django docs: QuerySet.bulk_create()",
    "https://docs.djangoproject.com/en/stable/ref/models/querysets/#bulk-create",
)
TRANSACTIONS_ERRORS = (
    "Django docs: avoid catching exceptions inside atomic()",
    "https://docs.djangoproject.com/en/stable/topics/db/transactions/"
    "#controlling-transactions-explicitly",
)
VALIDATE_UNIQUE = (
    "Django docs: Model.validate_unique()",
    "https://docs.djangoproject.com/en/stable/ref/models/instances/#validating-objects",
)
DRF_VALIDATORS = (
    "Django REST framework: validators (UniqueValidator, UniqueTogetherValidator)",
    "https://www.django-rest-framework.org/api-guide/validators/",
)
