"""Test support for partners: a partner with an agreement and initiative, and factories."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone

from beacon.core.models import Community, User
from beacon.core.testing import World, access_factory
from beacon.partners import services
from beacon.partners.models import (
    Agreement,
    AgreementDocument,
    InitiativeTask,
    JointInitiative,
    Partner,
    PartnerContact,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def make_partner(
    community: Community,
    name: str = "North Secondary School",
    *,
    kind: str = "school",
    contact_user: User | None = None,
    agreement_days: int = 365,
) -> Partner:
    """A partner with a primary contact and an agreement running from yesterday."""
    partner = Partner.objects.filter(community=community, name=name).first()
    if partner is not None:
        return partner
    partner = services.save_partner(community, services.PartnerData(name=name, kind=kind))
    services.save_contact(
        partner,
        f"Contact at {name}",
        email=f"contact@{partner.pk}.example.org",
        is_primary=True,
        user=contact_user,
    )
    today = timezone.localdate()
    services.save_agreement(
        partner,
        services.AgreementData(
            title=f"{name} partnership",
            scope="Safety sessions and mentoring referrals.",
            starts_on=today - timedelta(days=1),
            expires_on=today + timedelta(days=agreement_days),
            information_sharing="aggregate",
            sharing_terms="Aggregate attendance figures only.",
        ),
    )
    return partner


def make_initiative(community: Community, partner: Partner, title: str = "") -> JointInitiative:
    """A joint initiative with ``partner`` and one task for it."""
    initiative = services.save_initiative(
        community,
        services.InitiativeData(
            title=title or f"Safe routes with {partner.name}", partners=[partner]
        ),
    )
    services.add_task(initiative, "Send the sign-up letter", partner=partner)
    return initiative


def _portal_partner(community: Community, world: World) -> Partner:
    """A partner whose contact is the world's partner user in ``community`` (if any)."""
    user = world.members["partner"] if community == world.community else None
    return make_partner(community, contact_user=user)


@access_factory(Partner)
def _partner(community: Community, world: World) -> models.Model:
    return _portal_partner(community, world)


@access_factory(PartnerContact)
def _contact(community: Community, world: World) -> models.Model:
    return _portal_partner(community, world).contacts.get()


@access_factory(Agreement)
def _agreement(community: Community, world: World) -> models.Model:
    return _portal_partner(community, world).agreements.get()


@access_factory(AgreementDocument)
def _document(community: Community, world: World) -> models.Model:
    agreement = _portal_partner(community, world).agreements.get()
    # No file is written: the access matrix needs the row, not the bytes.
    return AgreementDocument.objects.create(
        community=community,
        agreement=agreement,
        title="Signed",
        file="partners/agreements/x.pdf",
        content_type="application/pdf",
        size=1,
    )


@access_factory(JointInitiative)
def _initiative(community: Community, world: World) -> models.Model:
    return make_initiative(community, _portal_partner(community, world))


@access_factory(InitiativeTask)
def _task(community: Community, world: World) -> models.Model:
    return make_initiative(community, _portal_partner(community, world)).tasks.get()
