"""Forms for partners, contacts, agreements, documents, initiatives and tasks."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from beacon.core.models import User
from beacon.partners.models import (
    InformationSharing,
    InitiativeStatus,
    Partner,
    PartnerKind,
)
from beacon.partners.services import PartnerError
from beacon.programs.models import Event, Program


def apply_errors(form: forms.Form, error: PartnerError) -> None:
    """Show a service's errors next to the matching fields (or at the top)."""
    for name, messages in error.errors.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


class DateInput(forms.DateInput):
    input_type = "date"


class PartnerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=PartnerKind.choices)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    website = forms.CharField(label=_("Website"), max_length=200, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    title = forms.CharField(label=_("Job title"), max_length=120, required=False)
    email = forms.CharField(label=_("Email address"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)
    portal = forms.BooleanField(
        label=_("Give portal access"),
        required=False,
        help_text=_("The person must already have a Beacon account with this email address."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["user"] = None
        if data.get("portal"):
            user = User.objects.filter(email__iexact=data.get("email") or "").first()
            if user is None:
                self.add_error("email", _("No Beacon account uses this email address."))
            data["user"] = user
        return data


class AgreementForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    scope = forms.CharField(label=_("Scope"), widget=forms.Textarea(attrs={"rows": 3}))
    information_sharing = forms.ChoiceField(
        label=_("Information sharing"), choices=InformationSharing.choices
    )
    sharing_terms = forms.CharField(
        label=_("Information-sharing terms"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput())
    expires_on = forms.DateField(label=_("Expires on"), widget=DateInput())


class DocumentForm(forms.Form):
    # The agreement is chosen from a select the page draws from the partner's agreements.
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    file = forms.FileField(label=_("File"))


class InitiativeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    status = forms.ChoiceField(label=_("Status"), choices=InitiativeStatus.choices)
    partners = forms.ModelMultipleChoiceField(label=_("Partners"), queryset=Partner.objects.none())
    programs = forms.ModelMultipleChoiceField(
        label=_("Programs"), queryset=Program.objects.none(), required=False
    )
    events = forms.ModelMultipleChoiceField(
        label=_("Events"), queryset=Event.objects.none(), required=False
    )
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput(), required=False)
    ends_on = forms.DateField(label=_("Ends on"), widget=DateInput(), required=False)

    def __init__(self, *args: Any, community: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["partners"].queryset = Partner.objects.filter(community=community)
        fields["programs"].queryset = Program.objects.filter(community=community)
        fields["events"].queryset = Event.objects.filter(community=community)


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    partner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=Partner.objects.none(),
        required=False,
        empty_label=_("The agency"),
    )
    due_on = forms.DateField(label=_("Due on"), widget=DateInput(), required=False)

    def __init__(self, *args: Any, initiative: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["partner"]
        field.queryset = initiative.partners.all() if initiative else Partner.objects.none()
