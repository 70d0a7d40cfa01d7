"""Demo alerts: the demo resident follows burglaries within 500 m of an address in
Kitsilano, by email (the console backend prints it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from beacon.core.geo import parse_area_geometry
from beacon.core.models import Area, AreaKind, Community, User
from beacon.notify import services
from beacon.notify.models import CoverKind, Topic

ADDRESS = "2100 W 4TH AVE"


def demo_home(community: Community) -> tuple[float, float, str]:
    """The demo resident's home: a typed address when the geocoder knows it, else a point
    inside Kitsilano (or the community's centre)."""
    places = []
    try:
        from beacon.reports.geocode import geocode

        places = geocode(community, ADDRESS, limit=1)
    except ImportError:
        pass
    if places:
        return places[0].lat, places[0].lon, places[0].label
    area = Area.objects.filter(
        community=community, kind=AreaKind.NEIGHBOURHOOD, name="Kitsilano"
    ).first()
    if area is not None:
        point = parse_area_geometry(area.geometry).representative_point()
        return round(point.y, 6), round(point.x, 6), "Kitsilano"
    return community.centre_lat, community.centre_lon, community.name


def build_demo(community: Community, data_dir: Path, progress: Callable[[str], None]) -> None:
    """The resident's burglary alert subscription."""
    resident = User.objects.filter(email="resident@demo.beacon").first()
    if resident is None:
        return
    lat, lon, label = demo_home(community)
    services.subscribe(
        community,
        resident,
        services.SubscriptionRequest(
            area_kind=CoverKind.RADIUS,
            topics=[Topic.INCIDENT, Topic.BROADCAST, Topic.REPORT_UPDATE],
            offence_groups=["burglary"],
            lat=lat,
            lon=lon,
            radius_m=500,
            address=label,
        ),
    )
    progress(f"resident@demo.beacon follows burglaries within 500 m of {label} ({lat}, {lon})")
