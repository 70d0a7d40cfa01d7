from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WatchConfig(AppConfig):
    name = "beacon.watch"
    label = "watch"
    verbose_name = _("Neighbourhood watch")

    def ready(self) -> None:
        from beacon.notify.broadcasts import register_broadcast_area_provider
        from beacon.watch.services import group_broadcast_areas

        register_broadcast_area_provider(group_broadcast_areas)
