"""Django admin for surveys and population groups (every change audited)."""

from __future__ import annotations

from django.contrib import admin

from beacon.core.admin import AuditedModelAdmin
from beacon.surveys.models import PopulationGroup, Question, Survey


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0
    fields = (
        "order",
        "code",
        "prompt",
        "kind",
        "required",
        "scale_min",
        "scale_max",
        "dimension",
        "reverse",
        "choices",
        "community",
    )


@admin.register(Survey)
class SurveyAdmin(AuditedModelAdmin):
    list_display = ("title", "community", "kind", "series", "wave_label", "status", "opens_on")
    list_filter = ("community", "kind", "status")
    inlines = [QuestionInline]


@admin.register(PopulationGroup)
class PopulationGroupAdmin(AuditedModelAdmin):
    list_display = ("community", "area", "age_band", "gender", "population", "source")
    list_filter = ("community",)
