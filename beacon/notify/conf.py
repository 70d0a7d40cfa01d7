"""Alert settings, declared (and validated) in ``beacon/settings.py``.

They are looked up on every use (not cached at import), so tests can change them with
``override_settings``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def _setting(name: str) -> Any:
    return getattr(settings, name)


def site_url() -> str:
    """The absolute address of this site, for links in emails and feeds."""
    return str(_setting("BEACON_SITE_URL"))


def webhook_allow_private() -> bool:
    """Whether webhooks may target private, loopback or link-local addresses (tests, labs)."""
    return bool(_setting("BEACON_WEBHOOK_ALLOW_PRIVATE"))


def webhook_timeout() -> float:
    """Seconds to wait for a webhook endpoint to connect and answer."""
    return float(_setting("BEACON_WEBHOOK_TIMEOUT"))


def sms_url() -> str:
    """The SMS provider's HTTP endpoint; empty disables SMS."""
    return str(_setting("BEACON_SMS_URL"))


def sms_token() -> str:
    """The bearer token sent to the SMS provider."""
    return str(_setting("BEACON_SMS_TOKEN"))


def outbox_batch() -> int:
    """How many messages one worker claims at a time."""
    return int(_setting("BEACON_OUTBOX_BATCH"))


def outbox_lease_seconds() -> int:
    """How long a claim lasts before another worker may take the message over.

    It must exceed the time to send a whole batch (batch size × channel timeout), or a
    slow but alive worker's messages are sent a second time (the receiver can still
    drop the repeat by its message id).
    """
    return int(_setting("BEACON_OUTBOX_LEASE_SECONDS"))


def outbox_max_attempts() -> int:
    """Attempts before a message is marked failed."""
    return int(_setting("BEACON_OUTBOX_MAX_ATTEMPTS"))


def outbox_backoff_seconds() -> int:
    """The first retry delay; each further attempt doubles it (capped at six hours)."""
    return int(_setting("BEACON_OUTBOX_BACKOFF"))


def incident_alert_max_age_days() -> int:
    """Incidents that became public longer ago than this are history, not news: no alert."""
    return int(_setting("BEACON_INCIDENT_ALERT_MAX_AGE_DAYS"))
