"""Demo data for youth mentorship: a program with staff, mentors and one mentee."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from beacon.core.models import Community, User
from beacon.youth import services
from beacon.youth.models import YouthProgram


def build_demo(community: Community, data_dir: Path, progress: Callable[[str], None]) -> None:
    """A mentoring program run by the demo supervisor, a vetted and an expired mentor."""
    if YouthProgram.objects.filter(community=community).exists():
        return
    progress("Youth: a mentoring program with a vetted and an expired mentor")
    today = timezone.localdate()
    lat, lon = community.centre_lat, community.centre_lon
    with transaction.atomic():
        program = services.save_program(
            community,
            "Youth mentoring",
            "mentoring",
            description="Weekly mentoring for 12 to 17 year olds, referred by schools.",
        )
        supervisor = User.objects.filter(email="supervisor@demo.beacon").first()
        if supervisor is not None:
            services.assign_staff(program, supervisor)
        services.save_mentor(
            program,
            services.MentorData(
                name="Dana Vetted (demo mentor)",
                interests=["football", "music", "coding"],
                languages=["english", "cantonese"],
                availability=["sat-am", "wed-pm"],
                lat=lat,
                lon=lon,
                background_check_on=today - timedelta(days=200),
                background_check_expires_on=today + timedelta(days=530),
                training_completed_on=today - timedelta(days=190),
            ),
        )
        services.save_mentor(
            program,
            services.MentorData(
                name="Eli Expired (demo mentor)",
                interests=["football", "art"],
                languages=["english"],
                availability=["sat-am"],
                lat=lat + 0.01,
                lon=lon,
                background_check_on=today - timedelta(days=800),
                background_check_expires_on=today - timedelta(days=70),
                training_completed_on=today - timedelta(days=790),
            ),
        )
        mentee = services.apply(
            program,
            "Demo Mentee",
            today - timedelta(days=14 * 365 + 100),
            "Demo Guardian",
            "guardian@example.org",
        )
        services.record_consent(mentee, "Demo Guardian", "signed form (demo)")
        services.update_profile(
            mentee,
            services.Profile(
                interests=["football", "coding"],
                languages=["cantonese"],
                availability=["sat-am"],
                lat=lat + 0.005,
                lon=lon,
            ),
        )
