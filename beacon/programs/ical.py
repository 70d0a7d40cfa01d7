"""iCalendar (RFC 5545) feeds of event sessions.

Times are written in UTC (``DTSTART:20250101T180000Z``), so a feed needs no VTIMEZONE
component and every client shows the right local time. Each session is one VEVENT whose
UID never changes and whose SEQUENCE goes up on every change, so subscribed calendars
update in place. The ``icalendar`` package folds lines at 75 octets and ends them with
CRLF as the RFC requires.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, timedelta

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar
from icalendar import Event as VEvent

from beacon.programs.models import (
    Event,
    EventStatus,
    Program,
    Registration,
    RegistrationStatus,
    Session,
)

PRODID = "-//Beacon//Community programs and events//EN"
CONTENT_TYPE = "text/calendar; charset=utf-8"
# Feeds carry recent past sessions too, so a calendar keeps what people attended.
HISTORY = timedelta(days=90)


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    return calendar


def session_uid(session: Session, host: str) -> str:
    """A globally unique, stable identifier for a session."""
    return f"beacon-session-{session.pk}@{host}"


def _vevent(session: Session, host: str, base_url: str, tentative: bool = False) -> VEvent:
    event = session.event
    item = VEvent()
    item.add("uid", session_uid(session, host))
    item.add("dtstamp", session.updated_at.astimezone(UTC))
    item.add("last-modified", session.updated_at.astimezone(UTC))
    item.add("dtstart", session.starts_at.astimezone(UTC))
    item.add("dtend", session.ends_at.astimezone(UTC))
    item.add("sequence", session.sequence)
    item.add("summary", event.title)
    location = ", ".join(part for part in (session.venue, session.address) if part)
    item.add("location", location)
    item.add("geo", (session.lat, session.lon))
    if event.description:
        item.add("description", event.description)
    item.add("categories", [event.get_kind_display()])
    item.add("url", base_url + reverse("programs:event", args=[event.community.slug, event.pk]))
    if event.status == EventStatus.CANCELLED:
        item.add("status", "CANCELLED")
    else:
        item.add("status", "TENTATIVE" if tentative else "CONFIRMED")
    return item


def build_feed(
    name: str,
    sessions: Iterable[Session],
    host: str,
    base_url: str,
    tentative_events: set[int] | None = None,
) -> bytes:
    """The iCalendar document for ``sessions``."""
    calendar = _calendar(name)
    tentative_events = tentative_events or set()
    for session in sessions:
        calendar.add_component(
            _vevent(session, host, base_url, tentative=session.event_id in tentative_events)
        )
    return bytes(calendar.to_ical())


def _recent(sessions: QuerySet[Session]) -> QuerySet[Session]:
    return (
        sessions.filter(ends_at__gte=timezone.now() - HISTORY)
        .select_related("event", "event__community")
        .order_by("starts_at", "pk")
    )


def community_sessions(events: QuerySet[Event]) -> QuerySet[Session]:
    """Sessions of the given (already access-filtered) events."""
    return _recent(Session.objects.filter(event__in=events))


def program_sessions(program: Program, events: QuerySet[Event]) -> QuerySet[Session]:
    """Sessions of the program's events among ``events``."""
    return _recent(Session.objects.filter(event__in=events.filter(program=program)))


def person_sessions(registration: Registration) -> tuple[QuerySet[Session], set[int]]:
    """Sessions of every live registration made with this registration's address.

    Returns the sessions and the ids of events where the person is only waiting.
    """
    live = Registration.objects.filter(
        community_id=registration.community_id,
        email=registration.email,
        status__in=[RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED],
    )
    waiting = set(
        live.filter(status=RegistrationStatus.WAITLISTED).values_list("event_id", flat=True)
    )
    return _recent(Session.objects.filter(event_id__in=live.values("event_id"))), waiting
