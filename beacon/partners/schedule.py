"""Periodic jobs of partnerships."""

from __future__ import annotations

from datetime import timedelta

from beacon.core.schedule import periodic
from beacon.partners.services import send_renewal_reminders


@periodic("partners.agreement-renewals", every=timedelta(hours=12))
def agreement_renewals() -> None:
    """Remind agreement owners of agreements nearing expiry (each reminder sent once)."""
    send_renewal_reminders()
