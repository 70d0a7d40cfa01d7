"""Test support for reports: access-matrix factories and a ready-made category set."""

from __future__ import annotations

from typing import Any

from django.db import models

from beacon.core.models import Community
from beacon.core.testing import World, access_factory
from beacon.reports import services
from beacon.reports.models import (
    Category,
    Open311Key,
    Privacy,
    Question,
    Report,
    ReportPhoto,
    ReportUpdate,
    Visibility,
)
from beacon.reports.open311 import create_key

GRAFFITI_QUESTIONS: list[dict[str, Any]] = [
    {
        "code": "surface",
        "prompt": "What is it on?",
        "datatype": "singlevaluelist",
        "required": True,
        "choices": [
            {"key": "wall", "name": "A wall"},
            {"key": "sign", "name": "A sign"},
            {"key": "vehicle", "name": "A vehicle"},
        ],
    },
    {"code": "offensive", "prompt": "Is it offensive?", "datatype": "string", "required": False},
    {
        "code": "colours",
        "prompt": "Colours",
        "datatype": "multivaluelist",
        "required": False,
        "choices": [{"key": "red", "name": "Red"}, {"key": "black", "name": "Black"}],
    },
    {"code": "size_m", "prompt": "Roughly how wide (m)?", "datatype": "number", "required": False},
    {
        "code": "seen_at",
        "prompt": "When did you see it?",
        "datatype": "datetime",
        "required": False,
    },
    {"code": "notes", "prompt": "Anything else?", "datatype": "text", "required": False},
]


def make_categories(community: Community) -> dict[str, Category]:
    """A public graffiti category with every datatype, and a staff-only drug category."""
    graffiti = services.save_category(
        community,
        "graffiti",
        name="Vandalism and graffiti",
        privacy=Privacy.PUBLIC,
        response_hours=48,
        group="property",
        questions=GRAFFITI_QUESTIONS,
    )
    drugs = services.save_category(
        community,
        "drugs",
        name="Drug activity",
        privacy=Privacy.STAFF,
        response_hours=24,
        questions=[{"code": "vehicle", "prompt": "Vehicle involved?", "datatype": "string"}],
    )
    return {"graffiti": graffiti, "drugs": drugs}


def file(community: Community, **overrides: Any) -> services.Filed:
    """File a valid graffiti report in the west half of the test community."""
    data: dict[str, Any] = {
        "category": "graffiti",
        "description": "Tag on the side of the community hall.",
        "lat": 49.27,
        "lon": -123.13,
        "answers": {"surface": "wall"},
    }
    data.update(overrides)
    return services.file_report(community, services.Submission(**data))


def _report(community: Community) -> Report:
    if not Category.objects.filter(community=community).exists():
        make_categories(community)
    west, south, east, north = _bbox(community)
    return file(community, lat=(south + north) / 2, lon=west + (east - west) / 4).report


def _bbox(community: Community) -> tuple[float, float, float, float]:
    ring = community.boundary["coordinates"][0]
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    return min(lons), min(lats), max(lons), max(lats)


@access_factory(Category)
def _category(community: Community, world: World) -> models.Model:
    return make_categories(community)["graffiti"]


@access_factory(Question)
def _question(community: Community, world: World) -> models.Model:
    return make_categories(community)["graffiti"].questions.all()[0]


@access_factory(Report)
def _access_report(community: Community, world: World) -> models.Model:
    return _report(community)


@access_factory(ReportPhoto)
def _photo(community: Community, world: World) -> models.Model:
    report = _report(community)
    return ReportPhoto.objects.create(
        community=community,
        report=report,
        image="reports/x.jpg",
        content_type="image/jpeg",
        width=1,
        height=1,
        size=1,
    )


@access_factory(ReportUpdate)
def _update(community: Community, world: World) -> models.Model:
    report = _report(community)
    return ReportUpdate.objects.create(
        community=community, report=report, kind="update", visibility=Visibility.PUBLIC, body="x"
    )


@access_factory(Open311Key)
def _open311_key(community: Community, world: World) -> models.Model:
    return create_key(community, "Partner app")[0]
