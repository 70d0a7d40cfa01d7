"""Django admin for programs and events; changes through it are audited."""

from __future__ import annotations

from django.contrib import admin

from beacon.core.admin import AuditedModelAdmin
from beacon.programs.models import Event, Program, Registration, Session


@admin.register(Program)
class ProgramAdmin(AuditedModelAdmin):
    list_display = ("name", "community", "kind", "audience", "is_public")
    list_filter = ("community", "kind", "audience")
    search_fields = ("name",)


class SessionInline(admin.TabularInline):
    model = Session
    extra = 0
    fields = ("starts_at", "ends_at", "venue", "address", "lat", "lon")


@admin.register(Event)
class EventAdmin(AuditedModelAdmin):
    list_display = ("title", "community", "kind", "status", "starts_at", "capacity")
    list_filter = ("community", "status", "kind")
    search_fields = ("title",)
    inlines = (SessionInline,)


@admin.register(Registration)
class RegistrationAdmin(AuditedModelAdmin):
    list_display = ("name", "event", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "email")
    readonly_fields = ("created_at", "confirmed_at", "cancelled_at", "reminded_for")
