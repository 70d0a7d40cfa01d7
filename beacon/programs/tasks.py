"""Background work for events: confirmation links, status notices and reminders.

Every task takes ids, reloads what it needs and is idempotent: what was sent is recorded
on the registration in the same transaction that decides to send it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks import task

from beacon.programs import services, tokens
from beacon.programs.models import EventStatus, Registration, RegistrationStatus, Session

logger = logging.getLogger(__name__)

# Someone who asks for the link again within this time gets the one already sent.
RESEND_AFTER = timedelta(minutes=2)


def site_url() -> str:
    """The public address of this Beacon, for links in emails."""
    return str(settings.BEACON_SITE_URL)


def links(registration: Registration) -> dict[str, str]:
    """The signed links a registrant gets by email."""
    slug = registration.event.community.slug
    base = site_url()
    return {
        "confirm": base
        + reverse("programs:confirm", args=[slug, tokens.make(tokens.CONFIRM, registration.pk)]),
        "manage": base
        + reverse(
            "programs:registration", args=[slug, tokens.make(tokens.MANAGE, registration.pk)]
        ),
        "feedback": base
        + reverse("programs:feedback", args=[slug, tokens.make(tokens.FEEDBACK, registration.pk)]),
        "calendar": base
        + reverse("programs:person_feed", args=[slug, tokens.make(tokens.FEED, registration.pk)]),
    }


def _send(registration: Registration, template: str, **extra: Any) -> None:
    if registration.email.endswith("@" + services.WALK_IN_DOMAIN):
        return
    context = {
        "registration": registration,
        "event": registration.event,
        "community": registration.event.community,
        "links": links(registration),
        "site": site_url(),
        "sessions": list(registration.event.sessions.order_by("starts_at")),
        **extra,
    }
    # Emails go out in the site language; registrants have no language preference stored.
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"programs/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"programs/email/{template}_body.txt", context)
    send_mail(subject, body, None, [registration.email])
    # Log ids only; addresses stay out of logs.
    logger.info("Sent %s for registration %s", template, registration.pk)


def _locked(registration_id: int) -> Registration | None:
    return (
        Registration.objects.select_for_update()
        .select_related("event", "event__community")
        .filter(pk=registration_id)
        .first()
    )


@task()
def send_confirmation_request(registration_id: int) -> bool:
    """Email the link that confirms a pending registration."""
    with transaction.atomic():
        registration = _locked(registration_id)
        if registration is None or registration.status != RegistrationStatus.PENDING:
            return False
        sent = registration.confirmation_sent_at
        if sent is not None and timezone.now() - sent < RESEND_AFTER:
            return False
        registration.confirmation_sent_at = timezone.now()
        registration.save(update_fields=["confirmation_sent_at"])
        _send(registration, "confirm")
    return True


@task()
def send_status_email(registration_id: int, promoted: bool = False) -> bool:
    """Tell someone they have a seat or are on the waiting list (once per status).

    ``promoted`` says the seat came free from the waiting list, so the message says so.
    """
    with transaction.atomic():
        registration = _locked(registration_id)
        if registration is None:
            return False
        status = registration.status
        if status not in (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED):
            return False
        if registration.notified_status == status:
            return False
        registration.notified_status = status
        registration.save(update_fields=["notified_status"])
        _send(
            registration,
            "status",
            promoted=promoted,
            position=services.waitlist_position(registration),
        )
    return True


@task()
def send_event_cancelled(registration_id: int) -> bool:
    """Tell a registrant that the event was cancelled (once)."""
    with transaction.atomic():
        registration = _locked(registration_id)
        if registration is None or registration.event.status != EventStatus.CANCELLED:
            return False
        if registration.notified_status == "event_cancelled":
            return False
        if registration.status == RegistrationStatus.CANCELLED:
            return False
        registration.notified_status = "event_cancelled"
        registration.save(update_fields=["notified_status"])
        _send(registration, "cancelled")
    return True


def deliver_reminder(registration_id: int, now: datetime | None = None) -> bool:
    """Send the reminder for the registration's next session if one is due."""
    session: Session | None = services.claim_reminder(registration_id, now)
    if session is None:
        return False
    registration = Registration.objects.select_related("event", "event__community").get(
        pk=registration_id
    )
    _send(registration, "reminder", session=session)
    return True


@task()
def send_reminder(registration_id: int) -> bool:
    """The reminder a day before a session, scheduled when the seat was confirmed."""
    return deliver_reminder(registration_id)


@task()
def send_due_reminders() -> int:
    """Sweep for due reminders (``send_event_reminders`` runs the same)."""
    return services.send_due_reminders()
