"""Periodic jobs of resident reports."""

from __future__ import annotations

from datetime import timedelta

from beacon.core.schedule import periodic
from beacon.reports.ratelimit import purge_expired_counters


@periodic("reports.rate-counter-purge", every=timedelta(hours=1))
def rate_counter_purge() -> None:
    """Delete rate-limit counters whose window has ended."""
    purge_expired_counters()
