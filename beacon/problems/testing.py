"""Test support for problems: a problem maker, boxes inside a community, and the
access-matrix factories of every problem model."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models

from beacon.core.models import Community, User
from beacon.core.roles import Role
from beacon.core.testing import World, access_factory, box_polygon
from beacon.problems import analysis, assessment, response, scanning, services
from beacon.problems.models import (
    AnalysisQuestion,
    Assessment,
    EvidenceLink,
    OwnerKind,
    Problem,
    ResponseTask,
)


def bbox(community: Community) -> tuple[float, float, float, float]:
    """The community boundary's bounding box (west, south, east, north)."""
    ring = community.boundary["coordinates"][0]
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    return min(lons), min(lats), max(lons), max(lats)


def box_in(
    community: Community, west: float, south: float, east: float, north: float
) -> dict[str, Any]:
    """A GeoJSON box given as fractions (0–1) of the community's bounding box."""
    w, s, e, n = bbox(community)
    return box_polygon(
        w + west * (e - w), s + south * (n - s), w + east * (e - w), s + north * (n - s)
    )


# A target in the west and a control in the east of a test community: far enough apart
# that a 400 m buffer around the target does not reach the control.
TARGET = (0.27, 0.4, 0.4, 0.6)
CONTROL = (0.75, 0.4, 0.88, 0.6)


def staff_of(community: Community, world: World | None = None) -> User:
    """An analyst of ``community`` (the world's own when given)."""
    if world is not None:
        members = world.members if community == world.community else world.outsiders
        return members[Role.ANALYST]
    from beacon.core.models import Membership

    return Membership.objects.filter(community=community, role=Role.ANALYST).first().user  # type: ignore[union-attr]


def make_problem(
    community: Community,
    actor: User,
    *,
    title: str = "Thefts from cars on the market street",
    groups: tuple[str, ...] = ("vehicle",),
    offences: tuple[str, ...] = ("theft_from_vehicle",),
    partners: list[Any] | None = None,
    geometry: dict[str, Any] | None = None,
) -> Problem:
    """A problem over the :data:`TARGET` box, opened by ``actor``."""
    return services.open_problem(
        community,
        actor,
        services.ProblemInput(
            title=title,
            offence_groups=list(groups),
            offences=list(offences),
            geometry=geometry or box_in(community, *TARGET),
            partner_ids=[p.pk for p in partners or []],
        ),
    )


def _problem(community: Community, world: World) -> Problem:
    """A problem the world's partner user's organisation is a partner of."""
    from beacon.partners.testing import make_partner

    existing = Problem.objects.filter(community=community).first()
    if existing is not None:
        return existing
    user = world.members[Role.PARTNER] if community == world.community else None
    partner = make_partner(community, contact_user=user)
    return make_problem(community, staff_of(community, world), partners=[partner])


@access_factory(Problem)
def _access_problem(community: Community, world: World) -> models.Model:
    return _problem(community, world)


@access_factory(EvidenceLink)
def _access_link(community: Community, world: World) -> models.Model:
    from beacon.forums.testing import make_concern

    problem = _problem(community, world)
    concern = make_concern(community)
    return scanning.link_evidence(problem, staff_of(community, world), "concern", concern.pk)


@access_factory(AnalysisQuestion)
def _access_question(community: Community, world: World) -> models.Model:
    problem = _problem(community, world)
    return analysis.add_question(problem, staff_of(community, world), "When do the thefts happen?")


@access_factory(ResponseTask)
def _access_task(community: Community, world: World) -> models.Model:
    problem = _problem(community, world)
    actor = staff_of(community, world)
    return response.add_task(
        problem,
        actor,
        response.TaskInput(
            title="Lighting audit of the car park",
            owner_kind=OwnerKind.STAFF,
            owner_id=actor.pk,
            due_on=services.today_in(community) + dt.timedelta(days=7),
        ),
    )


@access_factory(Assessment)
def _access_assessment(community: Community, world: World) -> models.Model:
    problem = _problem(community, world)
    actor = staff_of(community, world)
    today = services.today_in(community)
    services.set_response_start(problem, actor, today - dt.timedelta(days=60))
    return assessment.assess(
        problem,
        actor,
        assessment.AssessmentInput(
            control_geometry=box_in(community, *CONTROL), buffer_m=200, period_days=28
        ),
    )
