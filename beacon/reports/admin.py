"""Django admin for report categories and their questions (audited)."""

from __future__ import annotations

from django.contrib import admin

from beacon.core.admin import AuditedModelAdmin
from beacon.reports.models import Category, Open311Key, Question


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0
    fields = (
        "order",
        "code",
        "prompt",
        "datatype",
        "required",
        "choices",
        "help_text",
        "community",
    )


@admin.register(Category)
class CategoryAdmin(AuditedModelAdmin):
    list_display = ("name", "code", "community", "privacy", "response_hours", "active")
    list_filter = ("community", "privacy", "active")
    inlines = [QuestionInline]


@admin.register(Open311Key)
class Open311KeyAdmin(AuditedModelAdmin):
    list_display = ("name", "prefix", "community", "created_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at")
    list_filter = ("community",)

    def has_add_permission(self, request: object) -> bool:
        # Keys are created with `beacon open311-key create`, which prints the key once.
        return False
