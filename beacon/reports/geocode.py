"""Typed addresses to points, behind the ``BEACON_GEOCODER`` setting.

The offline default ("incidents") matches the text against the community's own incident
block addresses (``12XX W 10TH AVE``): a typed house number is turned into its hundred
block, and the point returned is the mean of that block's incidents, rounded to about
100 m so it names a block, never a house. "none" turns typed addresses off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Avg, Count

from beacon.core.models import Community

MIN_QUERY = 3
_NUMBER = re.compile(r"^\s*(\d{1,6})\s*[A-Z]?\s+(.+)$")
_BLOCK = re.compile(r"^0*(\d+)XX\s+(.+)$")


@dataclass(frozen=True)
class Place:
    """A geocoder answer: a label to show and a point."""

    label: str
    lat: float
    lon: float


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^0-9A-Za-z ]", " ", text or "")).strip().upper()


def _incident_model() -> Any:
    try:
        return apps.get_model("incidents", "Incident")
    except LookupError:
        return None


def _geocode_incidents(community: Community, text: str, limit: int) -> list[Place]:
    model = _incident_model()
    if model is None:
        return []
    query = _clean(text)
    hundred: int | None = None
    street = query
    match = _NUMBER.match(query)
    if match:
        hundred = int(match.group(1)) // 100
        street = match.group(2)
    if len(street) < MIN_QUERY:
        return []
    rows = (
        model.objects.filter(community=community, block_address__icontains=street)
        .exclude(lat__isnull=True)
        .exclude(lon__isnull=True)
        .values("block_address")
        .annotate(lat_mean=Avg("lat"), lon_mean=Avg("lon"), n=Count("pk"))
        .order_by("-n")[:200]
    )
    scored: list[tuple[int, int, Place]] = []
    for row in rows:
        label = str(row["block_address"])
        block = _BLOCK.match(label.upper())
        exact = 0
        if hundred is not None:
            if block is None or int(block.group(1)) != hundred:
                continue
            exact = 1
        place = Place(label, round(float(row["lat_mean"]), 3), round(float(row["lon_mean"]), 3))
        scored.append((exact, int(row["n"]), place))
    scored.sort(key=lambda item: (-item[0], -item[1], item[2].label))
    return [place for _exact, _n, place in scored[:limit]]


def geocode(community: Community, text: str, limit: int = 5) -> list[Place]:
    """Places in ``community`` matching ``text``, best first (empty when none match)."""
    if not text or len(text.strip()) < MIN_QUERY:
        return []
    backend = settings.BEACON_GEOCODER
    if backend == "incidents":
        return _geocode_incidents(community, text, limit)
    return []
