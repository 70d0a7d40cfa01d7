"""Django admin for problems (every change audited)."""

from __future__ import annotations

from django.contrib import admin

from beacon.core.admin import AuditedModelAdmin
from beacon.problems.models import Assessment, Problem, ResponseTask


@admin.register(Problem)
class ProblemAdmin(AuditedModelAdmin):
    list_display = ("title", "community", "stage", "origin", "opened_at", "closed_at")
    list_filter = ("community", "stage", "origin")
    search_fields = ("title", "description")
    raw_id_fields = (
        "owner",
        "created_by",
        "beat",
        "neighbourhood",
        "source_run",
        "source_concern",
    )
    filter_horizontal = ("partners",)


@admin.register(ResponseTask)
class ResponseTaskAdmin(AuditedModelAdmin):
    list_display = ("title", "problem", "owner_kind", "due_on", "status")
    list_filter = ("community", "status", "owner_kind")
    raw_id_fields = ("problem", "owner_user", "owner_partner", "owner_group", "created_by")


@admin.register(Assessment)
class AssessmentAdmin(AuditedModelAdmin):
    list_display = ("problem", "created_at", "verdict", "period_days", "buffer_m")
    list_filter = ("community", "verdict")
    raw_id_fields = ("problem", "control_area", "created_by")
    readonly_fields = ("counts", "results", "verdict", "verdict_text")
