"""Crime-prevention programs, their events and sessions, registrations and attendance.

A *program* is what is taught (home security, personal safety…); an *event* is one
offering of it (a workshop, a safety fair) with one or more *sessions* at a place and a
time. People register for an event, not a session: the capacity and the waiting list
belong to the event, attendance is recorded per session.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from beacon.core.access import PUBLIC, AccessRules, CommunityScoped
from beacon.core.models import Area, Community
from beacon.core.roles import MANAGER_ROLES, STAFF_ROLES, Role

# Officers run workshops; supervisors and admins manage them. Analysts read figures.
ORGANISERS: frozenset[str] = frozenset({Role.OFFICER, *MANAGER_ROLES})


class Audience(models.TextChoices):
    EVERYONE = "everyone", _("Everyone")
    RESIDENTS = "residents", _("Residents")
    SENIORS = "seniors", _("Seniors")
    FAMILIES = "families", _("Families")
    YOUTH = "youth", _("Young people")
    BUSINESSES = "businesses", _("Businesses")
    STAFF = "staff", _("Police and agency staff")


class ProgramKind(models.TextChoices):
    HOME_SECURITY = "home_security", _("Home security")
    PERSONAL_SAFETY = "personal_safety", _("Personal safety")
    FRAUD_PREVENTION = "fraud_prevention", _("Fraud prevention")
    REPORTING_CRIME = "reporting_crime", _("How to report crime")
    CULTURAL_COMPETENCY = "cultural_competency", _("Cultural competency training")
    OTHER = "other", _("Other")


class Program(CommunityScoped):
    """What a community teaches: curriculum, audience and materials."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="programs")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=ProgramKind.choices)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    curriculum = models.TextField(_("curriculum"), blank=True)
    audience = models.CharField(
        _("audience"), max_length=20, choices=Audience.choices, default=Audience.EVERYONE
    )
    materials = models.TextField(
        _("materials"), blank=True, help_text=_("One item or link per line.")
    )
    # Staff training (cultural competency) is not advertised to the public.
    is_public = models.BooleanField(_("shown to the public"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    access_rules = AccessRules(
        view=frozenset({PUBLIC, *STAFF_ROLES}),
        create=ORGANISERS,
        change=ORGANISERS,
        delete=MANAGER_ROLES,
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="program_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def public_q(cls) -> Q:
        return Q(is_public=True)

    def material_lines(self) -> list[str]:
        """The materials, one per line, blanks dropped."""
        return [line.strip() for line in self.materials.splitlines() if line.strip()]


class EventKind(models.TextChoices):
    WORKSHOP = "workshop", _("Workshop")
    SAFETY_FAIR = "safety_fair", _("Safety fair")
    GATHERING = "gathering", _("Community gathering")
    PATROL_WALK = "patrol_walk", _("Patrol walk")
    SCHOOL_SESSION = "school_session", _("School session")


class EventStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CANCELLED = "cancelled", _("Cancelled")


class Event(CommunityScoped):
    """One offering of a program, with sessions, a capacity and a waiting list."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="events")
    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=EventKind.choices)
    description = models.TextField(_("description"), blank=True)
    audience = models.CharField(
        _("audience"), max_length=20, choices=Audience.choices, default=Audience.EVERYONE
    )
    # None means no limit; a full event puts new registrations on the waiting list.
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=EventStatus.choices, default=EventStatus.DRAFT
    )
    registration_open = models.BooleanField(_("registration open"), default=True)
    # First session start and last session end, kept by the services for lists and feeds.
    starts_at = models.DateTimeField(null=True, blank=True, db_index=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    access_rules = AccessRules(
        view=frozenset({PUBLIC, *STAFF_ROLES}),
        create=ORGANISERS,
        change=ORGANISERS,
        delete=MANAGER_ROLES,
    )

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=0),
                name="event_capacity_not_negative",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def public_q(cls) -> Q:
        # Cancelled events stay visible so people who registered learn of it.
        return Q(status__in=[EventStatus.PUBLISHED, EventStatus.CANCELLED]) & (
            Q(program__isnull=True) | Q(program__is_public=True)
        )


class Session(CommunityScoped):
    """One meeting of an event at a place on the map and a time."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    venue = models.CharField(_("venue"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    lat = models.FloatField(
        _("latitude"), validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    lon = models.FloatField(
        _("longitude"), validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    # The neighbourhood holding the venue, found with area_at when the session is saved.
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Bumped on every change so calendar clients replace their copy (RFC 5545 SEQUENCE).
    sequence = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    access_rules = AccessRules(
        view=frozenset({PUBLIC, *STAFF_ROLES}),
        create=ORGANISERS,
        change=ORGANISERS,
        delete=ORGANISERS,
    )

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} @ {self.starts_at:%Y-%m-%d %H:%M}"

    @classmethod
    def public_q(cls) -> Q:
        return Q(event__status__in=[EventStatus.PUBLISHED, EventStatus.CANCELLED]) & (
            Q(event__program__isnull=True) | Q(event__program__is_public=True)
        )


class RegistrationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for email confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")


class Registration(CommunityScoped):
    """A person's place at an event; no account needed, the email is confirmed."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    name = models.CharField(_("name"), max_length=120)
    email = models.EmailField(_("email address"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="event_registrations",
    )
    status = models.CharField(
        max_length=20, choices=RegistrationStatus.choices, default=RegistrationStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When the email was confirmed: the waiting list is served in this order.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    # The last notice emailed ("confirmed", "waitlisted", "event_cancelled"), so a
    # retried job does not send the same news twice.
    notified_status = models.CharField(max_length=20, blank=True)
    # The session start the last reminder was sent for: one reminder per session start,
    # and a moved session gets a new one.
    reminded_for = models.DateTimeField(null=True, blank=True)

    access_rules = AccessRules(
        view=STAFF_ROLES,
        create=ORGANISERS,
        change=ORGANISERS,
        delete=MANAGER_ROLES,
        export=MANAGER_ROLES,
    )

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "email"],
                condition=~Q(status="cancelled"),
                name="registration_one_live_per_email",
            )
        ]
        indexes = [models.Index(fields=["event", "status"], name="registration_event_status")]

    def __str__(self) -> str:
        return f"{self.name} — {self.event}"

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        """Signed-in people see their own registrations."""
        if action == "view":
            return Q(user_id=user.pk)
        return Q(pk__in=[])


class CheckInMethod(models.TextChoices):
    QR = "qr", _("QR code")
    LIST = "list", _("List")


class Attendance(CommunityScoped):
    """A registered person was at a session."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="attendances"
    )
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendances")
    checked_in_at = models.DateTimeField()
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    method = models.CharField(max_length=10, choices=CheckInMethod.choices)

    access_rules = AccessRules(
        view=STAFF_ROLES, create=ORGANISERS, change=ORGANISERS, delete=ORGANISERS
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "session"], name="attendance_once_per_session"
            )
        ]

    def __str__(self) -> str:
        return f"{self.registration.name} at {self.session}"


class Feedback(CommunityScoped):
    """What an attendee thought of an event: a rating from 1 to 5 and a comment."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="feedback")
    registration = models.OneToOneField(
        Registration, on_delete=models.CASCADE, related_name="feedback"
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    access_rules = AccessRules(
        view=STAFF_ROLES, create=frozenset(), change=frozenset(), delete=MANAGER_ROLES
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="feedback_rating_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.event}"
