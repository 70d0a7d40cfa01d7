"""Counting a community's incidents inside problem areas.

Incidents are read with one query per zone (the zone's bounding box, the offence groups
and the time window narrow it in the database) and tested point-in-polygon with
shapely's vectorised predicate; unfounded incidents are left out, as in the analysis
runs. Times are the community's local dates: a period
``[start, end)`` of dates covers incidents from local midnight of ``start`` to local
midnight of ``end``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from django.db.models import Max, Q, QuerySet
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from beacon.core.models import Community
from beacon.incidents.models import Incident, IncidentStatus


@dataclass(frozen=True)
class Filter:
    """Which incidents a problem is about: offence groups, optionally single offences."""

    groups: tuple[str, ...]
    offences: tuple[str, ...] = ()

    def q(self) -> Q:
        condition = Q(offence_group__in=self.groups)
        if self.offences:
            condition &= Q(offence__in=self.offences)
        return condition


def local_bounds(
    community: Community, start: dt.date, end: dt.date
) -> tuple[dt.datetime, dt.datetime]:
    """Aware datetimes for local midnight of ``start`` and of ``end``."""
    zone = ZoneInfo(community.timezone)
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=zone),
        dt.datetime.combine(end, dt.time.min, tzinfo=zone),
    )


def _candidates(
    community: Community,
    shape: BaseGeometry,
    offences: Filter,
    start: dt.date | None,
    end: dt.date | None,
) -> QuerySet[Incident]:
    west, south, east, north = shape.bounds
    # Unfounded reports were not crimes: they count nowhere (as in the analysis runs).
    rows = Incident.objects.exclude(status=IncidentStatus.UNFOUNDED).filter(
        offences.q(),
        community=community,
        lat__isnull=False,
        lat__gte=south,
        lat__lte=north,
        lon__gte=west,
        lon__lte=east,
    )
    if start is not None or end is not None:
        low, high = local_bounds(community, start or dt.date.min, end or dt.date.max)
        if start is not None:
            rows = rows.filter(occurred_from__gte=low)
        if end is not None:
            rows = rows.filter(occurred_from__lt=high)
    return rows


def incidents_in(
    community: Community,
    shape: BaseGeometry,
    offences: Filter,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    fields: tuple[str, ...] = ("pk", "lat", "lon", "occurred_from", "local_month"),
) -> list[tuple[Any, ...]]:
    """Rows (``fields``; the first three must be pk, lat, lon) of incidents inside ``shape``."""
    if shape.is_empty:
        return []
    rows = list(_candidates(community, shape, offences, start, end).values_list(*fields))
    if not rows:
        return []
    lats = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
    lons = np.fromiter((r[2] for r in rows), dtype=np.float64, count=len(rows))
    shapely.prepare(shape)
    inside = shapely.intersects_xy(shape, lons, lats)
    return [row for row, keep in zip(rows, inside.tolist(), strict=True) if keep]


def count_in(
    community: Community,
    shape: BaseGeometry,
    offences: Filter,
    start: dt.date,
    end: dt.date,
) -> int:
    """Incidents inside ``shape`` in the local-date period ``[start, end)``."""
    return len(
        incidents_in(community, shape, offences, start=start, end=end, fields=("pk", "lat", "lon"))
    )


def count_periods(
    community: Community,
    zones: Mapping[Any, BaseGeometry],
    offences: Filter,
    start: dt.date,
    split: dt.date,
    end: dt.date,
) -> dict[Any, list[int]]:
    """``[before, after]`` counts per zone for the local-date periods ``[start, split)``
    and ``[split, end)``: one query per period over the zones' joint bounding box, then
    a vectorised point-in-polygon test per zone."""
    shapes = {name: shape for name, shape in zones.items() if not shape.is_empty}
    result = {name: [0, 0] for name in zones}
    if not shapes:
        return result
    # The joint box of the zones' own boxes: a union of the shapes could drop slivers.
    bounds = [shape.bounds for shape in shapes.values()]
    joint = box(
        min(b[0] for b in bounds),
        min(b[1] for b in bounds),
        max(b[2] for b in bounds),
        max(b[3] for b in bounds),
    )
    for shape in shapes.values():
        shapely.prepare(shape)  # many points against one shape: index its edges once
    for index, (low, high) in enumerate(((start, split), (split, end))):
        if high <= low:
            continue
        # Coordinates only: no datetime column to convert row by row.
        rows = list(_candidates(community, joint, offences, low, high).values_list("lat", "lon"))
        if not rows:
            continue
        lats = np.fromiter((r[0] for r in rows), dtype=np.float64, count=len(rows))
        lons = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
        for name, shape in shapes.items():
            result[name][index] = int(shapely.intersects_xy(shape, lons, lats).sum())
    return result


def monthly(
    community: Community, shape: BaseGeometry, offences: Filter, *, months: int = 24
) -> list[tuple[dt.date, int]]:
    """Incidents inside ``shape`` per month for the ``months`` up to the latest data month.

    Months without incidents are listed with 0, so the trend has no gaps.
    """
    last = latest_month(community)
    if last is None:
        return []
    first = _add_months(last, -(months - 1))
    rows = incidents_in(
        community,
        shape,
        offences,
        start=first,
        end=_add_months(last, 1),
        fields=("pk", "lat", "lon", "local_month"),
    )
    return month_series([r[3] for r in rows], last, months)


def month_series(
    local_months: Iterable[dt.date], last: dt.date | None, months: int
) -> list[tuple[dt.date, int]]:
    """Counts of ``local_months`` for each of the ``months`` ending with ``last``."""
    if last is None:
        return []
    first = _add_months(last, -(months - 1))
    per_month = Counter(local_months)
    return [(m, per_month.get(m, 0)) for m in (_add_months(first, i) for i in range(months))]


def latest_month(community: Community) -> dt.date | None:
    """The first day of the latest month holding an incident of the community."""
    value = Incident.objects.filter(community=community).aggregate(m=Max("local_month"))["m"]
    return value if isinstance(value, dt.date) else None


def latest_incident_date(community: Community) -> dt.date | None:
    """The local date of the community's latest incident (how far the data reaches)."""
    value = Incident.objects.filter(community=community).aggregate(t=Max("occurred_from"))["t"]
    if value is None:
        return None
    return value.astimezone(ZoneInfo(community.timezone)).date()


def _add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)
