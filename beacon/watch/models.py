"""Neighbourhood watch: groups with an area, members verified by coordinators, training,
patrol logs and a group board."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beacon.core.access import PUBLIC, AccessRules, CommunityScoped
from beacon.core.models import Area, Community
from beacon.core.roles import ALL_ROLES, MANAGER_ROLES, STAFF_ROLES, Role

MEMBERS = frozenset(ALL_ROLES)
ORGANISERS = frozenset({Role.WATCH_COORDINATOR, *MANAGER_ROLES})


class MemberRole(models.TextChoices):
    MEMBER = "member", _("Member")
    BLOCK_CAPTAIN = "block_captain", _("Block captain")
    COORDINATOR = "coordinator", _("Coordinator")


class MemberStatus(models.TextChoices):
    REQUESTED = "requested", _("Waiting for a coordinator")
    ACTIVE = "active", _("Member")
    DECLINED = "declined", _("Declined")
    LEFT = "left", _("Left")


def group_ids(user: Any, *, coordinator: bool = False) -> models.QuerySet[Any]:
    """Ids of the groups ``user`` is an active member (or coordinator) of: a subquery."""
    rows = WatchMembership.objects.filter(user_id=user.pk, status=MemberStatus.ACTIVE)
    if coordinator:
        rows = rows.filter(role=MemberRole.COORDINATOR)
    return rows.values("group_id")


class WatchGroup(CommunityScoped):
    """A neighbourhood watch group and the area it looks after."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80)
    description = models.TextField(blank=True)
    neighbourhoods = models.ManyToManyField(Area, blank=True, related_name="watch_groups")
    # The coverage area: the union of the chosen neighbourhoods, or a drawn polygon.
    geometry = models.JSONField(default=dict)
    listed = models.BooleanField(_("listed publicly"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    access_rules = AccessRules(
        view=frozenset({PUBLIC, *STAFF_ROLES}), create=ORGANISERS, change=MANAGER_ROLES
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["community", "slug"], name="watch_group_unique_slug")
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def public_q(cls) -> Q:
        return Q(listed=True)

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        """Members see their group; its coordinators change it."""
        if action == "view":
            return Q(pk__in=group_ids(user))
        if action == "change":
            return Q(pk__in=group_ids(user, coordinator=True))
        return Q(pk__in=[])

    @property
    def cover_key(self) -> str:
        """The notify cover that follows this group's area."""
        return f"watch:{self.pk}"


class WatchMembership(CommunityScoped):
    """A person's place in a group: requested, then approved by a coordinator."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(WatchGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watch_memberships"
    )
    role = models.CharField(max_length=20, choices=MemberRole.choices, default=MemberRole.MEMBER)
    status = models.CharField(
        max_length=20, choices=MemberStatus.choices, default=MemberStatus.REQUESTED
    )
    message = models.CharField(_("why I want to join"), max_length=500, blank=True)
    block = models.CharField(_("my street or block"), max_length=200, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    access_rules = AccessRules(view=MANAGER_ROLES, create=MEMBERS)

    class Meta:
        ordering = ["group", "status", "requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="watch_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.group} ({self.status})"

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        """People see their own membership; coordinators see and decide their group's."""
        coordinated = Q(group_id__in=group_ids(user, coordinator=True))
        if action == "view":
            return Q(user_id=user.pk) | coordinated
        if action == "change":
            return coordinated
        return Q(pk__in=[])

    @property
    def is_active(self) -> bool:
        return self.status == MemberStatus.ACTIVE


class TrainingModule(CommunityScoped):
    """One part of the watch curriculum; ``valid_months`` 0 means it never expires."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    valid_months = models.PositiveSmallIntegerField(default=24)
    required = models.BooleanField(default=True)

    access_rules = AccessRules(view=frozenset({PUBLIC}), create=MANAGER_ROLES)

    class Meta:
        ordering = ["order", "title"]

    def __str__(self) -> str:
        return self.title


class TrainingRecord(CommunityScoped):
    """A member's completion of a module, with the date it runs out."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(
        WatchMembership, on_delete=models.CASCADE, related_name="training"
    )
    module = models.ForeignKey(TrainingModule, on_delete=models.CASCADE, related_name="records")
    completed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    access_rules = AccessRules(view=MANAGER_ROLES, create=ORGANISERS)

    class Meta:
        ordering = ["-completed_on"]

    def __str__(self) -> str:
        return f"{self.module} by {self.membership.user} on {self.completed_on}"

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        coordinated = Q(membership__group_id__in=group_ids(user, coordinator=True))
        if action == "view":
            return Q(membership__user_id=user.pk) | coordinated
        if action == "change":
            return coordinated
        return Q(pk__in=[])


class PatrolLog(CommunityScoped):
    """A members' patrol: when, where, and what they saw."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(WatchGroup, on_delete=models.CASCADE, related_name="patrols")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    route = models.CharField(_("where"), max_length=300)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    patrollers = models.PositiveSmallIntegerField(default=1)
    observations = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    access_rules = AccessRules(view=STAFF_ROLES, create=MEMBERS)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Patrol of {self.group} on {self.started_at:%Y-%m-%d}"

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        if action == "view":
            return Q(group_id__in=group_ids(user))
        if action == "change":
            return Q(author_id=user.pk) | Q(group_id__in=group_ids(user, coordinator=True))
        return Q(pk__in=[])


class BoardMessage(CommunityScoped):
    """A message on a group's board, seen by its members and by staff."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(WatchGroup, on_delete=models.CASCADE, related_name="board")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    access_rules = AccessRules(view=STAFF_ROLES, create=MEMBERS)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Message {self.pk} on {self.group}"

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        if action == "view":
            return Q(group_id__in=group_ids(user))
        if action in ("change", "delete"):
            return Q(author_id=user.pk) | Q(group_id__in=group_ids(user, coordinator=True))
        return Q(pk__in=[])
