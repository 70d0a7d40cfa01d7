"""What a message says: subjects, bodies, webhook payloads and unsubscribe links.

Messages are rendered when they are enqueued, in the subscriber's language, so a
delivery days later (after retries) says what was true when the event happened.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from beacon.notify import conf
from beacon.notify.models import AlertEvent, Channel, Subscription

UNSUBSCRIBE_SALT = "beacon.notify.unsubscribe"


def recipient_key(channel: str, target: str) -> str:
    """A stable id of a recipient: the same address on the same channel is one person."""
    normal = target.strip().lower() if channel == Channel.EMAIL else target.strip()
    return hashlib.sha256(f"{channel}:{normal}".encode()).hexdigest()


def dedupe_key(*parts: Any) -> str:
    """The outbox key for a message: a hash of what makes it unique."""
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()


def unsubscribe_token(subscription: Subscription) -> str:
    """A signed token naming a subscription; it never expires (old emails keep working)."""
    return signing.dumps({"s": subscription.pk}, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> int | None:
    """The subscription id in a token, or None when it was tampered with."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    value = data.get("s") if isinstance(data, dict) else None
    return value if isinstance(value, int) else None


def absolute(path: str) -> str:
    """An absolute URL on this site."""
    if path.startswith(("http://", "https://")):
        return path
    return conf.site_url().rstrip("/") + path


def unsubscribe_url(subscription: Subscription) -> str:
    """The one-click unsubscribe address of a subscription."""
    return absolute(reverse("notify:unsubscribe", args=[unsubscribe_token(subscription)]))


def event_data(event: AlertEvent) -> dict[str, Any]:
    """The public description of an event (webhook payloads, feeds, the API)."""
    return {
        "key": event.key,
        "topic": event.topic,
        "title": event.title,
        "body": event.body,
        "link": absolute(event.link) if event.link else "",
        "lat": event.lat,
        "lon": event.lon,
        "offence_group": event.offence_group or None,
        "occurred_at": event.occurred_at.isoformat(),
    }


def language_of(subscription: Subscription) -> str:
    user = subscription.user
    return (getattr(user, "preferred_language", "") or "en") if user else "en"


def render_alert(
    event: AlertEvent, subscription: Subscription, message_id: uuid.UUID
) -> dict[str, Any]:
    """The subject, body, payload and unsubscribe link of one immediate alert."""
    link = unsubscribe_url(subscription)
    with translation.override(language_of(subscription)):
        context = {
            "event": event,
            "subscription": subscription,
            "link": absolute(event.link) if event.link else "",
            "unsubscribe_url": link,
        }
        subject = render_to_string("notify/email/alert_subject.txt", context).strip()
        body = render_to_string("notify/email/alert_body.txt", context)
    payload = {
        "type": "alert",
        "id": str(message_id),
        "community": subscription.community.slug,
        "subscription": subscription.pk,
        "event": event_data(event),
    }
    return {
        "subject": subject[:300],
        "body": body,
        "payload": payload,
        "unsubscribe_url": link,
    }


def render_digest(
    subscription: Subscription, events: list[AlertEvent], period: str, message_id: uuid.UUID
) -> dict[str, Any]:
    """One digest listing several events."""
    link = unsubscribe_url(subscription)
    with translation.override(language_of(subscription)):
        context = {
            "events": events,
            "subscription": subscription,
            "period": period,
            "unsubscribe_url": link,
            "site": conf.site_url(),
        }
        subject = render_to_string("notify/email/digest_subject.txt", context).strip()
        body = render_to_string("notify/email/digest_body.txt", context)
    payload = {
        "type": "digest",
        "id": str(message_id),
        "community": subscription.community.slug,
        "subscription": subscription.pk,
        "period": period,
        "events": [event_data(e) for e in events],
    }
    return {"subject": subject[:300], "body": body, "payload": payload, "unsubscribe_url": link}
