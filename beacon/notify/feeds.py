"""Which public alerts an Atom feed lists: the community's, or one area's."""

from __future__ import annotations

from shapely.geometry import Point
from shapely.prepared import prep

from beacon.core import geo
from beacon.core.models import Area, AreaCell, Community
from beacon.notify.models import AlertEvent

FEED_SIZE = 50


def public_events(community: Community, area: Area | None = None) -> list[AlertEvent]:
    """The latest public events, newest first; for an area, those in or over it.

    Point events are found through the area's H3 cells (one indexed query); those in
    edge cells and area events (broadcasts) get an exact test.
    """
    events = AlertEvent.objects.filter(community=community, public=True).order_by(
        "-created_at", "-pk"
    )
    if area is None:
        return list(events[:FEED_SIZE])
    cells = AreaCell.objects.filter(area=area)
    interior = set(cells.filter(interior=True).values_list("cell", flat=True))
    shape = prep(geo.parse_area_geometry(area.geometry))
    found: list[AlertEvent] = []
    by_point = events.filter(cell__in=cells.values("cell"))[: FEED_SIZE * 2]
    for event in by_point:
        if event.cell in interior or shape.covers(Point(event.lon, event.lat)):
            found.append(event)
    for event in events.filter(cell__isnull=True)[: FEED_SIZE * 2]:
        if event.geometry and shape.intersects(geo.parse_area_geometry(event.geometry)):
            found.append(event)
    found.sort(key=lambda e: (e.created_at, e.pk), reverse=True)
    return found[:FEED_SIZE]
