"""Partners endpoints: organisations and joint initiatives, as the access policy allows.

Staff see every partner; a partner user sees their own organisation and the initiatives
their active agreements cover, exactly as in the portal.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.security import django_auth

from beacon.core.access import get_object_or_deny, require_role
from beacon.core.models import Community
from beacon.partners.models import (
    STAFF_AND_PARTNERS,
    Agreement,
    InitiativeTask,
    JointInitiative,
    Partner,
)
from beacon.partners.schemas import ErrorOut, InitiativeOut, PartnerOut

router = Router(tags=["partners"], auth=django_auth)
ERRORS = {403: ErrorOut, 404: ErrorOut}


def _community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    require_role(request.user, community, STAFF_AND_PARTNERS)
    return community


@router.get("/communities/{slug}/partners", response={200: list[PartnerOut], **ERRORS})
def list_partners(request: HttpRequest, slug: str) -> Any:
    """Partner organisations with their agreements."""
    community = _community(request, slug)
    agreements = Agreement.objects.visible_to(request.user)
    return [
        {
            "id": p.pk,
            "name": p.name,
            "kind": p.kind,
            "agreements": [
                {
                    "id": a.pk,
                    "title": a.title,
                    "scope": a.scope,
                    "information_sharing": a.information_sharing,
                    "starts_on": a.starts_on,
                    "expires_on": a.expires_on,
                    "active": a.is_active(),
                }
                for a in agreements.filter(partner=p)
            ],
        }
        for p in Partner.objects.visible_to(request.user).filter(community=community)
    ]


@router.get("/communities/{slug}/initiatives", response={200: list[InitiativeOut], **ERRORS})
def list_initiatives(request: HttpRequest, slug: str) -> Any:
    """Joint initiatives with their tasks."""
    community = _community(request, slug)
    tasks = InitiativeTask.objects.visible_to(request.user).select_related("partner")
    return [
        {
            "id": i.pk,
            "title": i.title,
            "status": i.status,
            "partners": [p.name for p in i.partners.all()],
            "programs": [p.name for p in i.programs.all()],
            "event_ids": [e.pk for e in i.events.all()],
            "tasks": [
                {
                    "id": t.pk,
                    "title": t.title,
                    "partner": t.partner.name if t.partner else None,
                    "due_on": t.due_on,
                    "status": t.status,
                }
                for t in tasks.filter(initiative=i)
            ],
        }
        for i in JointInitiative.objects.visible_to(request.user)
        .filter(community=community)
        .prefetch_related("partners", "programs", "events")
    ]
