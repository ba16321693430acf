"""DGC010: python-only-uniqueness."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import CONSTRAINTS, DRF_VALIDATORS, VALIDATE_UNIQUE

RULE = Rule(
    code="DGC010",
    summary="uniqueness checked only in Python, no database constraint enforces it",
    name="python-only-uniqueness",
    fixable=True,
    what="""
        Checks uniqueness that only Python code enforces:

        - `if qs.filter(...).exists(): raise ...` (`aexists()`, `count()`), in a form's
          `clean*()`, a serializer's `validate*()`, a model's `clean()` / `save()`, a view;
          the usual `.exclude(pk=self.pk)` / `.exclude(pk=self.instance.pk)` included;
        - DRF's `UniqueValidator(queryset=M.objects...)` declared on a serializer field (the
          field's `source=` names the model field; `lookup="iexact"` is a case-insensitive
          check), in `Meta.extra_kwargs = {"field": {"validators": [...]}}`, and
          `UniqueTogetherValidator(queryset=..., fields=[...])`;
        - the queryset may come from the form's or serializer's own model:
          `self.Meta.model.objects...`, `self._meta.model.objects...`.

        Reported at the `exists()` call (or the validator) when no enforced unique set of the
        model has all its fields among the checked ones. Not reported when the database
        enforces the uniqueness: then the check only gives a nicer message.

        Only duplicate checks count: an equality on at least one value the code names
        (`field__iexact` too, enforced by a `Lower()` constraint). These are consistency checks
        no unique constraint states, and stay silent: range, join and membership lookups
        (`__gte`, `role__name=`, `__in`), an `exclude()` other than of the row itself, rows
        without a value (`parent__isnull=True`), and the children of a parent
        (`self.children.exists()`, `filter(parent=self)`). `if M.objects.exists(): raise` in a
        method of `M` itself (`save()`, a before-save hook) keeps `M` to a single row, in Python
        only: reported; a check of the whole table elsewhere is a precondition. Boolean flags
        in the check (`filter(is_default=True)`: at most one default row) are the condition
        of the partial constraint the fix offers.
    """,
    why="""
        The check and the save are separate statements: two requests can both pass the check
        before either saves, and both save; from then on every `get()` by those values raises
        `MultipleObjectsReturned` (a 500). A form or serializer that validates uniqueness
        therefore does not keep duplicates out of the table under concurrency; only a unique
        constraint does (and then the check still gives the user a friendly message).
    """,
    example="""
        class Account(models.Model):
            email = models.EmailField()


        class SignupForm(forms.ModelForm):
            def clean_email(self):
                email = self.cleaned_data["email"]
                if Account.objects.filter(email=email).exists():
                    raise forms.ValidationError("This email is taken.")
                return email
    """,
    use_instead="""
        class Account(models.Model):
            email = models.EmailField()

            class Meta:
                constraints = [
                    models.UniqueConstraint(fields=["email"], name="app_account_email_uniq"),
                ]


        class SignupForm(forms.ModelForm):
            def clean_email(self):
                email = self.cleaned_data["email"]
                # Now only a friendlier message: the database enforces it.
                if Account.objects.filter(email=email).exists():
                    raise forms.ValidationError("This email is taken.")
                return email
    """,
    references=(CONSTRAINTS, VALIDATE_UNIQUE, DRF_VALIDATORS),
    race=True,
)
