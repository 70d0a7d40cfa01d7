"""Alert operations: subscribing, publishing events, broadcasting and unsubscribing.

Pages, the API, other apps and tasks call these. Other apps publish through
:func:`publish_event` (incidents, programs, insights) and :func:`notify_user`; they
never write outbox rows themselves.
"""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from beacon.core import geo
from beacon.core.audit import record_event
from beacon.core.jobs import enqueue_on_commit
from beacon.core.models import Area, AreaKind, Community, User
from beacon.core.services import community_boundary, validate_area_geometry
from beacon.notify import channels, covers, digests, messages
from beacon.notify.models import (
    AlertEvent,
    Channel,
    Cover,
    CoverKind,
    DigestItem,
    Frequency,
    OutboxMessage,
    Subscription,
    Topic,
    topic_mask,
)

logger = logging.getLogger(__name__)

MIN_RADIUS_M = 50
MAX_RADIUS_M = 5000
TITLE_MAX = 200
BODY_MAX = 2000
_PHONE = re.compile(r"^\+?[0-9]{7,15}$")


class AlertError(ValueError):
    """Input that cannot be accepted; ``errors`` maps field to messages. Nothing stored."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(
            "; ".join(f"{name}: {' '.join(problems)}" for name, problems in errors.items())
        )


def _fail(name: str, message: str) -> AlertError:
    return AlertError({name: [message]})


# --- offence groups ---------------------------------------------------------------------


def offence_groups() -> tuple[dict[str, str], frozenset[str]]:
    """Alertable offence groups (code → label) and the sensitive ones that never alert."""
    try:
        from beacon.incidents.taxonomy import GROUPS, SENSITIVE_GROUPS
    except ImportError:  # the incidents app is optional for alerts
        return {}, frozenset({"sexual", "domestic", "children", "violence_mixed"})
    labels = {code: group.label for code, group in GROUPS.items() if not group.sensitive}
    return labels, frozenset(SENSITIVE_GROUPS)


def is_sensitive_group(group: str) -> bool:
    """Whether incidents of this offence group must never alert anyone."""
    return group in offence_groups()[1]


# --- subscribing ------------------------------------------------------------------------


@dataclass
class SubscriptionRequest:
    """What someone asks for: an area, topics, a channel and how often."""

    area_kind: str
    topics: list[str]
    channel: str = Channel.EMAIL
    target: str = ""
    frequency: str = Frequency.IMMEDIATE
    offence_groups: list[str] = field(default_factory=list)
    area_id: int | None = None
    group_id: int | None = None
    geometry: Any = None
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None
    address: str = ""


@dataclass
class Subscribed:
    """A new subscription and, for webhooks, the signing secret (shown once)."""

    subscription: Subscription
    secret: str = ""


def _inside(community: Community, lat: float, lon: float) -> bool:
    boundary = community_boundary(community)
    return boundary is None or bool(boundary.covers(Point(lon, lat)))


def _geocode(community: Community, address: str) -> tuple[float, float] | None:
    try:
        from beacon.reports.geocode import geocode
    except ImportError:
        return None
    places = geocode(community, address, limit=1)
    return (places[0].lat, places[0].lon) if places else None


def check_radius(radius: Any) -> int:
    """A radius in whole metres between the limits, or an :class:`AlertError`."""
    try:
        value = float(radius)
    except (TypeError, ValueError):
        raise _fail("radius_m", _("Give the radius in metres.")) from None
    if not value > 0:
        raise _fail(
            "radius_m",
            _("The radius must be more than 0 m; choose between %(min)d m and %(max)d m.")
            % {"min": MIN_RADIUS_M, "max": MAX_RADIUS_M},
        )
    if value > MAX_RADIUS_M:
        raise _fail(
            "radius_m",
            _(
                "A radius of %(value)s m is too large: alerts cover at most %(max)d m (5 km) "
                "around a point. Subscribe to a neighbourhood or beat for a wider area."
            )
            % {"value": f"{value:,.0f}", "max": MAX_RADIUS_M},
        )
    if value < MIN_RADIUS_M:
        raise _fail(
            "radius_m",
            _("The radius must be at least %(min)d m: locations are approximate.")
            % {"min": MIN_RADIUS_M},
        )
    return round(value)


def _plan_cover(
    community: Community, request: SubscriptionRequest
) -> tuple[Callable[[], Cover], str]:
    """Check the area of a request; returns how to get its cover, and the address.

    Nothing is stored here, so every check (and a webhook's test delivery) can run
    before anything is written.
    """
    kind = request.area_kind
    if kind in (CoverKind.NEIGHBOURHOOD, CoverKind.BEAT):
        area = (
            Area.objects.filter(community=community, kind=kind, pk=request.area_id).first()
            if request.area_id is not None
            else None
        )
        if area is None:
            raise _fail("area_id", _("Choose one of this community's %(kind)ss.") % {"kind": kind})
        return (lambda: covers.cover_for_area(area)), ""
    if kind == CoverKind.WATCH_GROUP:
        group_cover = Cover.objects.filter(
            community=community, key=f"watch:{request.group_id}"
        ).first()
        if group_cover is None:
            raise _fail("group_id", _("Choose a watch group of this community with an area."))
        return (lambda: group_cover), ""
    if kind == CoverKind.POLYGON:
        try:
            shape = validate_area_geometry(community, request.geometry)
        except geo.GeometryError as exc:
            raise _fail(
                "geometry", _("The drawn area cannot be used: %(e)s.") % {"e": exc}
            ) from None
        label = str(_("Drawn area"))
        return (lambda: covers.cover_for_polygon(community, shape, label=label)), ""
    if kind == CoverKind.RADIUS:
        radius = check_radius(request.radius_m)
        lat, lon = request.lat, request.lon
        address = (request.address or "").strip()[:300]
        if lat is None or lon is None:
            if not address:
                raise _fail("location", _("Type an address or click the map."))
            point = _geocode(community, address)
            if point is None:
                raise _fail(
                    "location",
                    _("No address in %(c)s matches %(a)r; click the map instead.")
                    % {"c": community.name, "a": address},
                )
            lat, lon = point
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise _fail("location", _("Those coordinates are not on Earth."))
        if not _inside(community, lat, lon):
            raise _fail(
                "location",
                _("That point is outside %(c)s; choose a point inside the area it serves.")
                % {"c": community.name},
            )
        label = _("%(r)d m around %(place)s") % {
            "r": radius,
            "place": address or f"{lat:.4f}, {lon:.4f}",
        }
        point = (lat, lon)
        return (
            lambda: covers.cover_for_radius(community, point[0], point[1], radius, label=label)
        ), address
    raise _fail("area_kind", _("Choose what area to follow."))


def _check_target(user: User | None, request: SubscriptionRequest) -> str:
    channel = request.channel
    target = (request.target or "").strip()
    if channel == Channel.EMAIL:
        target = target or (user.email if user else "")
        try:
            validate_email(target)
        except ValidationError:
            raise _fail("target", _("Enter a valid email address.")) from None
        return target.lower()
    if channel == Channel.SMS:
        if not channels.sms_available():
            raise _fail(
                "channel",
                _(
                    "Text message alerts are not available here: no SMS provider is "
                    "configured. Choose email or a webhook."
                ),
            )
        number = re.sub(r"[\s().-]", "", target)
        if not _PHONE.match(number):
            raise _fail("target", _("Enter a phone number such as +16045550100."))
        return number
    if channel == Channel.WEBHOOK:
        try:
            channels.resolve_webhook(target)
        except channels.WebhookURLError as exc:
            raise _fail("target", str(exc)) from None
        return target
    raise _fail("channel", _("Choose email, SMS or webhook."))


def _check_topics(request: SubscriptionRequest) -> tuple[int, list[str]]:
    topics = [t for t in request.topics if t]
    unknown = [t for t in topics if t not in Topic.values]
    if unknown:
        raise _fail("topics", _("Unknown topic %(t)s.") % {"t": ", ".join(unknown)})
    if not topics:
        raise _fail("topics", _("Choose at least one kind of alert."))
    labels, sensitive = offence_groups()
    groups = sorted(set(request.offence_groups or []))
    refused = [g for g in groups if g in sensitive]
    if refused:
        raise _fail(
            "offence_groups",
            _("Alerts are never sent for sensitive offences (%(g)s).") % {"g": ", ".join(refused)},
        )
    unknown = [g for g in groups if labels and g not in labels]
    if unknown:
        raise _fail("offence_groups", _("Unknown offence group %(g)s.") % {"g": ", ".join(unknown)})
    if request.frequency not in Frequency.values:
        raise _fail("frequency", _("Choose immediately, daily or weekly."))
    return topic_mask(topics), groups


def ping_webhook(url: str, secret: str, community: Community) -> None:
    """Send a signed test delivery; raise :class:`AlertError` with the reason if it fails."""
    probe = channels.Outgoing(
        message_id=str(uuid.uuid4()),
        target=url,
        subject="ping",
        body="",
        payload={
            "type": "ping",
            "community": community.slug,
            "sent_at": timezone.now().isoformat(),
        },
        secret=secret,
    )
    try:
        channels.send_webhook(probe, timeout=min(channels.conf.webhook_timeout(), 5.0))
    except channels.DeliveryError as exc:
        raise _fail(
            "target",
            _(
                "The test delivery to your webhook failed: %(reason)s It must answer a signed "
                "POST with a 2xx status."
            )
            % {"reason": exc},
        ) from None


def subscribe(community: Community, user: User | None, request: SubscriptionRequest) -> Subscribed:
    """Validate and store a subscription; webhooks get a secret and a test delivery."""
    mask, groups = _check_topics(request)
    target = _check_target(user, request)
    make_cover, address = _plan_cover(community, request)
    secret = ""
    if request.channel == Channel.WEBHOOK:
        # Outside any transaction: a slow endpoint must not hold a database lock.
        secret = secrets.token_urlsafe(32)
        ping_webhook(target, secret, community)
    with transaction.atomic():
        cover = make_cover()
        subscription = Subscription.objects.create(
            community=community,
            user=user,
            cover=cover,
            topics=mask,
            offence_groups=groups,
            frequency=request.frequency,
            channel=request.channel,
            target=target,
            secret=secret,
            address=address,
        )
        record_event(
            actor=user,
            action="create",
            obj=subscription,
            detail={"channel": request.channel, "area": cover.kind, "topics": list(request.topics)},
        )
    return Subscribed(subscription, secret)


def unsubscribe(subscription: Subscription, *, actor: User | None = None) -> bool:
    """Stop a subscription (idempotent); its queued messages are cancelled at delivery."""
    with transaction.atomic():
        changed = Subscription.objects.filter(pk=subscription.pk, active=True).update(
            active=False, unsubscribed_at=timezone.now()
        )
        if changed:
            record_event(
                actor=actor,
                actor_label=None if actor else "one-click unsubscribe",
                action="update",
                obj=subscription,
                detail={"active": False},
            )
    subscription.refresh_from_db(fields=["active", "unsubscribed_at"])
    return bool(changed)


def unsubscribe_by_token(token: str) -> Subscription | None:
    """Unsubscribe from a signed link; None when the token is not genuine."""
    pk = messages.read_unsubscribe_token(token)
    if pk is None:
        return None
    subscription = Subscription.objects.filter(pk=pk).first()
    if subscription is not None:
        unsubscribe(subscription)
    return subscription


# --- publishing -------------------------------------------------------------------------


def schedule_delivery() -> None:
    """Enqueue an outbox run once the current transaction commits."""
    from beacon.notify.tasks import deliver_outbox

    enqueue_on_commit(deliver_outbox)


def recipient_of(subscription: Subscription) -> str:
    """The recipient key of a subscription (its channel and address)."""
    return messages.recipient_key(subscription.channel, subscription.target)


def fan_out(event: AlertEvent, subscriptions: list[Subscription]) -> int:
    """Write one outbox message (or digest item) per recipient; returns recipients.

    Overlapping subscriptions of one person reach them once: the outbox key is the
    event and the recipient, and the insert ignores a key that already exists.
    """
    now = timezone.now()
    outbox: dict[str, OutboxMessage] = {}
    items: dict[str, DigestItem] = {}
    for subscription in subscriptions:
        if (
            event.topic == Topic.INCIDENT
            and subscription.offence_groups
            and event.offence_group not in subscription.offence_groups
        ):
            continue
        recipient = recipient_of(subscription)
        if subscription.frequency == Frequency.IMMEDIATE:
            key = messages.dedupe_key("event", event.pk, recipient)
            if key in outbox:
                continue
            message_id = uuid.uuid4()
            outbox[key] = OutboxMessage(
                community_id=event.community_id,
                event=event,
                subscription=subscription,
                user=subscription.user,
                channel=subscription.channel,
                target=subscription.target,
                dedupe_key=key,
                message_id=message_id,
                created_at=now,
                next_attempt_at=now,
                **messages.render_alert(event, subscription, message_id),
            )
        elif recipient not in items:
            items[recipient] = DigestItem(
                community_id=event.community_id,
                subscription=subscription,
                event=event,
                recipient=recipient,
                frequency=subscription.frequency,
                period=digests.period_for(
                    subscription.frequency, now, subscription.community.timezone
                ),
                created_at=now,
            )
    OutboxMessage.objects.bulk_create(outbox.values(), ignore_conflicts=True, batch_size=500)
    DigestItem.objects.bulk_create(items.values(), ignore_conflicts=True, batch_size=500)
    if outbox:
        schedule_delivery()
    return len(set(outbox) | set(items))


def publish_event(
    community: Community,
    topic: str,
    *,
    key: str,
    title: str,
    lat: float | None = None,
    lon: float | None = None,
    geometry: Any = None,
    body: str = "",
    link: str = "",
    offence_group: str = "",
    sensitive: bool = False,
    public: bool = True,
    occurred_at: datetime | None = None,
    payload: dict[str, Any] | None = None,
    actor: User | None = None,
    public_since: datetime | None = None,
) -> AlertEvent | None:
    """Publish an event at a point (or over an area) to everyone subscribed to it.

    Call it inside the transaction that records the cause: the event and its outbox
    messages commit or roll back with it. Idempotent by ``key`` (per community): a
    second call with the same key returns the first event and sends nothing more.

    Incidents must pass their *public* (masked) location, never the true one, and
    ``public_since``, when the incident became public (its publication delay passed;
    default: ``occurred_at``). Sensitive offences and incidents public for longer than
    ``BEACON_INCIDENT_ALERT_MAX_AGE_DAYS`` publish nothing and return None.
    """
    if topic not in Topic.values:
        raise ValueError(f"unknown topic {topic!r}")
    occurred_at = occurred_at or timezone.now()
    if topic == Topic.INCIDENT:
        if sensitive or not offence_group or is_sensitive_group(offence_group):
            return None
        max_age = timedelta(days=channels.conf.incident_alert_max_age_days())
        if (public_since or occurred_at) < timezone.now() - max_age:
            return None
    shape: BaseGeometry | None = None
    if geometry:
        shape = geo.parse_area_geometry(geometry)
    elif lat is None or lon is None:
        raise ValueError("an event needs a point (lat, lon) or an area (geometry)")
    with transaction.atomic():
        event, created = AlertEvent.objects.get_or_create(
            community=community,
            key=key[:200],
            defaults={
                "topic": topic,
                "title": title[:TITLE_MAX],
                "body": body,
                "link": link,
                "public": public,
                "lat": lat,
                "lon": lon,
                "cell": geo.point_cell(lat, lon) if lat is not None and lon is not None else None,
                "geometry": geo.to_geojson(shape) if shape is not None else {},
                "offence_group": offence_group,
                "payload": payload or {},
                "created_by": actor,
                "occurred_at": occurred_at,
            },
        )
        if not created:
            return event
        if shape is not None:
            matched = covers.match_area(community.pk, topic, shape)
        else:
            assert lat is not None and lon is not None
            matched = covers.match_point(community.pk, topic, lat, lon)
        event.recipients = fan_out(event, matched)
        AlertEvent.objects.filter(pk=event.pk).update(recipients=event.recipients)
    return event


def notify_user(
    community: Community,
    user: User,
    *,
    key: str,
    subject: str,
    body: str,
    link: str = "",
) -> OutboxMessage | None:
    """Queue one email to a person (membership decisions and the like); idempotent by key."""
    if not user.email:
        return None
    dedupe = messages.dedupe_key("direct", community.pk, key, user.pk)
    text = render_to_string(
        "notify/email/direct_body.txt",
        {"body": body, "link": messages.absolute(link) if link else ""},
    )
    with transaction.atomic():
        message, created = OutboxMessage.objects.get_or_create(
            dedupe_key=dedupe,
            defaults={
                "community": community,
                "user": user,
                "channel": Channel.EMAIL,
                "target": user.email,
                "subject": subject[:300],
                "body": text,
                "payload": {"type": "direct", "key": key},
            },
        )
        if created:
            schedule_delivery()
    return message


def notify_report_update(update: Any) -> int:
    """Tell a signed-in reporter's "updates on my reports" subscriptions about an update.

    Called by the reports app in the transaction that writes a public or reporter-visible
    update. Email to the addresses the reports app already writes to is skipped, so the
    reporter hears once per channel.
    """
    report = update.report
    if not report.reporter_id or update.visibility == "internal" or update.from_reporter:
        return 0
    subscriptions = list(
        Subscription.objects.filter(
            community_id=report.community_id, user_id=report.reporter_id, active=True
        ).select_related("cover", "user", "community")
    )
    wanted = [s for s in subscriptions if s.topic_list and Topic.REPORT_UPDATE in s.topic_list]
    already = {e.lower() for e in (report.contact_email, report.reporter.email) if e}
    wanted = [s for s in wanted if not (s.channel == Channel.EMAIL and s.target.lower() in already)]
    if not wanted:
        return 0
    status = update.status_to or report.status
    event, created = AlertEvent.objects.get_or_create(
        community_id=report.community_id,
        key=f"report-update:{update.pk}",
        defaults={
            "topic": Topic.REPORT_UPDATE,
            "title": _("Update on your report #%(id)s: %(status)s")
            % {"id": report.pk, "status": status},
            "body": update.body,
            "public": False,
            "payload": {"report": report.pk, "update": update.pk, "status": status},
        },
    )
    if not created:
        return 0
    return fan_out(event, wanted)


def subscriptions_of(user: User, community: Community) -> list[Subscription]:
    """A person's subscriptions in a community, newest first."""
    return list(
        Subscription.objects.filter(community=community, user=user)
        .select_related("cover")
        .order_by("-active", "-created_at")
    )


def area_choices(community: Community, kind: str) -> list[Area]:
    """Neighbourhoods or beats to choose from."""
    if kind not in (AreaKind.NEIGHBOURHOOD, AreaKind.BEAT):
        return []
    return list(Area.objects.filter(community=community, kind=kind).order_by("name"))
