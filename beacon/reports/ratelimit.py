"""Per-source rate limits that never store who the source is.

A source is the HMAC of the client address under a secret that rotates every UTC day.
The secret is random, lives only in the shared cache and expires after two days, so
yesterday's keys cannot be linked back to an address even by whoever holds the database.
Counters are fixed windows in the database (:class:`~beacon.reports.models.RateCounter`),
counted with one atomic upsert per limit, so the limits hold across web processes and no
two concurrent attempts can read the same count (a cache's get-then-set increment can).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone


@dataclass(frozen=True)
class Limit:
    """At most ``count`` hits per ``seconds`` for one key."""

    name: str
    count: int
    seconds: int


class RateLimited(Exception):
    """Too many attempts from one source; ``retry_after`` is in seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"Too many attempts; try again in {retry_after} seconds.")


# Filing: a burst of a few, then a daily ceiling well above any honest resident's.
SUBMIT_LIMITS = (Limit("submit-burst", 5, 600), Limit("submit-day", 30, 86400))
# Opening a tip: per source, and per tip code so many sources cannot share the guessing.
TIP_SOURCE_LIMITS = (Limit("tip-source", 10, 900),)
TIP_CODE_LIMITS = (Limit("tip-code", 10, 3600),)
SUPPORT_LIMITS = (Limit("support", 20, 3600),)


def _daily_secret() -> bytes:
    day = timezone.now().date().isoformat()
    key = f"beacon:ratelimit-secret:{day}"
    secret = cache.get(key)
    if secret is None:
        cache.add(key, secrets.token_hex(32), timeout=2 * 86400)
        secret = cache.get(key)
    return str(secret).encode()


def client_address(request: HttpRequest) -> str:
    """The client address, used only as HMAC input and never stored or logged."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        # Behind the trusted proxy the last hop it appended is the client.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


def source_key(request: HttpRequest) -> str:
    """The day's pseudonymous key for the request's source."""
    return hmac.new(_daily_secret(), client_address(request).encode(), hashlib.sha256).hexdigest()[
        :32
    ]


# The table of beacon.reports.models.RateCounter (a test checks the name).
_COUNT_HIT_SQL = (
    "INSERT INTO reports_ratecounter (counter_key, hits, expires_at) VALUES (%s, 1, %s) "
    "ON CONFLICT (counter_key) DO UPDATE SET hits = reports_ratecounter.hits + 1 "
    "RETURNING hits"
)


def count_hit(counter_key: str, expires_at: datetime) -> int:
    """Add one to a window's counter and return the new count, in one statement.

    ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` is atomic on PostgreSQL and on
    SQLite (3.35 and later), so concurrent attempts each get their own count.
    """
    with connection.cursor() as cursor:
        expires = connection.ops.adapt_datetimefield_value(expires_at)
        cursor.execute(_COUNT_HIT_SQL, [counter_key, expires])
        row = cursor.fetchone()
    return int(row[0])


def hit(limits: Iterable[Limit], key: str) -> None:
    """Count one attempt for ``key`` under every limit; raise :class:`RateLimited` if over."""
    now = time.time()
    worst = 0
    for limit in limits:
        window = int(now // limit.seconds)
        window_end = datetime.fromtimestamp((window + 1) * limit.seconds, tz=UTC)
        count = count_hit(f"{limit.name}:{key}:{window}", window_end)
        if count > limit.count:
            worst = max(worst, int((window + 1) * limit.seconds - now) + 1)
    if worst:
        raise RateLimited(worst)


def purge_expired_counters(now: datetime | None = None) -> int:
    """Delete the counters of windows that have ended; returns how many."""
    from beacon.reports.models import RateCounter

    cutoff = (now or timezone.now()) - timedelta(seconds=5)
    deleted, _ = RateCounter.objects.filter(expires_at__lt=cutoff).delete()
    return deleted


def code_key(code: str) -> str:
    """A cache key for a tip code that does not reveal the code."""
    return hashlib.sha256(f"tip:{code}".encode()).hexdigest()[:32]
