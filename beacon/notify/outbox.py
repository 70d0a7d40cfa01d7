"""The transactional outbox and its delivery loop.

What "never lose a message, never send one twice" means here, precisely:

* **Nothing is lost.** A message exists once the transaction that caused it commits
  (the event, the broadcast, the report update): it is written in that transaction, not
  handed to a queue afterwards. A worker claims a batch by setting ``status=sending``
  with a lease (``lease_until``) in a short transaction; on PostgreSQL the claim uses
  ``SELECT … FOR UPDATE SKIP LOCKED`` so concurrent workers take disjoint batches,
  on SQLite the database serialises writers. A message is marked ``delivered`` only
  after its channel accepted it. If the worker dies (``kill -9``) at any point, its
  claimed messages stay ``sending`` until the lease expires and are then claimed again
  by any worker. Failures are retried with exponential backoff until
  ``BEACON_OUTBOX_MAX_ATTEMPTS``, then marked ``failed`` with the reason.

* **Nothing is duplicated.** Each (event, recipient) pair has one row: ``dedupe_key`` is
  unique, so an event processed twice, or reaching a person through two overlapping
  subscriptions, enqueues one message. Each message is marked right after its own send,
  not at the end of the batch, so a crash can leave at most the one message that was in
  flight — sent, but not yet marked — per worker.

* **The one unavoidable window.** No sender can make "send" and "mark" atomic with a
  remote system. A crash between the two means the message is sent again after the
  lease expires. Every attempt therefore carries the same message id (email
  ``Message-ID``, webhook ``Beacon-Message-Id``, SMS ``Idempotency-Key``); a receiver
  that remembers ids it has seen — as webhook consumers should, and as SMS providers
  and most mail stores do — sees each message exactly once. So: delivery is
  *at least once* to the channel and *exactly once* to an idempotent receiver. The
  crash test (``tests/test_crash.py``) kills a real worker mid-batch and checks both:
  every message delivered, and each id received once after de-duplication, with raw
  repeats bounded by the number of kills.
"""

from __future__ import annotations

import logging
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from beacon.notify import channels, conf
from beacon.notify.models import OutboxMessage, Status

logger = logging.getLogger(__name__)
BACKOFF_CAP = timedelta(hours=6)
WORKER_ID = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"


@dataclass
class DeliveryStats:
    """What one delivery run did."""

    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0

    def add(self, other: DeliveryStats) -> None:
        self.claimed += other.claimed
        self.delivered += other.delivered
        self.retried += other.retried
        self.failed += other.failed


def _due(now: datetime) -> Q:
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, lease_until__lt=now
    )


def claim(batch: int | None = None, now: datetime | None = None) -> list[OutboxMessage]:
    """Claim up to ``batch`` due messages for this worker, oldest first."""
    now = now or timezone.now()
    batch = batch or conf.outbox_batch()
    lease = now + timedelta(seconds=conf.outbox_lease_seconds())
    with transaction.atomic():
        rows = OutboxMessage.objects.filter(_due(now)).order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        ids = list(rows.values_list("pk", flat=True)[:batch])
        if not ids:
            return []
        # The filter repeats the due condition: on databases without row locks another
        # worker may have claimed a row between our read and this write.
        OutboxMessage.objects.filter(_due(now), pk__in=ids).update(
            status=Status.SENDING, lease_until=lease, attempts=F("attempts") + 1
        )
        return list(
            OutboxMessage.objects.filter(pk__in=ids, status=Status.SENDING, lease_until=lease)
            .select_related("subscription")
            .order_by("next_attempt_at", "pk")
        )


def backoff(attempts: int) -> timedelta:
    """Delay before the next attempt: the base doubled per failed attempt, capped."""
    delay = timedelta(seconds=conf.outbox_backoff_seconds() * (2 ** max(attempts - 1, 0)))
    return min(delay, BACKOFF_CAP)


def outgoing(message: OutboxMessage) -> channels.Outgoing:
    """What the channel needs to send ``message``."""
    secret = message.subscription.secret if message.subscription is not None else ""
    return channels.Outgoing(
        message_id=str(message.message_id),
        target=message.target,
        subject=message.subject,
        body=message.body,
        payload=message.payload,
        secret=secret,
        unsubscribe_url=message.unsubscribe_url,
    )


def deliver_one(message: OutboxMessage) -> str:
    """Send one claimed message and record the outcome; returns the new status."""
    sender = channels.SENDERS.get(message.channel)
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(pk=message.pk, status=Status.SENDING)
    try:
        if sender is None:
            raise channels.DeliveryError(f"unknown channel {message.channel!r}", permanent=True)
        if message.subscription is not None and not message.subscription.active:
            claimed.update(status=Status.CANCELLED, lease_until=None, last_error="unsubscribed")
            return Status.CANCELLED
        sender(outgoing(message))
    except channels.DeliveryError as exc:
        error = str(exc)[:500]
        if exc.permanent or message.attempts >= conf.outbox_max_attempts():
            claimed.update(status=Status.FAILED, lease_until=None, last_error=error)
            logger.warning("Outbox message %s failed: %s", message.message_id, error)
            return Status.FAILED
        claimed.update(
            status=Status.PENDING,
            lease_until=None,
            last_error=error,
            next_attempt_at=now + backoff(message.attempts),
        )
        return Status.PENDING
    # Marked at once, message by message: a crash now can repeat only this one message.
    claimed.update(
        status=Status.DELIVERED, delivered_at=timezone.now(), lease_until=None, last_error=""
    )
    return Status.DELIVERED


def deliver_due(*, batch: int | None = None, max_batches: int = 50) -> DeliveryStats:
    """Claim and deliver due messages until none are due (or ``max_batches`` ran)."""
    stats = DeliveryStats()
    for _round in range(max_batches):
        messages = claim(batch)
        if not messages:
            break
        stats.claimed += len(messages)
        for message in messages:
            outcome = deliver_one(message)
            if outcome == Status.DELIVERED:
                stats.delivered += 1
            elif outcome == Status.PENDING:
                stats.retried += 1
            elif outcome == Status.FAILED:
                stats.failed += 1
    return stats


def next_due_at() -> datetime | None:
    """When the next waiting message (retry or expired lease) becomes due."""
    pending = (
        OutboxMessage.objects.filter(status=Status.PENDING)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    leased = (
        OutboxMessage.objects.filter(status=Status.SENDING)
        .order_by("lease_until")
        .values_list("lease_until", flat=True)
        .first()
    )
    times = [t for t in (pending, leased) if t is not None]
    return min(times) if times else None
