"""Stored analysis runs and what the dashboards derive from them.

An :class:`AnalysisRun` is one computation of the analytics library over a community's
incidents (true locations: staff only): its kind, offence groups, parameters, data
window, status, results and timing. Dashboards and the API read stored runs only, so a
page never waits on a computation.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from beacon.core.access import AccessRules, CommunityScoped
from beacon.core.models import Community
from beacon.core.roles import MANAGER_ROLES, STAFF_ROLES, Role

# Analysts run analyses; supervisors and admins may too. Officers read the results.
RUNNERS: frozenset[str] = frozenset({Role.ANALYST, *MANAGER_ROLES})


class RunKind(models.TextChoices):
    GI = "gi", _("Hot spots (Getis-Ord Gi*)")
    KDE = "kde", _("Density surface (KDE)")
    KNOX = "knox", _("Near repeat (Knox test)")
    FORECAST = "forecast", _("Weekly forecast and patrol plan")
    TREND = "trend", _("Trend alerts")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class AnalysisRun(CommunityScoped):
    """One stored computation of the analytics library over a community's incidents.

    For ``kind == "gi"``, ``results["cells"]`` is a list of ``{"cell": h3 index (hex
    string), "count": int, "z": float, "p": float, "significant": bool, "class":
    "hot" | "cold" | "ns"}`` and ``results["geojson"]`` the hexagons as a
    FeatureCollection. Field names are a contract other apps rely on: keep them stable.
    """

    Kind = RunKind
    Status = RunStatus

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=RunKind.choices)
    offence_groups = models.JSONField(
        _("offence groups"), default=list, blank=True, help_text=_("Empty means all groups.")
    )
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    window_start = models.DateField(_("data from"))
    window_end = models.DateField(_("data to"), help_text=_("Inclusive."))
    status = models.CharField(
        _("status"), max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    results = models.JSONField(_("results"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    access_rules = AccessRules(
        view=STAFF_ROLES, create=RUNNERS, change=RUNNERS, delete=MANAGER_ROLES
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["community", "kind", "status"], name="analysisrun_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.window_start}–{self.window_end} ({self.status})"

    @property
    def finished(self) -> bool:
        """Whether the run has stopped (done or failed)."""
        return self.status in (RunStatus.DONE, RunStatus.FAILED)


class RiskZone(CommunityScoped):
    """The near-repeat risk zone around one burglary or vehicle crime.

    The space-time window where the risk of a follow-up is raised comes from the
    community's latest Knox run for the incident's offence group: the significant bands
    joined to the origin (see :func:`beacon.insights.zones.near_repeat_window`). The
    zone is centred on the incident's true location (``lat``/``lon``: staff only);
    ``public_lat``/``public_lon`` and ``public_radius_m`` are the masked circle that
    watch coordinators and public alerts see, which contains the whole true zone.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    incident = models.OneToOneField(
        "incidents.Incident", on_delete=models.CASCADE, related_name="+"
    )
    run = models.ForeignKey(
        AnalysisRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="zones"
    )
    offence_group = models.CharField(_("offence group"), max_length=30)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), help_text=_("Exclusive."))
    radius_m = models.FloatField(_("radius (m)"))
    lat = models.FloatField()
    lon = models.FloatField()
    public_lat = models.FloatField()
    public_lon = models.FloatField()
    public_radius_m = models.FloatField()
    beat = models.ForeignKey(
        "core.Area", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    neighbourhood = models.ForeignKey(
        "core.Area", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Key of the public alert published for this zone ("" when none was published).
    alert_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    access_rules = AccessRules(
        view=frozenset({*STAFF_ROLES, Role.WATCH_COORDINATOR}),
        create=RUNNERS,
        change=RUNNERS,
        delete=MANAGER_ROLES,
    )

    class Meta:
        ordering = ["-starts_on", "-id"]
        indexes = [
            models.Index(fields=["community", "ends_on"], name="riskzone_active"),
        ]

    def __str__(self) -> str:
        return f"{self.offence_group} zone {self.starts_on}–{self.ends_on} ({self.radius_m:g} m)"

    def active_on(self, day: date) -> bool:
        """Whether the zone's window holds ``day``."""
        return self.starts_on <= day < self.ends_on
