from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgramsConfig(AppConfig):
    name = "beacon.programs"
    label = "programs"
    verbose_name = _("Crime-prevention programs and events")
