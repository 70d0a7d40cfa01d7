"""Alert settings, read from Django settings with environment defaults.

They are looked up on every use (not cached at import), so tests can change them with
``override_settings`` and a deployment can set them in the environment without editing
``beacon/settings.py``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from beacon.envconfig import env_bool, env_int, env_str


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def site_url() -> str:
    """The absolute address of this site, for links in emails and feeds."""
    return str(_setting("BEACON_SITE_URL", env_str("BEACON_SITE_URL", "http://127.0.0.1:8000")))


def webhook_allow_private() -> bool:
    """Whether webhooks may target private, loopback or link-local addresses (tests, labs)."""
    return bool(
        _setting("BEACON_WEBHOOK_ALLOW_PRIVATE", env_bool("BEACON_WEBHOOK_ALLOW_PRIVATE", False))
    )


def webhook_timeout() -> float:
    """Seconds to wait for a webhook endpoint to connect and answer."""
    return float(_setting("BEACON_WEBHOOK_TIMEOUT", env_int("BEACON_WEBHOOK_TIMEOUT", 5)))


def sms_url() -> str:
    """The SMS provider's HTTP endpoint; empty disables SMS."""
    return str(_setting("BEACON_SMS_URL", env_str("BEACON_SMS_URL", "")))


def sms_token() -> str:
    """The bearer token sent to the SMS provider."""
    return str(_setting("BEACON_SMS_TOKEN", env_str("BEACON_SMS_TOKEN", "")))


def outbox_batch() -> int:
    """How many messages one worker claims at a time."""
    return int(_setting("BEACON_OUTBOX_BATCH", env_int("BEACON_OUTBOX_BATCH", 20, minimum=1)))


def outbox_lease_seconds() -> int:
    """How long a claim lasts before another worker may take the message over.

    It must exceed the time to send a whole batch (batch size × channel timeout), or a
    slow but alive worker's messages are sent a second time (the receiver can still
    drop the repeat by its message id).
    """
    return int(
        _setting(
            "BEACON_OUTBOX_LEASE_SECONDS", env_int("BEACON_OUTBOX_LEASE_SECONDS", 600, minimum=1)
        )
    )


def outbox_max_attempts() -> int:
    """Attempts before a message is marked failed."""
    return int(
        _setting("BEACON_OUTBOX_MAX_ATTEMPTS", env_int("BEACON_OUTBOX_MAX_ATTEMPTS", 8, minimum=1))
    )


def outbox_backoff_seconds() -> int:
    """The first retry delay; each further attempt doubles it (capped at six hours)."""
    return int(_setting("BEACON_OUTBOX_BACKOFF", env_int("BEACON_OUTBOX_BACKOFF", 30, minimum=0)))


def incident_alert_max_age_days() -> int:
    """Incidents older than this when imported are history, not news: no alert."""
    return int(
        _setting(
            "BEACON_INCIDENT_ALERT_MAX_AGE_DAYS",
            env_int("BEACON_INCIDENT_ALERT_MAX_AGE_DAYS", 7, minimum=0),
        )
    )
