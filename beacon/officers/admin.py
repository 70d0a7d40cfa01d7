"""Django admin for officer profiles, beat assignments and activity (audited)."""

from __future__ import annotations

from django.contrib import admin

from beacon.core.admin import AuditedModelAdmin
from beacon.officers.models import ActivityEntry, BeatAssignment, OfficerProfile


@admin.register(OfficerProfile)
class OfficerProfileAdmin(AuditedModelAdmin):
    list_display = ("display_name", "user", "community", "published", "updated_at")
    list_filter = ("community", "published")


@admin.register(BeatAssignment)
class BeatAssignmentAdmin(AuditedModelAdmin):
    list_display = ("officer", "beat", "community", "started_on", "ended_on")
    list_filter = ("community",)


@admin.register(ActivityEntry)
class ActivityEntryAdmin(AuditedModelAdmin):
    list_display = ("officer", "kind", "beat", "occurred_on", "minutes", "people")
    list_filter = ("community", "kind")
