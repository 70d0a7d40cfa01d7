"""Forms of the alert pages; the services do the real checks and name the field at fault."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from beacon.core.models import AreaKind, Community
from beacon.notify import services
from beacon.notify.models import Channel, Cover, CoverKind, Frequency, Topic


def _json_geometry(value: str) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise forms.ValidationError(_("The drawn area could not be read; draw it again.")) from None


class SubscriptionForm(forms.Form):
    """Area, topics, channel and frequency of a new subscription."""

    area_kind = forms.ChoiceField(
        label=_("Area to follow"),
        choices=CoverKind.choices,
        initial=CoverKind.RADIUS,
        widget=forms.RadioSelect,
    )
    neighbourhood = forms.TypedChoiceField(
        label=_("Neighbourhood"), required=False, coerce=int, empty_value=None
    )
    beat = forms.TypedChoiceField(label=_("Beat"), required=False, coerce=int, empty_value=None)
    group = forms.TypedChoiceField(
        label=_("Watch group"), required=False, coerce=int, empty_value=None
    )
    address = forms.CharField(
        label=_("Address"),
        required=False,
        max_length=300,
        help_text=_("Type an address, or click the map to place the centre."),
    )
    lat = forms.FloatField(required=False, widget=forms.HiddenInput(attrs={"data-alert-lat": ""}))
    lon = forms.FloatField(required=False, widget=forms.HiddenInput(attrs={"data-alert-lon": ""}))
    radius_m = forms.IntegerField(
        label=_("Radius (metres)"),
        required=False,
        initial=500,
        widget=forms.NumberInput(attrs={"data-alert-radius": "", "step": 50}),
        help_text=_("Between 50 m and 5,000 m."),
    )
    geometry = forms.CharField(
        required=False, widget=forms.HiddenInput(attrs={"data-area-geometry": ""})
    )
    topics = forms.MultipleChoiceField(
        label=_("Tell me about"),
        choices=Topic.choices,
        initial=[Topic.INCIDENT, Topic.BROADCAST],
        widget=forms.CheckboxSelectMultiple,
    )
    offence_groups = forms.MultipleChoiceField(
        label=_("Only these offences (none ticked: all)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    frequency = forms.ChoiceField(label=_("How often"), choices=Frequency.choices)
    channel = forms.ChoiceField(label=_("How"), choices=Channel.choices)
    target = forms.CharField(
        label=_("Send to"),
        required=False,
        max_length=500,
        help_text=_("Your email address (empty: your account's), a phone number or a webhook URL."),
    )

    def __init__(self, community: Community, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.community = community
        for name, kind in (("neighbourhood", AreaKind.NEIGHBOURHOOD), ("beat", AreaKind.BEAT)):
            field: Any = self.fields[name]
            field.choices = [("", "—")] + [
                (a.pk, a.name) for a in services.area_choices(community, kind)
            ]
        groups: Any = self.fields["group"]
        groups.choices = [("", "—")] + [
            (int(c.key.split(":", 1)[1]), c.label)
            for c in Cover.objects.filter(community=community, key__startswith="watch:").order_by(
                "label"
            )
        ]
        offences: Any = self.fields["offence_groups"]
        offences.choices = sorted(services.offence_groups()[0].items(), key=lambda kv: kv[1])

    def clean_geometry(self) -> Any:
        return _json_geometry(self.cleaned_data.get("geometry") or "")

    def to_request(self) -> services.SubscriptionRequest:
        """The service request for the cleaned data."""
        data = self.cleaned_data
        kind = data["area_kind"]
        return services.SubscriptionRequest(
            area_kind=kind,
            topics=list(data["topics"]),
            channel=data["channel"],
            target=data.get("target") or "",
            frequency=data["frequency"],
            offence_groups=list(data.get("offence_groups") or []),
            area_id=data.get("neighbourhood")
            if kind == CoverKind.NEIGHBOURHOOD
            else data.get("beat"),
            group_id=data.get("group"),
            geometry=data.get("geometry"),
            lat=data.get("lat"),
            lon=data.get("lon"),
            radius_m=data.get("radius_m"),
            address=data.get("address") or "",
        )

    FIELD_FOR_ERROR = {
        "area_id": "neighbourhood",
        "group_id": "group",
        "location": "address",
    }

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Show a service's errors next to the fields they are about."""
        for name, problems in errors.items():
            field = self.FIELD_FOR_ERROR.get(name, name)
            if field == "neighbourhood" and self.cleaned_data.get("area_kind") == CoverKind.BEAT:
                field = "beat"
            # The drawn area is a hidden field: its errors show above the form.
            target = field if field in self.fields and field != "geometry" else None
            for problem in problems:
                self.add_error(target, problem)


class BroadcastForm(forms.Form):
    """A broadcast: a drawn area, a title and a message."""

    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("Message"), max_length=2000, widget=forms.Textarea)
    geometry = forms.CharField(
        required=False, widget=forms.HiddenInput(attrs={"data-area-geometry": ""})
    )

    def clean_geometry(self) -> Any:
        value = _json_geometry(self.cleaned_data.get("geometry") or "")
        if value is None:
            raise forms.ValidationError(_("Draw the area on the map."))
        return value
