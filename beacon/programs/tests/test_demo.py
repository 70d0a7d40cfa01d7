"""The demo hooks of programs, partners and youth: fast, idempotent, and as promised."""

from __future__ import annotations

import time
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone

from beacon.core.demo import build_demo
from beacon.core.models import User
from beacon.partners import demo as partners_demo
from beacon.partners.models import JointInitiative
from beacon.programs import demo as programs_demo
from beacon.programs import figures
from beacon.programs.models import Event
from beacon.youth import demo as youth_demo
from beacon.youth import services as youth
from beacon.youth.models import Mentee, Mentor

pytestmark = pytest.mark.django_db

HOOKS = [programs_demo.build_demo, partners_demo.build_demo, youth_demo.build_demo]


def test_demo_hooks(tmp_path: Path) -> None:
    timings: list[float] = []

    def timed(hook):
        def run(*args):
            started = time.monotonic()
            hook(*args)
            timings.append(time.monotonic() - started)

        return run

    with mock.patch("beacon.core.demo._demo_hooks", return_value=[timed(h) for h in HOOKS]):
        community = build_demo(tmp_path).community
    assert sum(timings) < 5, timings

    workshop = Event.objects.get(community=community, title="Home security workshop")
    assert workshop.status == "published"
    assert workshop.starts_at is not None and workshop.starts_at > timezone.now()
    assert (
        workshop.sessions.count() == 2 and workshop.sessions.filter(area__isnull=False).count() == 2
    )
    totals = figures.compute(community, "program").totals
    assert [(t.key, t.attended) for t in totals] == [("Home security", 9)]

    partner = User.objects.get(email="partner@demo.beacon")
    titles = set(JointInitiative.objects.visible_to(partner).values_list("title", flat=True))
    assert titles == {"Safe homes, safe families"}

    supervisor = User.objects.get(email="supervisor@demo.beacon")
    assert Mentee.objects.visible_to(supervisor).count() == 1
    officer = User.objects.get(email="officer@demo.beacon")
    assert not Mentee.objects.visible_to(officer).exists()
    mentee = Mentee.objects.get()
    expired = Mentor.objects.get(name__startswith="Eli Expired")
    with pytest.raises(youth.YouthError, match="expired"):
        youth.match(mentee, expired)
    assert [s.mentor.name for s in youth.suggest_matches(mentee).ranked] == [
        "Dana Vetted (demo mentor)"
    ]

    # Running the hooks again changes nothing.
    for hook in HOOKS:
        hook(community, tmp_path, lambda message: None)
    assert Event.objects.filter(community=community).count() == 2
