"""The concerns board, community meetings and the action tracker.

Residents raise concerns and support them (one support per person, enforced by the
database); a concern whose supports reach the community's threshold goes on the agenda
of the next meeting in its beat. Meetings have an agenda, registrations and attendance,
minutes and decisions, and the action items they create are tracked in public until
they are closed. "You said, we did" is built from concerns, their actions and results.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beacon.core.access import MEMBERS, PUBLIC, AccessRules, CommunityScoped
from beacon.core.models import Area, Community
from beacon.core.roles import MANAGER_ROLES, STAFF_ROLES

DEFAULT_SUPPORT_THRESHOLD = 10
NOBODY: frozenset[str] = frozenset()


class ForumSettings(CommunityScoped):
    """Per-community settings of the concerns board (one row per community)."""

    community = models.OneToOneField(
        Community, on_delete=models.CASCADE, related_name="forum_settings"
    )
    support_threshold = models.PositiveIntegerField(
        default=DEFAULT_SUPPORT_THRESHOLD,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
        help_text=_("Supports a concern needs to go on the next meeting's agenda."),
    )
    agenda_size = models.PositiveSmallIntegerField(
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("At most this many concerns are put on one meeting's agenda."),
    )

    access_rules = AccessRules(view=frozenset({PUBLIC}))

    class Meta:
        verbose_name_plural = _("forum settings")

    def __str__(self) -> str:
        return f"Forum settings of {self.community}"


class ConcernCategory(models.TextChoices):
    TRAFFIC = "traffic", _("Traffic and speeding")
    DRUGS = "drugs", _("Drugs")
    PROPERTY = "property", _("Theft, break-ins and vandalism")
    DISORDER = "disorder", _("Disorder and antisocial behaviour")
    PUBLIC_SPACE = "public_space", _("Lighting, parks and public spaces")
    YOUTH = "youth", _("Youth")
    VIOLENCE = "violence", _("Violence and personal safety")
    OTHER = "other", _("Other")


class ConcernStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ON_AGENDA = "on_agenda", _("On a meeting agenda")
    ANSWERED = "answered", _("Answered")
    IN_ACTION = "in_action", _("Action under way")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    HIDDEN = "hidden", _("Hidden by a moderator")


# Concerns that can still gather supports and reach an agenda.
SUPPORTABLE = frozenset({ConcernStatus.OPEN, ConcernStatus.ON_AGENDA, ConcernStatus.ANSWERED})


class Concern(CommunityScoped):
    """A resident's concern about their area, supported by others."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="concerns")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="concerns"
    )
    title = models.CharField(max_length=160)
    body = models.TextField()
    category = models.CharField(max_length=20, choices=ConcernCategory.choices)
    # The pin the resident chose; public pages show it rounded (see ``public_point``).
    lat = models.FloatField()
    lon = models.FloatField()
    beat = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="beat_concerns"
    )
    neighbourhood = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="concerns"
    )
    status = models.CharField(
        max_length=20, choices=ConcernStatus.choices, default=ConcernStatus.OPEN, db_index=True
    )
    # Kept in step with ConcernSupport rows by the services (the author's own included).
    support_count = models.PositiveIntegerField(default=0)
    threshold_reached_at = models.DateTimeField(null=True, blank=True)
    response = models.TextField(blank=True, help_text=_("The public answer from staff."))
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    # "Make this a SARA problem": the request is recorded here; ``problem_id`` is filled
    # in when the problems app opens (or links) the problem.
    problem_requested_at = models.DateTimeField(null=True, blank=True)
    problem_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    problem_id = models.PositiveBigIntegerField(null=True, blank=True)
    result = models.TextField(blank=True, help_text=_("What came of it, for “you said, we did”."))
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    access_rules = AccessRules(
        view=frozenset({PUBLIC}),
        create=MEMBERS,
        change=STAFF_ROLES,
        delete=MANAGER_ROLES,
        export=STAFF_ROLES,
        extra={"support": MEMBERS, "answer": STAFF_ROLES},
    )

    class Meta:
        ordering = ["-support_count", "-created_at", "-pk"]
        indexes = [models.Index(fields=["community", "status", "beat"], name="concern_board")]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def public_q(cls) -> Q:
        """Everything but concerns a moderator hid."""
        return ~Q(status=ConcernStatus.HIDDEN)

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        """Authors always see their own concerns, hidden or not."""
        if action == "view":
            return Q(author_id=user.pk)
        return Q(pk__in=[])

    @property
    def public_point(self) -> tuple[float, float]:
        """The pin rounded to about 100 m, so a concern about a house does not name it."""
        return round(self.lat, 3), round(self.lon, 3)

    @property
    def supportable(self) -> bool:
        return self.status in SUPPORTABLE


class ConcernSupport(CommunityScoped):
    """One person's support of a concern: at most one per person and concern."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="concern_supports"
    )
    created_at = models.DateTimeField(default=timezone.now)

    # Who supported what is not public: staff see it for moderation, people their own.
    access_rules = AccessRules(
        view=STAFF_ROLES, create=MEMBERS, change=NOBODY, delete=MANAGER_ROLES
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["concern", "user"], name="concern_support_once")
        ]

    def __str__(self) -> str:
        return f"support of concern {self.concern_id}"

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        if action in ("view", "delete"):
            return Q(user_id=user.pk)
        return Q(pk__in=[])


class MeetingKind(models.TextChoices):
    BEAT = "beat", _("Beat meeting")
    FORUM = "forum", _("Community forum")
    ADVISORY = "advisory", _("Advisory board")


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class Meeting(CommunityScoped):
    """A beat meeting, community forum or advisory board meeting."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="meetings")
    kind = models.CharField(max_length=20, choices=MeetingKind.choices, default=MeetingKind.BEAT)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # The beat (or neighbourhood) whose concerns go on the agenda; none = the whole community.
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="meetings"
    )
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    venue = models.CharField(max_length=300, blank=True)
    online_url = models.URLField(blank=True)
    status = models.CharField(
        max_length=20, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED
    )
    capacity = models.PositiveIntegerField(null=True, blank=True)
    walk_ins = models.PositiveIntegerField(
        default=0, help_text=_("People who attended without registering.")
    )
    minutes = models.TextField(blank=True)
    minutes_published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    access_rules = AccessRules(
        view=frozenset({PUBLIC}), create=STAFF_ROLES, change=STAFF_ROLES, delete=MANAGER_ROLES
    )

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="meeting_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def attendance(self) -> int:
        """Registered people marked present plus walk-ins."""
        return int(self.registrations.filter(attended=True).count()) + self.walk_ins


class AgendaItem(CommunityScoped):
    """One item of a meeting's agenda: a concern over the threshold or a manual item."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    concern = models.ForeignKey(
        Concern, null=True, blank=True, on_delete=models.CASCADE, related_name="agenda_items"
    )
    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    outcome = models.TextField(blank=True)

    access_rules = AccessRules(
        view=frozenset({PUBLIC}), create=STAFF_ROLES, change=STAFF_ROLES, delete=STAFF_ROLES
    )

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            # A concern is on a meeting's agenda at most once.
            models.UniqueConstraint(
                fields=["meeting", "concern"],
                condition=Q(concern__isnull=False),
                name="agenda_concern_once",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Registration(CommunityScoped):
    """A person registered for a meeting (signed in, or by name and email)."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="meeting_registrations",
    )
    name = models.CharField(max_length=120)
    email = models.EmailField(blank=True)
    attended = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    # Names and emails of attendees are personal data: staff and the person only. Anyone
    # who can see a scheduled meeting may register for it (``services.register``); the
    # rules here govern reading and editing the rows.
    access_rules = AccessRules(
        view=STAFF_ROLES, create=STAFF_ROLES, change=STAFF_ROLES, delete=STAFF_ROLES
    )

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user"],
                condition=Q(user__isnull=False),
                name="registration_user_once",
            ),
            models.UniqueConstraint(
                fields=["meeting", "email"], condition=~Q(email=""), name="registration_email_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} at {self.meeting_id}"

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        if action in ("view", "delete"):
            return Q(user_id=user.pk)
        return Q(pk__in=[])


class Decision(CommunityScoped):
    """A decision recorded in a meeting's minutes."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    agenda_item = models.ForeignKey(
        AgendaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    text = models.TextField()
    order = models.PositiveSmallIntegerField(default=0)

    access_rules = AccessRules(
        view=frozenset({PUBLIC}), create=STAFF_ROLES, change=STAFF_ROLES, delete=STAFF_ROLES
    )

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.text[:60]


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    DROPPED = "dropped", _("Closed without action")


CLOSED_ACTION_STATUSES = frozenset({ActionStatus.COMPLETED, ActionStatus.DROPPED})


class ActionItem(CommunityScoped):
    """Something a meeting agreed to do, with an owner, a due date and progress."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="action_items")
    meeting = models.ForeignKey(
        Meeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="action_items"
    )
    concern = models.ForeignKey(
        Concern, null=True, blank=True, on_delete=models.SET_NULL, related_name="action_items"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_actions",
    )
    # The owner as the public sees it ("Const. Owen", "City Engineering").
    owner_name = models.CharField(max_length=120)
    due_date = models.DateField()
    progress = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    status = models.CharField(
        max_length=20, choices=ActionStatus.choices, default=ActionStatus.OPEN, db_index=True
    )
    result = models.TextField(blank=True, help_text=_("What was done and what came of it."))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    access_rules = AccessRules(
        view=frozenset({PUBLIC}), create=STAFF_ROLES, change=STAFF_ROLES, delete=MANAGER_ROLES
    )

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=100), name="action_progress_percent"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        """The owner (a partner, say) may update their own item's progress."""
        if action == "change":
            return Q(owner_id=user.pk)
        return Q(pk__in=[])

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_ACTION_STATUSES

    @property
    def is_overdue(self) -> bool:
        return not self.is_closed and self.due_date < timezone.localdate()


class ActionUpdate(CommunityScoped):
    """One public progress update of an action item."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    action_item = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="updates")
    progress = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=20, choices=ActionStatus.choices)
    note = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    access_rules = AccessRules(
        view=frozenset({PUBLIC}), create=STAFF_ROLES, change=NOBODY, delete=MANAGER_ROLES
    )

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.progress}% on action {self.action_item_id}"
