"""Domain operations on partners, contacts, agreements, documents and initiatives.

Pages, the API, commands and tasks call these. Every create, change and delete is
audited: agreements set what a partner may see, so who changed them matters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from beacon.core.audit import record_event
from beacon.core.models import Community, Membership, User
from beacon.core.roles import MANAGER_ROLES, Role
from beacon.core.services import add_member
from beacon.partners.models import (
    Agreement,
    AgreementDocument,
    InformationSharing,
    InitiativeStatus,
    InitiativeTask,
    JointInitiative,
    Partner,
    PartnerContact,
    PartnerKind,
    TaskStatus,
)
from beacon.programs.models import Event, Program

logger = logging.getLogger(__name__)

DOCUMENT_TYPES = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "image/png": ".png",
    "image/jpeg": ".jpg",
}
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024


def renewal_days() -> int:
    """How many days before expiry the renewal reminder goes out."""
    return int(settings.BEACON_AGREEMENT_RENEWAL_DAYS)


class PartnerError(ValueError):
    """Input that cannot be accepted; ``errors`` maps a field to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(
            "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
        )


def _audit(actor: User | None, created: bool, obj: Any) -> None:
    record_event(actor=actor, action="create" if created else "update", obj=obj)


# --- organisations and contacts ---------------------------------------------------------


@dataclass
class PartnerData:
    name: str
    kind: str
    description: str = ""
    website: str = ""
    address: str = ""


def save_partner(
    community: Community,
    data: PartnerData,
    *,
    actor: User | None = None,
    partner: Partner | None = None,
) -> Partner:
    """Create or update a partner organisation; audited."""
    errors: dict[str, list[str]] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = [_("Give the organisation's name.")]
    elif (
        Partner.objects.filter(community=community, name=name)
        .exclude(pk=partner.pk if partner else 0)
        .exists()
    ):
        errors["name"] = [_("Another partner already has this name.")]
    if data.kind not in PartnerKind.values:
        errors["kind"] = [_("Choose one of the listed kinds.")]
    if data.website:
        try:
            URLValidator(schemes=["http", "https"])(data.website)
        except ValidationError:
            errors["website"] = [_("Enter a web address starting with https://.")]
    if errors:
        raise PartnerError(errors)
    created = partner is None
    partner = partner or Partner(community=community)
    partner.name = name
    partner.kind = data.kind
    partner.description = data.description.strip()
    partner.website = data.website.strip()
    partner.address = data.address.strip()
    with transaction.atomic():
        partner.save()
        _audit(actor, created, partner)
    return partner


def save_contact(
    partner: Partner,
    name: str,
    *,
    email: str = "",
    title: str = "",
    phone: str = "",
    is_primary: bool = False,
    user: User | None = None,
    actor: User | None = None,
    contact: PartnerContact | None = None,
) -> PartnerContact:
    """Create or update a contact; with ``user``, give them the partner portal.

    Linking a user gives them the partner role in the community: the role lets them in,
    the link to the organisation decides what they see.
    """
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("Give the contact's name.")]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid email address, like name@example.org.")]
    if errors:
        raise PartnerError(errors)
    created = contact is None
    contact = contact or PartnerContact(community_id=partner.community_id, partner=partner)
    contact.name = name.strip()
    contact.email = email.strip().lower()
    contact.title = title.strip()
    contact.phone = phone.strip()
    contact.is_primary = is_primary
    contact.user = user
    with transaction.atomic():
        if is_primary:
            PartnerContact.objects.filter(partner=partner).exclude(pk=contact.pk).update(
                is_primary=False
            )
        contact.save()
        if user is not None:
            add_member(user, partner.community, Role.PARTNER, actor=actor)
        _audit(actor, created, contact)
    return contact


# --- agreements -------------------------------------------------------------------------


@dataclass
class AgreementData:
    title: str
    scope: str
    starts_on: date | None
    expires_on: date | None
    information_sharing: str = InformationSharing.NONE
    sharing_terms: str = ""


def save_agreement(
    partner: Partner,
    data: AgreementData,
    *,
    actor: User | None = None,
    agreement: Agreement | None = None,
) -> Agreement:
    """Create or update an agreement; audited. A new expiry date re-arms the reminder."""
    errors: dict[str, list[str]] = {}
    if not data.title.strip():
        errors["title"] = [_("Give the agreement a title.")]
    if not data.scope.strip():
        errors["scope"] = [_("Describe what the agreement covers.")]
    if data.information_sharing not in InformationSharing.values:
        errors["information_sharing"] = [_("Choose one of the listed terms.")]
    elif data.information_sharing != InformationSharing.NONE and not data.sharing_terms.strip():
        errors["sharing_terms"] = [_("Set out the terms under which information is shared.")]
    if data.starts_on is None:
        errors["starts_on"] = [_("Give the start date.")]
    if data.expires_on is None:
        errors["expires_on"] = [_("Give the expiry date.")]
    if data.starts_on and data.expires_on and data.expires_on <= data.starts_on:
        errors["expires_on"] = [_("The agreement must expire after it starts.")]
    if errors:
        raise PartnerError(errors)
    assert data.starts_on and data.expires_on
    created = agreement is None
    agreement = agreement or Agreement(community_id=partner.community_id, partner=partner)
    if agreement.expires_on != data.expires_on:
        agreement.reminder_sent_for = None
    agreement.title = data.title.strip()
    agreement.scope = data.scope.strip()
    agreement.information_sharing = data.information_sharing
    agreement.sharing_terms = data.sharing_terms.strip()
    agreement.starts_on = data.starts_on
    agreement.expires_on = data.expires_on
    with transaction.atomic():
        agreement.save()
        _audit(actor, created, agreement)
    return agreement


def terminate_agreement(
    agreement: Agreement, on: date | None = None, *, actor: User | None = None
) -> Agreement:
    """End an agreement early; the partner's portal access to initiatives ends with it."""
    agreement.terminated_on = on or timezone.localdate()
    with transaction.atomic():
        agreement.save(update_fields=["terminated_on"])
        record_event(actor=actor, action="update", obj=agreement, detail={"terminated": True})
    return agreement


def add_document(
    agreement: Agreement,
    title: str,
    filename: str,
    data: bytes,
    content_type: str,
    *,
    actor: User | None = None,
) -> AgreementDocument:
    """Attach a document (PDF, Word, OpenDocument or an image, up to 10 MB)."""
    errors: dict[str, list[str]] = {}
    if content_type not in DOCUMENT_TYPES:
        errors["file"] = [_("Upload a PDF, Word, OpenDocument, PNG or JPEG file.")]
    elif content_type == "application/pdf" and not data.startswith(b"%PDF"):
        errors["file"] = [_("The file is not a PDF.")]
    if len(data) > DOCUMENT_MAX_BYTES:
        errors["file"] = [_("Files can be at most 10 MB.")]
    if not data:
        errors["file"] = [_("The file is empty.")]
    if errors:
        raise PartnerError(errors)
    document = AgreementDocument(
        community_id=agreement.community_id,
        agreement=agreement,
        title=(title or filename).strip()[:200],
        content_type=content_type,
        size=len(data),
        uploaded_by=actor,
    )
    # The stored name is ours, never the uploader's: no path tricks, no personal names.
    document.file.save(
        f"agreement-{agreement.pk}{DOCUMENT_TYPES[content_type]}", ContentFile(data), save=False
    )
    with transaction.atomic():
        document.save()
        _audit(actor, True, document)
    return document


def due_for_renewal(on: date | None = None) -> list[Agreement]:
    """Agreements expiring within the renewal window that have had no reminder yet."""
    on = on or timezone.localdate()
    return list(
        Agreement.objects.filter(
            terminated_on__isnull=True,
            expires_on__gte=on,
            expires_on__lte=on + timedelta(days=renewal_days()),
        )
        .exclude(reminder_sent_for=F("expires_on"))
        .select_related("partner", "partner__community")
    )


def send_renewal_reminder(agreement_id: int, on: date | None = None) -> bool:
    """Email the community's managers and the partner's primary contact; once per term."""
    with transaction.atomic():
        agreement = (
            Agreement.objects.select_for_update()
            .select_related("partner", "partner__community")
            .filter(pk=agreement_id)
            .first()
        )
        if agreement is None or agreement.terminated_on is not None:
            return False
        if agreement.reminder_sent_for == agreement.expires_on:
            return False
        on = on or timezone.localdate()
        if not on <= agreement.expires_on <= on + timedelta(days=renewal_days()):
            return False
        agreement.reminder_sent_for = agreement.expires_on
        agreement.save(update_fields=["reminder_sent_for"])
        community = agreement.partner.community
        recipients = set(
            Membership.objects.filter(
                community=community, role__in=MANAGER_ROLES, user__is_active=True
            ).values_list("user__email", flat=True)
        )
        primary = agreement.partner.contacts.filter(is_primary=True).exclude(email="").first()
        if primary is not None:
            recipients.add(primary.email)
        context = {"agreement": agreement, "partner": agreement.partner, "community": community}
        subject = render_to_string("partners/email/renewal_subject.txt", context).strip()
        body = render_to_string("partners/email/renewal_body.txt", context)
        for address in sorted(recipients):
            send_mail(subject, body, None, [address])
        record_event(action="notify", obj=agreement, detail={"renewal_reminder": True})
    logger.info("Sent the renewal reminder for agreement %s", agreement_id)
    return True


def send_renewal_reminders(on: date | None = None) -> int:
    """Send every renewal reminder due on ``on``; returns how many went out."""
    return sum(1 for a in due_for_renewal(on) if send_renewal_reminder(a.pk, on))


# --- initiatives and tasks --------------------------------------------------------------


@dataclass
class InitiativeData:
    title: str
    description: str = ""
    status: str = InitiativeStatus.PLANNED
    partners: list[Partner] = field(default_factory=list)
    programs: list[Program] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    starts_on: date | None = None
    ends_on: date | None = None


def save_initiative(
    community: Community,
    data: InitiativeData,
    *,
    actor: User | None = None,
    initiative: JointInitiative | None = None,
) -> JointInitiative:
    """Create or update a joint initiative and its links; audited."""
    errors: dict[str, list[str]] = {}
    if not data.title.strip():
        errors["title"] = [_("Give the initiative a title.")]
    if not data.partners:
        errors["partners"] = [_("Choose at least one partner.")]
    if data.status not in InitiativeStatus.values:
        errors["status"] = [_("Choose one of the listed statuses.")]
    for name, rows in (("partners", data.partners), ("programs", data.programs)):
        if any(row.community_id != community.pk for row in rows):
            errors[name] = [_("Everything linked must belong to this community.")]
    if any(event.community_id != community.pk for event in data.events):
        errors["events"] = [_("Everything linked must belong to this community.")]
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        errors["ends_on"] = [_("The initiative cannot end before it starts.")]
    if errors:
        raise PartnerError(errors)
    created = initiative is None
    initiative = initiative or JointInitiative(community=community)
    initiative.title = data.title.strip()
    initiative.description = data.description.strip()
    initiative.status = data.status
    initiative.starts_on = data.starts_on
    initiative.ends_on = data.ends_on
    with transaction.atomic():
        initiative.save()
        initiative.partners.set(data.partners)
        initiative.programs.set(data.programs)
        initiative.events.set(data.events)
        _audit(actor, created, initiative)
    return initiative


def add_task(
    initiative: JointInitiative,
    title: str,
    *,
    partner: Partner | None = None,
    due_on: date | None = None,
    description: str = "",
    actor: User | None = None,
) -> InitiativeTask:
    """Add a task to an initiative, owned by one of its partners or by the agency."""
    if not title.strip():
        raise PartnerError({"title": [_("Give the task a title.")]})
    if partner is not None and not initiative.partners.filter(pk=partner.pk).exists():
        raise PartnerError({"partner": [_("That partner is not part of this initiative.")]})
    with transaction.atomic():
        task = InitiativeTask.objects.create(
            community_id=initiative.community_id,
            initiative=initiative,
            title=title.strip(),
            description=description.strip(),
            partner=partner,
            due_on=due_on,
        )
        _audit(actor, True, task)
    return task


def set_task_status(task: InitiativeTask, status: str, *, actor: User | None) -> InitiativeTask:
    """Mark a task done or open again; audited."""
    if status not in TaskStatus.values:
        raise PartnerError({"status": [_("Unknown status.")]})
    task.status = status
    task.completed_at = timezone.now() if status == TaskStatus.DONE else None
    with transaction.atomic():
        task.save(update_fields=["status", "completed_at"])
        record_event(actor=actor, action="update", obj=task, detail={"status": status})
    return task
