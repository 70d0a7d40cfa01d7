"""Officer pages: "your officer" by map click or address, profiles, the officer's own
work log, a beat's assignment history and the supervisor's workload view."""

from __future__ import annotations

import math
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from beacon.core.access import get_object_or_deny, require_role
from beacon.core.decorators import signed_in
from beacon.core.models import Area, AreaKind, Community
from beacon.core.roles import MANAGER_ROLES, STAFF_ROLES, Role
from beacon.officers import services
from beacon.officers.forms import ActivityForm, AddressForm, AssignForm, ProfileForm
from beacon.officers.models import ActivityEntry, BeatAssignment, OfficerProfile

PROFILE_ROLES = frozenset({Role.OFFICER, Role.SUPERVISOR})


def _community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    return community


@require_GET
def officers_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Find your officer: click the map or type an address; every officer listed below."""
    community = _community(request, slug)
    return render(
        request,
        "officers/officers.html",
        {
            "community": community,
            "form": AddressForm(),
            "profiles": services.public_profiles(community),
        },
    )


def _coordinate(value: str | None) -> float | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@require_GET
def officer_at(request: HttpRequest, slug: str) -> HttpResponse:
    """The beat and officers at a clicked point or typed address (a fragment for htmx)."""
    community = _community(request, slug)
    context: dict[str, Any] = {"community": community}
    lat, lon = _coordinate(request.GET.get("lat")), _coordinate(request.GET.get("lon"))
    address = (request.GET.get("address") or "").strip()
    status = 200
    if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
        context["found"] = services.officers_at(community, lat, lon)
    elif address:
        try:
            context["found"], context["place"] = services.officers_at_address(community, address)
        except services.OfficerError as exc:
            context["error"] = " ".join(exc.errors["address"])
            status = 400
    else:
        context["error"] = _("Click the map or type an address.")
        status = 400
    template = (
        "officers/_your_officer.html" if request.headers.get("HX-Request") else "officers/at.html"
    )
    return render(request, template, context, status=status)


def _profile(request: HttpRequest, slug: str, pk: int) -> tuple[Community, OfficerProfile]:
    community = _community(request, slug)
    profile: OfficerProfile = get_object_or_deny(
        OfficerProfile.objects.filter(community=community), request.user, "view", pk=pk
    )
    return community, profile


@require_GET
def profile_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """An officer's public profile: introduction, languages, beats, office hours, contact."""
    community, profile = _profile(request, slug, pk)
    beats = Area.objects.filter(pk__in=services.active_beat_ids(profile.user, community))
    return render(
        request,
        "officers/profile.html",
        {"community": community, "profile": profile, "beats": beats.order_by("name")},
    )


@require_GET
def photo(request: HttpRequest, slug: str, pk: int) -> HttpResponseBase:
    """An officer's photo (already re-encoded without metadata)."""
    _unused, profile = _profile(request, slug, pk)
    if not profile.photo:
        raise Http404
    return FileResponse(profile.photo.open("rb"))


@signed_in
@never_cache
@require_http_methods(["GET", "POST"])
def my_work(request: HttpRequest, slug: str) -> HttpResponse:
    """An officer's own page: their public profile and their activity log."""
    community = _community(request, slug)
    require_role(request.user, community, PROFILE_ROLES)
    user: Any = request.user
    profile = OfficerProfile.objects.filter(community=community, user=user).first()
    profile_form = ProfileForm(initial=ProfileForm.initial_for(profile, user))
    activity_form = ActivityForm(community)
    status = 200
    if request.method == "POST" and request.POST.get("form") == "profile":
        profile_form = ProfileForm(request.POST, request.FILES)
        if profile_form.is_valid():
            data = dict(profile_form.cleaned_data)
            upload = data.pop("photo")
            try:
                data["office_hours"] = services.parse_office_hours(data.pop("office_hours"))
                data["languages"] = [x for x in data["languages"].split(",") if x.strip()]
                services.save_profile(
                    community,
                    user,
                    actor=user,
                    photo=(upload.name, upload.read()) if upload else None,
                    **data,
                )
            except services.OfficerError as exc:
                _show(profile_form, exc)
            else:
                messages.success(request, _("Your profile is saved."))
                return redirect("officers:me", slug=slug)
        status = 400
    elif request.method == "POST":
        activity_form = ActivityForm(community, request.POST)
        if activity_form.is_valid():
            try:
                services.log_activity(community, user, **activity_form.cleaned_data)
            except services.OfficerError as exc:
                _show(activity_form, exc)
            else:
                messages.success(request, _("Logged."))
                return redirect("officers:me", slug=slug)
        status = 400
    entries = ActivityEntry.objects.filter(community=community, officer=user).select_related(
        "beat"
    )[:50]
    return render(
        request,
        "officers/my_work.html",
        {
            "community": community,
            "profile": profile,
            "profile_form": profile_form,
            "activity_form": activity_form,
            "entries": entries,
            "beats": Area.objects.filter(pk__in=services.active_beat_ids(user, community)),
        },
        status=status,
    )


def _show(form: Any, exc: services.OfficerError) -> None:
    for name, problems in exc.errors.items():
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)


@signed_in
@require_GET
def workload_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Supervisors: per beat, officers, community work and time logged, contacts, reports."""
    community = _community(request, slug)
    require_role(request.user, community, MANAGER_ROLES)
    try:
        days = max(1, min(int(request.GET.get("days", 30)), 365))
    except ValueError:
        days = 30
    return render(
        request,
        "officers/workload.html",
        {"community": community, "rows": services.workload(community, days), "days": days},
    )


@signed_in
@never_cache
@require_http_methods(["GET", "POST"])
def beat_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A beat's assignment history; supervisors assign officers and end assignments."""
    community = _community(request, slug)
    require_role(request.user, community, STAFF_ROLES)
    beat = Area.objects.filter(community=community, kind=AreaKind.BEAT, pk=pk).first()
    if beat is None:
        raise Http404
    form = AssignForm(community)
    status = 200
    if request.method == "POST":
        require_role(request.user, community, MANAGER_ROLES)
        actor: Any = request.user
        try:
            if request.POST.get("end"):
                assignment = get_object_or_deny(
                    BeatAssignment.objects.filter(beat=beat),
                    actor,
                    "change",
                    pk=request.POST.get("end"),
                )
                services.end_assignment(assignment, actor=actor)
                return redirect("officers:beat", slug=slug, pk=pk)
            form = AssignForm(community, request.POST)
            if form.is_valid():
                services.assign_beat(
                    beat,
                    form.cleaned_data["officer"],
                    actor=actor,
                    started_on=form.cleaned_data["started_on"],
                )
                return redirect("officers:beat", slug=slug, pk=pk)
        except services.OfficerError as exc:
            _show(form, exc)
        status = 400
    history = services.assignment_history(beat)
    return render(
        request,
        "officers/beat.html",
        {
            "community": community,
            "beat": beat,
            "history": history,
            "current": [a for a in history if a.is_current()],
            "form": form,
            "can_assign": bool(
                getattr(request.user, "is_superuser", False)
                or request.user.roles_in(community) & MANAGER_ROLES  # type: ignore[union-attr]
            ),
        },
        status=status,
    )
