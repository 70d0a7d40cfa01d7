"""Links to the survey pages (collected by ``beacon.core.navigation``)."""

from django.utils.translation import gettext_lazy as _

from beacon.core.navigation import Link
from beacon.core.roles import STAFF_ROLES

SECTION = "evaluation"
STAFF_LINKS = [Link("surveys:staff_surveys", _("Surveys and the trust index"), STAFF_ROLES)]
