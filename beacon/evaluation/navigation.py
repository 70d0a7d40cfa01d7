"""Link to the evaluation dashboard (collected by ``beacon.core.navigation``)."""

from django.utils.translation import gettext_lazy as _

from beacon.core.navigation import Link
from beacon.evaluation.access import EVALUATORS

SECTION = "evaluation"
STAFF_LINKS = [Link("evaluation:dashboard", _("Evaluation and quarterly report"), EVALUATORS)]
