"""Background work for surveys: emailing invitations to the community's residents."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

from beacon.core.models import User
from beacon.core.roles import Role
from beacon.surveys.models import Distribution

logger = logging.getLogger(__name__)


def recipients(distribution: Distribution) -> list[str]:
    """Email addresses of the community's active resident members, each once."""
    return sorted(
        set(
            User.objects.filter(
                is_active=True,
                memberships__community_id=distribution.community_id,
                memberships__role=Role.RESIDENT,
            ).values_list("email", flat=True)
        )
    )


@task()
def send_invitations(distribution_id: int) -> int:
    """Send one invitation per resident; returns how many were sent.

    Idempotent: the distribution is claimed (``sent_at`` set) in the transaction that
    sends, so a retried job sends nothing twice. One message per person, so nobody sees
    another resident's address. Log lines give counts, never addresses.
    """
    with transaction.atomic():
        distribution = (
            Distribution.objects.select_for_update()
            .select_related("survey", "community")
            .filter(pk=distribution_id)
            .first()
        )
        if distribution is None or distribution.sent_at is not None:
            return 0
        survey = distribution.survey
        context = {
            "survey": survey,
            "community": distribution.community,
            "link": distribution.link,
            "message": distribution.message,
        }
        subject = render_to_string("surveys/email/invitation_subject.txt", context).strip()
        body = render_to_string("surveys/email/invitation.txt", context)
        addresses = recipients(distribution)
        messages = [
            EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
            for address in addresses
        ]
        sent = (get_connection().send_messages(messages) or 0) if messages else 0
        distribution.sent_at = timezone.now()
        distribution.recipients = len(addresses)
        distribution.save(update_fields=["sent_at", "recipients"])
    logger.info("survey %s: %d invitations sent", survey.pk, sent)
    return int(sent)
