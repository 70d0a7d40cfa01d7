"""The concerns board in a real browser: the concerns are pinned on the map."""

from __future__ import annotations

from typing import Any

import pytest

from beacon.core.testing import make_world
from beacon.forums.testing import make_concern

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_concerns_are_pinned_on_the_board_map(live_server: Any, browser: Any) -> None:
    world = make_world()
    for title in ("Speeding on the school road", "Broken street light", "Graffiti on the bridge"):
        make_concern(world.community, title=title)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/c/{world.community.slug}/concerns/")
    # Three concerns at one point: clustered into one marker that says 3.
    page.wait_for_selector(".marker-cluster, .leaflet-marker-icon", timeout=10_000)
    assert errors == [], errors
    assert page.locator(".marker-cluster").first.inner_text().strip() == "3"
