"""The public service layer: everything the public sees about incidents comes from here.

It reads only the published tables (``PublicUnit``, ``PublicRollup``) that
:mod:`beacon.incidents.privacy` builds, never ``Incident``, so no true location,
sensitive detail or unpublished month can reach a page, a download or the API.
Every figure goes through :func:`figure`, which turns published sums into what may be
shown ("fewer than 3" and friends).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Max, Min, Q, Sum, Value, When
from django.utils.translation import gettext as _
from h3.api import basic_int as h3i

from beacon.core.models import Area, AreaKind, Community
from beacon.incidents import taxonomy
from beacon.incidents.models import PublicationPolicy, PublicRollup, PublicUnit
from beacon.incidents.privacy import HEX_LEVELS, MIN_POINT_RESOLUTION, SMALL, policy_for

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_POINTS = 5000


class QueryError(ValueError):
    """A public query parameter is not acceptable; the message says which."""


@dataclass(frozen=True)
class Figure:
    """A published count as it may be shown."""

    value: int | None  # None when suppressed
    low: int
    high: int
    label: str

    @property
    def suppressed(self) -> bool:
        return self.value is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.value,
            "suppressed": self.suppressed,
            "low": self.low,
            "high": self.high,
            "label": self.label,
        }


def figure(value: int, low: int, small_units: int) -> Figure:
    """What may be shown for a sum of published units.

    ``low`` is the sure lower bound (exact units plus one per small unit) and each
    small unit may add one more. Whenever the true sum could be 1 or 2 nothing but
    "fewer than N" is shown; otherwise the published sum.
    """
    high = low + small_units
    if value == 0 and low == 0:
        return Figure(0, 0, 0, "0")
    if low < SMALL:
        return Figure(None, low, high, _("fewer than %(n)d") % {"n": max(SMALL, high + 1)})
    return Figure(value, low, high, f"{value:,}")


@dataclass(frozen=True)
class PublicQuery:
    """Validated public filters: a month range and offence groups."""

    first: dt.date
    last: dt.date
    groups: tuple[str, ...]

    def months(self) -> list[dt.date]:
        result = []
        month = self.first
        while month <= self.last:
            result.append(month)
            month = _add_months(month, 1)
        return result

    def shifted(self, months: int) -> PublicQuery:
        return PublicQuery(
            _add_months(self.first, months), _add_months(self.last, months), self.groups
        )


def _add_months(value: dt.date, months: int) -> dt.date:
    index = value.year * 12 + value.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def parse_month(text: str, name: str) -> dt.date:
    """``YYYY-MM`` to the first day of that month."""
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise QueryError(f"{name} must be a month written YYYY-MM, not {text!r}")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


@dataclass(frozen=True)
class Publication:
    """What a community has published: its months, groups and policy."""

    community: Community
    policy: PublicationPolicy
    first_month: dt.date | None
    last_month: dt.date | None

    @property
    def map_groups(self) -> list[taxonomy.Group]:
        """Groups that may be mapped (not sensitive for this community)."""
        return taxonomy.public_groups(self.policy.sensitive_groups)

    @property
    def all_groups(self) -> list[taxonomy.Group]:
        return list(taxonomy.GROUPS.values())

    def query(
        self,
        first: str | None = None,
        last: str | None = None,
        groups: Iterable[str] | None = None,
        *,
        mapped_only: bool = True,
        default_months: int = 12,
    ) -> PublicQuery:
        """Validate filters; by default the last 12 published months, every group."""
        allowed = [g.code for g in (self.map_groups if mapped_only else self.all_groups)]
        chosen = tuple(g for g in (groups or []) if g)
        unknown = [g for g in chosen if g not in allowed]
        if unknown:
            raise QueryError(
                f"unknown or unpublished offence group(s) {', '.join(sorted(unknown))}; "
                f"use {', '.join(allowed)}"
            )
        latest = self.last_month or dt.date.today().replace(day=1)
        end = parse_month(last, "to") if last else latest
        start = parse_month(first, "from") if first else _add_months(end, -(default_months - 1))
        if start > end:
            raise QueryError("the 'from' month is after the 'to' month")
        if (end.year - start.year) * 12 + end.month - start.month > 240:
            raise QueryError("choose at most 20 years at a time")
        return PublicQuery(start, end, chosen or tuple(allowed))


def publication(community: Community) -> Publication:
    """The community's publication state."""
    policy = policy_for(community)
    span = PublicRollup.objects.filter(community=community, level="total").aggregate(
        first=Min("month"), last=Max("month")
    )
    return Publication(community, policy, span["first"], span["last"])


def _rollups(community: Community, level: str, query: PublicQuery) -> Any:
    return PublicRollup.objects.filter(
        community=community,
        level=level,
        month__gte=query.first,
        month__lte=query.last,
        group__in=query.groups,
    )


def hexagons(community: Community, resolution: int, query: PublicQuery) -> list[dict[str, Any]]:
    """GeoJSON features: one H3 hexagon per published cell at ``resolution``."""
    if resolution not in HEX_LEVELS:
        raise QueryError(f"resolution must be one of {', '.join(map(str, HEX_LEVELS))}")
    rows = (
        _rollups(community, f"h{resolution}", query)
        .values("key")
        .annotate(value=Sum("value"), low=Sum("low"), small=Sum("small_units"))
        .order_by("key")
    )
    features = []
    for row in rows:
        shown = figure(row["value"], row["low"], row["small"])
        cell = int(row["key"])
        features.append(
            {
                "type": "Feature",
                "id": h3i.int_to_str(cell),
                "geometry": _hexagon(cell),
                "properties": {"cell": h3i.int_to_str(cell), **shown.as_dict()},
            }
        )
    return features


_HEX_CACHE: dict[int, dict[str, Any]] = {}


def _hexagon(cell: int) -> dict[str, Any]:
    shape = _HEX_CACHE.get(cell)
    if shape is None:
        ring = [[round(lon, 6), round(lat, 6)] for lat, lon in h3i.cell_to_boundary(cell)]
        ring.append(ring[0])
        shape = {"type": "Polygon", "coordinates": [ring]}
        if len(_HEX_CACHE) < 200_000:
            _HEX_CACHE[cell] = shape
    return shape


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``west,south,east,north`` in degrees."""
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise QueryError("bbox must be west,south,east,north in degrees") from None
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise QueryError("bbox is outside WGS84 bounds")
    return west, south, east, north


def points(
    community: Community,
    query: PublicQuery,
    bbox: tuple[float, float, float, float] | None = None,
) -> list[dict[str, Any]]:
    """GeoJSON features: one masked point per published cell, with counts by group."""
    units = PublicUnit.objects.filter(
        community=community,
        month__gte=query.first,
        month__lte=query.last,
        group__in=query.groups,
        cell__gt=0,
    )
    if bbox is not None:
        west, south, east, north = bbox
        units = units.filter(lat__gte=south, lat__lte=north, lon__gte=west, lon__lte=east)
    rows = (
        units.values("cell", "lat", "lon", "group")
        .annotate(
            total=Sum("value"),
            low=Sum(
                Case(
                    When(small=True, then=Value(1)),
                    default=F("value"),
                    output_field=IntegerField(),
                )
            ),
            small_units=Count("id", filter=Q(small=True)),
        )
        .order_by()
    )
    by_cell: dict[int, dict[str, Any]] = {}
    for row in rows:
        cell = int(row["cell"])
        entry = by_cell.setdefault(
            cell, {"lat": row["lat"], "lon": row["lon"], "groups": {}, "sums": [0, 0, 0]}
        )
        entry["groups"][row["group"]] = figure(row["total"], row["low"], row["small_units"])
        sums = entry["sums"]
        sums[0] += row["total"]
        sums[1] += row["low"]
        sums[2] += row["small_units"]
    features = []
    for cell, entry in sorted(by_cell.items())[:MAX_POINTS]:
        total = figure(*entry["sums"])
        features.append(
            {
                "type": "Feature",
                "id": h3i.int_to_str(cell),
                "geometry": {"type": "Point", "coordinates": [entry["lon"], entry["lat"]]},
                "properties": {
                    "cell": h3i.int_to_str(cell),
                    "resolution": h3i.get_resolution(cell),
                    **total.as_dict(),
                    "groups": {g: f.as_dict() for g, f in sorted(entry["groups"].items())},
                },
            }
        )
    return features


def unit_rows(community: Community, query: PublicQuery) -> Iterator[dict[str, Any]]:
    """The published units themselves: the open-data table behind every figure."""
    names = dict(
        Area.objects.filter(community=community, kind=AreaKind.NEIGHBOURHOOD).values_list(
            "pk", "name"
        )
    )
    units = (
        PublicUnit.objects.filter(
            community=community,
            month__gte=query.first,
            month__lte=query.last,
            group__in=query.groups,
        )
        .order_by("month", "group", "cell", "neighbourhood_id")
        .values("month", "group", "cell", "lat", "lon", "neighbourhood_id", "value", "small")
    )
    for unit in units.iterator(chunk_size=5000):
        shown = figure(unit["value"], 1 if unit["small"] else unit["value"], int(unit["small"]))
        cell = int(unit["cell"])
        yield {
            "month": f"{unit['month']:%Y-%m}",
            "offence_group": unit["group"],
            "offence_group_label": taxonomy.GROUPS[unit["group"]].label,
            "cell": h3i.int_to_str(cell) if cell else "",
            "cell_resolution": h3i.get_resolution(cell) if cell else None,
            "lat": unit["lat"],
            "lon": unit["lon"],
            "neighbourhood": names.get(unit["neighbourhood_id"], ""),
            "count": shown.value,
            "suppressed": shown.suppressed,
            "label": shown.label,
        }


def zoom_layer(zoom: int) -> tuple[str, int]:
    """Which layer the public map shows at a Leaflet zoom: hexagons or points."""
    if zoom <= 11:
        return "hexagons", 6 if zoom <= 10 else 7
    if zoom <= 13:
        return "hexagons", 8
    return "points", 0


def metadata(pub: Publication) -> dict[str, Any]:
    """The data dictionary and the masking method, for downloads and the API."""
    policy = pub.policy
    return {
        "community": pub.community.slug,
        "published_through": (f"{pub.last_month:%Y-%m}" if pub.last_month else None),
        "first_month": f"{pub.first_month:%Y-%m}" if pub.first_month else None,
        "published_at": policy.published_at.isoformat() if policy.published_at else None,
        "method": {
            "unit": "masked cell × month × offence group (unmapped units by neighbourhood)",
            "masked_points": (
                f"Each point is the centre of the smallest H3 cell (resolution 10 at the "
                f"finest, {MIN_POINT_RESOLUTION} at the coarsest) that holds the true "
                f"locations of at least {policy.k_sites} distinct sites in the community's "
                "records; no published point is a true location."
            ),
            "k_sites": policy.k_sites,
            "publication_delay_days": policy.delay_days,
            "delay_rule": (
                "A month is published once it ended more than the delay ago; a record "
                "reported later waits until its report is that old."
            ),
            "sensitive_groups": sorted(policy.sensitive_groups),
            "sensitive_rule": (
                "Offences in sensitive groups (and rows the source flags as domestic) are "
                "counted community-wide only: never mapped, never with a cell or a "
                "neighbourhood."
            ),
            "small_counts": (
                "A unit with 1 or 2 incidents is published as 'fewer than 3'. In sums it "
                "counts as a fixed draw of 1 or 2 that does not depend on its true count, "
                "so overlapping queries cannot recover it; 'low' and 'high' bound the true "
                "sum, and sums that could be below 3 are shown as 'fewer than N'."
            ),
        },
        "dictionary": DATA_DICTIONARY,
        "offence_groups": [
            {"code": g.code, "label": g.label, "sensitive": g.code in policy.sensitive_groups}
            for g in taxonomy.GROUPS.values()
        ],
        "offences": [
            {
                "code": o.code,
                "label": o.label,
                "group": o.group,
                "nibrs_code": o.nibrs_code,
                "nibrs_category": o.nibrs_category,
                "nibrs_group": o.nibrs_group,
            }
            for o in taxonomy.OFFENCES.values()
        ],
        "licence": "Open data: free to reuse with attribution to the publishing agency.",
    }


DATA_DICTIONARY: dict[str, str] = {
    "month": "Month the incidents occurred (YYYY-MM, community time zone).",
    "offence_group": "Beacon offence group code (see offence_groups).",
    "offence_group_label": "Offence group name.",
    "cell": "H3 cell of the masked location (empty: published without a location).",
    "cell_resolution": "Resolution of that H3 cell (6 to 10; finer is smaller).",
    "lat": "Latitude of the masked point: the centre of the cell (WGS84).",
    "lon": "Longitude of the masked point: the centre of the cell (WGS84).",
    "neighbourhood": "Neighbourhood the unit's incidents are mostly in (empty if none).",
    "count": "Number of incidents; empty when suppressed.",
    "suppressed": "True when the unit holds 1 or 2 incidents (shown as 'fewer than 3').",
    "label": "The figure as shown on the map.",
}
