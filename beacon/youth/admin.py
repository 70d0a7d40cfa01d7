"""Django admin for youth programs.

Only programs and staff assignments are registered. Mentors', mentees' and their
records stay out of the admin on purpose: the admin does not go through the access
policy, and minors' records are for their program's staff only.
"""

from __future__ import annotations

from django.contrib import admin

from beacon.core.admin import AuditedModelAdmin
from beacon.youth.models import ProgramStaff, YouthProgram


@admin.register(YouthProgram)
class YouthProgramAdmin(AuditedModelAdmin):
    list_display = ("name", "community", "kind")
    list_filter = ("community", "kind")


@admin.register(ProgramStaff)
class ProgramStaffAdmin(AuditedModelAdmin):
    list_display = ("user", "program")
