from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from beacon.core import schedule
from beacon.core.models import ScheduledJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, schedule.PeriodicJob]:
    registry: dict[str, schedule.PeriodicJob] = {}
    monkeypatch.setattr(schedule, "_registry", registry)
    monkeypatch.setattr(schedule, "autodiscover_modules", lambda name: None)
    return registry


def test_installed_apps_declare_their_jobs() -> None:
    names = {job.name for job in schedule.registered_jobs()}
    assert {
        "programs.event-reminders",
        "partners.agreement-renewals",
        "youth.retention-purge",
    } <= names


def test_a_due_job_runs_once_per_interval(isolated_registry: dict) -> None:
    calls: list[int] = []
    schedule.periodic("test.count", every=timedelta(hours=1))(lambda: calls.append(1))
    now = timezone.now()
    assert schedule.run_due(now) == ["test.count"]
    # A second worker polling at the same moment finds the job already claimed.
    assert schedule.run_due(now) == []
    assert schedule.run_due(now + timedelta(minutes=59)) == []
    assert schedule.run_due(now + timedelta(hours=1)) == ["test.count"]
    assert len(calls) == 2
    row = ScheduledJob.objects.get(name="test.count")
    assert row.last_status == ScheduledJob.Status.OK and row.last_finished_at is not None


def test_a_failing_job_is_recorded_and_does_not_stop_the_others(isolated_registry: dict) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("mail server refused")

    schedule.periodic("test.a-broken", every=timedelta(minutes=5))(broken)
    schedule.periodic("test.b-fine", every=timedelta(minutes=5))(lambda: ran.append("b"))
    assert schedule.run_due() == ["test.a-broken", "test.b-fine"]
    assert ran == ["b"]
    row = ScheduledJob.objects.get(name="test.a-broken")
    assert row.last_status == ScheduledJob.Status.FAILED
    assert row.last_error == "RuntimeError: mail server refused"


def test_names_are_unique_and_intervals_sane(isolated_registry: dict) -> None:
    schedule.periodic("test.once", every=timedelta(minutes=1))(lambda: None)
    with pytest.raises(ValueError, match="already registered"):
        schedule.periodic("test.once", every=timedelta(minutes=1))(lambda: None)
    with pytest.raises(ValueError, match="at least one second"):
        schedule.periodic("test.fast", every=timedelta(0))


def test_the_command_lists_and_runs_due_jobs() -> None:
    out = StringIO()
    call_command("schedule", "--once", stdout=out)
    assert "youth.retention-purge" in out.getvalue()
    listing = StringIO()
    call_command("schedule", stdout=listing)
    assert "youth.retention-purge" in listing.getvalue() and "ok" in listing.getvalue()
