"""Demo data for partners: a school with the demo partner user, and a second partner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from beacon.core.models import Community, User
from beacon.partners import services
from beacon.partners.models import Partner
from beacon.programs.models import Event, Program

SCHOOL = "Demo Secondary School"
SECOND = "Kitsilano Neighbourhood House"


def build_demo(community: Community, data_dir: Path, progress: Callable[[str], None]) -> None:
    """Two partners, each with an agreement and a joint initiative of its own."""
    if Partner.objects.filter(community=community).exists():
        return
    progress("Partners: a partner school and a neighbourhood house")
    today = timezone.localdate()
    portal_user = User.objects.filter(email="partner@demo.beacon").first()
    program = Program.objects.filter(community=community, name="Home security").first()
    events = list(Event.objects.filter(community=community, program=program)[:1])
    with transaction.atomic():
        school = services.save_partner(
            community,
            services.PartnerData(
                name=SCHOOL, kind="school", description="Grades 8 to 12; 900 students."
            ),
        )
        services.save_contact(
            school,
            "Pat Partner",
            email="partner@demo.beacon",
            title="Vice-principal",
            is_primary=True,
            user=portal_user,
        )
        services.save_agreement(
            school,
            services.AgreementData(
                title="School safety partnership",
                scope="Safety sessions for students and parents; referrals to mentoring.",
                starts_on=today - timedelta(days=200),
                expires_on=today + timedelta(days=45),  # inside the renewal window
                information_sharing="aggregate",
                sharing_terms="Attendance and feedback figures only; no names.",
            ),
        )
        initiative = services.save_initiative(
            community,
            services.InitiativeData(
                title="Safe homes, safe families",
                description="Home-security sessions for the school's families.",
                status="active",
                partners=[school],
                programs=[program] if program else [],
                events=events,
                starts_on=today - timedelta(days=30),
            ),
        )
        services.add_task(
            initiative,
            "Send the workshop invitation to parents",
            partner=school,
            due_on=today + timedelta(days=3),
        )
        services.add_task(initiative, "Book the officer for the Q&A", due_on=today)
        house = services.save_partner(
            community, services.PartnerData(name=SECOND, kind="community")
        )
        services.save_contact(house, "Morgan Lee", email="morgan@example.org", is_primary=True)
        services.save_agreement(
            house,
            services.AgreementData(
                title="Community safety agreement",
                scope="Safety fairs and seniors' fraud talks.",
                starts_on=today - timedelta(days=20),
                expires_on=today + timedelta(days=345),
            ),
        )
        other = services.save_initiative(
            community,
            services.InitiativeData(
                title="Seniors' fraud awareness month", status="planned", partners=[house]
            ),
        )
        services.add_task(other, "Reserve the hall", partner=house)
