"""Django admin for the core models; every change through it is audited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from beacon.core import geo
from beacon.core.audit import record_event
from beacon.core.geo import GeometryError
from beacon.core.models import (
    Area,
    AuditEvent,
    Community,
    Membership,
    Organization,
    User,
)
from beacon.core.services import save_area, validate_area_geometry


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin that writes an audit row for each create, update and delete."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        record_event(
            actor=request.user,
            action="update" if change else "create",
            obj=obj,
            detail={"via": "admin"},
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        record_event(actor=request.user, action="delete", obj=obj, detail={"via": "admin"})
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            record_event(actor=request.user, action="delete", obj=obj, detail={"via": "admin"})
        super().delete_queryset(request, queryset)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "display_name", "is_active", "is_staff", "date_joined")
    search_fields = ("email", "display_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("display_name", "preferred_language")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ("groups",)


@admin.register(Organization)
class OrganizationAdmin(AuditedModelAdmin):
    list_display = ("name", "slug", "kind")
    prepopulated_fields = {"slug": ("name",)}


class CommunityAdminForm(forms.ModelForm):
    class Meta:
        model = Community
        fields = (
            "organization",
            "name",
            "slug",
            "timezone",
            "centre_lat",
            "centre_lon",
            "default_zoom",
            "boundary",
            "population",
        )

    def clean_boundary(self) -> Any:
        """An empty boundary, or a valid GeoJSON Polygon or MultiPolygon."""
        boundary = self.cleaned_data.get("boundary")
        if boundary:
            try:
                geo.parse_area_geometry(boundary)
            except GeometryError as exc:
                raise forms.ValidationError(str(exc)) from None
        return boundary


@admin.register(Community)
class CommunityAdmin(AuditedModelAdmin):
    form = CommunityAdminForm
    list_display = ("name", "slug", "organization", "timezone")
    prepopulated_fields = {"slug": ("name",)}


class AreaAdminForm(forms.ModelForm):
    class Meta:
        model = Area
        fields = ("community", "kind", "name", "code", "population", "geometry")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        community = cleaned.get("community")
        if community is not None and "geometry" in cleaned:
            try:
                validate_area_geometry(community, cleaned["geometry"])
            except GeometryError as exc:
                self.add_error("geometry", str(exc))
        return cleaned


@admin.register(Area)
class AreaAdmin(AuditedModelAdmin):
    form = AreaAdminForm
    list_display = ("name", "kind", "community", "code")
    list_filter = ("kind", "community")
    search_fields = ("name", "code")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The H3 cover must follow the polygon, so saves go through the service.
        save_area(
            obj.community,
            obj.kind,
            obj.name,
            obj.geometry,
            actor=request.user,  # type: ignore[arg-type]
            code=obj.code,
            population=obj.population,
            area=obj,
        )


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ("user", "community", "role", "created_at")
    list_filter = ("role", "community")
    search_fields = ("user__email",)
    autocomplete_fields = ("user",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "at",
        "actor_label",
        "community",
        "action",
        "object_type",
        "object_id",
        "outcome",
    )
    list_filter = ("action", "outcome", "community")
    search_fields = ("actor_label", "object_id", "request_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
