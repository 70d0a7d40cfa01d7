from django.contrib import admin

from beacon.incidents.models import Incident, IncidentImport, PublicationPolicy


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("external_id", "community", "offence", "occurred_from", "location_status")
    list_filter = ("community", "offence_group", "location_status", "status", "sensitive")
    search_fields = ("external_id", "block_address")
    raw_id_fields = ("neighbourhood", "beat", "last_import")


@admin.register(IncidentImport)
class IncidentImportAdmin(admin.ModelAdmin):
    list_display = ("pk", "community", "fmt", "status", "imported", "updated", "rejected")
    list_filter = ("status", "fmt")


@admin.register(PublicationPolicy)
class PublicationPolicyAdmin(admin.ModelAdmin):
    list_display = ("community", "k_sites", "delay_days", "published_through", "published_at")
