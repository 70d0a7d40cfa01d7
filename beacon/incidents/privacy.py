"""Privacy-safe publication of incidents: k-site masking, sensitive offences, the
publication delay and small-count protection.

The rules (per community, :class:`~beacon.incidents.models.PublicationPolicy`):

1. **Masked points.** A published point is the centre of the smallest H3 cell
   (resolution 10 at the finest, :data:`MIN_POINT_RESOLUTION` at the coarsest) holding
   the true locations of at least ``k`` distinct sites of the community's incidents,
   so every point stands for at least ``k`` places. Incidents whose area is too thin
   for that are published without a location.
2. **Sensitive offences** (sexual offences, domestic violence, offences against
   children, mixed categories that contain them, and any group the community adds, or
   a row the source flags as domestic) are published only in community-wide counts:
   never with a cell or a neighbourhood.
3. **Delay.** Whole months are published once the month ended more than ``delay_days``
   ago; a record reported later is published once its report is that old. Publishing
   whole months also stops day-to-day snapshots from being subtracted.
4. **Small counts.** Every public figure is a sum over one fixed lattice of units
   (masked cell × neighbourhood × month × offence group). A unit with 3 or more
   incidents is published exactly. A unit with 1 or 2 is published as "fewer than 3"
   and contributes to sums a fixed draw of 1 or 2 from a keyed hash of the unit's
   identity, independent of its true count. Every figure, map, download and API answer
   is computed from these published unit values alone, so no combination of
   overlapping queries (date ranges, groups, zoom levels, areas) can tell a suppressed
   1 from a suppressed 2: the answers are the same in both cases. Sums whose lower
   bound is below 3 are shown as "fewer than N", never as a number.

The time-of-day table has its own lattice (month × group × weekday × 3-hour block),
treated the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from h3.api import basic_int as h3i

from beacon.core.jobs import enqueue_on_commit
from beacon.core.models import Community
from beacon.incidents.models import (
    Incident,
    IncidentStatus,
    PublicationPolicy,
    PublicRollup,
    PublicUnit,
    SiteCellCount,
)

SITE_RESOLUTION = 10
MIN_POINT_RESOLUTION = 6  # about 36 km²: coarser cells are not useful as map points
HEX_LEVELS = (6, 7, 8)
TOD_BLOCK_HOURS = 3  # the time-of-day lattice counts 3-hour blocks
TOD_SLOTS = 24 // TOD_BLOCK_HOURS
SMALL = 3  # counts below this are never published
# Share of 1s among the draws standing in for small units until a community's first
# publication fixes its own (see PublicationPolicy.draw_one_share).
DRAW_ONE_SHARE = 0.8

__all__ = [
    "HEX_LEVELS",
    "MIN_POINT_RESOLUTION",
    "PublicationResult",
    "cell_centre",
    "policy_for",
    "public_cell_for",
    "public_location",
    "public_since",
    "publication_due",
    "publication_filter",
    "publish_community",
    "refresh_site_counts",
]


def insert_rows(model: type[models.Model], columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert many rows with one ``executemany`` (values already in database form).

    The ORM's ``bulk_create`` builds a model instance per row; for the tens of
    thousands of rows a publication writes that costs more than the database does.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    # Identifiers come from model metadata, values are parameters.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 10_000):
            cursor.executemany(sql, rows[start : start + 10_000])


def policy_for(community: Community) -> PublicationPolicy:
    """The community's publication policy, created with the defaults on first use."""
    policy, _created = PublicationPolicy.objects.get_or_create(community=community)
    return policy


def cell_centre(cell: int) -> tuple[float, float]:
    """The (lat, lon) centre of an H3 cell, rounded to 6 decimals."""
    lat, lon = h3i.cell_to_latlng(cell)
    return round(lat, 6), round(lon, 6)


def refresh_site_counts(community: Community, k: int) -> dict[int, int]:
    """Recount distinct incident sites per H3 cell (resolutions 0 to 10) and store them,
    with each resolution-10 cell's masked cell for ``k`` sites.

    A site is a distinct true location; many incidents at one address count once.
    """
    per_r10: Counter[int] = Counter()
    sites = (
        Incident.objects.filter(community=community, cell__isnull=False)
        .order_by()  # the model's default ordering would make every row distinct
        .values_list("cell", "lat", "lon")
        .distinct()
    )
    for cell, _lat, _lon in sites.iterator(chunk_size=20_000):
        per_r10[int(cell or 0)] += 1
    counts: Counter[int] = Counter()
    for cell, n in per_r10.items():
        for res in range(SITE_RESOLUTION, -1, -1):
            counts[h3i.cell_to_parent(cell, res)] += n
    with transaction.atomic():
        SiteCellCount.objects.filter(community=community).delete()
        insert_rows(
            SiteCellCount,
            ["community_id", "cell", "sites", "public"],
            [
                (community.pk, c, n, _smallest_cell(c, counts, k) if c in per_r10 else 0)
                for c, n in counts.items()
            ],
        )
    return dict(counts)


def _smallest_cell(cell10: int, counts: dict[int, int], k: int) -> int:
    for res in range(SITE_RESOLUTION, MIN_POINT_RESOLUTION - 1, -1):
        candidate = h3i.cell_to_parent(cell10, res)
        if counts.get(candidate, 0) >= k:
            return int(candidate)
    return 0


def public_cell_for(community: Community, lat: float, lon: float) -> int:
    """The masked cell of a point, or 0 when no cell down to the coarsest has k sites."""
    policy = policy_for(community)
    cell10 = h3i.latlng_to_cell(lat, lon, SITE_RESOLUTION)
    ancestors = [h3i.cell_to_parent(cell10, r) for r in range(SITE_RESOLUTION, -1, -1)]
    counts = dict(
        SiteCellCount.objects.filter(community=community, cell__in=ancestors).values_list(
            "cell", "sites"
        )
    )
    return _smallest_cell(cell10, counts, policy.k_sites)


def public_location(community: Community, lat: float, lon: float) -> tuple[float, float]:
    """Where a point may be shown in public: never the point itself.

    The centre of the smallest H3 cell (resolution 10 or coarser) holding at least k
    distinct incident sites of the community; where the community has too little data
    for that, the centre of the resolution-6 cell (about 36 km²) holding the point.
    Uses the per-community site counts stored by each publication (one query).
    """
    cell = public_cell_for(community, lat, lon)
    if not cell:
        cell = h3i.latlng_to_cell(lat, lon, MIN_POINT_RESOLUTION)
    return cell_centre(cell)


def _draw_key() -> bytes:
    """The secret keying the draws (BLAKE2b in keyed mode is a MAC), from SECRET_KEY."""
    return hashlib.sha256(b"beacon-publication-draw:" + settings.SECRET_KEY.encode()).digest()


def _raw_rows(queryset: Any) -> Iterator[tuple[Any, ...]]:
    """Rows of a ``values()`` aggregate straight from the driver, in its column order.

    Publication reads one row per cell, neighbourhood, month and group; Django's
    per-row converters cost more than the database for those hundreds of thousands.
    """
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(20_000):
            yield from rows


_MONTH_TEXT: dict[Any, str] = {}


def _month_text(month: Any) -> str:
    """``YYYY-MM`` of a month as the driver returns it (text or date), memoised."""
    text = _MONTH_TEXT.get(month)
    if text is None:
        text = month[:7] if isinstance(month, str) else month.isoformat()[:7]
        if len(_MONTH_TEXT) < 10_000:
            _MONTH_TEXT[month] = text
    return text


def draw(community_id: int, unit: str, key: bytes, share_one: float = DRAW_ONE_SHARE) -> int:
    """The fixed stand-in (1 or 2) for a small unit: a keyed hash of its identity only."""
    digest = hashlib.blake2b(f"{community_id}|{unit}".encode(), key=key, digest_size=4).digest()
    return 1 if int.from_bytes(digest[:2], "big") < share_one * 65536 else 2


def published_value(
    community_id: int, unit: str, n: int, key: bytes, share_one: float = DRAW_ONE_SHARE
) -> tuple[int, bool]:
    """The published value of a unit with ``n`` incidents and whether it is small."""
    if n >= SMALL:
        return n, False
    return draw(community_id, unit, key, share_one), True


def _share_of_ones(counts: list[int]) -> float:
    """The share of 1s among small counts, rounded to 0.05 and kept within [0.5, 0.95]."""
    small = [n for n in counts if n < SMALL]
    if not small:
        return DRAW_ONE_SHARE
    share = sum(1 for n in small if n == 1) / len(small)
    return min(0.95, max(0.5, round(share * 20) / 20))


@dataclass
class PublicationResult:
    """What a publication run produced."""

    published_through: dt.date
    incidents: int
    units: int
    small_units: int
    points: int


def publication_cutoff(
    policy: PublicationPolicy, zone: dt.tzinfo, now: dt.datetime
) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """First unpublished month, its start as an instant, and the report cut-off."""
    latest = now - dt.timedelta(days=policy.delay_days)
    local = latest.astimezone(zone)
    month = dt.date(local.year, local.month, 1)
    start = dt.datetime(month.year, month.month, 1, tzinfo=zone)
    return month, start, latest


def publication_filter(policy: PublicationPolicy, zone: dt.tzinfo, as_of: dt.datetime) -> Q:
    """Which incidents the public data includes at ``as_of`` (rule 3, and not unfounded).

    The one definition of "public": publication builds the map, statistics and
    downloads from it, and public incident alerts go out for what it adds.
    """
    cutoff_month, cutoff_start, report_cutoff = publication_cutoff(policy, zone, as_of)
    return (
        Q(local_month__lt=cutoff_month)
        & ~Q(status=IncidentStatus.UNFOUNDED)
        & (Q(occurred_to__isnull=True) | Q(occurred_to__lte=cutoff_start))
        & (Q(reported_at__isnull=True) | Q(reported_at__lte=report_cutoff))
    )


def public_since(incident: Incident, policy: PublicationPolicy, zone: dt.tzinfo) -> dt.datetime:
    """When :func:`publication_filter` first includes ``incident`` (its delay has passed).

    The latest of: the end of its month, the month start after the end of its range,
    and its report, plus the delay.
    """
    month = incident.local_month
    after = dt.datetime(
        month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=zone
    ).astimezone(dt.UTC)
    if incident.occurred_to is not None:
        end = incident.occurred_to.astimezone(zone)
        start = dt.datetime(end.year, end.month, 1, tzinfo=zone)
        if start < end:  # mid-month: the next month start
            start = dt.datetime(end.year + end.month // 12, end.month % 12 + 1, 1, tzinfo=zone)
        after = max(after, start.astimezone(dt.UTC))
    if incident.reported_at is not None:
        after = max(after, incident.reported_at)
    return after + dt.timedelta(days=policy.delay_days)


def publication_due(community: Community, now: dt.datetime | None = None) -> bool:
    """Whether publishing now would include incidents the last publication left out
    because their delay had not passed (a month ending, late reports coming of age)."""
    now = now or timezone.now()
    policy = policy_for(community)
    zone = zoneinfo.ZoneInfo(community.timezone)
    if policy.published_at is None:
        return Incident.objects.filter(community=community).exists()
    if publication_cutoff(policy, zone, now)[0] != policy.published_through:
        return True
    return (
        Incident.objects.filter(community=community)
        .filter(publication_filter(policy, zone, now))
        .exclude(publication_filter(policy, zone, policy.published_at))
        .exists()
    )


def publish_community(community: Community, now: dt.datetime | None = None) -> PublicationResult:
    """Rebuild the community's public tables from its incidents under its policy.

    Once committed, public alerts go out for the incidents this publication made public
    (:mod:`beacon.notify.incidents`, through the worker).
    """
    now = now or timezone.now()
    policy = policy_for(community)
    zone = zoneinfo.ZoneInfo(community.timezone)
    cutoff_month = publication_cutoff(policy, zone, now)[0]
    refresh_site_counts(community, policy.k_sites)
    sensitive_groups = policy.sensitive_groups
    secret = _draw_key()
    cid = community.pk

    eligible = Incident.objects.filter(community=community).filter(
        publication_filter(policy, zone, now)
    )
    masked = SiteCellCount.objects.filter(community=community, cell=OuterRef("cell")).values(
        "public"
    )[:1]
    raw = (
        eligible.annotate(public=Coalesce(Subquery(masked), Value(0)))
        .values("public", "neighbourhood_id", "local_month", "offence_group", "sensitive")
        .annotate(n=Count("id"))
        .order_by()
    )
    # Unit -> incidents per neighbourhood; a mapped unit takes the neighbourhood most
    # of its incidents are in, so neighbourhood figures come from the same lattice.
    # Months stay as the driver returns them (text on SQLite, dates on PostgreSQL).
    units: dict[tuple[int, int | None, Any, str], Counter[int | None]] = defaultdict(Counter)
    total = 0
    for public, row_nbhd, month, group, sensitive, n in _raw_rows(raw):
        total += n
        if sensitive or group in sensitive_groups:
            units[(0, None, month, group)][None] += n
            continue
        public = int(public or 0)
        units[(public, None if public else row_nbhd, month, group)][row_nbhd] += n

    if policy.draw_one_share is None:
        policy.draw_one_share = _share_of_ones([sum(c.values()) for c in units.values()])
        policy.save(update_fields=["draw_one_share"])
    share = policy.draw_one_share
    unit_rows: list[tuple[object, ...]] = []
    rollups: dict[tuple[str, int, Any, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    cells: dict[int, tuple[float, float, list[tuple[str, int]]]] = {}
    small_total = 0
    for (cell, unmapped_nbhd, month, group), by_nbhd in units.items():
        n = sum(by_nbhd.values())
        nbhd = unmapped_nbhd
        if cell:
            nbhd = min(by_nbhd, key=lambda a: (-by_nbhd[a], a is None, a or 0))
        month_text = _month_text(month)
        identity = f"u|{cell}|{unmapped_nbhd}|{month_text}|{group}"
        value, small = published_value(cid, identity, n, secret, share)
        small_total += small
        lat: float | None = None
        lon: float | None = None
        hexes: list[tuple[str, int]] = []
        if cell:
            known = cells.get(cell)
            if known is None:
                res = h3i.get_resolution(cell)
                parents = [(f"h{d}", h3i.cell_to_parent(cell, min(d, res))) for d in HEX_LEVELS]
                known = cells[cell] = (*cell_centre(cell), parents)
            lat, lon, hexes = known
        unit_rows.append((cid, month, group, cell, nbhd, lat, lon, value, small))
        low = 1 if small else value
        keys: list[tuple[str, int]] = [("total", 0), *hexes]
        if nbhd is not None:
            keys.append(("nbhd", nbhd))
        for level, rollup_key in keys:
            acc = rollups[(level, rollup_key, month, group)]
            acc[0] += value
            acc[1] += low
            acc[2] += small

    tod = (
        eligible.filter(local_hour__isnull=False)
        .values("local_month", "offence_group", "local_weekday", "local_hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    # Time-of-day units are month × group × weekday × block of TOD_BLOCK_HOURS hours.
    tod_units: Counter[tuple[int, Any, str]] = Counter()
    for month, group, weekday, hour, n in _raw_rows(tod):
        tod_units[
            (int(weekday or 0) * TOD_SLOTS + int(hour or 0) // TOD_BLOCK_HOURS, month, group)
        ] += n
    for (slot, month, group), n in tod_units.items():
        identity = f"t|{slot}|{_month_text(month)}|{group}"
        value, small = published_value(cid, identity, n, secret, share)
        rollups[("tod", slot, month, group)] = [value, 1 if small else value, int(small)]

    with transaction.atomic():
        PublicUnit.objects.filter(community=community).delete()
        PublicRollup.objects.filter(community=community).delete()
        insert_rows(
            PublicUnit,
            [
                "community_id",
                "month",
                "group",
                "cell",
                "neighbourhood_id",
                "lat",
                "lon",
                "value",
                "small",
            ],
            unit_rows,
        )
        insert_rows(
            PublicRollup,
            ["community_id", "level", "key", "month", "group", "value", "low", "small_units"],
            [
                (cid, level, rollup_key, month, group, *acc)
                for (level, rollup_key, month, group), acc in rollups.items()
            ],
        )
        policy.published_through = cutoff_month
        policy.published_at = now
        policy.version += 1
        policy.save(update_fields=["published_through", "published_at", "version"])
    from beacon.incidents.tasks import alert_public_incidents

    enqueue_on_commit(alert_public_incidents, community.pk)
    return PublicationResult(
        published_through=cutoff_month,
        incidents=total,
        units=len(unit_rows),
        small_units=small_total,
        points=len(cells),
    )
