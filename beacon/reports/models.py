"""Resident reports and anonymous tips, their categories, photos and updates.

A report's true location (``lat``/``lon``) is staff-only; the public only ever sees
``public_lat``/``public_lon``, the masked point the incidents app computes. Reports do not
store who sent them unless a signed-in resident filed them: no IP address, user agent or
cookie is kept with a report or tip.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beacon.core.access import PUBLIC, AccessRules, CommunityScoped
from beacon.core.models import Area, Community
from beacon.core.roles import MANAGER_ROLES, STAFF_ROLES

STAFF_OR_PUBLIC = frozenset({*STAFF_ROLES, PUBLIC})
NOBODY: frozenset[str] = frozenset()


class Privacy(models.TextChoices):
    PUBLIC = "public", _("Public: shown on the public map at an approximate location")
    STAFF = "staff", _("Staff only: never shown in public")


class Category(CommunityScoped):
    """A kind of report a community accepts (an Open311 "service")."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="report_categories"
    )
    code = models.SlugField(
        max_length=50, help_text=_("Stable identifier, used as the Open311 service_code.")
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    group = models.CharField(max_length=80, blank=True, help_text=_("Open311 group."))
    keywords = models.CharField(max_length=200, blank=True)
    privacy = models.CharField(max_length=10, choices=Privacy.choices, default=Privacy.PUBLIC)
    response_hours = models.PositiveIntegerField(
        default=72,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 90)],
        help_text=_("First-response target in hours."),
    )
    service_notice = models.CharField(
        max_length=300, blank=True, help_text=_("What the reporter can expect to happen next.")
    )
    active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    access_rules = AccessRules(view=frozenset({PUBLIC}))

    class Meta:
        ordering = ["order", "name"]
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(fields=["community", "code"], name="category_unique_code")
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def public_q(cls) -> Q:
        """The public sees the categories it can report in."""
        return Q(active=True)

    @property
    def is_public(self) -> bool:
        return self.privacy == Privacy.PUBLIC


class Datatype(models.TextChoices):
    """The Open311 attribute datatypes."""

    STRING = "string", _("Short text")
    NUMBER = "number", _("Number")
    DATETIME = "datetime", _("Date and time")
    TEXT = "text", _("Long text")
    SINGLE = "singlevaluelist", _("Choose one")
    MULTI = "multivaluelist", _("Choose any")


class Question(CommunityScoped):
    """A category-specific question (an Open311 attribute)."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="questions")
    code = models.SlugField(max_length=50)
    prompt = models.CharField(max_length=300)
    help_text = models.CharField(max_length=300, blank=True)
    datatype = models.CharField(max_length=20, choices=Datatype.choices)
    required = models.BooleanField(default=False)
    # [{"key": "...", "name": "..."}] for the two list datatypes.
    choices = models.JSONField(default=list, blank=True)
    order = models.PositiveSmallIntegerField(default=1)

    access_rules = AccessRules(view=frozenset({PUBLIC}))

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="question_unique_code")
        ]

    def __str__(self) -> str:
        return self.prompt

    @property
    def is_list(self) -> bool:
        return self.datatype in (Datatype.SINGLE, Datatype.MULTI)

    def choice_keys(self) -> list[str]:
        return [str(c.get("key")) for c in self.choices or []]

    def choice_name(self, key: str) -> str:
        for choice in self.choices or []:
            if str(choice.get("key")) == key:
                return str(choice.get("name", key))
        return key


class Status(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    REFERRED = "referred", _("Referred")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = frozenset({Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.REFERRED})
# The workflow: new → acknowledged → in progress → referred or resolved → closed. Steps may
# be skipped forward (a duplicate can be closed at once); going back is a reopen.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset(
        {Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.REFERRED, Status.RESOLVED, Status.CLOSED}
    ),
    Status.ACKNOWLEDGED: frozenset(
        {Status.IN_PROGRESS, Status.REFERRED, Status.RESOLVED, Status.CLOSED}
    ),
    Status.IN_PROGRESS: frozenset({Status.REFERRED, Status.RESOLVED, Status.CLOSED}),
    Status.REFERRED: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.CLOSED: frozenset({Status.IN_PROGRESS}),
}


class Source(models.TextChoices):
    WEB = "web", _("Web page")
    API = "api", _("JSON API")
    OPEN311 = "open311", _("Open311")


def _new_token() -> str:
    return uuid.uuid4().hex


class Report(CommunityScoped):
    """A resident's report or anonymous tip."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="reports")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="reports")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.NEW, db_index=True
    )
    description = models.TextField()
    answers = models.JSONField(default=dict, blank=True)
    # The true location: staff-only.
    lat = models.FloatField()
    lon = models.FloatField()
    address = models.CharField(max_length=300, blank=True)
    # The masked location the public sees (None until masking is available).
    public_lat = models.FloatField(null=True, blank=True)
    public_lon = models.FloatField(null=True, blank=True)
    beat = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_reports",
    )
    # Set only when a signed-in resident files the report; tips have no account.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="filed_reports",
    )
    contact_name = models.CharField(max_length=120, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    tip_code = models.CharField(max_length=16, unique=True)
    passphrase_hash = models.CharField(max_length=200)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB)
    open311_key = models.ForeignKey(
        "reports.Open311Key", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token = models.CharField(max_length=32, unique=True, default=_new_token)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    supporters = models.PositiveIntegerField(default=0)
    # Set when a watch group member files it: the beat officer sees the group's context.
    watch_group = models.ForeignKey(
        "watch.WatchGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    response_due_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    satisfaction_at = models.DateTimeField(null=True, blank=True)

    access_rules = AccessRules(
        view=STAFF_OR_PUBLIC,
        create=STAFF_ROLES,
        change=STAFF_ROLES,
        delete=MANAGER_ROLES,
        export=STAFF_ROLES,
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["community", "status", "created_at"], name="report_queue"),
            models.Index(fields=["community", "category", "created_at"], name="report_cat"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.category} ({self.get_status_display()})"

    @classmethod
    def public_q(cls) -> Q:
        """Reports in public-class categories; staff-only categories never appear."""
        return Q(category__privacy=Privacy.PUBLIC)

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        """A signed-in reporter sees their own reports."""
        if action == "view":
            return Q(reporter_id=user.pk)
        return Q(pk__in=[])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        """The first response is late: still new after the category's target."""
        return self.status == Status.NEW and timezone.now() > self.response_due_at

    def reopen_deadline(self) -> Any:
        if self.resolved_at is None:
            return None
        return self.resolved_at + timedelta(days=REOPEN_DAYS)

    @property
    def can_reopen(self) -> bool:
        """The reporter may reopen a resolved report for 30 days."""
        deadline = self.reopen_deadline()
        return self.status == Status.RESOLVED and deadline is not None and timezone.now() < deadline


REOPEN_DAYS = 30


class ReportPhoto(CommunityScoped):
    """A re-encoded photo with every piece of metadata removed."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to="reports/%Y/%m/")
    content_type = models.CharField(max_length=30)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    # Photos can show faces, plates and front doors: staff and the reporter only.
    access_rules = AccessRules(view=STAFF_ROLES, create=STAFF_ROLES, change=STAFF_ROLES)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"photo {self.pk} of report {self.report_id}"

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        if action == "view":
            return Q(report__reporter_id=user.pk)
        return Q(pk__in=[])


class Visibility(models.TextChoices):
    INTERNAL = "internal", _("Internal note (staff only)")
    REPORTER = "reporter", _("To the reporter only")
    PUBLIC = "public", _("Public update")


class UpdateKind(models.TextChoices):
    NOTE = "note", _("Note")
    UPDATE = "update", _("Update")
    QUESTION = "question", _("Question to the reporter")
    REPLY = "reply", _("Reply from the reporter")
    STATUS = "status", _("Status change")
    ASSIGN = "assign", _("Assignment")
    MERGE = "merge", _("Merge")
    REOPEN = "reopen", _("Reopened by the reporter")
    SURVEY = "survey", _("Satisfaction survey")


class ReportUpdate(CommunityScoped):
    """One entry of a report's thread: a note, public update, question, reply or change."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(max_length=20, choices=UpdateKind.choices)
    visibility = models.CharField(max_length=20, choices=Visibility.choices)
    body = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # True when the reporter wrote it (a reply, reopen or survey answer).
    from_reporter = models.BooleanField(default=False)
    status_from = models.CharField(max_length=20, blank=True)
    status_to = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    access_rules = AccessRules(
        view=STAFF_OR_PUBLIC,
        create=STAFF_ROLES,
        change=NOBODY,
        delete=MANAGER_ROLES,
        export=STAFF_ROLES,
    )

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on report {self.report_id}"

    @classmethod
    def public_q(cls) -> Q:
        return Q(visibility=Visibility.PUBLIC, report__category__privacy=Privacy.PUBLIC)

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        if action == "view":
            return Q(report__reporter_id=user.pk) & ~Q(visibility=Visibility.INTERNAL)
        return Q(pk__in=[])


class Open311Key(CommunityScoped):
    """A partner application's Open311 API key; only its SHA-256 digest is stored."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    access_rules = AccessRules(view=MANAGER_ROLES)

    class Meta:
        verbose_name = _("Open311 key")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class RateCounter(models.Model):
    """One fixed window of a rate limit (:mod:`beacon.reports.ratelimit`).

    Not community data: the key is a limit name, a pseudonymous source or tip-code
    hash and the window number, never an address or a code.
    """

    counter_key = models.CharField(max_length=200, primary_key=True)
    hits = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.counter_key}: {self.hits}"
