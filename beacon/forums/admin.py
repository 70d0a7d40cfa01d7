"""Django admin for the board, meetings and action items (every change audited)."""

from __future__ import annotations

from django.contrib import admin

from beacon.core.admin import AuditedModelAdmin
from beacon.forums.models import ActionItem, Concern, ForumSettings, Meeting


@admin.register(ForumSettings)
class ForumSettingsAdmin(AuditedModelAdmin):
    list_display = ("community", "support_threshold", "agenda_size")


@admin.register(Concern)
class ConcernAdmin(AuditedModelAdmin):
    list_display = ("title", "community", "category", "status", "support_count", "created_at")
    list_filter = ("community", "status", "category")
    search_fields = ("title", "body")
    raw_id_fields = ("author", "responded_by", "problem_requested_by", "beat", "neighbourhood")


@admin.register(Meeting)
class MeetingAdmin(AuditedModelAdmin):
    list_display = ("title", "community", "kind", "starts_at", "status")
    list_filter = ("community", "kind", "status")
    raw_id_fields = ("area", "created_by")


@admin.register(ActionItem)
class ActionItemAdmin(AuditedModelAdmin):
    list_display = ("title", "community", "owner_name", "due_date", "progress", "status")
    list_filter = ("community", "status")
    raw_id_fields = ("meeting", "concern", "owner")
