"""Links to the programs pages (collected by ``beacon.core.navigation``)."""

from django.utils.translation import gettext_lazy as _

from beacon.core.navigation import Link
from beacon.core.roles import STAFF_ROLES

PUBLIC_LINKS = [Link("programs:event_list", _("Events and workshops"))]
SECTION = "programs"
STAFF_LINKS = [
    Link("programs:staff_events", _("Events and check-in"), STAFF_ROLES),
    Link("programs:staff_programs", _("Prevention programs"), STAFF_ROLES),
    Link("programs:staff_figures", _("Program attendance and feedback"), STAFF_ROLES),
]
