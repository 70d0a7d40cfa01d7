"""Demo officers: beats 1–6 for officer@demo.beacon, 7–11 for officer2@demo.beacon, their
public profiles with office hours, and a little logged community work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from beacon.core.models import Area, AreaKind, Community, User
from beacon.officers import services

PROFILES: dict[str, dict[str, Any]] = {
    "officer@demo.beacon": {
        "display_name": "Constable Olu Officer",
        "title": "Community policing officer, east and central beats",
        "introduction": (
            "I have worked these streets for six years. Come and see me at office hours "
            "about anything that worries you, from speeding to break-ins."
        ),
        "languages": ["English", "Yoruba", "French"],
        "office_hours": [
            {"day": "Tuesday", "start": "10:00", "end": "12:00", "place": "Strathcona library"},
            {"day": "Thursday", "start": "18:00", "end": "19:30", "place": "Britannia centre"},
        ],
        "contact_email": "olu.officer@demo.beacon",
        "contact_note": "Not monitored at night or weekends. In an emergency call 911.",
    },
    "officer2@demo.beacon": {
        "display_name": "Constable Owen Officer",
        "title": "Community policing officer, south and west beats",
        "introduction": "Ask me about bike theft prevention and starting a block watch.",
        "languages": ["English", "Cantonese"],
        "office_hours": [
            {"day": "Wednesday", "start": "14:00", "end": "16:00", "place": "Kitsilano centre"}
        ],
        "contact_email": "owen.officer@demo.beacon",
        "contact_note": "Not monitored at night or weekends. In an emergency call 911.",
    },
}


def build_demo(community: Community, data_dir: Path, progress: Callable[[str], None]) -> None:
    """Beat assignments, officer profiles and some logged community work."""
    progress("Assigning beat officers and publishing their profiles")
    officers = list(User.objects.filter(email__in=sorted(PROFILES)).order_by("email"))
    if not officers:
        return
    supervisor = User.objects.filter(email="supervisor@demo.beacon").first()
    beats = list(Area.objects.filter(community=community, kind=AreaKind.BEAT).order_by("pk"))
    start = timezone.localdate() - timedelta(days=120)
    with transaction.atomic():
        for index, beat in enumerate(beats):
            officer = officers[0] if index < (len(beats) + 1) // 2 else officers[-1]
            services.assign_beat(beat, officer, actor=supervisor, started_on=start)
        for officer in officers:
            services.save_profile(community, officer, actor=officer, **PROFILES[officer.email])
            for days, kind, minutes, people, summary in (
                (1, "contact", 30, 4, "Spoke with shop owners about evening thefts."),
                (3, "meeting", 90, 25, "Community safety meeting at the library."),
                (6, "patrol", 120, 0, "Foot patrol of the lanes behind the high street."),
                (9, "problem", 60, 2, "Met the city about the broken lights in the lane."),
            ):
                services.log_activity(
                    community,
                    officer,
                    kind=kind,
                    minutes=minutes,
                    people=people,
                    summary=summary,
                    occurred_on=timezone.localdate() - timedelta(days=days),
                )
