"""Periodic jobs of programs and events."""

from __future__ import annotations

from datetime import timedelta

from beacon.core.schedule import periodic
from beacon.programs.services import send_due_reminders


@periodic("programs.event-reminders", every=timedelta(minutes=10))
def event_reminders() -> None:
    """Email reminders for sessions starting within 24 hours (each sent once)."""
    send_due_reminders()
