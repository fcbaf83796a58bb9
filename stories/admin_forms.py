"""The admin's forms offer a facilitator only their own communities' records (stories/permissions.py, records_for).

Every field that points at a community, a story, a dialogue, a person or another community record chooses among the
records within the user's reach, and whatever it pointed at already; a record outside them, posted by hand, is
"Select a valid choice" like an id nobody has. The choosers that fill these fields are scoped the same way
(stories/admin_records.py); the form is what holds when the chooser is bypassed.
"""

from django import forms
from wagtail.admin.forms import WagtailAdminModelForm, WagtailAdminPageForm

from .permissions import communities_for, is_administrator, is_community_record, records_for


def _chosen(value) -> list:
    """The ids a field's initial value names: one, several, or none."""
    if value is None or value == "":
        return []
    values = value if isinstance(value, (list, tuple, set)) else [value]
    return [getattr(item, "pk", item) for item in values]


def narrow_to_reach(form, user) -> None:
    """Every community-record field of this form, and of its inline forms, offers only records within reach."""
    if is_administrator(user):
        return
    for name, field in form.fields.items():
        if not isinstance(field, forms.ModelChoiceField) or not is_community_record(field.queryset.model):
            continue
        model = field.queryset.model
        already = _chosen(form.initial.get(name))
        # What it pointed at already stays choosable, so that saving the rest of a record is never refused for it.
        field.queryset = model._default_manager.filter(pk__in=records_for(user, model).values("pk")) | (
            model._default_manager.filter(pk__in=already)
        )
    for formset in getattr(form, "formsets", {}).values():
        # A story's participants, a collection's entries: the forms posted are built here, before validation.
        for child in formset.forms:
            narrow_to_reach(child, user)


class WithinReachFormMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        narrow_to_reach(self, self.for_user)


class WithinReachModelForm(WithinReachFormMixin, WagtailAdminModelForm):
    """A snippet's form (invites, dialogues, consent records, correction notes)."""


class WithinReachPageForm(WithinReachFormMixin, WagtailAdminPageForm):
    """A page's form: a story's community, dialogue and participants; a collection's stories."""


class PersonForm(WithinReachModelForm):
    """A person is recorded in a community: a facilitator chooses one of theirs (the only one, if they have one), so
    that someone they have just added stays theirs before any story names them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("community")
        if field is None or is_administrator(self.for_user):
            return
        field.required = True
        if self.instance.pk is None and not self.initial.get("community"):
            own = list(communities_for(self.for_user)[:2])
            if len(own) == 1:
                self.initial["community"] = own[0].pk
