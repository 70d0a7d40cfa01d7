"""Periodic jobs: reminders, purges and analysis runs that happen on a clock.

An app declares its jobs in ``<app>/schedule.py``::

    @periodic("programs.reminders", every=timedelta(minutes=15))
    def send_reminders() -> None:
        send_due_reminders()

``beacon worker`` runs the schedule in a thread beside the task queue, and
``beacon schedule --once`` runs what is due for deployments that prefer cron. A job is
claimed with one conditional UPDATE on its :class:`~beacon.core.models.ScheduledJob`
row, so however many workers run, each due job starts once per interval. Jobs should
be quick (enqueue tasks for heavy work) and idempotent: a worker that dies mid-job
leaves the claim, and the job simply runs again at the next interval.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

logger = logging.getLogger(__name__)

JobFunction = Callable[[], object]


@dataclass(frozen=True)
class PeriodicJob:
    """A named zero-argument function and how often it runs."""

    name: str
    every: timedelta
    function: JobFunction


_registry: dict[str, PeriodicJob] = {}


def periodic(name: str, every: timedelta) -> Callable[[JobFunction], JobFunction]:
    """Register the decorated zero-argument function to run every ``every``."""
    if every < timedelta(seconds=1):
        raise ValueError(f"periodic job {name!r}: the interval must be at least one second")

    def register(function: JobFunction) -> JobFunction:
        existing = _registry.get(name)
        if existing is not None and existing.function is not function:
            qualified = f"{function.__module__}.{function.__qualname__}"
            raise ValueError(f"periodic job {name!r} is already registered; not {qualified}")
        _registry[name] = PeriodicJob(name, every, function)
        return function

    return register


def registered_jobs() -> list[PeriodicJob]:
    """Every job declared by the installed apps, by name."""
    autodiscover_modules("schedule")
    return sorted(_registry.values(), key=lambda job: job.name)


def _claim(job: PeriodicJob, now: datetime) -> bool:
    """Mark ``job`` started if it is due; True only for the one caller that won it."""
    from beacon.core.models import ScheduledJob

    ScheduledJob.objects.get_or_create(name=job.name)
    due = Q(last_started_at__isnull=True) | Q(last_started_at__lte=now - job.every)
    return bool(
        ScheduledJob.objects.filter(due, name=job.name).update(
            last_started_at=now, last_status=ScheduledJob.Status.RUNNING
        )
    )


def _finish(job: PeriodicJob, error: str) -> None:
    from beacon.core.models import ScheduledJob

    ScheduledJob.objects.filter(name=job.name).update(
        last_finished_at=timezone.now(),
        last_status=ScheduledJob.Status.FAILED if error else ScheduledJob.Status.OK,
        last_error=error[:2000],
    )


def run_due(now: datetime | None = None) -> list[str]:
    """Run every job that is due now; return the names of those that ran.

    A failing job is logged and recorded on its row; it does not stop the others.
    """
    now = now or timezone.now()
    ran = []
    for job in registered_jobs():
        if not _claim(job, now):
            continue
        error = ""
        try:
            job.function()
        except Exception as exc:  # one broken job must not stop the schedule
            logger.exception("periodic job %s failed", job.name)
            error = f"{type(exc).__name__}: {exc}"
        _finish(job, error)
        ran.append(job.name)
    return ran


def run_forever(interval: float, stop: threading.Event) -> None:
    """Run due jobs every ``interval`` seconds until ``stop`` is set."""
    while not stop.is_set():
        close_old_connections()
        try:
            run_due()
        except Exception:  # e.g. the database restarting: try again next round
            logger.exception("the schedule could not run")
        finally:
            close_old_connections()
        stop.wait(interval)


def start_in_thread(interval: float = 30.0) -> threading.Event:
    """Start :func:`run_forever` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever, args=(interval, stop), name="beacon-schedule", daemon=True
    )
    thread.start()
    return stop
