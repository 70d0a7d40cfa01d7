"""Who may read the evaluation: staff (officers, analysts, supervisors, admins)."""

from beacon.core.roles import STAFF_ROLES

EVALUATORS = STAFF_ROLES
