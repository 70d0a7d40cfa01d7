"""Links each app contributes to a community's public home and to the staff dashboard.

An app lists its links in ``beacon/<app>/navigation.py`` as ``PUBLIC_LINKS`` and
``STAFF_LINKS``; core collects them in ``INSTALLED_APPS`` order, so the home page and
dashboard grow with the apps installed without core knowing about them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class Link:
    """A page of a community: its URL name (taking the slug), label and who sees it."""

    url_name: str
    label: str | Promise
    # Roles that see the link on the dashboard; None means every member.
    roles: frozenset[str] | None = None


@cache
def _collected() -> tuple[tuple[Link, ...], tuple[Link, ...]]:
    public: list[Link] = []
    staff: list[Link] = []
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
        staff.extend(getattr(module, "STAFF_LINKS", ()))
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


def staff_links(slug: str, roles: set[str], superuser: bool = False) -> list[tuple[str, str]]:
    """Dashboard links for someone holding ``roles`` in the community."""
    return _resolve(_collected()[1], slug, None if superuser else roles)
