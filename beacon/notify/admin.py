"""Django admin for alerts: subscriptions, events and the outbox (read-mostly, audited)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from beacon.core.admin import AuditedModelAdmin
from beacon.notify.models import AlertEvent, OutboxMessage, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(AuditedModelAdmin):
    list_display = ("pk", "user", "cover", "channel", "frequency", "active", "created_at")
    list_filter = ("community", "channel", "frequency", "active")
    readonly_fields = ("cover", "secret", "created_at", "unsubscribed_at")
    search_fields = ("target", "user__email")


@admin.register(AlertEvent)
class AlertEventAdmin(AuditedModelAdmin):
    list_display = ("title", "topic", "community", "recipients", "created_at")
    list_filter = ("community", "topic", "public")
    readonly_fields = ("key", "recipients", "created_at", "created_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # events come from publishing, which also fans them out


@admin.register(OutboxMessage)
class OutboxMessageAdmin(AuditedModelAdmin):
    list_display = (
        "message_id",
        "channel",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "channel", "community")
    readonly_fields = ("message_id", "dedupe_key", "delivered_at", "last_error", "created_at")
    search_fields = ("message_id", "target")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
