"""Background work for reports: telling reporters about updates by email."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

from beacon.reports.models import ReportUpdate, Visibility

logger = logging.getLogger(__name__)


@task()
def notify_reporter(update_id: int) -> bool:
    """Email the reporter (and reporters of merged duplicates) about one update.

    Idempotent: the update is marked as sent in the same transaction that claims it, so a
    retried job sends nothing twice. Reporters without an email address read updates on
    the tip page instead. Log lines name the update, never the address.
    """
    with transaction.atomic():
        update = (
            ReportUpdate.objects.select_for_update()
            .select_related("report", "report__community", "report__category")
            .filter(pk=update_id)
            .first()
        )
        if update is None or update.notified_at is not None:
            return False
        if update.visibility == Visibility.INTERNAL or update.from_reporter:
            return False
        report = update.report
        recipients = {report.contact_email} if report.contact_email else set()
        if report.reporter_id and report.reporter is not None:
            recipients.add(report.reporter.email)
        for duplicate in report.duplicates.exclude(contact_email=""):
            recipients.add(duplicate.contact_email)
        recipients.discard("")
        update.notified_at = timezone.now()
        update.save(update_fields=["notified_at"])
        if not recipients:
            return False
        context = {
            "report": report,
            "update": update,
            "site": settings.BEACON_SITE_URL,
        }
        subject = render_to_string("reports/email/update_subject.txt", context).strip()
        body = render_to_string("reports/email/update_body.txt", context)
        # One message per address: reporters must not learn each other's addresses.
        for address in sorted(recipients):
            send_mail(subject, body, None, [address])
    logger.info("Sent update %s of report %s", update_id, report.pk)
    return True
