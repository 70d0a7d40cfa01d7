"""Alerts endpoints: subscriptions, broadcasts with a reach preview, and public alerts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status
from ninja.security import django_auth

from beacon.core.access import MEMBERS, get_object_or_deny, refuse, require_role
from beacon.core.idempotency import IdempotencyError, run_once
from beacon.core.models import Community, User
from beacon.notify import broadcasts, feeds, services
from beacon.notify.messages import event_data
from beacon.notify.models import Subscription
from beacon.notify.schemas import (
    AlertOut,
    BroadcastIn,
    BroadcastOut,
    ErrorsOut,
    PreviewOut,
    SubscriptionIn,
    SubscriptionOut,
)

router = Router(tags=["alerts"])
ERRORS = {400: ErrorsOut, 403: ErrorsOut, 404: ErrorsOut, 409: ErrorsOut}


def _community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    return community


def _member(request: HttpRequest, slug: str) -> tuple[Community, User]:
    community = _community(request, slug)
    require_role(request.user, community, MEMBERS)
    return community, request.user  # type: ignore[return-value]


def _out(subscription: Subscription, secret: str | None = None) -> dict[str, Any]:
    return {
        "id": subscription.pk,
        "area_kind": subscription.cover.kind,
        "area": str(subscription.cover),
        "topics": subscription.topic_list,
        "offence_groups": subscription.offence_groups,
        "channel": subscription.channel,
        "target": subscription.target,
        "frequency": subscription.frequency,
        "active": subscription.active,
        "created_at": subscription.created_at,
        "secret": secret,
    }


def _error(exc: services.AlertError) -> Status:
    return Status(400, {"detail": str(exc), "errors": exc.errors})


@router.get(
    "/communities/{slug}/subscriptions",
    response={200: list[SubscriptionOut], **ERRORS},
    auth=django_auth,
)
def list_subscriptions(request: HttpRequest, slug: str) -> Any:
    """The caller's subscriptions in the community."""
    community, user = _member(request, slug)
    return [_out(s) for s in services.subscriptions_of(user, community)]


@router.post(
    "/communities/{slug}/subscriptions",
    response={201: SubscriptionOut, **ERRORS},
    auth=django_auth,
)
def create_subscription(request: HttpRequest, slug: str, payload: SubscriptionIn) -> Any:
    """Follow an area. Webhooks get a test delivery first and a secret (returned once).

    Send an ``Idempotency-Key`` header to make retries safe.
    """
    community, user = _member(request, slug)

    def operation() -> tuple[int, Any]:
        subscribed = services.subscribe(
            community, user, services.SubscriptionRequest(**payload.model_dump())
        )
        body = _out(subscribed.subscription, subscribed.secret or None)
        body["created_at"] = body["created_at"].isoformat()
        return 201, body

    try:
        status, body = run_once(
            f"notify:{community.pk}:{user.pk}",
            request.headers.get("Idempotency-Key"),
            payload.model_dump(),
            operation,
        )
    except IdempotencyError as exc:
        return Status(409, {"detail": str(exc), "errors": {}})
    except services.AlertError as exc:
        return _error(exc)
    return Status(status, body)


@router.delete(
    "/communities/{slug}/subscriptions/{subscription_id}",
    response={204: None, **ERRORS},
    auth=django_auth,
)
def delete_subscription(request: HttpRequest, slug: str, subscription_id: int) -> Any:
    """Stop a subscription."""
    community, user = _member(request, slug)
    subscription = get_object_or_deny(
        Subscription.objects.filter(community=community), user, "change", pk=subscription_id
    )
    services.unsubscribe(subscription, actor=user)
    return Status(204, None)


@router.get("/communities/{slug}/alerts", response={200: list[AlertOut], **ERRORS})
def list_alerts(request: HttpRequest, slug: str) -> Any:
    """The latest public alerts of the community (masked locations only)."""
    community = _community(request, slug)
    return [event_data(e) for e in feeds.public_events(community)]


@router.post(
    "/communities/{slug}/broadcasts/preview",
    response={200: PreviewOut, **ERRORS},
    auth=django_auth,
)
def preview(request: HttpRequest, slug: str, payload: BroadcastIn) -> Any:
    """How many distinct people a broadcast to the area would reach."""
    community, user = _member(request, slug)
    if broadcasts.broadcast_area(user, community) is None:
        refuse(user, "broadcast", community, "Only officers and watch coordinators can broadcast.")
    try:
        return {"recipients": broadcasts.preview_broadcast(community, user, payload.geometry)}
    except services.AlertError as exc:
        return _error(exc)


@router.post(
    "/communities/{slug}/broadcasts",
    response={201: BroadcastOut, **ERRORS},
    auth=django_auth,
)
def broadcast(request: HttpRequest, slug: str, payload: BroadcastIn) -> Any:
    """Send a broadcast to everyone following broadcasts in the drawn area."""
    community, user = _member(request, slug)
    if broadcasts.broadcast_area(user, community) is None:
        refuse(user, "broadcast", community, "Only officers and watch coordinators can broadcast.")
    try:
        event = broadcasts.send_broadcast(
            community, user, payload.geometry, payload.title, payload.body
        )
    except services.AlertError as exc:
        return _error(exc)
    return Status(201, {"key": event.key, "recipients": event.recipients})
