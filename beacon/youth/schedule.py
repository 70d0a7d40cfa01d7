"""Periodic jobs of youth mentorship."""

from __future__ import annotations

from datetime import timedelta

from beacon.core.schedule import periodic
from beacon.youth.services import purge_expired


@periodic("youth.retention-purge", every=timedelta(hours=24))
def retention_purge() -> None:
    """Delete mentees' records whose retention period has ended."""
    purge_expired()
