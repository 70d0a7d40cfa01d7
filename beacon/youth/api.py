"""Youth endpoints: for the staff of a program only; everyone else gets 404.

The reasons are those of the pages (``views.py``): the existence of a minor's record is
itself sensitive, and every read is audited.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router
from ninja.errors import HttpError
from ninja.security import django_auth

from beacon.core.access import get_object_or_deny
from beacon.core.decorators import second_factor_satisfied
from beacon.core.models import Community
from beacon.youth import services
from beacon.youth.access import get_safeguarded_or_404, may_open, refuse_program
from beacon.youth.models import Mentee, YouthProgram
from beacon.youth.schemas import ErrorOut, MenteeOut, MenteeSummaryOut

router = Router(tags=["youth"], auth=django_auth)


def _community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    if not second_factor_satisfied(request):
        raise HttpError(403, "Sign in with your second factor first.")
    return community


@router.get(
    "/communities/{slug}/youth/programs/{program_id}/mentees",
    response={200: list[MenteeSummaryOut], 403: ErrorOut, 404: ErrorOut},
)
def list_mentees(request: HttpRequest, slug: str, program_id: int) -> Any:
    """The program's mentees (program staff and community administrators)."""
    community = _community(request, slug)
    program = YouthProgram.objects.filter(community=community, pk=program_id).first()
    if program is None:
        raise Http404
    if not may_open(request.user, program):
        refuse_program(request.user, program)
    mentees = list(Mentee.objects.visible_to(request.user).filter(program=program))
    services.audit_list(request.user, program, [m.pk for m in mentees], "mentee")
    return [
        {"id": m.pk, "name": m.name, "status": m.status, "consent": m.has_consent} for m in mentees
    ]


@router.get(
    "/communities/{slug}/youth/mentees/{mentee_id}",
    response={200: MenteeOut, 403: ErrorOut, 404: ErrorOut},
)
def get_mentee(request: HttpRequest, slug: str, mentee_id: int) -> Any:
    """One mentee (program staff and community administrators); audited."""
    community = _community(request, slug)
    mentee: Mentee = get_safeguarded_or_404(
        Mentee.objects.filter(community=community), request.user, "view", pk=mentee_id
    )
    pairing = mentee.matches.filter(status="active").select_related("mentor").first()
    return {
        "id": mentee.pk,
        "name": mentee.name,
        "status": mentee.status,
        "consent": mentee.has_consent,
        "date_of_birth": mentee.date_of_birth,
        "interests": mentee.interests,
        "languages": mentee.languages,
        "availability": mentee.availability,
        "mentor": pairing.mentor.name if pairing else None,
    }
