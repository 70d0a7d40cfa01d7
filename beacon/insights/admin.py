"""Django admin for stored analysis runs and near-repeat zones (read-mostly)."""

from django.contrib import admin

from beacon.insights.models import AnalysisRun, RiskZone


@admin.register(AnalysisRun)
class AnalysisRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "community",
        "kind",
        "status",
        "window_start",
        "window_end",
        "duration_ms",
    )
    list_filter = ("kind", "status", "community")
    readonly_fields = ("created_at", "started_at", "finished_at", "duration_ms")
    raw_id_fields = ("created_by",)
    date_hierarchy = "created_at"


@admin.register(RiskZone)
class RiskZoneAdmin(admin.ModelAdmin):
    list_display = ("id", "community", "offence_group", "starts_on", "ends_on", "radius_m", "beat")
    list_filter = ("offence_group", "community")
    raw_id_fields = ("incident", "run", "beat", "neighbourhood")
    readonly_fields = ("created_at", "alert_key")
