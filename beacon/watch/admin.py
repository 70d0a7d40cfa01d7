"""Django admin for watch groups, memberships and the training curriculum (audited)."""

from __future__ import annotations

from django.contrib import admin

from beacon.core.admin import AuditedModelAdmin
from beacon.watch.models import TrainingModule, WatchGroup, WatchMembership


@admin.register(WatchGroup)
class WatchGroupAdmin(AuditedModelAdmin):
    list_display = ("name", "community", "listed", "created_at")
    list_filter = ("community", "listed")
    readonly_fields = ("geometry",)


@admin.register(WatchMembership)
class WatchMembershipAdmin(AuditedModelAdmin):
    list_display = ("user", "group", "role", "status", "requested_at", "decided_at")
    list_filter = ("status", "role", "community")


@admin.register(TrainingModule)
class TrainingModuleAdmin(AuditedModelAdmin):
    list_display = ("title", "community", "order", "valid_months", "required")
    list_filter = ("community",)
