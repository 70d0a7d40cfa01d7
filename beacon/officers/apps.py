from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OfficersConfig(AppConfig):
    name = "beacon.officers"
    label = "officers"
    verbose_name = _("Community policing officers")

    def ready(self) -> None:
        from beacon.notify.broadcasts import register_broadcast_area_provider
        from beacon.officers.services import beat_broadcast_areas

        register_broadcast_area_provider(beat_broadcast_areas)
