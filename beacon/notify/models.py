"""Area subscriptions, their H3 covers, alert events and the delivery outbox.

A subscription points at a :class:`Cover`: the shape it watches (a neighbourhood, a
beat, a watch group's area, a drawn polygon or a circle round an address) stored as H3
cells. Covers of shared shapes (a neighbourhood, a group) are stored once however many
people subscribe to them. Matching an event is a look-up of the event's cell (and its
parents, since interior cells are compacted) in :class:`CoverCell`, never a scan of
subscriptions.

Everything a subscriber will receive is first written as an :class:`OutboxMessage` in
the transaction that created the event; the worker delivers from the outbox.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beacon.core.access import PUBLIC, AccessRules, CommunityScoped
from beacon.core.models import Area, Community
from beacon.core.roles import ALL_ROLES, MANAGER_ROLES, STAFF_ROLES

NOBODY: frozenset[str] = frozenset()


class Topic(models.TextChoices):
    INCIDENT = "incident", _("New public incidents")
    NEAR_REPEAT = "near_repeat", _("Near-repeat risk zones")
    BROADCAST = "broadcast", _("Broadcasts from officers and watch groups")
    EVENT = "event", _("Event announcements")
    REPORT_UPDATE = "report_update", _("Updates on my reports")


# Topics are stored as a bit mask so the look-up filters them in SQL on any database.
TOPIC_BITS: dict[str, int] = {
    Topic.INCIDENT: 1,
    Topic.NEAR_REPEAT: 2,
    Topic.BROADCAST: 4,
    Topic.EVENT: 8,
    Topic.REPORT_UPDATE: 16,
}


def topic_mask(topics: list[str] | tuple[str, ...] | set[str]) -> int:
    """The bit mask of a set of topic codes."""
    return sum(TOPIC_BITS[t] for t in set(topics))


def mask_topics(mask: int) -> list[str]:
    """The topic codes in a bit mask, in declaration order."""
    return [t for t in Topic.values if mask & TOPIC_BITS[t]]


class Frequency(models.TextChoices):
    IMMEDIATE = "immediate", _("Immediately")
    DAILY = "daily", _("Daily digest")
    WEEKLY = "weekly", _("Weekly digest")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message (SMS)")
    WEBHOOK = "webhook", _("Webhook")


class CoverKind(models.TextChoices):
    NEIGHBOURHOOD = "neighbourhood", _("Neighbourhood")
    BEAT = "beat", _("Beat")
    WATCH_GROUP = "watch_group", _("Watch group area")
    POLYGON = "polygon", _("Drawn area")
    RADIUS = "radius", _("Radius around a point")


class Cover(models.Model):
    """A watched shape and its H3 cells; shared by every subscription to the same shape.

    ``key`` names the shape ("area:12", "watch:3", or a hash of a drawn polygon or a
    circle), so subscribing to a neighbourhood a thousand times stores its cells once.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=CoverKind.choices)
    label = models.CharField(max_length=200, blank=True)
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The exact shape, for cells on its edge: a GeoJSON polygon, or a centre and radius.
    geometry = models.JSONField(default=dict, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    radius_m = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "key"], name="notify_cover_unique_key")
        ]

    def __str__(self) -> str:
        return self.label or self.key


class CoverCell(models.Model):
    """One H3 cell of a cover.

    Interior cells are compacted (a coarser cell stands for all its children), so a
    point matches when its resolution-9 cell or one of its parents is here. Edge cells
    stay at resolution 9 and need an exact test (``edge``).
    """

    cover = models.ForeignKey(Cover, on_delete=models.CASCADE, related_name="cells")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    cell = models.BigIntegerField()
    edge = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["community", "cell"], name="notify_covercell_lookup")]
        constraints = [
            models.UniqueConstraint(fields=["cover", "cell"], name="notify_covercell_unique")
        ]

    def __str__(self) -> str:
        return f"{self.cell:x} of cover {self.cover_id}"


class Subscription(CommunityScoped):
    """Someone's wish to hear about some topics in one area, on one channel."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_subscriptions",
    )
    cover = models.ForeignKey(Cover, on_delete=models.PROTECT, related_name="subscriptions")
    topics = models.PositiveIntegerField(help_text=_("Bit mask of topics."))
    # Offence groups for incident alerts; empty means every non-sensitive group.
    offence_groups = models.JSONField(default=list, blank=True)
    frequency = models.CharField(
        max_length=10, choices=Frequency.choices, default=Frequency.IMMEDIATE
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    # An email address, a phone number or a webhook URL.
    target = models.CharField(max_length=500)
    # The webhook signing secret (needed in clear to sign; shown to its owner once).
    secret = models.CharField(max_length=100, blank=True)
    address = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    access_rules = AccessRules(
        view=MANAGER_ROLES, create=frozenset(ALL_ROLES), change=MANAGER_ROLES, delete=MANAGER_ROLES
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["cover", "active"], name="notify_sub_cover")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} alerts for {self.cover}"

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        """People see, change and delete their own subscriptions."""
        if action in ("view", "change", "delete"):
            return Q(user_id=user.pk)
        return Q(pk__in=[])

    @property
    def topic_list(self) -> list[str]:
        return mask_topics(self.topics)

    def topic_labels(self) -> list[str]:
        return [str(Topic(t).label) for t in self.topic_list]


class AlertEvent(CommunityScoped):
    """Something subscribers may hear about: at a point, or over an area (broadcasts).

    ``key`` makes publishing idempotent: the same incident, broadcast or update
    published twice is one event, and so one message per subscriber.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    topic = models.CharField(max_length=20, choices=Topic.choices)
    key = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    # Public events appear in Atom feeds; private ones (report updates) never do.
    public = models.BooleanField(default=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    cell = models.BigIntegerField(null=True, blank=True, db_index=True)
    geometry = models.JSONField(default=dict, blank=True)
    offence_group = models.CharField(max_length=30, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recipients = models.PositiveIntegerField(default=0)
    occurred_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    access_rules = AccessRules(
        view=frozenset({PUBLIC, *STAFF_ROLES}), create=NOBODY, change=NOBODY, delete=MANAGER_ROLES
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["community", "key"], name="notify_event_unique_key")
        ]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def public_q(cls) -> Q:
        return Q(public=True)


class Status(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


def _new_message_id() -> uuid.UUID:
    return uuid.uuid4()


class OutboxMessage(CommunityScoped):
    """One message to one recipient, written in the transaction of its cause.

    ``dedupe_key`` is unique: the same event reaching the same recipient through two
    subscriptions, or processed twice, is one row. ``message_id`` travels with every
    delivery attempt (email Message-ID, webhook ``Beacon-Message-Id``, SMS
    ``Idempotency-Key``) so a receiver can drop a repeat after a crash.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(
        AlertEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    target = models.CharField(max_length=500)
    dedupe_key = models.CharField(max_length=64, unique=True)
    message_id = models.UUIDField(default=_new_message_id, unique=True, editable=False)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    payload = models.JSONField(default=dict, blank=True)
    unsubscribe_url = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    access_rules = AccessRules(view=MANAGER_ROLES, create=NOBODY, change=NOBODY, delete=NOBODY)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notify_outbox_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} message {self.message_id} ({self.status})"

    @classmethod
    def grant_q(cls, user: Any, action: str) -> Q:
        """People may see what was sent to them."""
        if action == "view":
            return Q(user_id=user.pk)
        return Q(pk__in=[])


class DigestItem(models.Model):
    """An event waiting for a subscriber's daily or weekly digest.

    Unique per recipient and event, so a digest never lists an event twice; ``period``
    names the day ("2024-05-01") or ISO week ("2024-W18") whose digest it belongs to.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(AlertEvent, on_delete=models.CASCADE, related_name="+")
    recipient = models.CharField(max_length=64)
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    period = models.CharField(max_length=10)
    created_at = models.DateTimeField(default=timezone.now)
    message = models.ForeignKey(
        OutboxMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["message", "period"], name="notify_digest_open")]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "event"], name="notify_digest_unique")
        ]

    def __str__(self) -> str:
        return f"{self.frequency} digest item {self.event_id} for {self.recipient[:8]}"
