"""Forms of the watch pages; the services check values and name the field at fault."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beacon.core.models import Area, AreaKind, Community
from beacon.watch.models import MemberRole, TrainingModule


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("About the group"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    neighbourhoods = forms.ModelMultipleChoiceField(
        label=_("Neighbourhoods covered"),
        queryset=Area.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Or draw the area on the map instead."),
    )
    geometry = forms.CharField(
        required=False, widget=forms.HiddenInput(attrs={"data-area-geometry": ""})
    )
    listed = forms.BooleanField(label=_("List the group publicly"), required=False, initial=True)

    def __init__(self, community: Community, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["neighbourhoods"]
        field.queryset = Area.objects.filter(
            community=community, kind=AreaKind.NEIGHBOURHOOD
        ).order_by("name")

    def clean_geometry(self) -> Any:
        value = self.cleaned_data.get("geometry") or ""
        if not value:
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise forms.ValidationError(_("The drawn area could not be read.")) from None


class JoinForm(forms.Form):
    block = forms.CharField(label=_("Your street or block"), max_length=200, required=False)
    message = forms.CharField(
        label=_("Why you want to join"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class BoardForm(forms.Form):
    body = forms.CharField(
        label=_("Message"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class PatrolForm(forms.Form):
    started_at = forms.DateTimeField(
        label=_("Started"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ended_at = forms.DateTimeField(
        label=_("Ended"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    route = forms.CharField(label=_("Where"), max_length=300)
    patrollers = forms.IntegerField(label=_("People"), min_value=1, max_value=50, initial=2)
    observations = forms.CharField(
        label=_("What you saw"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class MemberReportForm(forms.Form):
    description = forms.CharField(
        label=_("What did you see?"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    seen_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        initial=timezone.now,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    lat = forms.FloatField(widget=forms.HiddenInput(attrs={"data-pin-lat": ""}), required=False)
    lon = forms.FloatField(widget=forms.HiddenInput(attrs={"data-pin-lon": ""}), required=False)


class TrainingForm(forms.Form):
    member = forms.IntegerField(widget=forms.HiddenInput)
    module = forms.ModelChoiceField(label=_("Module"), queryset=TrainingModule.objects.none())
    completed_on = forms.DateField(
        label=_("Completed on"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, community: Community, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        module: Any = self.fields["module"]
        module.queryset = TrainingModule.objects.filter(community=community)


ROLE_CHOICES = MemberRole.choices
