"""Background work for alerts: delivering the outbox and assembling digests."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import default_task_backend, task

from beacon.notify import digests, outbox

logger = logging.getLogger(__name__)


@task()
def deliver_outbox() -> dict[str, int]:
    """Deliver every due message, then book a run for the next retry.

    Safe to run any number of times at once: claims are exclusive (see
    :mod:`beacon.notify.outbox`). When messages wait for a retry, a run is enqueued for
    when the first becomes due, on task backends that can defer work.
    """
    digests.build_digests()
    stats = outbox.deliver_due()
    due = outbox.next_due_at()
    if due is not None and default_task_backend.supports_defer:
        run_after = max(due, timezone.now() + timedelta(seconds=1))
        deliver_outbox.using(run_after=run_after).enqueue()
    logger.info(
        "Outbox run: %d claimed, %d delivered, %d to retry, %d failed",
        stats.claimed,
        stats.delivered,
        stats.retried,
        stats.failed,
    )
    return {"claimed": stats.claimed, "delivered": stats.delivered, "failed": stats.failed}


@task()
def build_digests() -> int:
    """Assemble the digests of finished periods (idempotent)."""
    return digests.build_digests()
