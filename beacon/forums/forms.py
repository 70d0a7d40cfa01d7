"""Forms of the concerns board, meetings and action tracker.

Forms only parse and present; the rules live in ``services`` and their errors are put
back next to the fields with :func:`apply_errors`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from beacon.core.models import Area, Community
from beacon.forums.models import ActionStatus, ConcernCategory, ConcernStatus, MeetingKind
from beacon.forums.services import ForumError


def apply_errors(
    form: forms.Form, error: ForumError, aliases: dict[str, str] | None = None
) -> None:
    """Show a service's errors next to the matching fields (or above the form)."""
    aliases = aliases or {}
    for name, messages in error.errors.items():
        field = aliases.get(name, name)
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)


class ConcernForm(forms.Form):
    # Fields are optional here: the service checks them all at once and says what is
    # missing, so a resident sees every problem on the first try.
    title = forms.CharField(label=_("Title"), max_length=160, required=False)
    category = forms.ChoiceField(label=_("Category"), choices=ConcernCategory.choices)
    body = forms.CharField(
        label=_("What is the concern?"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    lat = forms.FloatField(
        widget=forms.HiddenInput(attrs={"data-concern-lat": "1"}), required=False
    )
    lon = forms.FloatField(
        widget=forms.HiddenInput(attrs={"data-concern-lon": "1"}), required=False
    )
    location = forms.CharField(
        label=_("Where"),
        required=False,
        disabled=True,
        help_text=_("Click the map to put a pin where the concern is."),
        widget=forms.TextInput(attrs={"data-concern-where": "1", "readonly": True}),
    )


class AnswerForm(forms.Form):
    response = forms.CharField(label=_("Public answer"), widget=forms.Textarea(attrs={"rows": 4}))


class ConcernStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ConcernStatus.choices)
    result = forms.CharField(
        label=_("What came of it"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class MeetingForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=MeetingKind.choices)
    area = forms.ModelChoiceField(
        label=_("Beat or neighbourhood"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=_("The whole community"),
    )
    # Not required here so the service can say what is missing in its own words.
    starts_at = forms.DateTimeField(
        label=_("Starts"), required=False, widget=DateTimeInput(), input_formats=["%Y-%m-%dT%H:%M"]
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"), required=False, widget=DateTimeInput(), input_formats=["%Y-%m-%dT%H:%M"]
    )
    venue = forms.CharField(label=_("Place"), max_length=300, required=False)
    online_url = forms.URLField(label=_("Online link"), required=False, assume_scheme="https")
    capacity = forms.IntegerField(label=_("Capacity"), required=False, min_value=1)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area_field: Any = self.fields["area"]
        area_field.queryset = Area.objects.filter(
            community=community, kind__in=["beat", "neighbourhood"]
        ).order_by("kind", "name")


class AgendaItemForm(forms.Form):
    title = forms.CharField(label=_("Agenda item"), max_length=200)
    notes = forms.CharField(label=_("Notes"), required=False)


class RegistrationForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=120, required=False)
    # Checked by the service, which names the problem in its own words.
    email = forms.CharField(label=_("Email address"), max_length=254, required=False)


class MinutesForm(forms.Form):
    minutes = forms.CharField(
        label=pgettext_lazy("meeting record", "Minutes"), widget=forms.Textarea(attrs={"rows": 8})
    )
    decisions = forms.CharField(
        label=_("Decisions"),
        required=False,
        help_text=_("One decision per line."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ActionItemForm(forms.Form):
    title = forms.CharField(label=_("Action"), max_length=200, required=False)
    owner_name = forms.CharField(label=_("Owner"), max_length=120, required=False)
    due_date = forms.DateField(
        label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    concern = forms.TypedChoiceField(
        label=_("For concern"), required=False, coerce=int, empty_value=None, choices=()
    )

    def __init__(self, *args: Any, concerns: list[tuple[int, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field: Any = self.fields["concern"]
        field.choices = [("", "—"), *(concerns or [])]

    @property
    def is_blank(self) -> bool:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return not any(data.get(k) for k in ("title", "owner_name", "due_date"))


ActionItemFormSet = forms.formset_factory(ActionItemForm, extra=3, max_num=20)


class ActionProgressForm(forms.Form):
    progress = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100)
    status = forms.ChoiceField(label=_("Status"), choices=ActionStatus.choices)
    note = forms.CharField(
        label=_("Update"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    result = forms.CharField(
        label=_("Result"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class AttendanceForm(forms.Form):
    walk_ins = forms.IntegerField(label=_("Walk-ins"), min_value=0, initial=0)


class SettingsForm(forms.Form):
    support_threshold = forms.IntegerField(label=_("Support threshold"), min_value=1)
    agenda_size = forms.IntegerField(label=_("Concerns per agenda"), min_value=1, max_value=50)
