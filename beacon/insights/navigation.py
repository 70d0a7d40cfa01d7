"""Links to the analysis dashboards (collected by ``beacon.core.navigation``)."""

from django.utils.translation import gettext_lazy as _

from beacon.core.navigation import Link
from beacon.core.roles import STAFF_ROLES, Role

SECTION = "crime"
STAFF_LINKS = [
    Link("insights:hotspots", _("Hot spots"), STAFF_ROLES),
    Link(
        "insights:near_repeat", _("Near-repeat risk zones"), STAFF_ROLES | {Role.WATCH_COORDINATOR}
    ),
    Link("insights:forecast", _("Weekly forecast and patrol plan"), STAFF_ROLES),
    Link("insights:trends", _("Trend alerts"), STAFF_ROLES),
    Link("insights:index", _("Analysis runs"), STAFF_ROLES),
]
