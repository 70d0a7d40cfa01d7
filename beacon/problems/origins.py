"""Opening a problem from a Gi* hot spot run or from a cluster of resident reports.

A hot spot is a group of adjacent significant hot cells of a stored Gi* run
(``results["cells"]`` of an ``insights.AnalysisRun``); the problem's area is the union
of the chosen cells. A report cluster's area is the reports' outline with a margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import h3
from django.utils.translation import gettext as _
from shapely import geometry as sg
from shapely.geometry.base import BaseGeometry

from beacon.core.models import Community, User
from beacon.incidents import taxonomy
from beacon.problems import geometry as pgeo
from beacon.problems.errors import fail
from beacon.problems.models import Origin, Problem
from beacon.problems.services import ProblemInput, open_problem, require_staff

REPORT_CLUSTER_MARGIN_M = 100.0


@dataclass(frozen=True)
class Cluster:
    """Adjacent significant hot cells of a Gi* run."""

    cells: tuple[str, ...]
    count: int
    peak_z: float


def gi_cells(run: Any) -> list[dict[str, Any]]:
    """The cells of a finished Gi* run (``results["cells"]``), checked for shape."""
    if run.kind != "gi":
        raise fail("run", _("Analysis run %(id)s is not a Gi* hot spot run.") % {"id": run.pk})
    if run.status != "done":
        raise fail("run", _("Analysis run %(id)s has not finished.") % {"id": run.pk})
    cells = (run.results or {}).get("cells")
    if not isinstance(cells, list):
        raise fail("run", _("Analysis run %(id)s holds no cells.") % {"id": run.pk})
    return [c for c in cells if isinstance(c, dict) and isinstance(c.get("cell"), str)]


def hot_clusters(run: Any) -> list[Cluster]:
    """Connected groups of significant hot cells, largest incident count first."""
    hot = {
        c["cell"]: c
        for c in gi_cells(run)
        if c.get("significant") and c.get("class") == "hot" and h3.is_valid_cell(c["cell"])
    }
    seen: set[str] = set()
    clusters: list[Cluster] = []
    for start in sorted(hot):
        if start in seen:
            continue
        members: list[str] = []
        stack = [start]
        seen.add(start)
        while stack:
            cell = stack.pop()
            members.append(cell)
            for neighbour in h3.grid_disk(cell, 1):
                if neighbour in hot and neighbour not in seen:
                    seen.add(neighbour)
                    stack.append(neighbour)
        clusters.append(
            Cluster(
                cells=tuple(sorted(members)),
                count=sum(int(hot[c].get("count") or 0) for c in members),
                peak_z=max(float(hot[c].get("z") or 0.0) for c in members),
            )
        )
    clusters.sort(key=lambda c: (-c.count, -c.peak_z, c.cells))
    return clusters


def open_from_hotspot(
    community: Community,
    actor: User,
    run: Any,
    *,
    cells: Sequence[str] | None = None,
    title: str = "",
    description: str = "",
    offences: Sequence[str] = (),
    owner_id: int | None = None,
    partner_ids: Sequence[int] = (),
) -> Problem:
    """Open a problem over cells of a Gi* run (by default its largest hot cluster).

    The offence groups are the run's; ``offences`` may narrow them (a run over vehicle
    crime, a problem about theft from vehicles).
    """
    require_staff(actor, community)
    if run.community_id != community.pk:
        raise fail("run", _("That analysis run belongs to another community."))
    known = {c["cell"] for c in gi_cells(run)}
    if cells:
        missing = [c for c in cells if c not in known]
        if missing:
            raise fail(
                "cells",
                _("Cell %(cell)s is not one of the run's cells.") % {"cell": missing[0]},
            )
        chosen = list(cells)
    else:
        clusters = hot_clusters(run)
        if not clusters:
            raise fail("cells", _("The run found no significant hot spot; choose cells by hand."))
        chosen = list(clusters[0].cells)
    groups = list(run.offence_groups or [])
    if not groups:
        groups = sorted({taxonomy.OFFENCES[o].group for o in offences if o in taxonomy.OFFENCES})
    run_offences = (run.parameters or {}).get("offences") or []
    wanted_offences = list(offences) or [o for o in run_offences if isinstance(o, str)]
    if not title:
        labels = [
            taxonomy.OFFENCES[o].label for o in wanted_offences if o in taxonomy.OFFENCES
        ] or [taxonomy.GROUPS[g].label for g in groups if g in taxonomy.GROUPS]
        title = _("Hot spot: %(what)s") % {"what": ", ".join(labels) or _("incidents")}
    data = ProblemInput(
        title=title,
        description=description
        or _("Opened from the Gi* hot spot run of %(start)s to %(end)s (%(n)d cells).")
        % {"start": run.window_start, "end": run.window_end, "n": len(chosen)},
        offence_groups=groups,
        offences=wanted_offences,
        cells=chosen,
        owner_id=owner_id,
        partner_ids=list(partner_ids),
    )
    return open_problem(community, actor, data, origin=Origin.HOTSPOT, source_run=run)


def report_cluster_area(reports: Sequence[Any]) -> BaseGeometry:
    """The reports' convex hull with a margin, as a WGS84 polygon."""
    points = sg.MultiPoint([(r.lon, r.lat) for r in reports])
    metric = pgeo.Metric.around(points)
    hull = metric.to_metres(points).convex_hull.buffer(REPORT_CLUSTER_MARGIN_M, quad_segs=8)
    return metric.to_lonlat(hull)


def open_from_reports(
    community: Community, actor: User, report_ids: Sequence[int], data: ProblemInput
) -> Problem:
    """Open a problem over a cluster of resident reports, linked as its first evidence.

    Without a drawn area, the area is the reports' convex hull with a 100 m margin,
    trimmed to the community.
    """
    from beacon.reports.models import Report

    require_staff(actor, community)
    wanted = list(dict.fromkeys(int(i) for i in report_ids))
    reports = list(
        Report.objects.visible_to(actor).filter(community=community, pk__in=wanted).order_by("pk")
    )
    if not wanted or len(reports) != len(wanted):
        raise fail("report_ids", _("Choose reports of this community that you can see."))
    if not data.geometry and not data.cells:
        data.geometry = pgeo.as_geojson(pgeo.clip(report_cluster_area(reports), community))
    return open_problem(community, actor, data, origin=Origin.REPORTS, reports=reports)
