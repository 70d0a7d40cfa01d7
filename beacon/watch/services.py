"""Neighbourhood watch operations: groups, membership decisions, training, patrols, the
board, and members' reports to the beat officer."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from beacon.core import geo
from beacon.core.audit import record_event
from beacon.core.models import Area, AreaKind, Community, User
from beacon.core.roles import MANAGER_ROLES, Role
from beacon.core.services import validate_area_geometry
from beacon.notify import covers
from beacon.notify.models import CoverKind
from beacon.notify.services import notify_user
from beacon.watch.models import (
    BoardMessage,
    MemberRole,
    MemberStatus,
    PatrolLog,
    TrainingModule,
    TrainingRecord,
    WatchGroup,
    WatchMembership,
    group_ids,
)

TEXT_MAX = 2000


class WatchError(ValueError):
    """Input that cannot be accepted; ``errors`` maps field to messages. Nothing stored."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


def _fail(name: str, message: str) -> WatchError:
    return WatchError({name: [message]})


def is_manager(user: User, community: Community) -> bool:
    return bool(user.is_superuser or user.roles_in(community) & MANAGER_ROLES)


def membership_of(group: WatchGroup, user: Any) -> WatchMembership | None:
    """The user's membership row in a group, whatever its status."""
    if not getattr(user, "is_authenticated", False):
        return None
    return WatchMembership.objects.filter(group=group, user_id=user.pk).first()


def is_coordinator(group: WatchGroup, user: User) -> bool:
    """Coordinators of the group, and the community's supervisors and administrators."""
    if is_manager(user, group.community):
        return True
    return WatchMembership.objects.filter(
        group=group, user=user, status=MemberStatus.ACTIVE, role=MemberRole.COORDINATOR
    ).exists()


def _require_coordinator(group: WatchGroup, user: User) -> None:
    if not is_coordinator(group, user):
        raise _fail("user", _("Only the group's coordinators can do that."))


def _require_member(group: WatchGroup, user: User) -> WatchMembership:
    membership = membership_of(group, user)
    if membership is None or not membership.is_active:
        raise _fail("user", _("Only approved members of the group can do that."))
    return membership


# --- groups -----------------------------------------------------------------------------


def _group_shape(
    community: Community, neighbourhood_ids: list[int] | None, geometry: Any
) -> tuple[BaseGeometry, list[Area]]:
    if geometry:
        try:
            return validate_area_geometry(community, geometry), []
        except geo.GeometryError as exc:
            raise _fail(
                "geometry", _("The drawn area cannot be used: %(e)s.") % {"e": exc}
            ) from None
    areas = list(
        Area.objects.filter(
            community=community, kind=AreaKind.NEIGHBOURHOOD, pk__in=neighbourhood_ids or []
        )
    )
    if not areas:
        raise _fail("neighbourhoods", _("Choose neighbourhoods or draw the group's area."))
    return unary_union([geo.parse_area_geometry(a.geometry) for a in areas]), areas


def save_group(
    community: Community,
    *,
    actor: User,
    name: str,
    description: str = "",
    neighbourhood_ids: list[int] | None = None,
    geometry: Any = None,
    listed: bool = True,
    group: WatchGroup | None = None,
) -> WatchGroup:
    """Create or change a group and its area; its creator becomes a coordinator; audited.

    The alert cover of the group's area follows, so people following the group hear
    about its new area at once.
    """
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise _fail("name", _("Give the group a name of at most 120 characters."))
    if group is not None:
        _require_coordinator(group, actor)
    elif not (is_manager(actor, community) or Role.WATCH_COORDINATOR in actor.roles_in(community)):
        raise _fail("user", _("Only watch coordinators can start a group."))
    shape, areas = _group_shape(community, neighbourhood_ids, geometry)
    with transaction.atomic():
        created = group is None
        if group is None:
            group = WatchGroup(
                community=community, created_by=actor, slug=_free_slug(community, name)
            )
        group.name = name
        group.description = (description or "").strip()[:TEXT_MAX]
        group.geometry = geo.to_geojson(shape)
        group.listed = listed
        group.save()
        group.neighbourhoods.set(areas)
        if created:
            WatchMembership.objects.create(
                community=community,
                group=group,
                user=actor,
                role=MemberRole.COORDINATOR,
                status=MemberStatus.ACTIVE,
                decided_at=timezone.now(),
                decided_by=actor,
            )
        covers.sync_named_cover(community, group.cover_key, CoverKind.WATCH_GROUP, name, shape)
        record_event(actor=actor, action="create" if created else "update", obj=group)
    return group


def _free_slug(community: Community, name: str) -> str:
    base = slugify(name)[:70] or "group"
    if base == "new":  # "new" is the address of the form for a new group
        base = "new-group"
    slug, n = base, 2
    while WatchGroup.objects.filter(community=community, slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def group_broadcast_areas(user: User, community: Community) -> list[BaseGeometry]:
    """Coordinators may broadcast inside the areas of the groups they coordinate."""
    groups = WatchGroup.objects.filter(
        community=community, pk__in=group_ids(user, coordinator=True)
    )
    return [geo.parse_area_geometry(g.geometry) for g in groups]


# --- membership -------------------------------------------------------------------------


def request_membership(
    group: WatchGroup, user: User, *, message: str = "", block: str = ""
) -> WatchMembership:
    """Ask to join; the group's coordinators are told. Asking again is harmless."""
    if len(message or "") > 500 or len(block or "") > 200:
        raise _fail("message", _("Keep the message under 500 characters."))
    with transaction.atomic():
        membership = membership_of(group, user)
        if membership is not None and membership.status in (
            MemberStatus.ACTIVE,
            MemberStatus.REQUESTED,
        ):
            return membership
        if membership is None:
            try:
                with transaction.atomic():
                    membership = WatchMembership.objects.create(
                        community_id=group.community_id, group=group, user=user
                    )
            except IntegrityError:  # a double click: the first request stands
                found = membership_of(group, user)
                assert found is not None
                return found
        membership.status = MemberStatus.REQUESTED
        membership.message = (message or "").strip()
        membership.block = (block or "").strip()
        membership.requested_at = timezone.now()
        membership.save()
        record_event(actor=user, action="create", obj=membership, detail={"group": group.pk})
        for coordinator in coordinators(group):
            notify_user(
                group.community,
                coordinator,
                key=f"watch-request:{membership.pk}:{membership.requested_at.timestamp()}",
                subject=_("%(user)s asks to join %(group)s") % {"user": user, "group": group},
                body=_("Review membership requests on the group's page."),
                link=f"/c/{group.community.slug}/watch/{group.slug}/",
            )
    return membership


def coordinators(group: WatchGroup) -> list[User]:
    """The group's active coordinators."""
    return list(
        User.objects.filter(
            watch_memberships__group=group,
            watch_memberships__status=MemberStatus.ACTIVE,
            watch_memberships__role=MemberRole.COORDINATOR,
        ).order_by("email")
    )


def decide_membership(
    membership: WatchMembership, *, actor: User, approve: bool
) -> WatchMembership:
    """A coordinator approves or declines a request; the person is told; audited."""
    group = membership.group
    _require_coordinator(group, actor)
    if membership.status != MemberStatus.REQUESTED:
        raise _fail("status", _("This request was already decided."))
    with transaction.atomic():
        membership.status = MemberStatus.ACTIVE if approve else MemberStatus.DECLINED
        membership.decided_at = timezone.now()
        membership.decided_by = actor
        membership.save(update_fields=["status", "decided_at", "decided_by"])
        record_event(
            actor=actor, action="update", obj=membership, detail={"status": membership.status}
        )
        notify_user(
            group.community,
            membership.user,
            key=f"watch-decision:{membership.pk}:{membership.decided_at.timestamp()}",
            subject=(_("Welcome to %(group)s") if approve else _("Your request to join %(group)s"))
            % {"group": group},
            body=(
                _(
                    "A coordinator approved your membership. The group board and patrol "
                    "log are open to you now."
                )
                if approve
                else _("A coordinator could not approve your request this time.")
            ),
            link=f"/c/{group.community.slug}/watch/{group.slug}/",
        )
    return membership


def set_role(membership: WatchMembership, role: str, *, actor: User) -> WatchMembership:
    """Make an active member a block captain or coordinator (or a member again); audited."""
    _require_coordinator(membership.group, actor)
    if role not in MemberRole.values:
        raise _fail("role", _("Choose member, block captain or coordinator."))
    if not membership.is_active:
        raise _fail("role", _("Only approved members can take a role."))
    with transaction.atomic():
        membership.role = role
        membership.save(update_fields=["role"])
        record_event(actor=actor, action="update", obj=membership, detail={"role": role})
    return membership


def leave(membership: WatchMembership, *, actor: User) -> WatchMembership:
    """Leave a group; audited."""
    with transaction.atomic():
        membership.status = MemberStatus.LEFT
        membership.save(update_fields=["status"])
        record_event(actor=actor, action="update", obj=membership, detail={"status": "left"})
    return membership


# --- training ---------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def record_training(
    membership: WatchMembership, module: TrainingModule, *, actor: User, completed_on: date
) -> TrainingRecord:
    """Record that a member completed a module; it expires after the module's validity."""
    _require_coordinator(membership.group, actor)
    if module.community_id != membership.community_id:
        raise _fail("module", _("Choose a module of this community."))
    if completed_on > timezone.localdate():
        raise _fail("completed_on", _("The date cannot be in the future."))
    expires = add_months(completed_on, module.valid_months) if module.valid_months else None
    with transaction.atomic():
        record = TrainingRecord.objects.create(
            community_id=membership.community_id,
            membership=membership,
            module=module,
            completed_on=completed_on,
            expires_on=expires,
            recorded_by=actor,
        )
        record_event(actor=actor, action="create", obj=record, detail={"module": module.title})
    return record


@dataclass
class TrainingStatus:
    module: TrainingModule
    record: TrainingRecord | None

    @property
    def state(self) -> str:
        if self.record is None:
            return "missing"
        if self.record.expires_on is not None and self.record.expires_on < timezone.localdate():
            return "expired"
        return "current"


def training_status(membership: WatchMembership) -> list[TrainingStatus]:
    """Each module of the curriculum with the member's latest completion."""
    latest: dict[int, TrainingRecord] = {}
    for record in membership.training.order_by("completed_on"):
        latest[record.module_id] = record
    modules = TrainingModule.objects.filter(community_id=membership.community_id)
    return [TrainingStatus(m, latest.get(m.pk)) for m in modules]


def is_trained(membership: WatchMembership) -> bool:
    """Whether every required module is completed and current."""
    return all(s.state == "current" for s in training_status(membership) if s.module.required)


# --- patrols and the board --------------------------------------------------------------


def log_patrol(
    group: WatchGroup,
    user: User,
    *,
    started_at: datetime,
    ended_at: datetime,
    route: str,
    observations: str = "",
    patrollers: int = 1,
    lat: float | None = None,
    lon: float | None = None,
) -> PatrolLog:
    """Record a patrol: when, where and what was seen (approved members)."""
    _require_member(group, user)
    errors: dict[str, list[str]] = {}
    if ended_at <= started_at:
        errors["ended_at"] = [_("The patrol must end after it starts.")]
    if ended_at > timezone.now() + timedelta(minutes=5):
        errors["ended_at"] = [_("Log patrols once they are over.")]
    if not (route or "").strip():
        errors["route"] = [_("Say where you patrolled.")]
    if len(observations or "") > TEXT_MAX:
        errors["observations"] = [_("At most %(n)d characters.") % {"n": TEXT_MAX}]
    if not 1 <= int(patrollers or 0) <= 50:
        errors["patrollers"] = [_("Between 1 and 50 people.")]
    if errors:
        raise WatchError(errors)
    with transaction.atomic():
        patrol = PatrolLog.objects.create(
            community_id=group.community_id,
            group=group,
            author=user,
            started_at=started_at,
            ended_at=ended_at,
            route=route.strip()[:300],
            observations=(observations or "").strip(),
            patrollers=patrollers,
            lat=lat,
            lon=lon,
        )
        record_event(actor=user, action="create", obj=patrol)
    return patrol


def post_message(group: WatchGroup, user: User, body: str) -> BoardMessage:
    """Post on the group board (approved members)."""
    _require_member(group, user)
    body = (body or "").strip()
    if not body or len(body) > TEXT_MAX:
        raise _fail("body", _("Write a message of at most %(n)d characters.") % {"n": TEXT_MAX})
    with transaction.atomic():
        message = BoardMessage.objects.create(
            community_id=group.community_id, group=group, author=user, body=body
        )
        record_event(actor=user, action="create", obj=message)
    return message


# --- members' reports -------------------------------------------------------------------

SUSPICIOUS_CATEGORY = "suspicious"


def file_member_report(
    group: WatchGroup,
    user: User,
    *,
    description: str,
    lat: float | None,
    lon: float | None,
    answers: dict[str, Any] | None = None,
    category: str = SUSPICIOUS_CATEGORY,
) -> Any:
    """A member reports suspicious activity; it reaches the beat officer's queue with the
    group's context (the report's ``watch_group``)."""
    from beacon.reports import services as reports

    _require_member(group, user)
    submission = reports.Submission(
        category=category,
        description=description,
        lat=lat,
        lon=lon,
        answers=answers or {},
        reporter=user,
        watch_group=group,
    )
    return reports.file_report(group.community, submission)
