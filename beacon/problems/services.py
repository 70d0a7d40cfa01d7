"""Domain operations on problems: opening (by hand or from a concern), changing, and
moving through the SARA stages. Opening from a hot spot or reports is in
:mod:`~beacon.problems.origins`, scanning evidence in :mod:`~beacon.problems.scanning`,
the analysis in :mod:`~beacon.problems.analysis`, tasks in
:mod:`~beacon.problems.response` and assessments in :mod:`~beacon.problems.assessment`.

Pages, the API, the demo and other apps (the concerns board) call these. Bad input
raises :class:`~beacon.problems.errors.ProblemError` naming the field; acting where one
may not raises ``PermissionDenied``. Every change writes an audit row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely import geometry as sg
from shapely.geometry.base import BaseGeometry

from beacon.core.access import can, member_community_ids
from beacon.core.audit import record_event
from beacon.core.models import AreaKind, Community, User
from beacon.core.roles import STAFF_ROLES
from beacon.core.services import area_at
from beacon.incidents import taxonomy
from beacon.problems import counting
from beacon.problems import geometry as pgeo
from beacon.problems.errors import ProblemError, fail
from beacon.problems.models import (
    EvidenceLink,
    LinkKind,
    Origin,
    Outcome,
    Problem,
    Stage,
)

TITLE_MAX = 200
TEXT_MAX = 10_000
CONCERN_RADIUS_M = 200.0

# What a concern's category is most likely about, in offence groups.
CONCERN_GROUPS: dict[str, list[str]] = {
    "traffic": ["traffic"],
    "drugs": ["drugs"],
    "property": ["burglary", "theft", "vehicle", "bicycle", "damage"],
    "disorder": ["public_order", "damage"],
    "public_space": ["public_order", "damage"],
    "youth": ["public_order", "damage"],
    "violence": ["violence", "robbery"],
    "other": ["other"],
}


def require_staff(actor: Any, community: Community) -> None:
    """Refuse anyone without a staff role in the community (superusers pass)."""
    if getattr(actor, "is_superuser", False):
        return
    if not getattr(actor, "is_authenticated", False) or not (
        member_community_ids(actor, STAFF_ROLES).filter(community_id=community.pk).exists()
    ):
        raise PermissionDenied(_("Only the community's staff can do that."))


def require_permission(actor: Any, action: str, obj: Any) -> None:
    """Refuse (``PermissionDenied``) unless ``actor`` may do ``action`` on ``obj``."""
    if not can(actor, action, obj):
        raise PermissionDenied(_("You may not do that to this problem."))


def today_in(community: Community) -> dt.date:
    """Today's date in the community's time zone."""
    from zoneinfo import ZoneInfo

    return timezone.localdate(timezone=ZoneInfo(community.timezone))


# --- input checks -------------------------------------------------------------------------


def clean_text(value: Any, limit: int = TEXT_MAX) -> str:
    """Text stripped and cut to ``limit`` characters."""
    return str(value or "").strip()[:limit]


def check_offences(groups: Any, offences: Any) -> tuple[list[str], list[str]]:
    """Offence groups (required) and optional single offences within them, checked."""
    errors: dict[str, list[str]] = {}
    groups = list(dict.fromkeys(groups or []))
    offences = list(dict.fromkeys(offences or []))
    unknown = [g for g in groups if not isinstance(g, str) or g not in taxonomy.GROUPS]
    if unknown:
        errors["offence_groups"] = [
            _("Unknown offence group(s): %(codes)s. Use one of: %(known)s.")
            % {"codes": ", ".join(map(str, unknown)), "known": ", ".join(taxonomy.GROUPS)}
        ]
    elif not groups:
        errors["offence_groups"] = [_("Choose at least one offence group.")]
    bad = [o for o in offences if not isinstance(o, str) or o not in taxonomy.OFFENCES]
    if bad:
        errors["offences"] = [
            _("Unknown offence(s): %(codes)s.") % {"codes": ", ".join(map(str, bad))}
        ]
    elif groups and not unknown:
        outside = [o for o in offences if taxonomy.OFFENCES[o].group not in groups]
        if outside:
            errors["offences"] = [
                _("Offence(s) %(codes)s are not in the chosen offence groups.")
                % {"codes": ", ".join(outside)}
            ]
    if errors:
        raise ProblemError(errors)
    return groups, offences


def staff_member(community: Community, user_id: Any, name: str) -> User | None:
    """The active staff member of the community with this id (None for no id); an
    unknown id is a :class:`ProblemError` on field ``name``."""
    if user_id in (None, ""):
        return None
    user = User.objects.filter(
        pk=user_id if str(user_id).isdigit() else 0,
        memberships__community=community,
        memberships__role__in=STAFF_ROLES,
        is_active=True,
    ).first()
    if user is None:
        raise fail(name, _("Choose a member of this community's staff."))
    return user


def _partners(community: Community, ids: Iterable[Any]) -> list[Any]:
    from beacon.partners.models import Partner

    given = list(ids)
    wanted = {int(i) for i in given if str(i).isdigit()}
    found = list(Partner.objects.filter(community=community, pk__in=wanted))
    if len(found) != len(wanted) or len(wanted) != len(set(map(str, given))):
        raise fail("partner_ids", _("Choose partner organisations of this community."))
    return found


def _place(problem: Problem, shape: BaseGeometry) -> None:
    point = shape.representative_point()
    problem.beat = area_at(problem.community, AreaKind.BEAT, point.y, point.x)
    problem.neighbourhood = area_at(problem.community, AreaKind.NEIGHBOURHOOD, point.y, point.x)


def _shape(community: Community, geometry: Any, cells: Any) -> tuple[BaseGeometry, list[str]]:
    try:
        if cells:
            shape = pgeo.area_from_cells(community, cells)
            return shape, pgeo.parse_cells(cells)
        return pgeo.area_from_geometry(community, geometry), []
    except pgeo.AreaError as exc:
        raise fail(exc.field, _("The area cannot be used: %(e)s.") % {"e": exc.message}) from None


# --- opening and changing -------------------------------------------------------------------


@dataclass
class ProblemInput:
    """What defines a problem. Give ``geometry`` (drawn) or ``cells`` (H3), not both."""

    title: str
    offence_groups: list[str]
    description: str = ""
    offences: list[str] = field(default_factory=list)
    geometry: Any = None
    cells: list[str] | None = None
    owner_id: int | None = None
    partner_ids: list[int] = field(default_factory=list)


def _checked(community: Community, data: ProblemInput) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    title = clean_text(data.title, TITLE_MAX)
    if len(title) < 3:
        errors["title"] = [_("Give the problem a title of 3 to 200 characters.")]
    checked: dict[str, Any] = {"title": title, "description": clean_text(data.description)}
    for name, check in (
        ("offences", lambda: check_offences(data.offence_groups, data.offences)),
        ("area", lambda: _shape(community, data.geometry, data.cells)),
        ("owner", lambda: staff_member(community, data.owner_id, "owner_id")),
        ("partners", lambda: _partners(community, data.partner_ids)),
    ):
        try:
            checked[name] = check()
        except ProblemError as exc:
            for key, messages in exc.errors.items():
                errors.setdefault(key, []).extend(messages)
    if data.geometry and data.cells:
        errors.setdefault("geometry", []).append(_("Give a drawn area or H3 cells, not both."))
    if errors:
        raise ProblemError(errors)
    return checked


def open_problem(
    community: Community,
    actor: User,
    data: ProblemInput,
    *,
    origin: str = Origin.MANUAL,
    source_run: Any = None,
    source_concern: Any = None,
    reports: Sequence[Any] = (),
) -> Problem:
    """Open a problem in the scanning stage; the actor owns it unless someone is named."""
    require_staff(actor, community)
    checked = _checked(community, data)
    groups, offences = checked["offences"]
    shape, cells = checked["area"]
    with transaction.atomic():
        problem = Problem(
            community=community,
            title=checked["title"],
            description=checked["description"],
            origin=origin,
            source_run=source_run,
            source_concern=source_concern,
            area=pgeo.as_geojson(shape),
            area_cells=cells,
            offence_groups=groups,
            offences=offences,
            owner=checked["owner"] or actor,
            created_by=actor,
        )
        _place(problem, shape)
        problem.save()
        problem.partners.set(checked["partners"])
        if source_run is not None:
            problem.analysis_runs.add(source_run)
        for report in reports:
            EvidenceLink.objects.create(
                community=community,
                problem=problem,
                kind=LinkKind.REPORT,
                report=report,
                added_by=actor,
            )
        if source_concern is not None:
            EvidenceLink.objects.create(
                community=community,
                problem=problem,
                kind=LinkKind.CONCERN,
                concern=source_concern,
                added_by=actor,
            )
        record_event(
            actor=actor,
            action="create",
            obj=problem,
            detail={"origin": origin, "offence_groups": groups, "cells": len(cells)},
        )
    return problem


def update_problem(problem: Problem, actor: User, data: ProblemInput) -> Problem:
    """Change what defines a problem (title, area, offences, owner, partners); audited."""
    require_permission(actor, "change", problem)
    community = problem.community
    if not data.geometry and not data.cells:
        # Keep the area when neither a new drawing nor new cells were given.
        data.geometry = problem.area
    checked = _checked(community, data)
    groups, offences = checked["offences"]
    shape, cells = checked["area"]
    with transaction.atomic():
        before = {
            "title": problem.title,
            "offence_groups": problem.offence_groups,
            "offences": problem.offences,
            "area_changed": False,
        }
        new_area = pgeo.as_geojson(shape)
        before["area_changed"] = new_area != problem.area
        problem.title = checked["title"]
        problem.description = checked["description"]
        problem.area = new_area
        if data.cells:
            problem.area_cells = cells
        elif before["area_changed"]:
            problem.area_cells = []
        problem.offence_groups = groups
        problem.offences = offences
        problem.owner = checked["owner"] or problem.owner
        _place(problem, shape)
        problem.save()
        problem.partners.set(checked["partners"])
        record_event(actor=actor, action="update", obj=problem, detail={"before": before})
    return problem


def set_stage(
    problem: Problem, actor: User, stage: str, *, outcome: str = "", note: str = ""
) -> Problem:
    """Move a problem to a SARA stage; closing needs an outcome; audited.

    Stages may be revisited (an assessment can send a problem back to analysis); the
    assessment stage needs the response start date, which the before/after periods
    are measured from.
    """
    require_permission(actor, "change", problem)
    if stage not in Stage.values:
        raise fail(
            "stage",
            _("Unknown stage %(s)r; use one of %(all)s.")
            % {"s": stage, "all": ", ".join(Stage.values)},
        )
    if stage == Stage.ASSESSMENT and problem.response_started_on is None:
        raise fail("stage", _("Set the date the response started before assessing it."))
    if stage == Stage.CLOSED and outcome not in Outcome.values:
        raise fail("outcome", _("Say how the problem ended (choose an outcome) to close it."))
    now = timezone.now()
    with transaction.atomic():
        previous = problem.stage
        problem.stage = stage
        problem.stage_changed_at = now
        if stage == Stage.CLOSED:
            problem.closed_at = now
            problem.outcome = outcome
            problem.outcome_note = clean_text(note)
        elif problem.closed_at is not None:
            problem.closed_at = None
        problem.save()
        record_event(
            actor=actor,
            action="stage",
            obj=problem,
            detail={"from": previous, "to": stage, "outcome": problem.outcome},
        )
    return problem


def set_response_start(problem: Problem, actor: User, started_on: Any) -> Problem:
    """Record the date the response started (the assessment's before/after split)."""
    require_permission(actor, "change", problem)
    if not isinstance(started_on, dt.date) or isinstance(started_on, dt.datetime):
        raise fail("response_started_on", _("Give the date as YYYY-MM-DD."))
    today = today_in(problem.community)
    if started_on > today:
        raise fail(
            "response_started_on",
            _("The response cannot start in the future (today is %(d)s).") % {"d": today},
        )
    if started_on < problem.opened_at.date() - dt.timedelta(days=3650):
        raise fail(
            "response_started_on",
            _("That date is more than ten years before the problem was opened."),
        )
    previous = problem.response_started_on
    problem.response_started_on = started_on
    problem.save(update_fields=["response_started_on", "updated_at"])
    record_event(
        actor=actor,
        action="response_start",
        obj=problem,
        detail={"from": str(previous) if previous else None, "to": str(started_on)},
    )
    return problem


# --- a concern from the board ----------------------------------------------------------


def open_from_concern(concern: Any, actor: User) -> Problem:
    """Open (or find) the problem for a community concern; the concerns board calls this.

    The area is a 200 m circle around the concern's pin and the offence groups follow
    its category; the analyst refines both during scanning.
    """
    existing = Problem.objects.filter(source_concern=concern).first()
    if existing is not None:
        return existing
    community = concern.community
    point = sg.Point(concern.lon, concern.lat)
    metric = pgeo.Metric.around(point)
    circle = metric.to_lonlat(metric.to_metres(point).buffer(CONCERN_RADIUS_M, quad_segs=16))
    data = ProblemInput(
        title=concern.title,
        description=concern.body,
        offence_groups=CONCERN_GROUPS.get(concern.category, ["other"]),
        geometry=pgeo.as_geojson(pgeo.clip(circle, community)),
    )
    return open_problem(community, actor, data, origin=Origin.CONCERN, source_concern=concern)


def incident_filter(problem: Problem) -> counting.Filter:
    """The incident filter of a problem's offence groups and offences."""
    return counting.Filter(tuple(problem.offence_groups), tuple(problem.offences or ()))


def problem_shape(problem: Problem) -> BaseGeometry:
    """The problem's area as a shape."""
    return pgeo.shape_of(problem.area)


def problems_for(community: Community, user: Any) -> QuerySet[Problem]:
    """The community's problems ``user`` may see."""
    return (
        Problem.objects.visible_to(user)
        .filter(community=community)
        .select_related("beat", "neighbourhood", "owner")
    )
