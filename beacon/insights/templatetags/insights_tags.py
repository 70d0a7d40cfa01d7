"""Template filters of the analysis dashboards."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from beacon.incidents.taxonomy import GROUPS

register = template.Library()


@register.filter
def group_label(code: str) -> str:
    """The label of an offence group code (the code itself when unknown)."""
    group = GROUPS.get(code)
    return str(group.label) if group else code


@register.filter
def groups_label(codes: Any) -> str:
    """Labels of a list of offence group codes; "all offence groups" when empty."""
    if not codes:
        return _("all offence groups")
    return ", ".join(group_label(c) for c in codes)


@register.filter
def percent(value: Any, digits: int = 0) -> str:
    """A share (0..1) as a percentage, or an en dash when missing."""
    if value is None:
        return "–"
    return f"{100 * float(value):.{int(digits)}f} %"
