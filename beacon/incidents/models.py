"""Official incident records, their imports, and the public (masked) publication.

``Incident`` holds the agency's record with its true location: staff only. The public
never reads it; the publication step (:mod:`beacon.incidents.privacy`) derives the
masked tables ``PublicUnit`` and ``PublicRollup``, and every public page, download and
API endpoint reads those through :mod:`beacon.incidents.public`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from beacon.core.access import PUBLIC, AccessRules, CommunityScoped
from beacon.core.models import Area, Community
from beacon.core.roles import MANAGER_ROLES, STAFF_ROLES, Role
from beacon.incidents import taxonomy

IMPORTERS: frozenset[str] = frozenset({Role.ANALYST, *MANAGER_ROLES})
OFFENCE_CHOICES = [(o.code, o.label) for o in taxonomy.OFFENCES.values()]
GROUP_CHOICES = [(g.code, g.label) for g in taxonomy.GROUPS.values()]


class LocationStatus(models.TextChoices):
    MAPPED = "mapped", _("Mapped")
    SUPPRESSED = "suppressed", _("Suppressed by the source")
    MISSING = "missing", _("Missing")


class IncidentStatus(models.TextChoices):
    REPORTED = "reported", _("Reported")
    INVESTIGATING = "investigating", _("Under investigation")
    CLEARED = "cleared", _("Cleared")
    UNFOUNDED = "unfounded", _("Unfounded")


class IncidentImport(CommunityScoped):
    """One run of the importer: its options, progress and outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        ABORTED = "aborted", _("Aborted, nothing changed")
        FAILED = "failed", _("Failed")

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    fmt = models.CharField(_("format"), max_length=20)
    source = models.CharField(max_length=40)
    options = models.JSONField(default=dict, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    stored_path = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    total_bytes = models.BigIntegerField(default=0)
    processed_bytes = models.BigIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    mapped = models.PositiveIntegerField(default=0)
    unmapped = models.PositiveIntegerField(default=0)
    # The first rejections as [line, reason] pairs (capped; the count above is exact).
    rejections = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)

    access_rules = AccessRules(
        view=STAFF_ROLES, create=IMPORTERS, change=IMPORTERS, delete=MANAGER_ROLES
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.fmt} import {self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        """Progress through the file, 0 to 100."""
        if self.status in (self.Status.SUCCEEDED, self.Status.ABORTED):
            return 100
        if not self.total_bytes:
            return 0
        return min(100, int(100 * self.processed_bytes / self.total_bytes))

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.ABORTED, self.Status.FAILED)


class Incident(CommunityScoped):
    """An official incident record. True location and details: staff only."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    source = models.CharField(max_length=40)
    external_id = models.CharField(max_length=100)
    occurred_from = models.DateTimeField(_("occurred (from)"))
    occurred_to = models.DateTimeField(
        _("occurred (to)"), null=True, blank=True, help_text=_("End of the range, exclusive.")
    )
    reported_at = models.DateTimeField(null=True, blank=True)
    # Calendar fields in the community's zone, kept so publication and statistics
    # aggregate with plain GROUP BYs on both databases.
    local_month = models.DateField()
    local_weekday = models.PositiveSmallIntegerField(null=True, blank=True)  # 0 = Monday
    local_hour = models.PositiveSmallIntegerField(null=True, blank=True)  # None: time unknown
    offence = models.CharField(max_length=40, choices=OFFENCE_CHOICES)
    offence_group = models.CharField(max_length=30, choices=GROUP_CHOICES)
    source_offence = models.CharField(max_length=200, blank=True)
    sensitive = models.BooleanField(default=False)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    cell = models.BigIntegerField(null=True, blank=True, help_text=_("H3 cell, resolution 10."))
    location_status = models.CharField(
        max_length=12, choices=LocationStatus.choices, default=LocationStatus.MISSING
    )
    block_address = models.CharField(max_length=200, blank=True)
    neighbourhood = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    neighbourhood_name = models.CharField(max_length=120, blank=True)
    beat = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    status = models.CharField(
        max_length=20, choices=IncidentStatus.choices, default=IncidentStatus.REPORTED
    )
    outcome = models.CharField(max_length=200, blank=True)
    content_hash = models.CharField(max_length=32)
    last_import = models.ForeignKey(
        IncidentImport,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    access_rules = AccessRules(
        view=STAFF_ROLES,
        create=IMPORTERS,
        change=STAFF_ROLES,
        delete=MANAGER_ROLES,
        export=IMPORTERS,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["community", "source", "external_id"], name="incident_unique_source_id"
            )
        ]
        indexes = [
            models.Index(fields=["community", "occurred_from"], name="incident_when"),
        ]
        ordering = ["-occurred_from", "-id"]

    def __str__(self) -> str:
        return f"{self.get_offence_display()} {self.occurred_from:%Y-%m-%d} ({self.external_id})"

    @property
    def nibrs(self) -> taxonomy.Offence:
        return taxonomy.OFFENCES[self.offence]

    @property
    def mapped(self) -> bool:
        return self.lat is not None and self.lon is not None


class PublicationPolicy(CommunityScoped):
    """A community's privacy rules for publishing incidents, and the publication state."""

    community = models.OneToOneField(
        Community, on_delete=models.CASCADE, related_name="publication_policy"
    )
    k_sites = models.PositiveSmallIntegerField(
        _("sites per published point (k)"),
        default=8,
        validators=[MinValueValidator(2), MaxValueValidator(1000)],
        help_text=_("Each published point stands for at least this many distinct sites."),
    )
    delay_days = models.PositiveSmallIntegerField(
        _("publication delay (days)"), default=7, validators=[MaxValueValidator(365)]
    )
    extra_sensitive_groups = models.JSONField(
        default=list, blank=True, help_text=_("Offence groups this community never maps.")
    )
    # Share of 1s among the stand-in draws for small units, fixed at the first
    # publication from the community's own data so estimates stay unbiased; frozen
    # afterwards so that no later change in any unit can move it.
    draw_one_share = models.FloatField(null=True, blank=True)
    published_through = models.DateField(
        null=True, blank=True, help_text=_("First day after the last published month.")
    )
    published_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)

    access_rules = AccessRules(
        view=frozenset({PUBLIC}), create=MANAGER_ROLES, change=MANAGER_ROLES, delete=frozenset()
    )

    class Meta:
        verbose_name_plural = _("publication policies")

    def __str__(self) -> str:
        return f"Publication policy of {self.community}"

    @property
    def sensitive_groups(self) -> frozenset[str]:
        """Built-in sensitive groups plus the community's own."""
        extra = self.extra_sensitive_groups if isinstance(self.extra_sensitive_groups, list) else []
        return taxonomy.SENSITIVE_GROUPS | frozenset(str(g) for g in extra)


class SiteCellCount(models.Model):
    """How many distinct incident sites an H3 cell (resolutions 0 to 10) holds.

    Internal to the masking: the public never reads it.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    cell = models.BigIntegerField()
    sites = models.PositiveIntegerField()
    # For resolution-10 cells: the masked cell their incidents are published in (0:
    # none), so publication can group by it in the database.
    public = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "cell"], name="sitecell_unique")
        ]

    def __str__(self) -> str:
        return f"{self.cell:x}: {self.sites}"


class PublicUnit(models.Model):
    """One unit of the publication lattice: a masked cell, neighbourhood, month and group.

    ``value`` is the published count: exact from 3 up; a unit of 1 or 2 incidents gets
    a fixed draw of 1 or 2 that does not depend on its true count (see privacy.py).
    ``cell`` is 0 and the centre empty for units published without a location.
    """

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    month = models.DateField()
    group = models.CharField(max_length=30)
    cell = models.BigIntegerField(default=0)
    neighbourhood = models.ForeignKey(
        Area, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    lat = models.FloatField(null=True)
    lon = models.FloatField(null=True)
    value = models.PositiveIntegerField()
    small = models.BooleanField()

    class Meta:
        indexes = [
            models.Index(fields=["community", "month", "group"], name="publicunit_month"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.group} {self.cell:x}: {self.value}"


class PublicRollup(models.Model):
    """Sums of published unit values by level (h6/h7/h8 hexagon, neighbourhood, total),
    and the time-of-day lattice (level ``tod``, key = weekday × 24 + hour)."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    level = models.CharField(max_length=8)
    key = models.BigIntegerField()
    month = models.DateField()
    group = models.CharField(max_length=30)
    value = models.PositiveIntegerField()
    # Lower bound of the true sum: exact units plus one per small unit.
    low = models.PositiveIntegerField()
    small_units = models.PositiveIntegerField()

    class Meta:
        indexes = [
            # Covers the whole row, so the aggregate queries read only the index.
            models.Index(
                fields=[
                    "community",
                    "level",
                    "month",
                    "group",
                    "key",
                    "value",
                    "low",
                    "small_units",
                ],
                name="publicrollup_cover",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.level}:{self.key} {self.month:%Y-%m} {self.group}: {self.value}"


def incident_field_names() -> list[str]:
    """Column names the importer writes, in order."""
    return [str(f.column) for f in Incident._meta.concrete_fields if not f.primary_key]
