"""Demo watch group: Kitsilano Watch, coordinated by coordinator@demo.beacon, with a
training curriculum, a patrol and a board message. The demo resident is not a member
yet: asking to join and being approved is part of the demo."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from beacon.core.models import Area, AreaKind, Community, User
from beacon.watch import services
from beacon.watch.models import TrainingModule

NEIGHBOURHOOD = "Kitsilano"
CURRICULUM = [
    ("Observe and report", "What to notice, and how to report it without confronting anyone.", 24),
    ("Patrol safety", "Patrolling in pairs, routes, lighting and when to call 911.", 24),
    ("Privacy and respect", "Reporting behaviour, not appearance; keeping members' data safe.", 36),
]


def build_demo(community: Community, data_dir: Path, progress: Callable[[str], None]) -> None:
    """The Kitsilano watch group and the community's training curriculum."""
    coordinator = User.objects.filter(email="coordinator@demo.beacon").first()
    area = Area.objects.filter(
        community=community, kind=AreaKind.NEIGHBOURHOOD, name=NEIGHBOURHOOD
    ).first()
    if coordinator is None or area is None:
        return
    progress("Starting the Kitsilano watch group")
    with transaction.atomic():
        for order, (title, description, months) in enumerate(CURRICULUM, 1):
            TrainingModule.objects.get_or_create(
                community=community,
                title=title,
                defaults={"description": description, "order": order, "valid_months": months},
            )
        group = services.save_group(
            community,
            actor=coordinator,
            name="Kitsilano Watch",
            description=(
                "Neighbours between Burrard and Alma looking out for each other: evening "
                "patrols, a monthly meeting, and a direct line to our beat officer."
            ),
            neighbourhood_ids=[area.pk],
        )
        membership = services.membership_of(group, coordinator)
        assert membership is not None
        for module in TrainingModule.objects.filter(community=community):
            services.record_training(
                membership,
                module,
                actor=coordinator,
                completed_on=timezone.localdate() - timedelta(days=60),
            )
        now = timezone.now()
        services.log_patrol(
            group,
            coordinator,
            started_at=now - timedelta(days=2, hours=3),
            ended_at=now - timedelta(days=2, hours=1),
            route="W 4th Ave from Burrard to Macdonald, and the lanes",
            observations="Two garage doors left open; told the owners. Lane light out at Vine.",
            patrollers=3,
        )
        services.post_message(
            group, coordinator, "Welcome! Patrols leave from the library at 7 pm on Fridays."
        )
