"""Links to the problem pages (collected by ``beacon.core.navigation``)."""

from django.utils.translation import gettext_lazy as _

from beacon.core.navigation import Link
from beacon.core.roles import MANAGER_ROLES, STAFF_ROLES, Role

SECTION = "problems"
STAFF_LINKS = [
    Link("problems:list", _("Problems (SARA)"), frozenset({*STAFF_ROLES, Role.PARTNER})),
    Link("problems:board", _("Problem board"), frozenset({*MANAGER_ROLES, Role.ANALYST})),
]
