"""Links to the partners pages (collected by ``beacon.core.navigation``)."""

from django.utils.translation import gettext_lazy as _

from beacon.core.navigation import Link
from beacon.core.roles import STAFF_ROLES, Role

SECTION = "programs"
STAFF_LINKS = [
    Link("partners:portal", _("Partner portal"), frozenset({Role.PARTNER})),
    Link("partners:staff_partners", _("Partners and initiatives"), STAFF_ROLES),
]
