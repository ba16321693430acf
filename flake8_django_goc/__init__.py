"""flake8-django-goc: find get_or_create/update_or_create calls no unique constraint protects."""

__version__ = "0.1.0.dev0"
