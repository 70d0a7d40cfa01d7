"""Domain operations on programs, events, registrations, attendance and feedback.

Pages, the API, management commands and tasks all call these; none writes the models
directly. Registration needs no account: a registration stays *pending* until its email
is confirmed, only confirmed registrations take seats, and a full event puts newly
confirmed people on the waiting list, which moves up automatically when someone cancels.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import Point

from beacon.core.audit import record_event
from beacon.core.jobs import enqueue_on_commit
from beacon.core.models import AreaKind, Community, User
from beacon.core.services import area_at, community_boundary
from beacon.programs.models import (
    Attendance,
    Audience,
    CheckInMethod,
    Event,
    EventKind,
    EventStatus,
    Feedback,
    Program,
    ProgramKind,
    Registration,
    RegistrationStatus,
    Session,
)

logger = logging.getLogger(__name__)

REMINDER_WINDOW = timedelta(hours=24)
# Walk-ins without an address get one in this reserved domain (RFC 2606); never mailed.
WALK_IN_DOMAIN = "walk-in.invalid"
NAME_MAX = 120


class ProgramError(ValueError):
    """Input that cannot be accepted; ``errors`` maps a field name to its messages.

    Nothing was stored when this is raised.
    """

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(
            "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
        )


def _fail(field: str, message: str) -> ProgramError:
    return ProgramError({field: [message]})


# --- programs ---------------------------------------------------------------------------


@dataclass
class ProgramData:
    """The editable fields of a program."""

    name: str
    kind: str
    summary: str = ""
    curriculum: str = ""
    audience: str = Audience.EVERYONE
    materials: str = ""
    is_public: bool = True


def save_program(
    community: Community,
    data: ProgramData,
    *,
    actor: User | None = None,
    program: Program | None = None,
) -> Program:
    """Create or update a program; audited."""
    errors: dict[str, list[str]] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = [_("Give the program a name.")]
    elif (
        Program.objects.filter(community=community, name=name)
        .exclude(pk=program.pk if program else 0)
        .exists()
    ):
        errors["name"] = [_("Another program already has this name.")]
    if data.kind not in ProgramKind.values:
        errors["kind"] = [_("Choose one of the listed kinds.")]
    if data.audience not in Audience.values:
        errors["audience"] = [_("Choose one of the listed audiences.")]
    if errors:
        raise ProgramError(errors)
    created = program is None
    program = program or Program(community=community)
    program.name = name
    program.kind = data.kind
    program.summary = data.summary.strip()
    program.curriculum = data.curriculum.strip()
    program.audience = data.audience
    program.materials = data.materials.strip()
    program.is_public = data.is_public
    with transaction.atomic():
        program.save()
        record_event(actor=actor, action="create" if created else "update", obj=program)
    return program


# --- events and sessions ----------------------------------------------------------------


@dataclass
class EventData:
    """The editable fields of an event."""

    title: str
    kind: str
    program: Program | None = None
    description: str = ""
    audience: str = Audience.EVERYONE
    capacity: int | None = None
    registration_open: bool = True


def save_event(
    community: Community,
    data: EventData,
    *,
    actor: User | None = None,
    event: Event | None = None,
) -> Event:
    """Create (as a draft) or update an event; audited.

    Lowering the capacity never removes anyone already confirmed; raising it moves people
    up from the waiting list.
    """
    errors: dict[str, list[str]] = {}
    if not data.title.strip():
        errors["title"] = [_("Give the event a title.")]
    if data.kind not in EventKind.values:
        errors["kind"] = [_("Choose one of the listed kinds.")]
    if data.audience not in Audience.values:
        errors["audience"] = [_("Choose one of the listed audiences.")]
    if data.capacity is not None and data.capacity < 0:
        errors["capacity"] = [_("Capacity cannot be negative; leave it empty for no limit.")]
    if data.program is not None and data.program.community_id != community.pk:
        errors["program"] = [_("That program belongs to another community.")]
    if errors:
        raise ProgramError(errors)
    created = event is None
    with transaction.atomic():
        if event is None:
            event = Event(community=community, created_by=actor)
        else:
            event = Event.objects.select_for_update().get(pk=event.pk)
        event.title = data.title.strip()
        event.kind = data.kind
        event.program = data.program
        event.description = data.description.strip()
        event.audience = data.audience
        event.capacity = data.capacity
        event.registration_open = data.registration_open
        event.save()
        record_event(actor=actor, action="create" if created else "update", obj=event)
        if not created:
            _promote_waitlisted(event)
    return event


def set_event_status(event: Event, status: str, *, actor: User | None = None) -> Event:
    """Publish, unpublish or cancel an event; audited. Cancelling tells registrants."""
    if status not in EventStatus.values:
        raise _fail("status", _("Unknown status."))
    if status == EventStatus.PUBLISHED and not event.sessions.exists():
        raise _fail("status", _("Add at least one session before publishing."))
    with transaction.atomic():
        previous = event.status
        event.status = status
        event.save(update_fields=["status", "updated_at"])
        if status == EventStatus.CANCELLED and previous != EventStatus.CANCELLED:
            Session.objects.filter(event=event).update(sequence=F("sequence") + 1)
            from beacon.programs import tasks

            for registration_id in event.registrations.exclude(
                status=RegistrationStatus.CANCELLED
            ).values_list("pk", flat=True):
                enqueue_on_commit(tasks.send_event_cancelled, registration_id)
        record_event(actor=actor, action="update", obj=event, detail={"status": status})
    return event


@dataclass
class SessionData:
    """When and where a session happens."""

    starts_at: datetime | None
    ends_at: datetime | None
    venue: str
    lat: float | None
    lon: float | None
    address: str = ""


def _check_session(community: Community, data: SessionData) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if data.starts_at is None:
        errors["starts_at"] = [_("Give the start date and time.")]
    if data.ends_at is None:
        errors["ends_at"] = [_("Give the end date and time.")]
    if data.starts_at and data.ends_at:
        if timezone.is_naive(data.starts_at) or timezone.is_naive(data.ends_at):
            errors["starts_at"] = [_("Times must carry a time zone.")]
        elif data.ends_at <= data.starts_at:
            errors["ends_at"] = [_("The session must end after it starts.")]
    if not data.venue.strip():
        errors["venue"] = [_("Say where the session takes place.")]
    if data.lat is None or data.lon is None:
        errors["location"] = [_("Place the session on the map.")]
    elif not (
        math.isfinite(data.lat)
        and math.isfinite(data.lon)
        and -90 <= data.lat <= 90
        and -180 <= data.lon <= 180
    ):
        errors["location"] = [_("Latitude must be -90 to 90 and longitude -180 to 180.")]
    else:
        boundary = community_boundary(community)
        if boundary is not None and not boundary.covers(Point(data.lon, data.lat)):
            errors["location"] = [_("The place is outside the community.")]
    return errors


def save_session(
    event: Event,
    data: SessionData,
    *,
    actor: User | None = None,
    session: Session | None = None,
) -> Session:
    """Create or update a session of ``event``; audited.

    The venue's neighbourhood is looked up for the figures, the calendar sequence is
    bumped, and confirmed people get a reminder for the new time.
    """
    community = event.community
    errors = _check_session(community, data)
    if errors:
        raise ProgramError(errors)
    assert data.starts_at and data.ends_at and data.lat is not None and data.lon is not None
    created = session is None
    with transaction.atomic():
        session = session or Session(community=community, event=event)
        if not created:
            session.sequence += 1
        session.starts_at = data.starts_at
        session.ends_at = data.ends_at
        session.venue = data.venue.strip()
        session.address = data.address.strip()
        session.lat = data.lat
        session.lon = data.lon
        session.area = area_at(community, AreaKind.NEIGHBOURHOOD, data.lat, data.lon)
        session.save()
        _refresh_event_span(event)
        record_event(actor=actor, action="create" if created else "update", obj=session)
        for registration_id in event.registrations.filter(
            status=RegistrationStatus.CONFIRMED
        ).values_list("pk", flat=True):
            schedule_reminder(registration_id, session.starts_at)
    return session


def delete_session(session: Session, *, actor: User | None = None) -> None:
    """Remove a session; audited."""
    event = session.event
    with transaction.atomic():
        record_event(actor=actor, action="delete", obj=session)
        session.delete()
        _refresh_event_span(event)


def _refresh_event_span(event: Event) -> None:
    sessions = list(Session.objects.filter(event=event).order_by("starts_at"))
    event.starts_at = sessions[0].starts_at if sessions else None
    event.ends_at = max(s.ends_at for s in sessions) if sessions else None
    event.save(update_fields=["starts_at", "ends_at", "updated_at"])


def upcoming_events(community: Community, user: Any) -> QuerySet[Event]:
    """Events still to come (or under way) that ``user`` may see, soonest first."""
    return (
        Event.objects.visible_to(user)
        .filter(community=community, ends_at__gte=timezone.now())
        .select_related("program")
        .order_by("starts_at", "pk")
    )


# --- registration -----------------------------------------------------------------------


def seats_taken(event: Event) -> int:
    """How many confirmed registrations the event holds."""
    return event.registrations.filter(status=RegistrationStatus.CONFIRMED).count()


def free_seats(event: Event) -> int | None:
    """Seats left, or None when the event has no limit."""
    if event.capacity is None:
        return None
    return max(event.capacity - seats_taken(event), 0)


@dataclass
class Registered:
    """The outcome of a registration: the row, and whether a new one was made."""

    registration: Registration
    created: bool


def register(
    event: Event,
    name: str,
    email: str,
    *,
    user: User | None = None,
) -> Registered:
    """Register someone for a published event.

    Without an account (or with an address other than the account's) the registration
    waits for the email to be confirmed through a signed link. Registering again with
    the same address returns the existing registration and resends the link, so the page
    never reveals who else has registered.
    """
    errors: dict[str, list[str]] = {}
    name = name.strip()
    email = email.strip().lower()
    if not name:
        errors["name"] = [_("Tell us your name.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("Keep the name under %(n)s characters.") % {"n": NAME_MAX}]
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("Enter a valid email address, like name@example.org.")]
    if errors:
        raise ProgramError(errors)
    if event.status != EventStatus.PUBLISHED:
        raise _fail("event", _("This event is not open for registration."))
    if not event.registration_open:
        raise _fail("event", _("Registration for this event is closed."))
    if event.ends_at is None or event.ends_at <= timezone.now():
        raise _fail("event", _("This event is over."))
    from beacon.programs import tasks

    with transaction.atomic():
        existing = (
            Registration.objects.select_for_update()
            .filter(event=event, email=email)
            .exclude(status=RegistrationStatus.CANCELLED)
            .first()
        )
        if existing is not None:
            if existing.status == RegistrationStatus.PENDING:
                enqueue_on_commit(tasks.send_confirmation_request, existing.pk)
            return Registered(existing, created=False)
        registration = Registration.objects.create(
            community_id=event.community_id,
            event=event,
            name=name,
            email=email,
            user=user if user is not None and user.is_authenticated else None,
        )
        if user is not None and user.is_authenticated and user.email.lower() == email:
            # The account's address is already proven; no link to click.
            registration = confirm(registration)
        else:
            enqueue_on_commit(tasks.send_confirmation_request, registration.pk)
    return Registered(registration, created=True)


def confirm(registration: Registration) -> Registration:
    """Confirm a pending registration: a seat if one is free, else the waiting list.

    The event row is locked so two people confirming at once cannot both take the last
    seat. Confirming twice changes nothing.
    """
    from beacon.programs import tasks

    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=registration.event_id)
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        if registration.status != RegistrationStatus.PENDING:
            return registration
        free = free_seats(event)
        registration.status = (
            RegistrationStatus.CONFIRMED
            if free is None or free > 0
            else RegistrationStatus.WAITLISTED
        )
        registration.confirmed_at = timezone.now()
        registration.save(update_fields=["status", "confirmed_at"])
        enqueue_on_commit(tasks.send_status_email, registration.pk)
        if registration.status == RegistrationStatus.CONFIRMED:
            _schedule_all_reminders(registration)
    return registration


def cancel(registration: Registration, *, actor: User | None = None) -> Registration:
    """Cancel a registration; a freed seat goes to the first person waiting."""
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=registration.event_id)
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        if registration.status == RegistrationStatus.CANCELLED:
            return registration
        registration.status = RegistrationStatus.CANCELLED
        registration.cancelled_at = timezone.now()
        registration.save(update_fields=["status", "cancelled_at"])
        if actor is not None:
            record_event(actor=actor, action="update", obj=registration, detail={"cancel": True})
        _promote_waitlisted(event)
    return registration


def _promote_waitlisted(event: Event) -> list[int]:
    """Move people up from the waiting list into free seats, first confirmed first.

    The caller holds the event's row lock.
    """
    from beacon.programs import tasks

    free = free_seats(event)
    waiting = event.registrations.filter(status=RegistrationStatus.WAITLISTED).order_by(
        "confirmed_at", "pk"
    )
    if free is not None:
        waiting = waiting[:free]
    promoted = list(waiting.values_list("pk", flat=True))
    if promoted:
        Registration.objects.filter(pk__in=promoted).update(status=RegistrationStatus.CONFIRMED)
        for registration_id in promoted:
            enqueue_on_commit(tasks.send_status_email, registration_id, promoted=True)
            _schedule_all_reminders(Registration.objects.get(pk=registration_id))
    return promoted


def add_walk_in(
    event: Event, name: str, email: str = "", *, actor: User | None = None
) -> Registration:
    """Record someone registered by staff at the door or from a paper sign-in sheet.

    They were there, so they are confirmed whatever the capacity, and no email goes out.
    """
    name = name.strip()
    if not name:
        raise _fail("name", _("Give the person's name."))
    email = email.strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise _fail("email", _("Enter a valid email address, or leave it empty.")) from None
    with transaction.atomic():
        registration = Registration.objects.create(
            community_id=event.community_id,
            event=event,
            name=name,
            # Walk-ins without an address get a unique placeholder that is never mailed.
            email=email or f"{uuid.uuid4().hex}@{WALK_IN_DOMAIN}",
            status=RegistrationStatus.CONFIRMED,
            confirmed_at=timezone.now(),
            notified_status=RegistrationStatus.CONFIRMED,
        )
        record_event(actor=actor, action="create", obj=registration, detail={"walk_in": True})
    return registration


def waitlist_position(registration: Registration) -> int | None:
    """1 for the first person waiting; None when not on the waiting list."""
    if registration.status != RegistrationStatus.WAITLISTED or registration.confirmed_at is None:
        return None
    ahead = Registration.objects.filter(
        event_id=registration.event_id,
        status=RegistrationStatus.WAITLISTED,
        confirmed_at__lt=registration.confirmed_at,
    ).count()
    return ahead + 1


# --- reminders --------------------------------------------------------------------------


def _schedule_all_reminders(registration: Registration) -> None:
    for starts_at in Session.objects.filter(
        event_id=registration.event_id, starts_at__gt=timezone.now()
    ).values_list("starts_at", flat=True):
        schedule_reminder(registration.pk, starts_at)


def schedule_reminder(registration_id: int, starts_at: datetime) -> None:
    """Ask the worker to remind one person a day before a session.

    Backends that can defer (the database queue) hold the job until then; the sweep in
    :func:`send_due_reminders` (run by ``send_event_reminders``) covers backends that
    cannot, and any job lost on the way. Sending is idempotent either way.
    """
    from django_tasks import default_task_backend

    from beacon.programs import tasks

    now = timezone.now()
    if starts_at <= now:
        return
    remind_at = starts_at - REMINDER_WINDOW
    if remind_at <= now:
        enqueue_on_commit(tasks.send_reminder, registration_id)
    elif default_task_backend.supports_defer:
        enqueue_on_commit(tasks.send_reminder.using(run_after=remind_at), registration_id)


def next_session_within(event_id: int, now: datetime, window: timedelta) -> Session | None:
    """The event's next session starting within ``window`` of ``now``."""
    return (
        Session.objects.filter(event_id=event_id, starts_at__gt=now, starts_at__lte=now + window)
        .order_by("starts_at")
        .first()
    )


def claim_reminder(registration_id: int, now: datetime | None = None) -> Session | None:
    """Mark a reminder as sent and return its session, or None when none is due.

    One reminder per session start: the claim is recorded in the same transaction that
    checks it, so a retried or duplicated job sends nothing twice.
    """
    now = now or timezone.now()
    with transaction.atomic():
        registration = (
            Registration.objects.select_for_update()
            .select_related("event")
            .filter(pk=registration_id)
            .first()
        )
        if registration is None or registration.status != RegistrationStatus.CONFIRMED:
            return None
        if registration.event.status != EventStatus.PUBLISHED:
            return None
        session = next_session_within(registration.event_id, now, REMINDER_WINDOW)
        if session is None or registration.reminded_for == session.starts_at:
            return None
        registration.reminded_for = session.starts_at
        registration.save(update_fields=["reminded_for"])
    return session


def send_due_reminders(now: datetime | None = None) -> int:
    """Send every reminder due at ``now``; returns how many were sent."""
    from beacon.programs import tasks

    now = now or timezone.now()
    due = (
        Registration.objects.filter(
            status=RegistrationStatus.CONFIRMED,
            event__status=EventStatus.PUBLISHED,
            event__sessions__starts_at__gt=now,
            event__sessions__starts_at__lte=now + REMINDER_WINDOW,
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    sent = 0
    for registration_id in list(due):
        if tasks.deliver_reminder(registration_id, now):
            sent += 1
    return sent


# --- attendance and feedback ------------------------------------------------------------


def current_session(event: Event, now: datetime | None = None) -> Session | None:
    """The session to check people in to: under way, else the next today, else the last."""
    now = now or timezone.now()
    sessions = list(event.sessions.order_by("starts_at"))
    if not sessions:
        return None
    for session in sessions:
        if session.starts_at - timedelta(hours=2) <= now <= session.ends_at:
            return session
    later = [s for s in sessions if s.starts_at > now]
    return later[0] if later else sessions[-1]


def check_in(
    registration: Registration,
    session: Session,
    *,
    actor: User | None,
    method: str = CheckInMethod.LIST,
) -> tuple[Attendance, bool]:
    """Record that a registered person is at a session; checking in twice is harmless.

    People on the waiting list who turn up and get a seat on the day are confirmed first.
    """
    if session.event_id != registration.event_id:
        raise _fail("session", _("That session belongs to another event."))
    if registration.status not in (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED):
        raise _fail(
            "registration",
            _("Only confirmed registrations can be checked in (this one is %(status)s).")
            % {"status": registration.get_status_display()},
        )
    with transaction.atomic():
        if registration.status == RegistrationStatus.WAITLISTED:
            registration.status = RegistrationStatus.CONFIRMED
            registration.save(update_fields=["status"])
        attendance, created = Attendance.objects.get_or_create(
            registration=registration,
            session=session,
            defaults={
                "community_id": registration.community_id,
                "checked_in_at": timezone.now(),
                "checked_in_by": actor,
                "method": method,
            },
        )
        if created:
            record_event(actor=actor, action="check_in", obj=attendance)
    return attendance, created


def attendance_count(event: Event) -> int:
    """How many different people attended at least one session of the event."""
    return (
        Attendance.objects.filter(session__event=event).values("registration_id").distinct().count()
    )


def feedback_open(registration: Registration, now: datetime | None = None) -> bool:
    """Feedback opens once the event has started, for people who had a seat."""
    now = now or timezone.now()
    event = registration.event
    return (
        registration.status == RegistrationStatus.CONFIRMED
        and event.starts_at is not None
        and event.starts_at <= now
    )


def leave_feedback(registration: Registration, rating: Any, comment: str = "") -> Feedback:
    """Store an attendee's rating (1–5) and comment; once per registration."""
    try:
        value = int(rating)
    except (TypeError, ValueError):
        value = 0
    errors: dict[str, list[str]] = {}
    if not 1 <= value <= 5:
        errors["rating"] = [_("Choose a rating from 1 to 5.")]
    if len(comment) > 2000:
        errors["comment"] = [_("Keep the comment under 2,000 characters.")]
    if errors:
        raise ProgramError(errors)
    if not feedback_open(registration):
        raise _fail("rating", _("Feedback opens when the event has started."))
    with transaction.atomic():
        feedback, created = Feedback.objects.get_or_create(
            registration=registration,
            defaults={
                "community_id": registration.community_id,
                "event_id": registration.event_id,
                "rating": value,
                "comment": comment.strip(),
            },
        )
    if not created:
        raise _fail("rating", _("You have already left feedback for this event. Thank you!"))
    return feedback
