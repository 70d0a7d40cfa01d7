"""Scanning: what defines a problem. Incidents in its area and offences (counted, never
copied), their monthly trend, and the resident reports and concerns linked as evidence.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from shapely import geometry as sg
from shapely.geometry.base import BaseGeometry

from beacon.core.access import can
from beacon.core.audit import record_event
from beacon.core.models import User
from beacon.incidents import taxonomy
from beacon.problems import counting
from beacon.problems import geometry as pgeo
from beacon.problems.errors import fail
from beacon.problems.models import EvidenceLink, LinkKind, Problem
from beacon.problems.services import (
    clean_text,
    incident_filter,
    problem_shape,
    require_permission,
)


@dataclass
class Scanning:
    """What defines a problem: incidents in its area, their trend, linked evidence."""

    total: int
    by_offence: list[tuple[str, int]]
    trend: list[tuple[dt.date, int]]
    last_12: int
    previous_12: int
    area_km2: float
    links: list[EvidenceLink]
    suggested_reports: list[Any]
    suggested_concerns: list[Any]


def scanning(problem: Problem, user: Any, *, months: int = 24) -> Scanning:
    """Counts, monthly trend and evidence of a problem, as ``user`` may see them."""
    shape = problem_shape(problem)
    offences = incident_filter(problem)
    # One read of the area's incidents serves the counts and the trend.
    rows = counting.incidents_in(
        problem.community, shape, offences, fields=("pk", "lat", "lon", "offence", "local_month")
    )
    by_offence = Counter(r[3] for r in rows)
    last = counting.latest_month(problem.community)
    trend = counting.month_series((r[4] for r in rows), last, months)
    counts = [n for _m, n in trend]
    links = list(
        EvidenceLink.objects.visible_to(user)
        .filter(problem=problem)
        .select_related("report", "report__category", "concern")
    )
    reports, concerns = _suggestions(problem, user, shape, links)
    return Scanning(
        total=len(rows),
        by_offence=[
            (taxonomy.OFFENCES[code].label if code in taxonomy.OFFENCES else code, n)
            for code, n in by_offence.most_common()
        ],
        trend=trend,
        last_12=sum(counts[-12:]),
        previous_12=sum(counts[-24:-12]),
        area_km2=pgeo.Metric.around(shape).area_m2(shape) / 1e6 if not shape.is_empty else 0.0,
        links=links,
        suggested_reports=reports,
        suggested_concerns=concerns,
    )


def _suggestions(
    problem: Problem, user: Any, shape: BaseGeometry, links: list[EvidenceLink]
) -> tuple[list[Any], list[Any]]:
    """Reports and concerns inside the area not linked yet (staff only, latest first)."""
    from beacon.forums.models import Concern
    from beacon.reports.models import Report

    if not can(user, "change", problem):
        return [], []
    west, south, east, north = shape.bounds if not shape.is_empty else (0, 0, 0, 0)
    box = {"lat__gte": south, "lat__lte": north, "lon__gte": west, "lon__lte": east}
    linked_reports = {link.report_id for link in links if link.report_id}
    linked_concerns = {link.concern_id for link in links if link.concern_id}
    reports = [
        r
        for r in Report.objects.visible_to(user)
        .filter(community=problem.community, merged_into__isnull=True, **box)
        .select_related("category")
        .order_by("-created_at")[:200]
        if r.pk not in linked_reports and shape.intersects(sg.Point(r.lon, r.lat))
    ][:20]
    concerns = [
        c
        for c in Concern.objects.visible_to(user)
        .filter(community=problem.community, **box)
        .order_by("-created_at")[:200]
        if c.pk not in linked_concerns and shape.intersects(sg.Point(c.lon, c.lat))
    ][:20]
    return reports, concerns


def link_evidence(
    problem: Problem, actor: User, kind: str, target_id: Any, note: str = ""
) -> EvidenceLink:
    """Link a report or concern of the community to a problem; audited (idempotent)."""
    from beacon.forums.models import Concern
    from beacon.reports.models import Report

    require_permission(actor, "change", problem)
    if kind not in LinkKind.values:
        raise fail("kind", _("Link a report or a concern."))
    model: Any = Report if kind == LinkKind.REPORT else Concern
    target = (
        model.objects.visible_to(actor)
        .filter(community=problem.community, pk=target_id if str(target_id).isdigit() else 0)
        .first()
    )
    if target is None:
        raise fail(
            "target_id",
            _("No %(kind)s %(id)s in this community.") % {"kind": kind, "id": target_id},
        )
    existing = EvidenceLink.objects.filter(problem=problem, **{kind: target}).first()
    if existing is not None:
        return existing
    link = EvidenceLink.objects.create(
        community=problem.community,
        problem=problem,
        kind=kind,
        note=clean_text(note, 300),
        added_by=actor,
        **{kind: target},
    )
    record_event(
        actor=actor, action="create", obj=link, detail={"problem": problem.pk, kind: target.pk}
    )
    return link


def unlink_evidence(link: EvidenceLink, actor: User) -> None:
    """Remove a linked report or concern from a problem's evidence; audited."""
    require_permission(actor, "change", link.problem)
    with transaction.atomic():
        record_event(actor=actor, action="delete", obj=link, detail={"problem": link.problem_id})
        link.delete()
