"""Links to the incident pages (collected by ``beacon.core.navigation``)."""

from django.utils.translation import gettext_lazy as _

from beacon.core.navigation import Link
from beacon.core.roles import MANAGER_ROLES, STAFF_ROLES
from beacon.incidents.models import IMPORTERS

PUBLIC_LINKS = [
    Link("incidents:map", _("Crime map")),
    Link("incidents:stats", _("Crime statistics")),
    Link("incidents:open_data", _("Open crime data")),
]
SECTION = "crime"
STAFF_LINKS = [
    Link("incidents:staff_list", _("Incidents"), STAFF_ROLES),
    Link("incidents:import_list", _("Import incidents"), IMPORTERS),
    Link("incidents:policy", _("Crime data publication rules"), MANAGER_ROLES),
]
