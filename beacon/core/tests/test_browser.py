"""The community map in a real browser: Leaflet loads from our static files, areas
are drawn, and the Content-Security-Policy blocks nothing of ours."""

from __future__ import annotations

from typing import Any

import pytest

from beacon.core.testing import NORTH_BOX, make_community

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser: Any) -> Any:
    return browser.new_page()


def test_community_map_draws_areas(live_server: Any, page: Any) -> None:
    make_community("north", NORTH_BOX)
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{live_server.url}/c/north/")
    page.wait_for_selector(".leaflet-interactive", timeout=10_000)
    # Beats are shown first (the kinds sort alphabetically and neighbourhoods always show).
    assert page.locator(".leaflet-interactive").count() == 4
    assert page.locator(".leaflet-control-layers-overlays input").count() == 2
    assert violations == [], violations
    page.select_option("#language-select", "fr")
    page.wait_for_selector("text=Quartiers et secteurs", timeout=10_000)
