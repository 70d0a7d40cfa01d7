"""Sign-in, second factor and area forms."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from beacon.core.models import AreaKind


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=_("Six-digit code from your authenticator app"),
        regex=r"^\d{6}$",
        error_messages={"invalid": _("Enter the six digits your app shows.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )


class AreaForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=AreaKind.choices)
    code = forms.CharField(label=_("Code"), max_length=50, required=False)
    population = forms.IntegerField(label=_("Population"), min_value=0, required=False)
    geometry = forms.CharField(
        label=_("Boundary (GeoJSON)"),
        widget=forms.Textarea(attrs={"rows": 4, "data-area-geometry": "1"}),
        help_text=_("Draw the boundary on the map, or paste a GeoJSON Polygon."),
    )

    def clean_geometry(self) -> Any:
        raw = self.cleaned_data["geometry"]
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("Not valid JSON (line %(line)s: %(msg)s)."),
                params={"line": exc.lineno, "msg": exc.msg},
            ) from None
        if isinstance(value, dict) and value.get("type") == "Feature":
            value = value.get("geometry")
        return value
