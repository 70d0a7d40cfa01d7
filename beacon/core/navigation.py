"""Links each app contributes to a community's public home and to the staff dashboard.

An app lists its links in ``beacon/<app>/navigation.py`` as ``PUBLIC_LINKS`` and
``STAFF_LINKS``, and names the dashboard section its staff links go under as
``SECTION`` (a key of :data:`SECTIONS`); core collects them in ``INSTALLED_APPS`` order,
so the home page and dashboard grow with the apps installed without core knowing about
them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from types import ModuleType

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from beacon.core.roles import AREA_EDITORS


@dataclass(frozen=True)
class Link:
    """A page of a community: its URL name (taking the slug), label and who sees it."""

    url_name: str
    label: str | Promise
    # Roles that see the link on the dashboard; None means every member.
    roles: frozenset[str] | None = None


# The staff dashboard's sections, in the order they are shown.
SECTIONS: dict[str, str | Promise] = {
    "reports": _("Reports and concerns"),
    "beats": _("Officers and beats"),
    "crime": _("Crime data and analysis"),
    "problems": _("Problem solving"),
    "programs": _("Programs, partners and youth"),
    "evaluation": _("Evaluation"),
}

# Core's own staff page.
SECTION = "beats"
STAFF_LINKS = [Link("core:area_list", _("Areas and beats"), AREA_EDITORS)]


def section_links(module: ModuleType) -> list[tuple[str, Link]]:
    """A navigation module's staff links, each with the dashboard section it names."""
    links = getattr(module, "STAFF_LINKS", ())
    section = getattr(module, "SECTION", None)
    if links and section not in SECTIONS:
        raise ImproperlyConfigured(
            f"{module.__name__}.SECTION is {section!r}; it must be one of {', '.join(SECTIONS)}"
        )
    return [(str(section), link) for link in links]


@cache
def _collected() -> tuple[tuple[Link, ...], tuple[tuple[str, Link], ...]]:
    public: list[Link] = []
    staff: list[tuple[str, Link]] = []
    for app in settings.INSTALLED_APPS:
        if not app.startswith("beacon."):
            continue
        try:
            module = importlib.import_module(f"{app}.navigation")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.navigation":
                raise
            continue
        public.extend(getattr(module, "PUBLIC_LINKS", ()))
        staff.extend(section_links(module))
    return tuple(public), tuple(staff)


def _resolve(links: tuple[Link, ...], slug: str, roles: set[str] | None) -> list[tuple[str, str]]:
    result = []
    for link in links:
        if roles is not None and link.roles is not None and not (roles & link.roles):
            continue
        try:
            result.append((reverse(link.url_name, args=[slug]), str(link.label)))
        except NoReverseMatch:
            continue
    return result


def public_links(slug: str) -> list[tuple[str, str]]:
    """Public pages of the community with this slug, as (url, label)."""
    return _resolve(_collected()[0], slug, None)


def staff_sections(
    slug: str, roles: set[str], superuser: bool = False
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Dashboard links for someone holding ``roles`` in the community, as (section
    label, [(url, label)]) in :data:`SECTIONS` order, empty sections left out."""
    staff = _collected()[1]
    allowed = None if superuser else roles
    sections = []
    for key, title in SECTIONS.items():
        links = _resolve(tuple(link for section, link in staff if section == key), slug, allowed)
        if links:
            sections.append((str(title), links))
    return sections


def staff_links(slug: str, roles: set[str], superuser: bool = False) -> list[tuple[str, str]]:
    """Dashboard links for someone holding ``roles`` in the community, in one list."""
    return [link for _title, links in staff_sections(slug, roles, superuser) for link in links]
