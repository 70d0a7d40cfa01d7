"""Staff pages: programs, events and sessions, check-in, and the figures."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from beacon.core.access import get_object_or_deny, require_role
from beacon.core.decorators import signed_in
from beacon.core.models import Community, User
from beacon.core.roles import STAFF_ROLES
from beacon.programs import figures as figures_module
from beacon.programs import services, tokens
from beacon.programs.forms import EventForm, ProgramForm, SessionForm, apply_errors
from beacon.programs.models import (
    ORGANISERS,
    CheckInMethod,
    Event,
    EventStatus,
    Program,
    Registration,
    RegistrationStatus,
    Session,
)


def _staff_community(request: HttpRequest, slug: str, roles: frozenset[str]) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    require_role(request.user, community, roles)
    return community


def _program_data(data: dict[str, Any]) -> services.ProgramData:
    return services.ProgramData(
        name=data["name"],
        kind=data["kind"],
        summary=data.get("summary") or "",
        curriculum=data.get("curriculum") or "",
        audience=data["audience"],
        materials=data.get("materials") or "",
        is_public=bool(data.get("is_public")),
    )


@signed_in
@require_http_methods(["GET", "POST"])
def program_list(request: HttpRequest, slug: str) -> HttpResponse:
    """Programs of the community, and a form for a new one."""
    community = _staff_community(request, slug, STAFF_ROLES)
    form = ProgramForm(request.POST or None)
    if request.method == "POST":
        require_role(request.user, community, ORGANISERS)
        if form.is_valid():
            try:
                program = services.save_program(
                    community,
                    _program_data(form.cleaned_data),
                    actor=request.user,  # type: ignore[arg-type]
                )
            except services.ProgramError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Program “%(name)s” saved.") % {"name": program.name})
                return redirect("programs:staff_programs", slug)
    programs = Program.objects.visible_to(request.user).filter(community=community)
    return render(
        request,
        "programs/staff/program_list.html",
        {"community": community, "programs": programs, "form": form},
    )


@signed_in
@require_http_methods(["GET", "POST"])
def program_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Edit a program."""
    community = _staff_community(request, slug, STAFF_ROLES)
    program = get_object_or_deny(
        Program.objects.filter(community=community), request.user, "change", pk=pk
    )
    initial = {
        "name": program.name,
        "kind": program.kind,
        "summary": program.summary,
        "curriculum": program.curriculum,
        "audience": program.audience,
        "materials": program.materials,
        "is_public": program.is_public,
    }
    form = ProgramForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_program(
                community,
                _program_data(form.cleaned_data),
                actor=request.user,  # type: ignore[arg-type]
                program=program,
            )
        except services.ProgramError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Program saved."))
            return redirect("programs:staff_programs", slug)
    return render(
        request,
        "programs/staff/program_edit.html",
        {"community": community, "program": program, "form": form},
    )


def _event_data(data: dict[str, Any]) -> services.EventData:
    return services.EventData(
        title=data["title"],
        kind=data["kind"],
        program=data.get("program"),
        description=data.get("description") or "",
        audience=data["audience"],
        capacity=data.get("capacity"),
        registration_open=bool(data.get("registration_open")),
    )


def _session_data(data: dict[str, Any]) -> services.SessionData:
    return services.SessionData(
        starts_at=data.get("starts_at"),
        ends_at=data.get("ends_at"),
        venue=data.get("venue") or "",
        address=data.get("address") or "",
        lat=data.get("lat"),
        lon=data.get("lon"),
    )


@signed_in
@require_http_methods(["GET", "POST"])
def event_list(request: HttpRequest, slug: str) -> HttpResponse:
    """Events (drafts too) and a form for a new event with its first session."""
    community = _staff_community(request, slug, STAFF_ROLES)
    form = EventForm(request.POST or None, community=community, prefix="event")
    session_form = SessionForm(request.POST or None, prefix="session")
    if request.method == "POST":
        require_role(request.user, community, ORGANISERS)
        if form.is_valid() and session_form.is_valid():
            from django.db import transaction

            try:
                with transaction.atomic():
                    event = services.save_event(
                        community,
                        _event_data(form.cleaned_data),
                        actor=request.user,  # type: ignore[arg-type]
                    )
                    services.save_session(
                        event,
                        _session_data(session_form.cleaned_data),
                        actor=request.user,  # type: ignore[arg-type]
                    )
            except services.ProgramError as exc:
                apply_errors(form, exc)
                apply_errors(session_form, exc)
            else:
                messages.success(request, _("Event saved as a draft. Publish it when ready."))
                return redirect("programs:staff_event", slug, event.pk)
    events = (
        Event.objects.visible_to(request.user)
        .filter(community=community)
        .select_related("program")
        .order_by("-starts_at")
    )
    return render(
        request,
        "programs/staff/event_list.html",
        {
            "community": community,
            "events": events,
            "form": form,
            "session_form": session_form,
        },
    )


@signed_in
@require_http_methods(["GET", "POST"])
def event_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One event: edit, publish or cancel, sessions, registrations and list check-in."""
    community = _staff_community(request, slug, STAFF_ROLES)
    event = get_object_or_deny(
        Event.objects.filter(community=community), request.user, "view", pk=pk
    )
    actor: Any = request.user
    action = request.POST.get("action", "")
    initial = {
        "title": event.title,
        "kind": event.kind,
        "program": event.program,
        "description": event.description,
        "audience": event.audience,
        "capacity": event.capacity,
        "registration_open": event.registration_open,
    }
    form = EventForm(
        request.POST if action == "edit" else None,
        community=community,
        initial=initial,
        prefix="event",
    )
    session_form = SessionForm(request.POST if action == "session" else None, prefix="session")
    if request.method == "POST":
        get_object_or_deny(Event.objects.filter(pk=event.pk), actor, "change", pk=event.pk)
        try:
            if action == "edit" and form.is_valid():
                services.save_event(
                    community, _event_data(form.cleaned_data), actor=actor, event=event
                )
                messages.success(request, _("Event saved."))
                return redirect("programs:staff_event", slug, pk)
            if action == "session" and session_form.is_valid():
                services.save_session(event, _session_data(session_form.cleaned_data), actor=actor)
                messages.success(request, _("Session added."))
                return redirect("programs:staff_event", slug, pk)
            if action == "delete_session":
                session = Session.objects.get(event=event, pk=_post_id(request, "session"))
                services.delete_session(session, actor=actor)
                return redirect("programs:staff_event", slug, pk)
            if action in EventStatus.values:
                services.set_event_status(event, action, actor=actor)
                messages.success(
                    request, _("Event status: %(s)s.") % {"s": event.get_status_display()}
                )
                return redirect("programs:staff_event", slug, pk)
            if action == "check_in":
                _list_check_in(request, event, actor)
                return redirect(f"{request.path}?session={request.POST.get('session', '')}")
        except services.ProgramError as exc:
            apply_errors(session_form if action == "session" else form, exc)
        except (Session.DoesNotExist, Registration.DoesNotExist, ValueError):
            messages.error(request, _("That session or registration no longer exists."))
    sessions = list(event.sessions.select_related("area"))
    chosen = _chosen_session(request, event, sessions)
    registrations = list(event.registrations.order_by("status", "name"))
    checked_in = (
        set(chosen.attendances.values_list("registration_id", flat=True)) if chosen else set()
    )
    return render(
        request,
        "programs/staff/event_detail.html",
        {
            "community": community,
            "event": event,
            "form": form,
            "session_form": session_form,
            "sessions": sessions,
            "chosen": chosen,
            "registrations": registrations,
            "checked_in": checked_in,
            "confirmed": services.seats_taken(event),
            "attended": services.attendance_count(event),
            "statuses": EventStatus,
        },
    )


def _chosen_session(request: HttpRequest, event: Event, sessions: list[Session]) -> Session | None:
    wanted = request.GET.get("session") or request.POST.get("session")
    for session in sessions:
        if str(session.pk) == wanted:
            return session
    return services.current_session(event)


def _post_id(request: HttpRequest, name: str) -> int:
    """An id posted by a form; ValueError when missing or not a number."""
    return int(request.POST.get(name, ""))


def _list_check_in(request: HttpRequest, event: Event, actor: Any) -> None:
    session = Session.objects.get(event=event, pk=_post_id(request, "session"))
    registration = Registration.objects.get(event=event, pk=_post_id(request, "registration"))
    _attendance, created = services.check_in(
        registration, session, actor=actor, method=CheckInMethod.LIST
    )
    if created:
        messages.success(request, _("%(name)s is checked in.") % {"name": registration.name})
    else:
        messages.info(request, _("%(name)s was already checked in.") % {"name": registration.name})


@signed_in
@require_http_methods(["GET", "POST"])
def check_in_scan(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """Where a registration's QR code leads: staff confirm the check-in with one tap."""
    community = _staff_community(request, slug, STAFF_ROLES)
    try:
        registration_id = tokens.read(tokens.CHECK_IN, token)
    except tokens.BadToken:
        return render(request, "programs/bad_link.html", {"community": community}, status=404)
    registration = get_object_or_deny(
        Registration.objects.filter(community=community).select_related("event"),
        request.user,
        "change",
        pk=registration_id,
    )
    event = registration.event
    sessions = list(event.sessions.all())
    session = _chosen_session(request, event, sessions)
    done = False
    if request.method == "POST" and session is not None:
        try:
            _attendance, _created = services.check_in(
                registration,
                session,
                actor=cast(User, request.user),
                method=CheckInMethod.QR,
            )
            done = True
        except services.ProgramError as exc:
            messages.error(request, " ".join(m for ms in exc.errors.values() for m in ms))
    already = session is not None and session.attendances.filter(registration=registration).exists()
    return render(
        request,
        "programs/staff/check_in.html",
        {
            "community": community,
            "registration": registration,
            "event": event,
            "session": session,
            "sessions": sessions,
            "done": done,
            "already": already,
            "can_check_in": registration.status
            in (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED),
        },
    )


def _figures_args(request: HttpRequest) -> tuple[str, date | None, date | None]:
    dimension = request.GET.get("by", "program")
    if dimension not in figures_module.DIMENSIONS:
        dimension = "program"

    def parse(value: str | None) -> date | None:
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            return None

    return dimension, parse(request.GET.get("from")), parse(request.GET.get("to"))


@signed_in
def figures(request: HttpRequest, slug: str) -> HttpResponse:
    """Attendance and feedback per program, area or audience, month by month."""
    community = _staff_community(request, slug, STAFF_ROLES)
    dimension, start, end = _figures_args(request)
    result = figures_module.compute(community, dimension, start, end)
    return render(
        request,
        "programs/staff/figures.html",
        {
            "community": community,
            "figures": result,
            "dimension": dimension,
            "dimensions": [
                ("program", _("Program")),
                ("area", _("Neighbourhood")),
                ("audience", _("Audience")),
            ],
            "query": request.GET.urlencode(),
            "start": start,
            "end": end,
        },
    )


@signed_in
def figures_chart(request: HttpRequest, slug: str) -> HttpResponse:
    """The attendance chart of the figures page as a PNG."""
    community = _staff_community(request, slug, STAFF_ROLES)
    dimension, start, end = _figures_args(request)
    result = figures_module.compute(community, dimension, start, end)
    response = HttpResponse(figures_module.attendance_chart(result), content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    return response
