"""The dashboards' maps in a real browser: layers are drawn from the stored runs and the
Content-Security-Policy blocks nothing of ours."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
from django.test import Client

from beacon.core.roles import Role
from beacon.core.testing import make_world, verified_login
from beacon.insights.models import RunKind
from beacon.insights.testing import SEED_END, seed_incidents
from beacon.insights.tests.test_pages import computed
from beacon.insights.zones import refresh_risk_zones

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_maps_draw_their_layers(live_server: Any, browser: Any) -> None:
    world = make_world()
    community = world.community
    seed_incidents(community)
    for kind, groups in ((RunKind.GI, []), (RunKind.KDE, []), (RunKind.KNOX, ["burglary"])):
        computed(community, kind, groups, **({"permutations": 49} if kind == RunKind.KNOX else {}))
    computed(community, RunKind.FORECAST, ["burglary", "vehicle"], method="naive")
    refresh_risk_zones(community, SEED_END)

    client = Client()
    verified_login(client, world.members[Role.OFFICER])
    context = browser.new_context()
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "domain": urlparse(live_server.url).hostname,
                "path": "/",
            }
        ]
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{live_server.url}/c/north/insights/hotspots/")
    page.wait_for_selector(".leaflet-control-layers-overlays input", timeout=15_000)
    assert page.locator(".leaflet-control-layers-overlays input").count() == 2  # Gi* and KDE
    assert page.locator("path.leaflet-interactive").count() > 50

    page.goto(f"{live_server.url}/c/north/insights/near-repeat/")
    page.wait_for_selector("path.leaflet-interactive", timeout=15_000)
    circles = page.locator("path.leaflet-interactive").count()
    assert circles == page.locator("table.zones tbody tr").count()

    page.goto(f"{live_server.url}/c/north/insights/forecast/")
    page.wait_for_selector(".leaflet-control-layers-overlays input", timeout=15_000)
    assert page.locator("path.leaflet-interactive").count() > 5
    assert problems == [], problems
