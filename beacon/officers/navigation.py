"""Links to the officers' pages (collected by ``beacon.core.navigation``)."""

from django.utils.translation import gettext_lazy as _

from beacon.core.navigation import Link
from beacon.core.roles import MANAGER_ROLES
from beacon.officers.views import PROFILE_ROLES

PUBLIC_LINKS = [Link("officers:officers", _("Find your officer"))]
SECTION = "beats"
STAFF_LINKS = [
    Link("officers:me", _("My community work"), PROFILE_ROLES),
    Link("officers:workload", _("Workload by beat"), MANAGER_ROLES),
]
