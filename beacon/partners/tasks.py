"""Background work for partners: agreement renewal reminders."""

from __future__ import annotations

from django_tasks import task

from beacon.partners import services


@task()
def send_renewal_reminders() -> int:
    """Send due renewal reminders (``send_agreement_reminders`` runs the same)."""
    return services.send_renewal_reminders()


@task()
def send_renewal_reminder(agreement_id: int) -> bool:
    """One agreement's renewal reminder; idempotent (once per expiry date)."""
    return services.send_renewal_reminder(agreement_id)
