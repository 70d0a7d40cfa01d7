"""SARA problem solving: problems, their evidence, analysis, response tasks and
assessments.

A :class:`Problem` is a recurring crime or disorder problem in a place: an area (drawn,
or the union of H3 cells from a hot spot), the offence groups it is about, an owner, the
partner organisations working on it and a SARA stage. Scanning evidence is the
community's incidents inside the area and offence groups (computed, never copied) plus
the reports and concerns linked by hand (:class:`EvidenceLink`). Analysis is the
problem-analysis triangle (on the problem), questions with findings
(:class:`AnalysisQuestion`) and attached analysis runs. The response is a list of
:class:`ResponseTask`. An :class:`Assessment` is one before/after computation against a
control area and a buffer.

Staff see every problem of their community. A partner user sees only problems their
organisation's *active* agreements cover: problems that name their organisation as a
partner, or that a joint initiative of theirs responds to. Partners only read; the
incident-level evidence (true locations) stays staff-only.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beacon.core.access import AccessRules, CommunityScoped, member_community_ids
from beacon.core.models import Area, Community
from beacon.core.roles import MANAGER_ROLES, STAFF_ROLES, Role

# Staff work problems; partner users read the problems their agreements cover.
STAFF_AND_PARTNERS: frozenset[str] = frozenset({*STAFF_ROLES, Role.PARTNER})


def partner_problem_ids(user: Any) -> models.QuerySet[Any]:
    """Ids of the problems a partner user's active agreements cover (a subquery)."""
    from beacon.partners.models import JointInitiative, active_partner_ids

    covered = active_partner_ids(user)
    named = Problem.partners.through.objects.filter(partner_id__in=covered).values("problem_id")
    # Joint initiatives point at their problem through a generic reference (partners
    # predates this app); match it by app label and model name, not a cached id.
    via_initiatives = JointInitiative.objects.filter(
        problem_type__app_label="problems",
        problem_type__model="problem",
        problem_id__isnull=False,
        partners__in=covered,
    ).values("problem_id")
    return Problem.objects.filter(Q(pk__in=named) | Q(pk__in=via_initiatives)).values("pk")


class ProblemScoped(CommunityScoped):
    """Rules shared by problem rows: staff see all, partner users only covered problems."""

    class Meta:
        abstract = True

    # The lookup from this model to the problem whose coverage decides a partner's access.
    problem_path: str = "problem"

    @classmethod
    def member_q(cls, user: Any, action: str) -> Q:
        """Staff roles are not narrowed; the partner role sees covered problems only."""
        others = cls.access_rules.roles_for(action) - {Role.PARTNER}
        staff = Q(**{f"{cls.community_path}__in": member_community_ids(user, others)})
        if Role.PARTNER not in cls.access_rules.roles_for(action):
            return staff
        return staff | Q(**{f"{cls.problem_path}__in": partner_problem_ids(user)})


class Stage(models.TextChoices):
    SCANNING = "scanning", _("Scanning")
    ANALYSIS = "analysis", _("Analysis")
    RESPONSE = "response", _("Response")
    ASSESSMENT = "assessment", _("Assessment")
    CLOSED = "closed", _("Closed")


STAGE_ORDER: list[str] = [s.value for s in Stage]
OPEN_STAGES: frozenset[str] = frozenset(STAGE_ORDER) - {Stage.CLOSED}


class Origin(models.TextChoices):
    HOTSPOT = "hotspot", _("A hot spot (Gi* analysis run)")
    REPORTS = "reports", _("A cluster of resident reports")
    CONCERN = "concern", _("A community concern")
    MANUAL = "manual", _("Opened by hand")


class Outcome(models.TextChoices):
    """How a problem ended (Eck and Spelman's outcomes of problem solving)."""

    ELIMINATED = "eliminated", _("Eliminated")
    REDUCED = "reduced", _("Fewer incidents")
    LESS_HARMFUL = "less_harmful", _("Less harmful incidents")
    BETTER_HANDLED = "better_handled", _("Handled better")
    REMOVED = "removed", _("Removed from police consideration")
    NO_IMPROVEMENT = "no_improvement", _("No improvement")


class Problem(ProblemScoped):
    """A recurring problem in a place, worked through scanning, analysis, response and
    assessment."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    origin = models.CharField(_("origin"), max_length=20, choices=Origin.choices)
    source_run = models.ForeignKey(
        "insights.AnalysisRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The hot spot analysis the problem was opened from."),
    )
    source_concern = models.ForeignKey(
        "forums.Concern",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # GeoJSON Polygon or MultiPolygon (WGS84), validated against the community boundary.
    area = models.JSONField(_("area"))
    # H3 cells (hex strings) the area was made from, when it came from a hot spot.
    area_cells = models.JSONField(default=list, blank=True)
    # The beat and neighbourhood holding the area's representative point (board, alerts).
    beat = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="beat_problems"
    )
    neighbourhood = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="problems"
    )
    offence_groups = models.JSONField(_("offence groups"), default=list)
    # Optional narrowing to single offences inside the groups (e.g. theft from vehicle).
    offences = models.JSONField(_("offences"), default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_problems",
    )
    partners = models.ManyToManyField(
        "partners.Partner", blank=True, related_name="problems", verbose_name=_("partners")
    )
    analysis_runs = models.ManyToManyField(
        "insights.AnalysisRun", blank=True, related_name="problems"
    )
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.SCANNING, db_index=True
    )
    stage_changed_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(_("outcome note"), blank=True)
    response_started_on = models.DateField(_("response started on"), null=True, blank=True)
    # The problem-analysis triangle: the three sides and who controls each.
    offender = models.TextField(_("offender"), blank=True)
    handler = models.TextField(_("handlers (of offenders)"), blank=True)
    target = models.TextField(_("target or victim"), blank=True)
    guardian = models.TextField(_("guardians (of targets)"), blank=True)
    place = models.TextField(_("place"), blank=True)
    manager = models.TextField(_("managers (of places)"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    access_rules = AccessRules(
        view=STAFF_AND_PARTNERS,
        create=STAFF_ROLES,
        change=STAFF_ROLES,
        delete=MANAGER_ROLES,
        export=STAFF_ROLES,
    )
    problem_path = "pk"

    class Meta:
        ordering = ["-opened_at", "-pk"]
        indexes = [models.Index(fields=["community", "stage"], name="problem_stage")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.stage != Stage.CLOSED

    @property
    def stage_index(self) -> int:
        return STAGE_ORDER.index(self.stage)

    def triangle(self) -> dict[str, str]:
        """The six sides of the problem-analysis triangle by name."""
        return {name: getattr(self, name) for name in TRIANGLE_FIELDS}


TRIANGLE_FIELDS: tuple[str, ...] = ("offender", "handler", "target", "guardian", "place", "manager")


class LinkKind(models.TextChoices):
    REPORT = "report", _("Resident report")
    CONCERN = "concern", _("Community concern")


class EvidenceLink(ProblemScoped):
    """A resident report or community concern linked to a problem as evidence."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(max_length=10, choices=LinkKind.choices)
    report = models.ForeignKey(
        "reports.Report", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    concern = models.ForeignKey(
        "forums.Concern", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    # Reports carry true locations and reporters' words: staff only.
    access_rules = AccessRules(view=STAFF_ROLES, create=STAFF_ROLES, change=STAFF_ROLES)

    class Meta:
        ordering = ["-added_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="report", report__isnull=False, concern__isnull=True)
                    | Q(kind="concern", concern__isnull=False, report__isnull=True)
                ),
                name="evidence_one_target",
            ),
            models.UniqueConstraint(
                fields=["problem", "report"],
                condition=Q(report__isnull=False),
                name="evidence_report_once",
            ),
            models.UniqueConstraint(
                fields=["problem", "concern"],
                condition=Q(concern__isnull=False),
                name="evidence_concern_once",
            ),
        ]

    def __str__(self) -> str:
        target = self.report_id if self.kind == LinkKind.REPORT else self.concern_id
        return f"{self.get_kind_display()} {target} of problem {self.problem_id}"


class AnalysisQuestion(ProblemScoped):
    """A question the analysis has to answer, and what was found."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="questions")
    question = models.CharField(_("question"), max_length=500)
    finding = models.TextField(_("finding"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    access_rules = AccessRules(
        view=STAFF_AND_PARTNERS, create=STAFF_ROLES, change=STAFF_ROLES, delete=STAFF_ROLES
    )

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.question


class OwnerKind(models.TextChoices):
    STAFF = "staff", _("An officer or staff member")
    PARTNER = "partner", _("A partner organisation")
    WATCH_GROUP = "watch_group", _("A resident group (neighbourhood watch)")


class TaskStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_TASK_STATUSES: frozenset[str] = frozenset({TaskStatus.PLANNED, TaskStatus.IN_PROGRESS})


class ResponseTask(ProblemScoped):
    """One action of the response plan, owned by a person, a partner or a resident group."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner_kind = models.CharField(_("owner kind"), max_length=20, choices=OwnerKind.choices)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="problem_tasks",
    )
    owner_partner = models.ForeignKey(
        "partners.Partner",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="problem_tasks",
    )
    owner_group = models.ForeignKey(
        "watch.WatchGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="problem_tasks",
    )
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.PLANNED
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    access_rules = AccessRules(
        view=STAFF_AND_PARTNERS, create=STAFF_ROLES, change=STAFF_ROLES, delete=STAFF_ROLES
    )

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["community", "status", "due_on"], name="task_due")]

    def __str__(self) -> str:
        return self.title

    @property
    def owner_label(self) -> str:
        """Who does it, in words."""
        owner = {
            OwnerKind.STAFF: self.owner_user,
            OwnerKind.PARTNER: self.owner_partner,
            OwnerKind.WATCH_GROUP: self.owner_group,
        }.get(OwnerKind(self.owner_kind))
        return str(owner) if owner is not None else "—"

    def is_overdue(self, today: Any) -> bool:
        """Whether the task is still open after its due date."""
        return self.status in OPEN_TASK_STATUSES and self.due_on < today


class Verdict(models.TextChoices):
    REDUCED = "reduced", _("Fell relative to the control area")
    INCREASED = "increased", _("Rose relative to the control area")
    NO_CLEAR_CHANGE = "no_clear_change", _("No clear change")
    INSUFFICIENT = "insufficient", _("Too few incidents to tell")


class Assessment(ProblemScoped):
    """One before/after assessment of a problem's response against a control area.

    ``counts`` holds ``[before, after]`` incident counts per zone (``target``,
    ``buffer``, ``control``, ``control_buffer``); ``results`` the figures the analytics
    library computed from them (``rate_ratio``, ``relative``, ``wdq``, ``wdd``), each
    either the library's ``to_dict()`` or ``{"error": "..."}``.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="assessments")
    response_started_on = models.DateField()
    period_days = models.PositiveSmallIntegerField()
    before_start = models.DateField()
    after_start = models.DateField()
    after_end = models.DateField(help_text=_("First day after the after period."))
    buffer_m = models.PositiveIntegerField()
    control_area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The zones as they were when assessed (the problem's area may change later).
    target_geometry = models.JSONField()
    control_geometry = models.JSONField()
    buffer_geometry = models.JSONField(default=dict, blank=True)
    control_buffer_geometry = models.JSONField(default=dict, blank=True)
    offence_groups = models.JSONField(default=list)
    offences = models.JSONField(default=list, blank=True)
    counts = models.JSONField(default=dict)
    results = models.JSONField(default=dict)
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    verdict_text = models.TextField()
    notes = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    access_rules = AccessRules(
        view=STAFF_AND_PARTNERS,
        create=STAFF_ROLES,
        change=STAFF_ROLES,
        delete=MANAGER_ROLES,
        export=STAFF_ROLES,
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Assessment {self.pk} of problem {self.problem_id}"

    @property
    def before_end(self) -> Any:
        """First day after the before period (the response start)."""
        return self.after_start
