"""Template context every page needs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def beacon(request: HttpRequest) -> dict[str, Any]:
    """Map settings the page scripts read from data attributes."""
    return {
        "map_tile_url": settings.BEACON_MAP_TILE_URL,
        "map_attribution": settings.BEACON_MAP_ATTRIBUTION,
    }
