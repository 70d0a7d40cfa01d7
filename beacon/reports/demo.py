"""Demo data for reports: the default categories, sample reports and an Open311 key.

Beat officers come from the officers app's demo.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from beacon.core.geo import parse_area_geometry
from beacon.core.models import Area, AreaKind, Community, User
from beacon.reports import services
from beacon.reports.models import Privacy, Report, Status, Visibility
from beacon.reports.open311 import create_key

WHEN = {"code": "seen_at", "prompt": "When did you see it?", "datatype": "datetime"}

DEFAULT_CATEGORIES: list[dict[str, Any]] = [
    {
        "code": "suspicious",
        "name": "Suspicious activity",
        "description": (
            "Something that does not look right: people checking car doors, casing houses."
        ),
        "privacy": Privacy.STAFF,
        "response_hours": 24,
        "group": "crime",
        "questions": [
            WHEN,
            {"code": "people", "prompt": "How many people?", "datatype": "number"},
            {
                "code": "description_people",
                "prompt": "What did they look like or wear?",
                "datatype": "text",
            },
            {"code": "vehicle", "prompt": "Vehicle (make, colour, plate)", "datatype": "string"},
        ],
    },
    {
        "code": "drugs",
        "name": "Drug activity",
        "description": "Dealing, use in public places, discarded needles.",
        "privacy": Privacy.STAFF,
        "response_hours": 48,
        "group": "crime",
        "questions": [
            WHEN,
            {
                "code": "pattern",
                "prompt": "How often does it happen?",
                "datatype": "singlevaluelist",
                "required": True,
                "choices": [
                    {"key": "once", "name": "Once"},
                    {"key": "weekly", "name": "Every week"},
                    {"key": "daily", "name": "Every day"},
                ],
            },
            {
                "code": "times",
                "prompt": "At what times of day?",
                "datatype": "multivaluelist",
                "choices": [
                    {"key": "morning", "name": "Morning"},
                    {"key": "afternoon", "name": "Afternoon"},
                    {"key": "evening", "name": "Evening"},
                    {"key": "night", "name": "Night"},
                ],
            },
        ],
    },
    {
        "code": "graffiti",
        "name": "Vandalism and graffiti",
        "description": "Tags, broken windows, damaged property.",
        "privacy": Privacy.PUBLIC,
        "response_hours": 72,
        "group": "property",
        "keywords": "tag, paint, damage, broken window",
        "service_notice": "We aim to have offensive graffiti removed within 48 hours.",
        "questions": [
            {
                "code": "surface",
                "prompt": "What is damaged?",
                "datatype": "singlevaluelist",
                "required": True,
                "choices": [
                    {"key": "building", "name": "A building or wall"},
                    {"key": "street", "name": "Street furniture or a sign"},
                    {"key": "vehicle", "name": "A vehicle"},
                    {"key": "other", "name": "Something else"},
                ],
            },
            {"code": "offensive", "prompt": "Is it offensive or hateful?", "datatype": "string"},
        ],
    },
    {
        "code": "theft",
        "name": "Theft",
        "description": "Something was stolen. For insurance, also report it to the police.",
        "privacy": Privacy.STAFF,
        "response_hours": 48,
        "group": "crime",
        "questions": [
            WHEN,
            {
                "code": "item",
                "prompt": "What was taken?",
                "datatype": "singlevaluelist",
                "required": True,
                "choices": [
                    {"key": "bicycle", "name": "Bicycle"},
                    {"key": "vehicle", "name": "Vehicle or something from it"},
                    {"key": "package", "name": "Package"},
                    {"key": "other", "name": "Something else"},
                ],
            },
            {"code": "value", "prompt": "Approximate value ($)", "datatype": "number"},
        ],
    },
    {
        "code": "noise",
        "name": "Noise and disorder",
        "description": "Loud parties, fights, people gathering and causing trouble.",
        "privacy": Privacy.PUBLIC,
        "response_hours": 24,
        "group": "disorder",
        "questions": [WHEN],
    },
    {
        "code": "lighting",
        "name": "Street lighting and environment",
        "description": (
            "Broken street lights, overgrown paths and dumped rubbish that make a place "
            "feel unsafe."
        ),
        "privacy": Privacy.PUBLIC,
        "response_hours": 120,
        "group": "environment",
        "keywords": "light, lamp, dark, rubbish, dumping",
        "questions": [
            {
                "code": "problem",
                "prompt": "What is the problem?",
                "datatype": "singlevaluelist",
                "required": True,
                "choices": [
                    {"key": "light_out", "name": "Street light out"},
                    {"key": "overgrown", "name": "Overgrown path or hedge"},
                    {"key": "dumping", "name": "Dumped rubbish"},
                ],
            }
        ],
    },
    {
        "code": "traffic",
        "name": "Traffic safety",
        "description": "Speeding, dangerous driving, unsafe crossings.",
        "privacy": Privacy.PUBLIC,
        "response_hours": 120,
        "group": "traffic",
        "questions": [
            {
                "code": "times",
                "prompt": "When is it worst?",
                "datatype": "multivaluelist",
                "choices": [
                    {"key": "school", "name": "School run"},
                    {"key": "rush", "name": "Rush hour"},
                    {"key": "night", "name": "At night"},
                ],
            }
        ],
    },
    {
        "code": "other",
        "name": "Other",
        "description": "Anything else the community policing team should know.",
        "privacy": Privacy.STAFF,
        "response_hours": 72,
        "group": "other",
        "questions": [],
    },
]

SAMPLES: list[dict[str, Any]] = [
    {
        "category": "graffiti",
        "description": "Large tag sprayed across the bus shelter overnight.",
        "answers": {"surface": "street"},
        "days_ago": 2,
        "status": Status.ACKNOWLEDGED,
        "public_update": "Thanks — the city's graffiti crew has been asked to clean this up.",
    },
    {
        "category": "lighting",
        "description": "Two street lights out on the lane behind the shops; very dark after 6 pm.",
        "answers": {"problem": "light_out"},
        "days_ago": 9,
        "status": Status.RESOLVED,
        "public_update": "The lights were repaired by the city on Tuesday.",
    },
    {
        "category": "traffic",
        "description": "Cars speed past the school crossing every morning.",
        "answers": {"times": ["school", "rush"]},
        "days_ago": 1,
        "status": Status.NEW,
    },
    {
        "category": "noise",
        "description": "Groups gathering in the park late at night, shouting and breaking bottles.",
        "answers": {},
        "days_ago": 4,
        "status": Status.NEW,  # past its 24-hour target: shows as overdue
    },
    {
        "category": "drugs",
        "description": "Regular hand-to-hand exchanges by the laneway behind the corner store.",
        "answers": {"pattern": "daily", "times": ["evening", "night"]},
        "days_ago": 3,
        "status": Status.IN_PROGRESS,
        "contact_email": "resident@demo.beacon",
    },
    {
        "category": "suspicious",
        "description": "Someone trying car door handles along the block around 2 am.",
        "answers": {"people": 1},
        "days_ago": 0,
        "status": Status.NEW,
    },
]


def _points(community: Community, count: int) -> list[tuple[float, float]]:
    """Points well inside the community: one per beat, cycling."""
    beats = list(Area.objects.filter(community=community, kind=AreaKind.BEAT).order_by("pk"))
    points = []
    for beat in beats:
        inner = parse_area_geometry(beat.geometry).representative_point()
        points.append((round(inner.y, 6), round(inner.x, 6)))
    if not points:
        points = [(community.centre_lat, community.centre_lon)]
    return [points[i % len(points)] for i in range(count)]


def build_demo(community: Community, data_dir: Path, progress: Callable[[str], None]) -> None:
    """Categories, sample reports and an Open311 key for the demo."""
    progress("Adding report categories and sample reports")
    with transaction.atomic():
        for spec in DEFAULT_CATEGORIES:
            fields = {k: v for k, v in spec.items() if k not in ("code", "questions")}
            services.save_category(
                community,
                spec["code"],
                questions=spec["questions"],
                order=DEFAULT_CATEGORIES.index(spec),
                **fields,
            )
        officers = list(
            User.objects.filter(email__in=["officer@demo.beacon", "officer2@demo.beacon"]).order_by(
                "email"
            )
        )
        staff = officers[0] if officers else None
        for sample, (lat, lon) in zip(SAMPLES, _points(community, len(SAMPLES)), strict=True):
            filed = services.file_report(
                community,
                services.Submission(
                    category=sample["category"],
                    description=sample["description"],
                    answers=sample["answers"],
                    lat=lat,
                    lon=lon,
                    contact_email=sample.get("contact_email", ""),
                ),
            )
            report = filed.report
            created = timezone.now() - timedelta(days=sample["days_ago"], hours=2)
            Report.objects.filter(pk=report.pk).update(
                created_at=created,
                updated_at=created,
                response_due_at=created + timedelta(hours=report.category.response_hours),
            )
            report.refresh_from_db()
            if staff is None:
                continue
            if sample.get("public_update"):
                services.add_update(
                    report, sample["public_update"], actor=staff, visibility=Visibility.PUBLIC
                )
            if sample["status"] not in (Status.NEW, Status.ACKNOWLEDGED):
                services.change_status(report, sample["status"], actor=staff)
    _key, raw = create_key(community, "Demo partner app")
    progress(f"Open311 key for the demo partner app (shown once): {raw}")
