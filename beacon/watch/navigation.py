"""Links to the neighbourhood watch pages (collected by ``beacon.core.navigation``)."""

from django.utils.translation import gettext_lazy as _

from beacon.core.navigation import Link

PUBLIC_LINKS = [Link("watch:groups", _("Neighbourhood watch"))]
