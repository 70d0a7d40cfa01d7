"""Links to the concerns board and meetings (collected by ``beacon.core.navigation``)."""

from django.utils.translation import gettext_lazy as _

from beacon.core.navigation import Link
from beacon.core.roles import STAFF_ROLES

PUBLIC_LINKS = [
    Link("forums:board", _("Concerns board")),
    Link("forums:meetings", _("Community meetings")),
    Link("forums:tracker", _("Action tracker")),
    Link("forums:you_said_we_did", _("You said, we did")),
]
SECTION = "reports"
STAFF_LINKS = [
    Link("forums:staff_concerns", _("Answer concerns"), STAFF_ROLES),
    Link("forums:staff_meetings", _("Meetings and minutes"), STAFF_ROLES),
]
