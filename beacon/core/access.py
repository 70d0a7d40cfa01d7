"""Beacon's one access policy.

Every read of a community's rows goes through ``restrict(user, action)`` on the model's
queryset (``visible_to(user)`` is ``restrict(user, "view")``), and every single-object
check through :func:`can` or :func:`get_object_or_deny`. Rules are declared on each model
as an :class:`AccessRules`, so the policy, the pages, the API and the generated
permission tests all read the same table.

Outsiders (no membership in the object's community) get 404, so they cannot learn that
an object exists; members without the right get 403.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404

from beacon.core.roles import ALL_ROLES, MANAGER_ROLES, STAFF_ROLES

if TYPE_CHECKING:
    from beacon.core.models import User

PUBLIC = "public"  # pseudo-role: anyone, signed in or not
ACTIONS = ("view", "create", "change", "delete", "export")

AnyUser = "User | AnonymousUser"


@dataclass(frozen=True)
class AccessRules:
    """Which roles may do which action on a model's rows in their community."""

    view: frozenset[str]
    create: frozenset[str] = MANAGER_ROLES
    change: frozenset[str] = MANAGER_ROLES
    delete: frozenset[str] = MANAGER_ROLES
    export: frozenset[str] | None = None
    extra: dict[str, frozenset[str]] = field(default_factory=dict)

    def roles_for(self, action: str) -> frozenset[str]:
        """Return the roles allowed ``action``; unknown actions allow nobody."""
        if action == "export":
            return self.export if self.export is not None else self.view
        if action in ("view", "create", "change", "delete"):
            return frozenset(getattr(self, action))
        return self.extra.get(action, frozenset())

    def actions(self) -> tuple[str, ...]:
        """Every action these rules speak of."""
        return (*ACTIONS, *self.extra.keys())


STAFF_ONLY = AccessRules(view=STAFF_ROLES, create=STAFF_ROLES, change=STAFF_ROLES)
MEMBERS = frozenset(ALL_ROLES)


def _is_superuser(user: Any) -> bool:
    return bool(getattr(user, "is_active", False) and getattr(user, "is_superuser", False))


def member_community_ids(user: Any, roles: frozenset[str] | None = None) -> models.QuerySet[Any]:
    """The ids of communities where ``user`` holds one of ``roles`` (any role if None)."""
    from beacon.core.models import Membership

    memberships = Membership.objects.filter(user_id=user.pk, user__is_active=True)
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    return memberships.values("community_id")


M = TypeVar("M", bound=models.Model)


class CommunityQuerySet(models.QuerySet[M]):
    """A queryset that knows the access policy of its model."""

    def restrict(self, user: Any, action: str = "view") -> CommunityQuerySet[M]:
        """Rows of this queryset on which ``user`` may perform ``action``."""
        model: Any = self.model
        if _is_superuser(user):
            return self.all()
        rules: AccessRules = model.access_rules
        roles = rules.roles_for(action)
        condition = Q(pk__in=[])
        if PUBLIC in roles:
            public = model.public_q()
            if not public:  # an empty Q means every row is public
                return self.all()
            condition |= public
        authenticated = user is not None and getattr(user, "is_authenticated", False)
        if authenticated:
            role_set = roles - {PUBLIC}
            if role_set:
                path = model.community_path
                communities = member_community_ids(user, role_set)
                condition |= Q(**{f"{path}__in": communities}) & model.member_q(user, action)
            condition |= model.grant_q(user, action)
        result = self.filter(condition)
        if model.community_path != "pk" and "__" not in model.community_path:
            return result
        return result.distinct()

    def visible_to(self, user: Any) -> CommunityQuerySet[M]:
        """Rows ``user`` may see."""
        return self.restrict(user, "view")

    def in_community(self, community: Any) -> CommunityQuerySet[M]:
        """Rows belonging to ``community``."""
        path: str = getattr(self.model, "community_path", "community")
        return self.filter(**{path: community})


class CommunityScoped(models.Model):
    """Base for every domain row: it belongs to a community and declares its rules."""

    access_rules: ClassVar[AccessRules] = STAFF_ONLY
    # Lookup from this model to its Community (``pk`` for Community itself).
    community_path: ClassVar[str] = "community"

    objects: ClassVar[Any] = CommunityQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def public_q(cls) -> Q:
        """Which rows the public may see when the rules grant PUBLIC (all by default)."""
        return Q()

    @classmethod
    def member_q(cls, user: Any, action: str) -> Q:
        """Narrowing applied to role-based access (e.g. a partner's own initiatives)."""
        return Q()

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        """Object-level grants beyond roles (e.g. the author of a report)."""
        return Q(pk__in=[])

    def get_community_id(self) -> int | None:
        """The id of the community this row belongs to."""
        target: Any = self
        path = self.community_path
        if path == "pk":
            return int(self.pk)
        parts = path.split("__")
        for part in parts[:-1]:
            target = getattr(target, part)
        value = getattr(target, f"{parts[-1]}_id", None)
        return int(value) if value is not None else None


def can(user: Any, action: str, obj: CommunityScoped) -> bool:
    """Whether ``user`` may perform ``action`` on ``obj``; the same rule as ``restrict``."""
    manager: Any = type(obj).objects
    return bool(manager.all().restrict(user, action).filter(pk=obj.pk).exists())


def is_member(user: Any, community_id: int | None) -> bool:
    """Whether ``user`` holds any role in the community."""
    if community_id is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(member_community_ids(user).filter(community_id=community_id).exists())


def get_object_or_deny(
    queryset: models.QuerySet[Any], user: Any, action: str = "view", **lookup: Any
) -> Any:
    """Fetch one object for ``action`` or raise 404 (outsider) / 403 (member without right).

    Every refusal is written to the audit log.
    """
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise Http404
    if can(user, action, obj):
        return obj
    deny(user, action, obj)


def is_member_for(user: Any, obj: CommunityScoped) -> bool:
    """Whether ``user`` holds any role in a community ``obj`` belongs to."""
    if not getattr(user, "is_authenticated", False):
        return False
    manager: Any = type(obj).objects
    path = type(obj).community_path
    return bool(manager.filter(pk=obj.pk, **{f"{path}__in": member_community_ids(user)}).exists())


def _audit_refusal(user: Any, action: str, obj: Any) -> None:
    from beacon.core.audit import record_event

    actor = user if getattr(user, "is_authenticated", False) else None
    record_event(actor=actor, action=action, obj=obj, outcome="denied")


def refuse(user: Any, action: str, obj: Any, message: str = "") -> NoReturn:
    """Refuse ``action`` on ``obj`` with 403 and ``message``, after auditing the refusal.

    For refusals where the caller may know the object exists (a member without the
    right); :func:`deny` chooses between 403 and 404.
    """
    _audit_refusal(user, action, obj)
    raise PermissionDenied(message)


def deny(user: Any, action: str, obj: CommunityScoped) -> NoReturn:
    """Refuse ``action`` on ``obj``: audit the refusal, then 403 for members of its
    community and 404 for everyone else (as :func:`get_object_or_deny` does).
    """
    if is_member_for(user, obj):
        refuse(user, action, obj)
    _audit_refusal(user, action, obj)
    raise Http404


def require_role(user: User | AnonymousUser, community: Any, roles: frozenset[str]) -> None:
    """Raise 404 for outsiders and 403 for members lacking ``roles`` in ``community``."""
    from beacon.core.audit import record_event

    if _is_superuser(user):
        return
    if getattr(user, "is_authenticated", False) and (
        member_community_ids(user, roles).filter(community_id=community.pk).exists()
    ):
        return
    actor = user if getattr(user, "is_authenticated", False) else None
    record_event(
        actor=actor, community_id=community.pk, action="access", obj=community, outcome="denied"
    )
    if is_member(user, community.pk):
        raise PermissionDenied
    raise Http404
