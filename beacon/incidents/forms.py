"""Forms for the staff incident pages and the upload."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from beacon.core.models import Area, AreaKind, Community
from beacon.incidents import taxonomy
from beacon.incidents.formats import FORMATS, GENERIC_KEYS
from beacon.incidents.importer import ON_ERROR
from beacon.incidents.models import (
    GROUP_CHOICES,
    OFFENCE_CHOICES,
    Incident,
    IncidentStatus,
    LocationStatus,
    PublicationPolicy,
)


class IncidentFilterForm(forms.Form):
    """Filters for the staff incident list and map."""

    group = forms.ChoiceField(
        label=_("Offence group"), required=False, choices=[("", _("All")), *GROUP_CHOICES]
    )
    status = forms.ChoiceField(required=False, choices=[("", _("All")), *IncidentStatus.choices])
    location = forms.ChoiceField(
        label=_("Location"), required=False, choices=[("", _("All")), *LocationStatus.choices]
    )
    neighbourhood = forms.ModelChoiceField(
        queryset=Area.objects.none(), required=False, empty_label=_("All")
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(label=_("Id or block"), required=False, max_length=100)

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["neighbourhood"]
        field.queryset = Area.objects.filter(community=community, kind=AreaKind.NEIGHBOURHOOD)


class IncidentForm(forms.ModelForm):
    """A staff edit of one incident (audited by the service)."""

    class Meta:
        model = Incident
        fields = [
            "offence",
            "status",
            "occurred_from",
            "occurred_to",
            "reported_at",
            "block_address",
            "lat",
            "lon",
            "neighbourhood",
            "beat",
            "sensitive",
            "outcome",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        community = self.instance.community
        fields: Any = self.fields
        fields["neighbourhood"].queryset = Area.objects.filter(
            community=community, kind=AreaKind.NEIGHBOURHOOD
        )
        fields["beat"].queryset = Area.objects.filter(community=community, kind=AreaKind.BEAT)
        fields["offence"].choices = OFFENCE_CHOICES

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lat, lon = data.get("lat"), data.get("lon")
        if (lat is None) != (lon is None):
            raise forms.ValidationError(_("Give both latitude and longitude, or neither."))
        if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise forms.ValidationError(_("That is not a WGS84 position."))
        start, end = data.get("occurred_from"), data.get("occurred_to")
        if start and end and end < start:
            self.add_error("occurred_to", _("The range ends before it starts."))
        return data


def parse_mapping(text: str) -> dict[str, str]:
    """``key=column`` lines (or comma separated) into a generic column mapping."""
    mapping: dict[str, str] = {}
    for part in text.replace("\n", ",").split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, column = part.partition("=")
        key = key.strip()
        if not sep or not column.strip():
            raise forms.ValidationError(_("Write each mapping as key=column."))
        if key not in GENERIC_KEYS:
            raise forms.ValidationError(
                _("Unknown mapping key %(key)s; use %(keys)s.")
                % {"key": key, "keys": ", ".join(sorted(GENERIC_KEYS))}
            )
        mapping[key] = column.strip()
    return mapping


class ImportForm(forms.Form):
    """Upload a file for the worker to import."""

    file = forms.FileField(label=_("CSV file"))
    fmt = forms.ChoiceField(label=_("Format"), choices=[(f, f) for f in FORMATS])
    source = forms.CharField(
        label=_("Source name"),
        required=False,
        max_length=40,
        help_text=_("Ids are unique per source; defaults to the format name."),
    )
    on_error = forms.ChoiceField(
        label=_("Bad rows"),
        choices=[(c, c) for c in ON_ERROR],
        help_text=_("skip: import the good rows; abort: change nothing if any row is bad."),
    )
    crs = forms.RegexField(
        label=_("CRS of x/y"),
        required=False,
        regex=r"^EPSG:\d{4,6}$",
        help_text=_("For projected coordinates, e.g. EPSG:26910."),
    )
    mapping = forms.CharField(
        label=_("Column mapping (generic format)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("key=column, e.g. time=Date, category=Offence, lat=Lat, lon=Lon."),
    )
    time_format = forms.CharField(
        label=_("Time format (generic)"), required=False, initial="iso", max_length=40
    )
    default_offence = forms.ChoiceField(
        label=_("Offence for unknown categories"),
        required=False,
        choices=[("", _("Reject the row")), *OFFENCE_CHOICES],
    )

    def clean_mapping(self) -> dict[str, str]:
        return parse_mapping(self.cleaned_data.get("mapping") or "")


class PolicyForm(forms.ModelForm):
    """A community's publication rules."""

    extra_sensitive_groups = forms.MultipleChoiceField(
        label=_("Also never map"),
        required=False,
        choices=[(g.code, g.label) for g in taxonomy.GROUPS.values() if not g.sensitive],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = PublicationPolicy
        fields = ["k_sites", "delay_days", "extra_sensitive_groups"]
