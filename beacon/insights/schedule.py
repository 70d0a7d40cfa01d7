"""Periodic analyses: nightly hot spots and near repeat, a weekly forecast, daily trend
alerts, and hourly near-repeat zones for newly imported incidents.

Each job only *requests* runs (a request for a window that already has a run does
nothing) and enqueues their computation, so the jobs are quick and idempotent and the
heavy work is spread over the workers.
"""

from __future__ import annotations

from datetime import timedelta

from beacon.core.jobs import enqueue_on_commit
from beacon.core.schedule import periodic
from beacon.insights.models import RunKind
from beacon.insights.services import (
    communities_with_incidents,
    groups_present,
    request_run,
    requeue_stale,
)
from beacon.insights.zones import NEAR_REPEAT_GROUPS

#: Fewest incidents an offence group needs for its own nightly hot spot runs.
NIGHTLY_MIN_INCIDENTS = 50


def request_hotspots() -> int:
    """Gi* and KDE for every offence group with enough incidents, and for all groups."""
    made = 0
    for community in communities_with_incidents():
        requeue_stale(community)
        selections: list[list[str]] = [[]]
        selections += [[g] for g in groups_present(community, NIGHTLY_MIN_INCIDENTS)]
        for groups in selections:
            for kind in (RunKind.GI, RunKind.KDE):
                made += request_run(community, kind, offence_groups=groups)[1]
    return made


def request_near_repeat() -> int:
    """Knox for burglary and vehicle crime (its results refresh the risk zones)."""
    made = 0
    for community in communities_with_incidents():
        present = set(groups_present(community, 20))
        for group in NEAR_REPEAT_GROUPS:
            if group in present:
                made += request_run(community, RunKind.KNOX, offence_groups=[group])[1]
    return made


def request_forecast() -> int:
    """Next week's forecast and patrol plan for property crime."""
    made = 0
    for community in communities_with_incidents():
        groups = [g for g in ("burglary", "vehicle", "bicycle") if g in groups_present(community)]
        made += request_run(community, RunKind.FORECAST, offence_groups=groups)[1]
    return made


def request_trends() -> int:
    """Trend alerts over every offence group and area."""
    made = 0
    for community in communities_with_incidents():
        made += request_run(community, RunKind.TREND)[1]
    return made


@periodic("insights.hotspots", every=timedelta(days=1))
def nightly_hotspots() -> None:
    """Nightly Gi* and KDE runs."""
    request_hotspots()


@periodic("insights.near-repeat", every=timedelta(days=1))
def nightly_near_repeat() -> None:
    """Nightly Knox runs."""
    request_near_repeat()


@periodic("insights.forecast", every=timedelta(days=7))
def weekly_forecast() -> None:
    """The weekly forecast and patrol plan."""
    request_forecast()


@periodic("insights.trends", every=timedelta(days=1))
def daily_trends() -> None:
    """Daily trend alerts."""
    request_trends()


@periodic("insights.risk-zones", every=timedelta(hours=1))
def hourly_risk_zones() -> None:
    """Zones for incidents imported since the last Knox run."""
    from beacon.insights.tasks import refresh_zones

    for community in communities_with_incidents():
        enqueue_on_commit(refresh_zones, community.pk)
