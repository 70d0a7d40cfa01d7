"""A community's incidents as arrays for the analytics library.

Spatial analyses use the true locations (staff only) of mapped incidents, projected to
the UTM zone of the community's centre; counts by area (trend alerts) use every
incident with its neighbourhood and beat, mapped or not. Times are *local* wall-clock
days since the epoch, so a "calendar day" in the Knox test and a "week" in the forecast
are the community's own days. Unfounded incidents are left out.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import h3
import numpy as np
import numpy.typing as npt
from django.db import connection
from shapely.geometry import Point
from shapely.prepared import prep

from beacon.analytics.events import AnalysisInputError, Events
from beacon.analytics.io import project_lonlat, utm_crs_for
from beacon.core import geo
from beacon.core.models import Area, AreaCell, Community
from beacon.incidents.models import Incident, IncidentStatus

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
EPOCH = dt.date(1970, 1, 1)
_LOOKUP_CHUNK = 900  # cells per IN (...) query: under SQLite's parameter limit


def day_number(day: dt.date) -> float:
    """Days since 1970-01-01 of local midnight starting ``day`` (the frame's time unit)."""
    return float((day - EPOCH).days)


def day_of(number: float) -> dt.date:
    """The local calendar day holding time ``number`` (inverse of :func:`day_number`)."""
    return EPOCH + dt.timedelta(days=math.floor(number))


def community_crs(community: Community) -> str:
    """The projected CRS analyses of this community use: the UTM zone of its centre."""
    return utm_crs_for(community.centre_lon, community.centre_lat)


@dataclass(frozen=True)
class IncidentFrame:
    """Incidents of one community in a date range, as parallel arrays.

    ``lat``/``lon``/``x``/``y`` are NaN where the incident has no location
    (``mapped`` is False there).
    """

    community_id: int
    crs: str
    start: dt.date
    end: dt.date  # inclusive
    ids: IntArray
    days: FloatArray
    groups: npt.NDArray[np.str_]
    mapped: npt.NDArray[np.bool_]
    lat: FloatArray
    lon: FloatArray
    x: FloatArray
    y: FloatArray
    beat_ids: IntArray  # -1: no beat
    neighbourhood_ids: IntArray  # -1: no neighbourhood
    first_day: dt.date | None  # the community's first incident day (any group, any place)

    def __len__(self) -> int:
        return len(self.ids)

    def mask(
        self,
        groups: Sequence[str],
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> npt.NDArray[np.bool_]:
        """Rows of the given offence groups (all when empty) within ``start``..``end``."""
        keep = np.ones(len(self.ids), dtype=bool)
        if groups:
            keep &= np.isin(self.groups, list(groups))
        if start is not None:
            keep &= self.days >= day_number(start)
        if end is not None:
            keep &= self.days < day_number(end) + 1
        return keep

    def events(
        self,
        groups: Sequence[str],
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> Events:
        """The selected mapped incidents as library events (x/y metres, t local days)."""
        keep = self.mask(groups, start, end) & self.mapped
        return Events(
            x=self.x[keep],
            y=self.y[keep],
            t=self.days[keep],
            category=self.groups[keep],
            ids=self.ids[keep].astype(str),
        )


def load_frame(community: Community, start: dt.date, end: dt.date) -> IncidentFrame:
    """Read the community's incidents that occurred from ``start`` to ``end`` (local
    dates, inclusive)."""
    if end < start:
        raise AnalysisInputError(f"the data window ends ({end}) before it starts ({start})")
    zone = zoneinfo.ZoneInfo(community.timezone)
    since = dt.datetime.combine(start, dt.time(), tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    query = (
        Incident.objects.filter(
            community=community,
            occurred_from__gte=since,
            occurred_from__lt=until,
        )
        .exclude(status=IncidentStatus.UNFOUNDED)
        # A fixed order: seeded permutations (Knox) then give the same result every time.
        .order_by("id")
        .values_list(
            "id", "occurred_from", "offence_group", "lat", "lon", "beat_id", "neighbourhood_id"
        )
    )
    rows = list(_raw_rows(query))
    n = len(rows)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    days = local_days(np.fromiter((_utc_seconds(r[1]) for r in rows), np.float64, n), zone)
    groups = np.array([r[2] for r in rows], dtype=str) if n else np.array([], dtype=str)
    lat = np.fromiter((np.nan if r[3] is None else r[3] for r in rows), dtype=np.float64, count=n)
    lon = np.fromiter((np.nan if r[4] is None else r[4] for r in rows), dtype=np.float64, count=n)
    mapped = np.isfinite(lat) & np.isfinite(lon)
    beats = np.fromiter((r[5] if r[5] is not None else -1 for r in rows), dtype=np.int64, count=n)
    hoods = np.fromiter((r[6] if r[6] is not None else -1 for r in rows), dtype=np.int64, count=n)
    crs = community_crs(community)
    x = np.full(n, np.nan, dtype=np.float64)
    y = np.full(n, np.nan, dtype=np.float64)
    if mapped.any():
        x[mapped], y[mapped], crs = project_lonlat(lon[mapped], lat[mapped], crs)
    return IncidentFrame(
        community_id=community.pk,
        crs=crs,
        start=start,
        end=end,
        ids=ids,
        days=days,
        groups=groups,
        mapped=mapped,
        lat=lat,
        lon=lon,
        x=x,
        y=y,
        beat_ids=beats,
        neighbourhood_ids=hoods,
        first_day=first_incident_day(community),
    )


def _raw_rows(queryset: Any) -> Iterator[tuple[Any, ...]]:
    """Rows of a ``values_list()`` query straight from the driver.

    Django's per-row converters (time zones above all) cost more than the database for
    tens of thousands of incidents; :func:`_utc_seconds` reads the raw values instead.
    """
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(20_000):
            yield from batch


_NAIVE_EPOCH = dt.datetime(1970, 1, 1)


def _utc_seconds(value: Any) -> float:
    """Seconds since the epoch of a stored UTC time (aware, naive UTC, or ISO text)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return (value - _NAIVE_EPOCH).total_seconds()
    return float(value.timestamp())


def local_days(utc_seconds: FloatArray, zone: dt.tzinfo) -> FloatArray:
    """Local wall-clock days since the epoch for UTC times in seconds.

    The zone's offset is looked up once per quarter hour that occurs (offsets change
    on quarter hours at the finest), not once per incident.
    """
    if len(utc_seconds) == 0:
        return np.zeros(0, dtype=np.float64)
    buckets = np.floor(utc_seconds / 900.0).astype(np.int64)
    unique, inverse = np.unique(buckets, return_inverse=True)
    offsets = np.array(
        [
            dt.datetime.fromtimestamp(int(b) * 900, tz=zone).utcoffset().total_seconds()  # type: ignore[union-attr]
            for b in unique.tolist()
        ],
        dtype=np.float64,
    )
    return np.asarray((utc_seconds + offsets[inverse]) / 86400.0, dtype=np.float64)


def first_incident_day(community: Community) -> dt.date | None:
    """The local day of the community's earliest incident (None without incidents)."""
    first = (
        Incident.objects.filter(community=community)
        .order_by("occurred_from")
        .values_list("occurred_from", flat=True)
        .first()
    )
    if first is None:
        return None
    return first.astimezone(zoneinfo.ZoneInfo(community.timezone)).date()


def last_incident_day(community: Community) -> dt.date | None:
    """The local day of the community's latest incident (None without incidents)."""
    last = (
        Incident.objects.filter(community=community)
        .order_by("-occurred_from")
        .values_list("occurred_from", flat=True)
        .first()
    )
    if last is None:
        return None
    return last.astimezone(zoneinfo.ZoneInfo(community.timezone)).date()


def study_cells(community: Community, resolution: int) -> list[str] | None:
    """The H3 cells (hex strings) covering the community at ``resolution``.

    At the areas' own resolution these are the stored neighbourhood, beat and district
    covers; otherwise the cover of the community boundary. None when the community has
    neither (the analysis then uses the occupied cells and their neighbours).
    """
    if resolution == geo.H3_RESOLUTION:
        cells = (
            AreaCell.objects.filter(community=community)
            .order_by("cell")
            .values_list("cell", flat=True)
            .distinct()
        )
        found = [h3.int_to_str(int(c)) for c in cells]
        if found:
            return found
    if community.boundary:
        cover = geo.h3_cover(geo.parse_area_geometry(community.boundary), resolution)
        return sorted(h3.int_to_str(c) for c in cover.interior | cover.edge)
    return None


def areas_for_points(
    community: Community, kind: str, lats: Sequence[float], lons: Sequence[float]
) -> list[int | None]:
    """The id of the area of ``kind`` holding each point (None outside all of them).

    The bulk form of :func:`beacon.core.services.area_at`, with the same rule: interior
    cells answer at once, edge cells test the polygons, and a point on a shared edge
    goes to the area with the lower id.
    """
    cells = [geo.point_cell(la, lo) for la, lo in zip(lats, lons, strict=True)]
    by_cell: dict[int, list[tuple[int, bool]]] = {}
    unique = sorted(set(cells))
    for lo in range(0, len(unique), _LOOKUP_CHUNK):
        rows = AreaCell.objects.filter(
            community=community, kind=kind, cell__in=unique[lo : lo + _LOOKUP_CHUNK]
        ).values_list("cell", "area_id", "interior")
        for cell, area_id, interior in rows:
            by_cell.setdefault(int(cell), []).append((int(area_id), bool(interior)))
    shapes: dict[int, object] = {}
    out: list[int | None] = []
    for cell, lat, lon in zip(cells, lats, lons, strict=True):
        candidates = sorted(by_cell.get(cell, []))
        found: int | None = None
        for area_id, interior in candidates:
            if interior:
                found = area_id
                break
        if found is None:
            for area_id, _interior in candidates:
                if area_id not in shapes:
                    area = Area.objects.get(pk=area_id)
                    shapes[area_id] = prep(geo.parse_area_geometry(area.geometry))
                if shapes[area_id].covers(Point(lon, lat)):  # type: ignore[attr-defined]
                    found = area_id
                    break
        out.append(found)
    return out
