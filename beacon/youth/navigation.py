"""Links to the youth pages (collected by ``beacon.core.navigation``).

Every staff member sees the link; the page lists only the programs they are assigned to.
"""

from django.utils.translation import gettext_lazy as _

from beacon.core.navigation import Link
from beacon.core.roles import STAFF_ROLES

SECTION = "programs"
STAFF_LINKS = [Link("youth:home", _("Youth mentorship"), STAFF_ROLES)]
