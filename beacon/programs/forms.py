"""Forms for programs, events, sessions, registration and feedback.

Forms check the shape of the input; the services check the rules and their errors are
put back on the fields (see :func:`apply_errors`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from beacon.programs.models import Audience, EventKind, Program, ProgramKind
from beacon.programs.services import ProgramError


def apply_errors(form: forms.Form, error: ProgramError) -> None:
    """Show a service's errors next to the matching fields (or at the top)."""
    for name, messages in error.errors.items():
        target = name if name in form.fields else None
        if name == "location" and "lat" in form.fields:
            target = "lat"
        for message in messages:
            form.add_error(target, message)


class ProgramForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=ProgramKind.choices)
    summary = forms.CharField(label=_("Summary"), max_length=300, required=False)
    curriculum = forms.CharField(
        label=_("Curriculum"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    audience = forms.ChoiceField(label=_("Audience"), choices=Audience.choices)
    materials = forms.CharField(
        label=_("Materials"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("One item or link per line."),
    )
    is_public = forms.BooleanField(label=_("Shown to the public"), required=False, initial=True)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class EventForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=EventKind.choices)
    program = forms.ModelChoiceField(
        label=_("Program"), queryset=Program.objects.none(), required=False
    )
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    audience = forms.ChoiceField(label=_("Audience"), choices=Audience.choices)
    # No min_value here: the service's message ("cannot be negative") is the clear one.
    capacity = forms.IntegerField(
        label=_("Capacity"), required=False, help_text=_("Leave empty for no limit.")
    )
    registration_open = forms.BooleanField(
        label=_("Registration open"), required=False, initial=True
    )

    def __init__(self, *args: Any, community: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["program"]
        field.queryset = Program.objects.filter(community=community)


class SessionForm(forms.Form):
    starts_at = forms.DateTimeField(
        label=_("Starts"), widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M"]
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"), widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M"]
    )
    venue = forms.CharField(label=_("Venue"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    lat = forms.FloatField(
        label=_("Latitude"), widget=forms.NumberInput(attrs={"step": "any", "data-session-lat": ""})
    )
    lon = forms.FloatField(
        label=_("Longitude"),
        widget=forms.NumberInput(attrs={"step": "any", "data-session-lon": ""}),
    )


class RegistrationForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=120)
    # A plain text field: the service gives the clear message for a bad address.
    email = forms.CharField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("We send a link to confirm your place. No account needed."),
    )


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How useful was it?"),
        choices=[(i, str(i)) for i in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
        help_text=_("5 is the most useful."),
    )
    comment = forms.CharField(
        label=_("Anything to tell us?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=2000,
    )
