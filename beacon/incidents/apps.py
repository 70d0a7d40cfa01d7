from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "beacon.incidents"
    label = "incidents"
    verbose_name = _("Official incidents")
    default_auto_field = "django.db.models.BigAutoField"
