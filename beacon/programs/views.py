"""Public pages: programs, events, registration without an account, calendar feeds.

People without an account act through signed links (see ``tokens``): confirming, their
registration page with its QR code, cancelling, feedback and their own calendar feed.
"""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from beacon.core.access import get_object_or_deny
from beacon.core.models import Community
from beacon.programs import ical, services, tokens
from beacon.programs.forms import FeedbackForm, RegistrationForm, apply_errors
from beacon.programs.models import (
    Event,
    EventStatus,
    Program,
    Registration,
    RegistrationStatus,
)


def _community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    return community


def _registration(purpose: str, token: str, community: Community, **kwargs: Any) -> Registration:
    """The registration a signed link names, or 404 for a bad or foreign link."""
    try:
        registration_id = tokens.read(purpose, token, **kwargs)
    except tokens.BadToken:
        raise Http404 from None
    registration = (
        Registration.objects.select_related("event", "event__community")
        .filter(pk=registration_id, community=community)
        .first()
    )
    if registration is None:
        raise Http404
    return registration


def event_list(request: HttpRequest, slug: str) -> HttpResponse:
    """Upcoming events of a community, with its calendar feed."""
    community = _community(request, slug)
    events = services.upcoming_events(community, request.user)
    programs = Program.objects.visible_to(request.user).filter(community=community)
    return render(
        request,
        "programs/event_list.html",
        {"community": community, "events": events, "programs": programs},
    )


def program_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A program's curriculum, materials and coming events."""
    community = _community(request, slug)
    program = get_object_or_deny(
        Program.objects.filter(community=community), request.user, "view", pk=pk
    )
    events = services.upcoming_events(community, request.user).filter(program=program)
    return render(
        request,
        "programs/program_detail.html",
        {"community": community, "program": program, "events": events},
    )


@require_http_methods(["GET", "POST"])
def event_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """An event's sessions on a map, and the registration form."""
    community = _community(request, slug)
    event = get_object_or_deny(
        Event.objects.filter(community=community).select_related("program"),
        request.user,
        "view",
        pk=pk,
    )
    user: Any = request.user
    initial = {"name": user.display_name, "email": user.email} if user.is_authenticated else None
    form = RegistrationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.register(
                event,
                form.cleaned_data["name"],
                form.cleaned_data["email"],
                user=user if user.is_authenticated else None,
            )
        except services.ProgramError as exc:
            apply_errors(form, exc)
        else:
            registration = result.registration
            if registration.status == RegistrationStatus.PENDING:
                return render(
                    request,
                    "programs/check_email.html",
                    {"community": community, "event": event},
                )
            return redirect(
                "programs:registration", slug, tokens.make(tokens.MANAGE, registration.pk)
            )
    open_for_registration = (
        event.status == EventStatus.PUBLISHED
        and event.registration_open
        and event.ends_at is not None
        and event.ends_at > timezone.now()
    )
    sessions = list(event.sessions.select_related("area"))
    return render(
        request,
        "programs/event_detail.html",
        {
            "community": community,
            "event": event,
            "sessions": sessions,
            "points": [{"lat": s.lat, "lon": s.lon, "label": s.venue} for s in sessions],
            "form": form,
            "open_for_registration": open_for_registration,
            "free_seats": services.free_seats(event),
        },
    )


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """Confirm a registration from the emailed link.

    The GET shows a button and only the POST confirms: mail scanners open links, and a
    scanner must not take a seat on someone's behalf.
    """
    community = _community(request, slug)
    try:
        registration = _registration(
            tokens.CONFIRM, token, community, max_age=tokens.CONFIRM_MAX_AGE
        )
    except Http404:
        return render(request, "programs/bad_link.html", {"community": community}, status=404)
    if request.method == "POST":
        services.confirm(registration)
        return redirect("programs:registration", slug, tokens.make(tokens.MANAGE, registration.pk))
    if registration.status != RegistrationStatus.PENDING:
        return redirect("programs:registration", slug, tokens.make(tokens.MANAGE, registration.pk))
    return render(
        request,
        "programs/confirm.html",
        {"community": community, "registration": registration, "event": registration.event},
    )


def _qr_svg(data: str) -> str:
    return str(segno.make(data, error="m").svg_data_uri(scale=5))


@require_http_methods(["GET", "POST"])
def registration_page(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """A registrant's page: status, QR code for check-in, calendar, cancel, feedback."""
    community = _community(request, slug)
    registration = _registration(tokens.MANAGE, token, community)
    if request.method == "POST" and request.POST.get("cancel"):
        services.cancel(registration)
        messages.success(request, _("Your registration is cancelled."))
        return redirect("programs:registration", slug, token)
    check_in_url = request.build_absolute_uri(
        reverse(
            "programs:check_in_scan", args=[slug, tokens.make(tokens.CHECK_IN, registration.pk)]
        )
    )
    return render(
        request,
        "programs/registration.html",
        {
            "community": community,
            "registration": registration,
            "event": registration.event,
            "sessions": registration.event.sessions.all(),
            "qr": _qr_svg(check_in_url)
            if registration.status == RegistrationStatus.CONFIRMED
            else "",
            "position": services.waitlist_position(registration),
            "feed_url": reverse(
                "programs:person_feed", args=[slug, tokens.make(tokens.FEED, registration.pk)]
            ),
            "feedback_url": reverse(
                "programs:feedback", args=[slug, tokens.make(tokens.FEEDBACK, registration.pk)]
            )
            if services.feedback_open(registration)
            else "",
        },
    )


@require_http_methods(["GET", "POST"])
def feedback(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """The feedback form after an event."""
    community = _community(request, slug)
    registration = _registration(tokens.FEEDBACK, token, community)
    done = hasattr(registration, "feedback")
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and not done and form.is_valid():
        try:
            services.leave_feedback(
                registration, form.cleaned_data["rating"], form.cleaned_data["comment"]
            )
        except services.ProgramError as exc:
            apply_errors(form, exc)
        else:
            done = True
    return render(
        request,
        "programs/feedback.html",
        {
            "community": community,
            "registration": registration,
            "event": registration.event,
            "form": form,
            "done": done,
            "open": services.feedback_open(registration),
        },
    )


def _ics(request: HttpRequest, name: str, body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=ical.CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _feed_args(request: HttpRequest) -> tuple[str, str]:
    return request.get_host().split(":")[0], request.build_absolute_uri("/").rstrip("/")


def community_feed(request: HttpRequest, slug: str) -> HttpResponse:
    """The community's events as an iCalendar feed."""
    community = _community(request, slug)
    events = Event.objects.visible_to(request.user).filter(community=community)
    host, base = _feed_args(request)
    body = ical.build_feed(community.name, ical.community_sessions(events), host, base)
    return _ics(request, community.name, body, f"{slug}-events.ics")


def program_feed(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One program's events as an iCalendar feed."""
    community = _community(request, slug)
    program = get_object_or_deny(
        Program.objects.filter(community=community), request.user, "view", pk=pk
    )
    events = Event.objects.visible_to(request.user).filter(community=community)
    host, base = _feed_args(request)
    body = ical.build_feed(program.name, ical.program_sessions(program, events), host, base)
    return _ics(request, program.name, body, f"{slug}-program-{pk}.ics")


def person_feed(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """A person's own events (by signed link, no sign-in) as an iCalendar feed."""
    community = _community(request, slug)
    registration = _registration(tokens.FEED, token, community)
    sessions, waiting = ical.person_sessions(registration)
    host, base = _feed_args(request)
    name = _("My events — %(community)s") % {"community": community.name}
    body = ical.build_feed(name, sessions, host, base, tentative_events=waiting)
    return _ics(request, name, body, "my-events.ics")
