"""The partner portal and the staff pages for partnerships.

The portal shows a partner user only what the access policy lets them see (see
``models.PartnerScoped.member_q``): the pages never filter by organisation themselves.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from beacon.core.access import get_object_or_deny, require_role
from beacon.core.decorators import signed_in
from beacon.core.models import Community, User
from beacon.core.roles import STAFF_ROLES, Role
from beacon.partners import services
from beacon.partners.forms import (
    AgreementForm,
    ContactForm,
    DocumentForm,
    InitiativeForm,
    PartnerForm,
    TaskForm,
    apply_errors,
)
from beacon.partners.models import (
    PARTNERSHIP_STAFF,
    STAFF_AND_PARTNERS,
    Agreement,
    AgreementDocument,
    InitiativeTask,
    JointInitiative,
    Partner,
    PartnerContact,
    TaskStatus,
)


def _community(request: HttpRequest, slug: str, roles: frozenset[str]) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    require_role(request.user, community, roles)
    return community


def _posted_id(request: HttpRequest, name: str) -> int:
    """An id from the form, or 0 (which matches nothing) when missing or malformed."""
    value = request.POST.get(name, "")
    return int(value) if value.isdigit() else 0


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


# --- the partner portal -----------------------------------------------------------------


@signed_in
@require_http_methods(["GET", "POST"])
def portal(request: HttpRequest, slug: str) -> HttpResponse:
    """A partner user's organisations, agreements, joint initiatives and tasks."""
    community = _community(request, slug, frozenset({Role.PARTNER}))
    if request.method == "POST":
        task = get_object_or_deny(
            InitiativeTask.objects.filter(community=community),
            request.user,
            "change",
            pk=_posted_id(request, "task"),
        )
        status = TaskStatus.DONE if request.POST.get("done") else TaskStatus.OPEN
        services.set_task_status(task, status, actor=_actor(request))
        messages.success(request, _("Task updated."))
        return redirect("partners:portal", slug)
    user = request.user
    initiatives = (
        JointInitiative.objects.visible_to(user)
        .filter(community=community)
        .prefetch_related("partners", "programs", "events")
    )
    changeable = set(
        InitiativeTask.objects.restrict(user, "change")
        .filter(community=community)
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "partners/portal.html",
        {
            "community": community,
            "partners": Partner.objects.visible_to(user).filter(community=community),
            "agreements": Agreement.objects.visible_to(user)
            .filter(community=community)
            .select_related("partner")
            .prefetch_related("documents"),
            "initiatives": initiatives,
            "tasks": InitiativeTask.objects.visible_to(user)
            .filter(community=community)
            .select_related("initiative", "partner"),
            "changeable": changeable,
            "today": timezone.localdate(),
        },
    )


@signed_in
def portal_initiative(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One joint initiative, as its partners see it."""
    community = _community(request, slug, STAFF_AND_PARTNERS)
    initiative = get_object_or_deny(
        JointInitiative.objects.filter(community=community), request.user, "view", pk=pk
    )
    return render(
        request,
        "partners/initiative.html",
        {
            "community": community,
            "initiative": initiative,
            "tasks": InitiativeTask.objects.visible_to(request.user).filter(initiative=initiative),
            "staff": False,
        },
    )


@signed_in
def document(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Download an agreement document (staff, or the partner whose agreement it is)."""
    community = _community(request, slug, STAFF_AND_PARTNERS)
    doc = get_object_or_deny(
        AgreementDocument.objects.filter(community=community), request.user, "view", pk=pk
    )
    # Documents are at most 10 MB, so they are read whole rather than streamed.
    with doc.file.open("rb") as handle:
        response = HttpResponse(handle.read(), content_type=doc.content_type)
    response["Content-Disposition"] = f'attachment; filename="{doc.file.name.rsplit("/", 1)[-1]}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- staff pages ------------------------------------------------------------------------


def _partner_data(data: dict[str, Any]) -> services.PartnerData:
    return services.PartnerData(
        name=data["name"],
        kind=data["kind"],
        description=data.get("description") or "",
        website=data.get("website") or "",
        address=data.get("address") or "",
    )


@signed_in
@require_http_methods(["GET", "POST"])
def partner_list(request: HttpRequest, slug: str) -> HttpResponse:
    """Partners with their agreement status, and a form for a new partner."""
    community = _community(request, slug, STAFF_ROLES)
    form = PartnerForm(request.POST or None)
    if request.method == "POST":
        require_role(request.user, community, PARTNERSHIP_STAFF)
        if form.is_valid():
            try:
                partner = services.save_partner(
                    community, _partner_data(form.cleaned_data), actor=_actor(request)
                )
            except services.PartnerError as exc:
                apply_errors(form, exc)
            else:
                return redirect("partners:staff_partner", slug, partner.pk)
    partners = Partner.objects.visible_to(request.user).filter(community=community)
    rows = [(partner, partner.active_agreement()) for partner in partners]
    return render(
        request,
        "partners/staff/partner_list.html",
        {
            "community": community,
            "rows": rows,
            "form": form,
            "initiatives": JointInitiative.objects.visible_to(request.user).filter(
                community=community
            ),
        },
    )


@signed_in
@require_http_methods(["GET", "POST"])
def partner_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A partner: contacts, agreements and documents."""
    community = _community(request, slug, STAFF_ROLES)
    partner = get_object_or_deny(
        Partner.objects.filter(community=community), request.user, "view", pk=pk
    )
    action = request.POST.get("action", "")
    contact_form = ContactForm(request.POST if action == "contact" else None, prefix="contact")
    agreement_form = AgreementForm(
        request.POST if action == "agreement" else None, prefix="agreement"
    )
    document_form = DocumentForm(
        request.POST if action == "document" else None,
        request.FILES if action == "document" else None,
        prefix="document",
    )
    if request.method == "POST":
        get_object_or_deny(Partner.objects.filter(pk=partner.pk), request.user, "change", pk=pk)
        try:
            if action == "contact" and contact_form.is_valid():
                data = contact_form.cleaned_data
                services.save_contact(
                    partner,
                    data["name"],
                    email=data.get("email") or "",
                    title=data.get("title") or "",
                    phone=data.get("phone") or "",
                    is_primary=bool(data.get("is_primary")),
                    user=data.get("user"),
                    actor=_actor(request),
                )
                return redirect("partners:staff_partner", slug, pk)
            if action == "agreement" and agreement_form.is_valid():
                data = agreement_form.cleaned_data
                services.save_agreement(
                    partner,
                    services.AgreementData(
                        title=data["title"],
                        scope=data["scope"],
                        starts_on=data["starts_on"],
                        expires_on=data["expires_on"],
                        information_sharing=data["information_sharing"],
                        sharing_terms=data.get("sharing_terms") or "",
                    ),
                    actor=_actor(request),
                )
                return redirect("partners:staff_partner", slug, pk)
            if action == "document" and document_form.is_valid():
                agreement = Agreement.objects.get(
                    partner=partner, pk=int(request.POST.get("document-agreement", ""))
                )
                upload = document_form.cleaned_data["file"]
                services.add_document(
                    agreement,
                    document_form.cleaned_data.get("title") or "",
                    upload.name,
                    upload.read(services.DOCUMENT_MAX_BYTES + 1),
                    upload.content_type or "",
                    actor=_actor(request),
                )
                return redirect("partners:staff_partner", slug, pk)
            if action == "terminate":
                agreement = Agreement.objects.get(
                    partner=partner, pk=int(request.POST.get("agreement", ""))
                )
                services.terminate_agreement(agreement, actor=_actor(request))
                return redirect("partners:staff_partner", slug, pk)
        except services.PartnerError as exc:
            target = {"contact": contact_form, "agreement": agreement_form}.get(
                action, document_form
            )
            apply_errors(target, exc)
        except (Agreement.DoesNotExist, ValueError):
            messages.error(request, _("That agreement no longer exists."))
    return render(
        request,
        "partners/staff/partner_detail.html",
        {
            "community": community,
            "partner": partner,
            "contacts": PartnerContact.objects.visible_to(request.user).filter(partner=partner),
            "agreements": Agreement.objects.visible_to(request.user)
            .filter(partner=partner)
            .prefetch_related("documents"),
            "contact_form": contact_form,
            "agreement_form": agreement_form,
            "document_form": document_form,
            "today": timezone.localdate(),
        },
    )


def _initiative_data(data: dict[str, Any]) -> services.InitiativeData:
    return services.InitiativeData(
        title=data["title"],
        description=data.get("description") or "",
        status=data["status"],
        partners=list(data.get("partners") or []),
        programs=list(data.get("programs") or []),
        events=list(data.get("events") or []),
        starts_on=data.get("starts_on"),
        ends_on=data.get("ends_on"),
    )


@signed_in
@require_http_methods(["GET", "POST"])
def initiative_new(request: HttpRequest, slug: str) -> HttpResponse:
    """Start a joint initiative."""
    community = _community(request, slug, PARTNERSHIP_STAFF)
    form = InitiativeForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            initiative = services.save_initiative(
                community, _initiative_data(form.cleaned_data), actor=_actor(request)
            )
        except services.PartnerError as exc:
            apply_errors(form, exc)
        else:
            return redirect("partners:staff_initiative", slug, initiative.pk)
    return render(
        request, "partners/staff/initiative_form.html", {"community": community, "form": form}
    )


@signed_in
@require_http_methods(["GET", "POST"])
def initiative_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A joint initiative with its tasks, for staff."""
    community = _community(request, slug, STAFF_ROLES)
    initiative = get_object_or_deny(
        JointInitiative.objects.filter(community=community), request.user, "view", pk=pk
    )
    form = TaskForm(request.POST or None, initiative=initiative)
    if request.method == "POST":
        get_object_or_deny(JointInitiative.objects.filter(pk=pk), request.user, "change", pk=pk)
        if form.is_valid():
            try:
                services.add_task(
                    initiative,
                    form.cleaned_data["title"],
                    partner=form.cleaned_data.get("partner"),
                    due_on=form.cleaned_data.get("due_on"),
                    actor=_actor(request),
                )
            except services.PartnerError as exc:
                apply_errors(form, exc)
            else:
                return redirect("partners:staff_initiative", slug, pk)
    return render(
        request,
        "partners/initiative.html",
        {
            "community": community,
            "initiative": initiative,
            "tasks": InitiativeTask.objects.visible_to(request.user).filter(initiative=initiative),
            "form": form,
            "staff": True,
        },
    )
