"""Links to the reports pages (collected by ``beacon.core.navigation``)."""

from django.utils.translation import gettext_lazy as _

from beacon.core.navigation import Link
from beacon.core.roles import STAFF_ROLES

PUBLIC_LINKS = [
    Link("reports:report", _("Report a concern")),
    Link("reports:tip", _("Follow up a report")),
    Link("reports:public_map", _("Reports near you")),
]
SECTION = "reports"
STAFF_LINKS = [Link("reports:queue", _("Report queue"), STAFF_ROLES)]
