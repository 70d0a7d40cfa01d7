"""Background work for youth programs: the retention job."""

from __future__ import annotations

from django_tasks import task

from beacon.youth import services


@task()
def purge_youth_records() -> int:
    """Delete mentees' records past their retention period (idempotent)."""
    return services.purge_expired()
