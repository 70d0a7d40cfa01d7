"""Broadcasts: officers and watch coordinators message everyone following an area.

An officer may draw inside the beats they work, a coordinator inside their group's
area, a supervisor or administrator anywhere in the community. The preview counts the
distinct people a broadcast would reach with the same cell look-up that delivers it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from beacon.core import geo
from beacon.core.audit import record_event
from beacon.core.models import Community, User
from beacon.core.roles import MANAGER_ROLES
from beacon.core.services import community_boundary, validate_area_geometry
from beacon.notify import covers
from beacon.notify.models import AlertEvent, Topic
from beacon.notify.services import (
    BODY_MAX,
    TITLE_MAX,
    AlertError,
    _fail,
    publish_event,
    recipient_of,
)

# Apps add functions giving the areas a user may broadcast to (officers: their beats;
# watch: the groups they coordinate), registered from their AppConfig.ready().
BroadcastAreaProvider = Callable[[User, Community], list[BaseGeometry]]
BROADCAST_AREA_PROVIDERS: list[BroadcastAreaProvider] = []


def register_broadcast_area_provider(provider: BroadcastAreaProvider) -> None:
    """Let an app say where a user may broadcast (idempotent)."""
    if provider not in BROADCAST_AREA_PROVIDERS:
        BROADCAST_AREA_PROVIDERS.append(provider)


def broadcast_area(user: User, community: Community) -> BaseGeometry | None:
    """Where ``user`` may broadcast: anywhere for managers, else their beats and groups."""
    if user.is_superuser or user.roles_in(community) & MANAGER_ROLES:
        boundary = community_boundary(community)
        if boundary is not None:
            return boundary
    shapes: list[BaseGeometry] = []
    for provider in BROADCAST_AREA_PROVIDERS:
        shapes.extend(provider(user, community))
    return unary_union(shapes) if shapes else None


def _broadcast_shape(community: Community, user: User, geometry: Any) -> BaseGeometry:
    allowed = broadcast_area(user, community)
    if allowed is None:
        raise _fail(
            "geometry",
            _(
                "Only officers (in their beats) and watch coordinators (in their group's area) "
                "can broadcast."
            ),
        )
    try:
        shape = validate_area_geometry(community, geometry)
        geo.check_inside(shape, allowed)
    except geo.GeometryError as exc:
        raise _fail(
            "geometry",
            _("Draw the area inside your beats or your group's area: %(e)s.") % {"e": exc},
        ) from None
    return shape


def preview_broadcast(community: Community, user: User, geometry: Any) -> int:
    """How many distinct people a broadcast to this area would reach (a cell look-up)."""
    shape = _broadcast_shape(community, user, geometry)
    matched = covers.match_area(community.pk, Topic.BROADCAST, shape)
    return len({recipient_of(s) for s in matched})


def send_broadcast(
    community: Community,
    user: User,
    geometry: Any,
    title: str,
    body: str,
    *,
    key: str | None = None,
) -> AlertEvent:
    """Broadcast a message to everyone following broadcasts in the drawn area; audited."""
    errors: dict[str, list[str]] = {}
    title, body = (title or "").strip(), (body or "").strip()
    if not title or len(title) > TITLE_MAX:
        errors["title"] = [_("Give a title of at most %(n)d characters.") % {"n": TITLE_MAX}]
    if not body or len(body) > BODY_MAX:
        errors["body"] = [_("Write a message of at most %(n)d characters.") % {"n": BODY_MAX}]
    try:
        shape = _broadcast_shape(community, user, geometry)
    except AlertError as exc:
        errors.update(exc.errors)
    if errors:
        raise AlertError(errors)
    with transaction.atomic():
        event = publish_event(
            community,
            Topic.BROADCAST,
            key=key or f"broadcast:{uuid.uuid4().hex}",
            title=title,
            body=body,
            geometry=geo.to_geojson(shape),
            actor=user,
        )
        assert event is not None
        record_event(
            actor=user, action="broadcast", obj=event, detail={"recipients": event.recipients}
        )
    return event
