"""Community policing officers: public profiles, beat assignments and the activity log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beacon.core.access import PUBLIC, AccessRules, CommunityScoped
from beacon.core.models import Area, Community
from beacon.core.roles import MANAGER_ROLES, STAFF_ROLES, Role

OFFICER_ROLES = frozenset({Role.OFFICER, *MANAGER_ROLES})


class OfficerProfile(CommunityScoped):
    """What residents see of their officer: who they are and how to reach them."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="officer_profiles"
    )
    display_name = models.CharField(_("name shown to the public"), max_length=120)
    title = models.CharField(_("rank or title"), max_length=120, blank=True)
    photo = models.FileField(upload_to="officers/", blank=True)
    introduction = models.TextField(_("introduction"), blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    # [{"day": "Tuesday", "start": "10:00", "end": "12:00", "place": "..."}]
    office_hours = models.JSONField(_("office hours"), default=list, blank=True)
    contact_email = models.EmailField(_("public email"), blank=True)
    contact_phone = models.CharField(_("public phone"), max_length=40, blank=True)
    contact_note = models.CharField(
        _("how to reach me"),
        max_length=300,
        blank=True,
        help_text=_("For example: not monitored at night; in an emergency call 911."),
    )
    published = models.BooleanField(_("shown to the public"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    access_rules = AccessRules(
        view=frozenset({PUBLIC, *STAFF_ROLES}), create=MANAGER_ROLES, change=MANAGER_ROLES
    )

    class Meta:
        ordering = ["display_name"]
        constraints = [
            models.UniqueConstraint(fields=["community", "user"], name="officer_profile_unique")
        ]

    def __str__(self) -> str:
        return self.display_name

    @classmethod
    def public_q(cls) -> Q:
        return Q(published=True)

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        """Officers see and edit their own profile."""
        if action in ("view", "change"):
            return Q(user_id=user.pk)
        return Q(pk__in=[])


class BeatAssignment(CommunityScoped):
    """Which officer works which beat, and when; ended rows are the beat's history."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    beat = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="beat_assignments")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="beat_assignments"
    )
    started_on = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(null=True, blank=True)

    access_rules = AccessRules(view=STAFF_ROLES)

    class Meta:
        ordering = ["beat__name", "started_on"]
        indexes = [models.Index(fields=["community", "officer"], name="beat_assignment_officer")]

    def __str__(self) -> str:
        return f"{self.officer} on {self.beat.name}"

    def is_current(self, on: Any = None) -> bool:
        day = on or timezone.localdate()
        return self.started_on <= day and (self.ended_on is None or self.ended_on >= day)


class ActivityKind(models.TextChoices):
    CONTACT = "contact", _("Community contact")
    MEETING = "meeting", _("Meeting")
    PATROL = "patrol", _("Patrol")
    PROBLEM = "problem", _("Problem-solving task")
    OTHER = "other", _("Other")


class ActivityEntry(CommunityScoped):
    """One piece of an officer's community work, with the time it took."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity_entries"
    )
    beat = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="activity_entries"
    )
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    occurred_on = models.DateField(default=timezone.localdate, db_index=True)
    minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    people = models.PositiveIntegerField(
        _("people contacted"), default=0, validators=[MaxValueValidator(10_000)]
    )
    summary = models.TextField(blank=True)
    problem_ref = models.CharField(_("problem reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    access_rules = AccessRules(
        view=STAFF_ROLES, create=OFFICER_ROLES, change=MANAGER_ROLES, delete=MANAGER_ROLES
    )

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        verbose_name_plural = _("activity entries")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.officer} on {self.occurred_on}"

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        """Officers may correct their own entries."""
        if action == "change":
            return Q(officer_id=user.pk)
        return Q(pk__in=[])
