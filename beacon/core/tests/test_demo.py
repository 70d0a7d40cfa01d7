from __future__ import annotations

import time
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from beacon.core.demo import DEMO_USERS, VANCOUVER_FILE, build_demo, demo_users_table
from beacon.core.models import Area, Community, Membership
from beacon.core.services import area_at
from beacon.incidents.models import Incident

pytestmark = pytest.mark.django_db


def test_synthetic_fallback_without_the_data_folder(tmp_path: Path) -> None:
    result = build_demo(tmp_path)
    assert result.created and "synthetic" in result.notes[0]
    assert Area.objects.filter(community=result.community, kind="neighbourhood").count() == 24
    demo_emails = [email for email, _role, _name in DEMO_USERS]
    staff = Membership.objects.filter(community=result.community, user__email__in=demo_emails)
    assert staff.count() == len(DEMO_USERS)
    again = build_demo(tmp_path)
    assert not again.created


def test_vancouver_neighbourhoods_from_real_data() -> None:
    if not (settings.BEACON_DATA_DIR / VANCOUVER_FILE).exists():
        pytest.skip(f"real data not found under {settings.BEACON_DATA_DIR}")
    from beacon.core.demo import derive_vancouver_neighbourhoods

    started = time.monotonic()
    shapes = derive_vancouver_neighbourhoods(settings.BEACON_DATA_DIR / VANCOUVER_FILE)
    assert time.monotonic() - started < 30
    assert len(shapes) == 24
    assert all(shape.is_valid for shape in shapes.values())
    # Deterministic: the same file gives the same polygons.
    again = derive_vancouver_neighbourhoods(settings.BEACON_DATA_DIR / VANCOUVER_FILE)
    assert {k: v.wkt for k, v in shapes.items()} == {k: v.wkt for k, v in again.items()}


def test_demo_command_builds_vancouver_and_prints_users() -> None:
    if not (settings.BEACON_DATA_DIR / VANCOUVER_FILE).exists():
        pytest.skip(f"real data not found under {settings.BEACON_DATA_DIR}")
    out = StringIO()
    started = time.monotonic()
    call_command("demo", stdout=out)
    assert time.monotonic() - started < 60
    community = Community.objects.get(slug="demo")
    # Vancouver City Hall (W 12th Ave & Cambie St) is in Mount Pleasant's beat area.
    area = area_at(community, "neighbourhood", 49.2611, -123.1139)
    assert area is not None and area.name in {"Mount Pleasant", "Fairview", "South Cambie"}
    # Every neighbourhood answers for a point inside its own polygon.
    from beacon.core.geo import parse_area_geometry

    for area in Area.objects.filter(community=community, kind="neighbourhood"):
        inside = parse_area_geometry(area.geometry).representative_point()
        found = area_at(community, "neighbourhood", inside.y, inside.x)
        assert found is not None and found.pk == area.pk, area.name
    text = out.getvalue()
    for email, _role, password, secret in demo_users_table():
        assert email in text and password in text and secret in text
    # The documented command re-imports the demo's file without duplicating a row.
    incidents = Incident.objects.filter(community=community).count()
    assert incidents == 37_512
    call_command(
        "import_incidents",
        str(settings.BEACON_DATA_DIR / VANCOUVER_FILE),
        community="demo",
        fmt="vancouver",
        no_publish=True,
        verbosity=0,
        stdout=StringIO(),
    )
    assert Incident.objects.filter(community=community).count() == incidents
