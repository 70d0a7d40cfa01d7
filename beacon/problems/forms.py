"""Forms of the problem pages. Forms only parse and present; the services check the
values and their errors are put back next to the fields with :func:`apply_errors`."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from beacon.core.models import Area, AreaKind, Community, User
from beacon.core.roles import STAFF_ROLES
from beacon.incidents import taxonomy
from beacon.problems.assessment import DEFAULT_BUFFER_M, DEFAULT_PERIOD_DAYS
from beacon.problems.errors import ProblemError
from beacon.problems.models import TRIANGLE_FIELDS, Outcome, OwnerKind, Stage, TaskStatus

FIELD_ALIASES = {
    "partner_ids": "partners",
    "owner_id": "owner",
    "control_area_id": "control_area",
    "report_ids": "reports",
    "cells": "geometry",
}


def apply_errors(form: forms.Form, error: ProblemError) -> None:
    """Show a service's errors next to the matching fields (or above the form)."""
    for name, messages in error.errors.items():
        field = name if name in form.fields else FIELD_ALIASES.get(name, name)
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message if target else f"{name}: {message}")


def _geometry(value: str) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise forms.ValidationError(_("The drawn area could not be read.")) from None


def staff_choices(community: Community) -> list[tuple[int, str]]:
    """The community's staff members as (id, name) choices."""
    users = (
        User.objects.filter(
            memberships__community=community, memberships__role__in=STAFF_ROLES, is_active=True
        )
        .distinct()
        .order_by("display_name", "email")
    )
    return [(u.pk, str(u)) for u in users]


def group_choices() -> list[tuple[str, str]]:
    """Every offence group as a choice."""
    return [(g.code, g.label) for g in taxonomy.GROUPS.values()]


def offence_choices() -> list[tuple[str, str]]:
    """Every offence, labelled with its group, as a choice."""
    return [
        (o.code, f"{o.label} ({taxonomy.GROUPS[o.group].label})")
        for o in taxonomy.OFFENCES.values()
    ]


class ProblemForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    offence_groups = forms.MultipleChoiceField(
        label=_("Offence groups"), choices=group_choices, widget=forms.CheckboxSelectMultiple
    )
    offences = forms.MultipleChoiceField(
        label=_("Only these offences (optional)"),
        choices=offence_choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int, required=False, empty_value=None)
    partners = forms.MultipleChoiceField(
        label=_("Partner organisations"), required=False, widget=forms.CheckboxSelectMultiple
    )
    geometry = forms.CharField(
        label=_("Area"),
        required=False,
        widget=forms.HiddenInput(attrs={"data-problem-geometry": ""}),
        help_text=_("Draw the problem's area on the map."),
    )

    def __init__(self, community: Community, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from beacon.partners.models import Partner

        owner: Any = self.fields["owner"]
        owner.choices = [("", _("Me")), *staff_choices(community)]
        partners: Any = self.fields["partners"]
        partners.choices = [
            (p.pk, p.name) for p in Partner.objects.filter(community=community).order_by("name")
        ]

    def clean_geometry(self) -> Any:
        return _geometry(self.cleaned_data.get("geometry") or "")


class HotspotForm(forms.Form):
    """Open a problem from a Gi* run: the cells of a hot cluster, chosen on the map or
    by cluster."""

    run = forms.IntegerField(widget=forms.HiddenInput)
    cells = forms.CharField(
        required=False, widget=forms.HiddenInput(attrs={"data-hotspot-cells": ""})
    )
    cluster = forms.TypedChoiceField(
        label=_("Hot spot"), coerce=int, required=False, empty_value=None
    )
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    offences = forms.MultipleChoiceField(
        label=_("Only these offences (optional)"),
        choices=offence_choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    def __init__(self, clusters: list[Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["cluster"]
        field.choices = [
            (
                index,
                _("Hot spot %(n)d: %(cells)d cells, %(count)d incidents, peak z %(z).1f")
                % {"n": index + 1, "cells": len(c.cells), "count": c.count, "z": c.peak_z},
            )
            for index, c in enumerate(clusters)
        ]

    def clean_cells(self) -> list[str]:
        value = (self.cleaned_data.get("cells") or "").strip()
        return [c for c in value.replace(",", " ").split() if c]


class StageForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The workspace shows several forms at once: keep their element ids apart.
        kwargs.setdefault("auto_id", "stage-%s")
        super().__init__(*args, **kwargs)

    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices)
    outcome = forms.ChoiceField(
        label=_("Outcome (to close)"), choices=[("", "—"), *Outcome.choices], required=False
    )
    note = forms.CharField(
        label=_("Outcome note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class TriangleForm(forms.Form):
    offender = forms.CharField(
        label=_("Offender"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    handler = forms.CharField(
        label=_("Handlers (people with influence over offenders)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    target = forms.CharField(
        label=_("Target or victim"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    guardian = forms.CharField(
        label=_("Guardians (people who protect targets)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    place = forms.CharField(
        label=_("Place"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    manager = forms.CharField(
        label=_("Managers (people responsible for places)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def sides(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in TRIANGLE_FIELDS}


class QuestionForm(forms.Form):
    question = forms.CharField(label=_("Question"), max_length=500)
    finding = forms.CharField(
        label=_("Finding"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class FindingForm(forms.Form):
    finding = forms.CharField(
        label=_("Finding"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RunForm(forms.Form):
    run = forms.TypedChoiceField(label=_("Analysis run"), coerce=int)

    def __init__(self, runs: list[Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["run"]
        field.choices = [(r.pk, str(r)) for r in runs]


class LinkForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "link-%s")
        super().__init__(*args, **kwargs)

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("report", _("Resident report")), ("concern", _("Community concern"))],
    )
    target_id = forms.IntegerField(label=_("Number"), min_value=1)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    description = forms.CharField(
        label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    owner = forms.ChoiceField(label=_("Owner"))
    due_on = forms.DateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(
        label=_("Status"), choices=TaskStatus.choices, initial=TaskStatus.PLANNED
    )

    def __init__(
        self, community: Community, partners: list[Any], *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        from beacon.watch.models import WatchGroup

        owner: Any = self.fields["owner"]
        owner.choices = [
            (
                str(OwnerKind.STAFF.label),
                [(f"staff:{pk}", name) for pk, name in staff_choices(community)],
            ),
            (str(OwnerKind.PARTNER.label), [(f"partner:{p.pk}", p.name) for p in partners]),
            (
                str(OwnerKind.WATCH_GROUP.label),
                [
                    (f"watch_group:{g.pk}", g.name)
                    for g in WatchGroup.objects.filter(community=community).order_by("name")
                ],
            ),
        ]

    def owner_parts(self) -> tuple[str, str]:
        """The owner choice split into kind and id (``staff:12``)."""
        kind, _sep, pk = str(self.cleaned_data.get("owner") or "").partition(":")
        return kind, pk


class TaskStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=TaskStatus.choices)


class ResponseStartForm(forms.Form):
    response_started_on = forms.DateField(
        label=_("The response started on"), widget=forms.DateInput(attrs={"type": "date"})
    )


class AssessmentForm(forms.Form):
    control_area = forms.TypedChoiceField(
        label=_("Control area"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Choose an area like the problem's that got no response, or draw one."),
    )
    control_geometry = forms.CharField(
        required=False, widget=forms.HiddenInput(attrs={"data-control-geometry": ""})
    )
    buffer_m = forms.IntegerField(
        label=_("Buffer width (metres)"),
        min_value=50,
        max_value=3000,
        initial=DEFAULT_BUFFER_M,
        help_text=_("The ring around the problem area where crime could move to."),
    )
    period_days = forms.IntegerField(
        label=_("Days before and after the response start"),
        min_value=28,
        max_value=730,
        initial=DEFAULT_PERIOD_DAYS,
    )

    def __init__(self, community: Community, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["control_area"]
        field.choices = [("", _("— draw on the map —"))] + [
            (a.pk, f"{a.get_kind_display()}: {a.name}")
            for a in Area.objects.filter(
                community=community, kind__in=[AreaKind.NEIGHBOURHOOD, AreaKind.BEAT]
            ).order_by("kind", "name")
        ]

    def clean_control_geometry(self) -> Any:
        return _geometry(self.cleaned_data.get("control_geometry") or "")
