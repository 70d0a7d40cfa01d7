"""Forms of the analysis dashboards: filters and run requests."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from beacon.incidents.models import GROUP_CHOICES
from beacon.insights.models import RunKind
from beacon.insights.params import MAX_WINDOW_DAYS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class WindowMixin(forms.Form):
    """A data window: both ends optional, checked in order and length."""

    window_start = forms.DateField(label=_("Data from"), required=False, widget=DATE)
    window_end = forms.DateField(label=_("Data to"), required=False, widget=DATE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("window_start"), data.get("window_end")
        if start and end:
            if end < start:
                self.add_error("window_end", _("The end date is before the start date."))
            elif (end - start).days + 1 > MAX_WINDOW_DAYS:
                self.add_error(
                    "window_start",
                    _("The window may be at most %(days)s days long.") % {"days": MAX_WINDOW_DAYS},
                )
        return data


class HotspotFilterForm(WindowMixin):
    """Which hot spot analysis to show: an offence group (or all) and a data window."""

    group = forms.ChoiceField(
        label=_("Offence group"), required=False, choices=[("", _("All groups")), *GROUP_CHOICES]
    )


class RunRequestForm(WindowMixin):
    """Ask for a new run with the default parameters of its kind."""

    kind = forms.ChoiceField(label=_("Analysis"), choices=RunKind.choices)
    offence_groups = forms.MultipleChoiceField(
        label=_("Offence groups"),
        required=False,
        choices=GROUP_CHOICES,
        help_text=_("None chosen: all groups."),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)
