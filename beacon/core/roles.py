"""The roles a person can hold in a community, and what they group into."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    WATCH_COORDINATOR = "watch_coordinator", _("Watch coordinator")
    OFFICER = "officer", _("Officer")
    ANALYST = "analyst", _("Analyst")
    SUPERVISOR = "supervisor", _("Supervisor")
    PARTNER = "partner", _("Partner")
    ADMIN = "admin", _("Administrator")


ALL_ROLES: frozenset[str] = frozenset(Role.values)
# Roles that see official records and must sign in with a second factor.
STAFF_ROLES: frozenset[str] = frozenset({Role.OFFICER, Role.ANALYST, Role.SUPERVISOR, Role.ADMIN})
MANAGER_ROLES: frozenset[str] = frozenset({Role.SUPERVISOR, Role.ADMIN})
# Roles that draw and edit a community's areas (beats, neighbourhoods, districts).
AREA_EDITORS: frozenset[str] = frozenset({Role.ANALYST, *MANAGER_ROLES})
