"""Surveys: a builder, responses, population shares for weighting, and distribution.

A survey is reached by its public link (``/s/<token>/``), a QR code of that link, or an
email to the community's members. Anonymous surveys store no user, IP address, user
agent or time of day with a response (only the date); identified surveys link the
response to the signed-in person, once per person. A trust survey is one *wave* of a
*series*; the trust index trend compares the waves of a series.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beacon.core.access import PUBLIC, AccessRules, CommunityScoped
from beacon.core.models import Area, AreaKind, Community
from beacon.core.roles import MANAGER_ROLES, STAFF_ROLES, Role

NOBODY: frozenset[str] = frozenset()
SURVEY_EDITORS = frozenset({Role.OFFICER, Role.ANALYST, *MANAGER_ROLES})
RESULT_READERS = frozenset({Role.ANALYST, Role.OFFICER, *MANAGER_ROLES})


def _token() -> str:
    return secrets.token_urlsafe(9)


class SurveyKind(models.TextChoices):
    CUSTOM = "custom", _("Custom survey")
    TRUST = "trust", _("Community-trust survey")


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open for responses")
    CLOSED = "closed", _("Closed")


class AgeBand(models.TextChoices):
    A16 = "16-24", _("16 to 24")
    A25 = "25-44", _("25 to 44")
    A45 = "45-64", _("45 to 64")
    A65 = "65+", _("65 or over")


class Gender(models.TextChoices):
    WOMAN = "woman", _("Woman")
    MAN = "man", _("Man")
    ANOTHER = "another", _("Another gender")


class Survey(CommunityScoped):
    """A survey a community runs; a trust survey is one wave of a series."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="surveys")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=SurveyKind.choices, default=SurveyKind.CUSTOM)
    series = models.SlugField(
        max_length=50, blank=True, help_text=_("Waves of the same series are compared over time.")
    )
    wave_label = models.CharField(max_length=60, blank=True)
    token = models.CharField(max_length=20, unique=True, default=_token)
    anonymous = models.BooleanField(
        default=True, help_text=_("Anonymous responses keep no account, address or time.")
    )
    status = models.CharField(
        max_length=20, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT
    )
    # Respondents say which area they live in, by kind; empty = not asked.
    area_kind = models.CharField(
        max_length=20, choices=AreaKind.choices, default=AreaKind.NEIGHBOURHOOD, blank=True
    )
    asks_demographics = models.BooleanField(
        default=True, help_text=_("Ask age band and gender, for weighting to the population.")
    )
    opens_on = models.DateField(default=timezone.localdate)
    closes_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    access_rules = AccessRules(
        view=frozenset({PUBLIC, *STAFF_ROLES}),
        create=SURVEY_EDITORS,
        change=SURVEY_EDITORS,
        delete=MANAGER_ROLES,
        export=RESULT_READERS,
        extra={"results": RESULT_READERS},
    )

    class Meta:
        ordering = ["-opens_on", "-pk"]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def public_q(cls) -> Q:
        """The public sees surveys that are open (and closed ones, for their link)."""
        return ~Q(status=SurveyStatus.DRAFT)

    @property
    def is_open(self) -> bool:
        today = timezone.localdate()
        return (
            self.status == SurveyStatus.OPEN
            and self.opens_on <= today
            and (self.closes_on is None or today <= self.closes_on)
        )


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    LIKERT = "likert", _("Likert scale")
    NUMBER = "number", _("Number")
    TEXT = "text", _("Text")


class Question(CommunityScoped):
    """One question of a survey."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    code = models.SlugField(max_length=50)
    prompt = models.CharField(max_length=400)
    help_text = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=20, choices=QuestionKind.choices)
    required = models.BooleanField(default=False)
    # [{"key": "...", "label": "..."}] for single and multiple choice.
    choices = models.JSONField(default=list, blank=True)
    # Likert: the scale's ends (1–5 by default) and their labels; number: optional bounds.
    scale_min = models.IntegerField(null=True, blank=True)
    scale_max = models.IntegerField(null=True, blank=True)
    low_label = models.CharField(max_length=80, blank=True)
    high_label = models.CharField(max_length=80, blank=True)
    # Trust instrument: the dimension the item measures, and whether agreement means
    # less trust or safety (so the score is reversed).
    dimension = models.CharField(max_length=30, blank=True)
    reverse = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=0)

    access_rules = AccessRules(
        view=frozenset({PUBLIC, *STAFF_ROLES}),
        create=SURVEY_EDITORS,
        change=SURVEY_EDITORS,
        delete=SURVEY_EDITORS,
    )

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "code"], name="survey_question_code")
        ]

    def __str__(self) -> str:
        return self.prompt

    @classmethod
    def public_q(cls) -> Q:
        return ~Q(survey__status=SurveyStatus.DRAFT)

    def choice_keys(self) -> list[str]:
        return [str(c.get("key")) for c in self.choices or []]

    def choice_label(self, key: str) -> str:
        for choice in self.choices or []:
            if str(choice.get("key")) == key:
                return str(choice.get("label", key))
        return key

    def scale(self) -> list[int]:
        """The Likert points, low to high."""
        low = self.scale_min if self.scale_min is not None else 1
        high = self.scale_max if self.scale_max is not None else 5
        return list(range(low, high + 1))


class Channel(models.TextChoices):
    LINK = "link", _("Public link")
    QR = "qr", _("QR code")
    EMAIL = "email", _("Email invitation")
    API = "api", _("API")


class Response(CommunityScoped):
    """One person's answers to a survey."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    # Only for identified surveys; anonymous responses never hold an account.
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_responses",
    )
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_responses"
    )
    age_band = models.CharField(max_length=10, choices=AgeBand.choices, blank=True)
    gender = models.CharField(max_length=10, choices=Gender.choices, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.LINK)
    # The date only: a time of day could tie an anonymous response to a person.
    submitted_on = models.DateField(default=timezone.localdate, db_index=True)

    access_rules = AccessRules(
        view=RESULT_READERS, create=NOBODY, change=NOBODY, delete=MANAGER_ROLES
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "respondent"],
                condition=Q(respondent__isnull=False),
                name="survey_response_once",
            )
        ]

    def __str__(self) -> str:
        return f"response {self.pk} to {self.survey_id}"

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        if action == "view":
            return Q(respondent_id=user.pk)
        return Q(pk__in=[])


class Answer(CommunityScoped):
    """One answer: a number (Likert, number, single choice's index), text, or choices."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    number = models.FloatField(null=True, blank=True)
    text = models.TextField(blank=True)
    choices = models.JSONField(default=list, blank=True)

    access_rules = AccessRules(
        view=RESULT_READERS, create=NOBODY, change=NOBODY, delete=MANAGER_ROLES
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="answer_once")]

    def __str__(self) -> str:
        return f"answer to {self.question_id}"


class PopulationGroup(CommunityScoped):
    """How many people of a demographic group live in the community (or one area).

    Used for post-stratification weights; rows with an area apply to that area, rows
    without one to the whole community.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.CASCADE, related_name="population_groups"
    )
    age_band = models.CharField(max_length=10, choices=AgeBand.choices)
    gender = models.CharField(max_length=10, choices=Gender.choices)
    population = models.PositiveIntegerField()
    source = models.CharField(max_length=200, blank=True)

    access_rules = AccessRules(
        view=frozenset({PUBLIC}),
        create=frozenset({Role.ANALYST, *MANAGER_ROLES}),
        change=frozenset({Role.ANALYST, *MANAGER_ROLES}),
        delete=frozenset({Role.ANALYST, *MANAGER_ROLES}),
    )

    class Meta:
        # Two partial constraints rather than NULLS NOT DISTINCT, which SQLite lacks.
        constraints = [
            models.UniqueConstraint(
                fields=["community", "area", "age_band", "gender"],
                condition=Q(area__isnull=False),
                name="population_group_area_unique",
            ),
            models.UniqueConstraint(
                fields=["community", "age_band", "gender"],
                condition=Q(area__isnull=True),
                name="population_group_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.age_band} {self.gender}: {self.population}"


class Distribution(CommunityScoped):
    """An invitation sent to the community's members (email, by a background task)."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="distributions")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    message = models.TextField(blank=True)
    # The absolute survey link, taken from the request that asked for the distribution.
    link = models.URLField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)

    access_rules = AccessRules(
        view=SURVEY_EDITORS, create=SURVEY_EDITORS, change=NOBODY, delete=MANAGER_ROLES
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} for survey {self.survey_id}"
