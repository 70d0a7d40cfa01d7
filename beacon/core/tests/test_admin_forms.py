"""The admin refuses a community boundary that Beacon could not use."""

from __future__ import annotations

import json
from typing import Any

import pytest

from beacon.core.admin import CommunityAdminForm
from beacon.core.models import Organization
from beacon.core.services import community_boundary
from beacon.core.testing import NORTH_BOX, make_community

BOW_TIE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}


def _form(boundary: Any) -> CommunityAdminForm:
    organization = Organization.objects.create(name="Agency", slug="agency")
    return CommunityAdminForm(
        data={
            "organization": organization.pk,
            "name": "East",
            "slug": "east",
            "timezone": "UTC",
            "centre_lat": "49.27",
            "centre_lon": "-123.1",
            "default_zoom": "12",
            "boundary": json.dumps(boundary),
        }
    )


@pytest.mark.django_db
def test_a_self_intersecting_boundary_is_refused_with_the_reason() -> None:
    form = _form(BOW_TIE)
    assert not form.is_valid()
    assert "invalid geometry" in form.errors["boundary"][0]


@pytest.mark.django_db
def test_an_unclosed_ring_is_refused_naming_it() -> None:
    form = _form({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]})
    assert not form.is_valid()
    assert "not closed" in form.errors["boundary"][0]


@pytest.mark.django_db
def test_a_valid_boundary_is_saved_and_read_back() -> None:
    community = make_community("north", NORTH_BOX)
    boundary = community_boundary(community)
    assert boundary is not None and boundary.is_valid and boundary.area > 0
    form = _form(community.boundary)
    assert form.is_valid(), form.errors
