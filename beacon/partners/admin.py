"""Django admin for partnerships; changes through it are audited."""

from __future__ import annotations

from django.contrib import admin

from beacon.core.admin import AuditedModelAdmin
from beacon.partners.models import Agreement, JointInitiative, Partner, PartnerContact


class ContactInline(admin.TabularInline):
    model = PartnerContact
    extra = 0
    fields = ("name", "title", "email", "phone", "is_primary", "user")


@admin.register(Partner)
class PartnerAdmin(AuditedModelAdmin):
    list_display = ("name", "community", "kind")
    list_filter = ("community", "kind")
    search_fields = ("name",)
    inlines = (ContactInline,)


@admin.register(Agreement)
class AgreementAdmin(AuditedModelAdmin):
    list_display = ("title", "partner", "starts_on", "expires_on", "terminated_on")
    list_filter = ("information_sharing",)


@admin.register(JointInitiative)
class InitiativeAdmin(AuditedModelAdmin):
    list_display = ("title", "community", "status")
    filter_horizontal = ("partners", "programs", "events")
    exclude = ("problem_type", "problem_id")
