"""Youth mentorship: programs, their staff, vetted mentors, mentees (minors), matches,
session logs and outcome measures.

Safeguarding rules, enforced by the access policy rather than by pages:

* Records about mentees and mentors are visible only to the staff assigned to their
  program (``ProgramStaff``) and, for oversight, to community administrators. Officers,
  supervisors, analysts, partners and residents of the same community see nothing unless
  assigned. Nobody may export them, and they never appear on public or partner pages.
* Nothing beyond the application is stored for a mentee until a guardian's consent is
  recorded: a database constraint on ``Mentee`` and a check in ``save`` of every
  dependent record.
* Every access is audited (views, too), and a retention job deletes a mentee's records a
  set period after they leave the program.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beacon.core.access import AccessRules, CommunityScoped, member_community_ids
from beacon.core.models import Community
from beacon.core.roles import MANAGER_ROLES, STAFF_ROLES, Role

ADMINS: frozenset[str] = frozenset({Role.ADMIN})


class YouthProgramKind(models.TextChoices):
    MENTORING = "mentoring", _("Mentoring")
    AFTER_SCHOOL = "after_school", _("After-school")
    SPORTS = "sports", _("Sports")


class YouthProgram(CommunityScoped):
    """A mentoring, after-school or sports program for young people."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="youth_programs"
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=YouthProgramKind.choices)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # That a program exists is not sensitive; who is in it is.
    access_rules = AccessRules(view=STAFF_ROLES, create=MANAGER_ROLES, change=MANAGER_ROLES)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProgramStaff(CommunityScoped):
    """A staff member assigned to a youth program: the people who may see its minors."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(YouthProgram, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="youth_assignments"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    access_rules = AccessRules(view=MANAGER_ROLES)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "user"], name="programstaff_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.program}"

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        """Staff see their own assignments."""
        return Q(user_id=user.pk) if action == "view" else Q(pk__in=[])


class SafeguardedRecord(CommunityScoped):
    """Base of every record about a mentor or mentee.

    Roles give nothing but administrators' oversight; access comes from being assigned
    to the record's program while holding a staff role in its community. Export is
    granted to nobody.
    """

    access_rules = AccessRules(
        view=ADMINS, create=ADMINS, change=ADMINS, delete=ADMINS, export=frozenset()
    )
    # The lookup from this model to its YouthProgram.
    program_path: str = "program"

    class Meta:
        abstract = True

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        """Program staff may view, add and change their program's records."""
        if action not in ("view", "create", "change"):
            return Q(pk__in=[])
        return Q(
            **{
                f"{cls.program_path}__staff__user_id": user.pk,
                f"{cls.community_path}__in": member_community_ids(user, STAFF_ROLES),
            }
        )


class Mentor(SafeguardedRecord):
    """An adult volunteer; only a vetted mentor (check in date, trained) can be matched."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(YouthProgram, on_delete=models.CASCADE, related_name="mentors")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("name"), max_length=120)
    email = models.EmailField(_("email address"), blank=True)
    interests = models.JSONField(_("interests"), default=list, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    availability = models.JSONField(_("availability"), default=list, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    background_check_on = models.DateField(_("background check date"), null=True, blank=True)
    background_check_expires_on = models.DateField(
        _("background check expires on"), null=True, blank=True
    )
    training_completed_on = models.DateField(_("training completed on"), null=True, blank=True)
    max_mentees = models.PositiveSmallIntegerField(_("most mentees at once"), default=1)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def vetting_problems(self, on: date | None = None) -> list[str]:
        """Why this mentor cannot be matched on ``on``; empty when vetted."""
        on = on or timezone.localdate()
        problems = []
        if not self.active:
            problems.append(str(_("not active")))
        if self.background_check_on is None or self.background_check_expires_on is None:
            problems.append(str(_("no background check on record")))
        elif self.background_check_expires_on < on:
            problems.append(
                str(_("background check expired on %(date)s"))
                % {"date": self.background_check_expires_on.isoformat()}
            )
        if self.training_completed_on is None:
            problems.append(str(_("training not completed")))
        return problems

    def is_vetted(self, on: date | None = None) -> bool:
        """Whether the mentor may be matched on ``on``."""
        return not self.vetting_problems(on)


class MenteeStatus(models.TextChoices):
    APPLIED = "applied", _("Applied (waiting for guardian consent)")
    ACTIVE = "active", _("In the program")
    LEFT = "left", _("Left the program")


# What an application holds; everything else about a mentee needs a guardian's consent.
APPLICATION_FIELDS = ("name", "date_of_birth", "guardian_name", "guardian_contact")


class Mentee(SafeguardedRecord):
    """A young person in a program. A minor: see the module docstring."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(YouthProgram, on_delete=models.CASCADE, related_name="mentees")
    status = models.CharField(
        max_length=20, choices=MenteeStatus.choices, default=MenteeStatus.APPLIED
    )
    # The application.
    name = models.CharField(_("name"), max_length=120)
    date_of_birth = models.DateField(_("date of birth"))
    guardian_name = models.CharField(_("guardian's name"), max_length=120)
    guardian_contact = models.CharField(_("guardian's phone or email"), max_length=200)
    # The guardian's consent.
    guardian_consent_at = models.DateTimeField(null=True, blank=True)
    guardian_consent_by = models.CharField(max_length=120, blank=True)
    consent_method = models.CharField(max_length=120, blank=True)
    # Beyond the application: only with consent (see the constraint).
    interests = models.JSONField(_("interests"), default=list, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    availability = models.JSONField(_("availability"), default=list, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    school = models.CharField(_("school"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    left_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(guardian_consent_at__isnull=False)
                | (
                    Q(status="applied")
                    & Q(interests=[])
                    & Q(languages=[])
                    & Q(availability=[])
                    & Q(lat__isnull=True)
                    & Q(lon__isnull=True)
                    & Q(school="")
                    & Q(notes="")
                ),
                name="mentee_consent_before_profile",
                violation_error_message=_(
                    "A guardian's consent must be recorded before anything beyond the "
                    "application is stored."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"Mentee {self.pk}"  # never the name: str() ends up in logs

    @property
    def has_consent(self) -> bool:
        return self.guardian_consent_at is not None


def require_consent(mentee: Mentee) -> None:
    """Refuse to store a record about a mentee whose guardian has not consented."""
    if not Mentee.objects.filter(pk=mentee.pk, guardian_consent_at__isnull=False).exists():
        raise ValidationError(
            _("A guardian's consent must be recorded before anything beyond the application.")
        )


class MatchStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


class Match(SafeguardedRecord):
    """A mentor paired with a mentee, with the reasons the pairing was suggested."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(YouthProgram, on_delete=models.CASCADE, related_name="matches")
    mentor = models.ForeignKey(Mentor, on_delete=models.PROTECT, related_name="matches")
    mentee = models.ForeignKey(Mentee, on_delete=models.CASCADE, related_name="matches")
    status = models.CharField(max_length=10, choices=MatchStatus.choices, default="active")
    score = models.FloatField(default=0)
    reasons = models.JSONField(default=list, blank=True)
    started_on = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "matches"
        constraints = [
            models.UniqueConstraint(
                fields=["mentee"], condition=Q(status="active"), name="match_one_active_per_mentee"
            )
        ]

    def __str__(self) -> str:
        return f"Match {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        require_consent(self.mentee)
        super().save(*args, **kwargs)


class SessionLog(SafeguardedRecord):
    """One mentoring meeting."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="sessions")
    occurred_on = models.DateField(_("date"))
    minutes = models.PositiveSmallIntegerField(_("minutes"))
    activity = models.CharField(_("activity"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    program_path = "match__program"

    class Meta:
        ordering = ["-occurred_on"]

    def __str__(self) -> str:
        return f"Session {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        require_consent(self.match.mentee)
        super().save(*args, **kwargs)


class Measure(models.TextChoices):
    SCHOOL_ATTENDANCE = "school_attendance", _("School attendance (%)")
    ENGAGEMENT = "engagement", _("Engagement (1–5)")
    SELF_ESTEEM = "self_esteem", _("Self-esteem (1–5)")
    POLICE_CONTACT = "police_contact", _("Police contacts since last measure")


class OutcomeMeasure(SafeguardedRecord):
    """A measured outcome for a mentee at a date."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    mentee = models.ForeignKey(Mentee, on_delete=models.CASCADE, related_name="outcomes")
    measure = models.CharField(_("measure"), max_length=30, choices=Measure.choices)
    value = models.FloatField(_("value"))
    recorded_on = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    program_path = "mentee__program"

    class Meta:
        ordering = ["measure", "recorded_on"]

    def __str__(self) -> str:
        return f"Outcome {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        require_consent(self.mentee)
        super().save(*args, **kwargs)
