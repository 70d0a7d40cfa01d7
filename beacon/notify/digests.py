"""Daily and weekly digests: one message per recipient per period.

Events for digest subscribers are queued as :class:`DigestItem` rows tagged with the
period they fall in (a local day, or an ISO week, in the community's time zone). Once
a period is over, :func:`build_digests` turns each recipient's items into one outbox
message. The message's outbox key is the recipient and the period, and the items are
linked to it in the same transaction, so running it twice sends nothing twice.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from beacon.notify.models import DigestItem, Frequency, OutboxMessage


def period_for(frequency: str, when: datetime, tz: str) -> str:
    """The digest period holding ``when``: "2024-05-01" (daily) or "2024-W18" (weekly)."""
    local = when.astimezone(ZoneInfo(tz or "UTC"))
    if frequency == Frequency.WEEKLY:
        year, week, _day = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.date().isoformat()


def build_digests(now: datetime | None = None) -> int:
    """Turn the items of finished periods into digest messages; returns messages made."""
    from beacon.notify import messages
    from beacon.notify.services import schedule_delivery

    now = now or timezone.now()
    open_items = (
        DigestItem.objects.filter(message__isnull=True)
        .values_list("community_id", "community__timezone", "frequency", "period")
        .distinct()
    )
    made = 0
    for community_id, tz, frequency, period in list(open_items):
        if period >= period_for(frequency, now, tz):
            continue  # the period is still running
        items = (
            DigestItem.objects.filter(
                community_id=community_id, frequency=frequency, period=period, message__isnull=True
            )
            .select_related(
                "event", "subscription", "subscription__community", "subscription__user"
            )
            .order_by("recipient", "event__occurred_at", "pk")
        )
        by_recipient: dict[str, list[DigestItem]] = defaultdict(list)
        for item in items:
            by_recipient[item.recipient].append(item)
        for recipient, group in by_recipient.items():
            subscription = group[0].subscription
            key = messages.dedupe_key("digest", recipient, frequency, period)
            message_id = uuid.uuid4()
            with transaction.atomic():
                message, created = OutboxMessage.objects.get_or_create(
                    dedupe_key=key,
                    defaults={
                        "community_id": community_id,
                        "subscription": subscription,
                        "user": subscription.user,
                        "channel": subscription.channel,
                        "target": subscription.target,
                        "message_id": message_id,
                        **messages.render_digest(
                            subscription, [i.event for i in group], period, message_id
                        ),
                    },
                )
                DigestItem.objects.filter(pk__in=[i.pk for i in group]).update(message=message)
                if created:
                    made += 1
                    schedule_delivery()
    return made
