"""Forums endpoints: the concerns board (raise, support), meetings and action items."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Router, Status
from ninja.security import django_auth

from beacon.core.access import get_object_or_deny
from beacon.core.idempotency import IdempotencyError, run_once
from beacon.core.models import Community
from beacon.forums import services
from beacon.forums.models import ActionItem, Concern, Meeting
from beacon.forums.schemas import (
    ActionItemOut,
    ConcernIn,
    ConcernOut,
    ErrorsOut,
    MeetingIn,
    MeetingOut,
    ProgressIn,
    SupportOut,
)

router = Router(tags=["forums"])
ERRORS = {400: ErrorsOut, 403: ErrorsOut, 404: ErrorsOut, 409: ErrorsOut}


def _community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    return community


def _error(exc: services.ForumError) -> Status[dict[str, Any]]:
    status = 409 if isinstance(exc, services.AlreadySupported) else 400
    return Status(status, {"detail": exc.message, "errors": exc.errors})


def concern_out(concern: Concern, threshold: int) -> dict[str, Any]:
    """A concern as the public sees it (the pin rounded)."""
    lat, lon = concern.public_point
    return {
        "id": concern.pk,
        "title": concern.title,
        "body": concern.body,
        "category": concern.category,
        "status": concern.status,
        "lat": lat,
        "lon": lon,
        "beat": concern.beat.name if concern.beat else None,
        "neighbourhood": concern.neighbourhood.name if concern.neighbourhood else None,
        "support_count": concern.support_count,
        "threshold": threshold,
        "response": concern.response,
        "responded_at": concern.responded_at,
        "created_at": concern.created_at,
    }


@router.get("/communities/{slug}/concerns", response={200: list[ConcernOut], 404: ErrorsOut})
def list_concerns(request: HttpRequest, slug: str, category: str = "", status: str = "") -> Any:
    """Concerns on the board, most supported first."""
    community = _community(request, slug)
    threshold = services.settings_for(community).support_threshold
    rows = services.board(community, request.user, category=category, status=status)[:500]
    return [concern_out(c, threshold) for c in rows]


@router.post("/communities/{slug}/concerns", response={201: ConcernOut, **ERRORS}, auth=django_auth)
def raise_concern(request: HttpRequest, slug: str, payload: ConcernIn) -> Any:
    """Raise a concern (members). Send an ``Idempotency-Key`` to make retries safe."""
    community = _community(request, slug)
    threshold = services.settings_for(community).support_threshold

    def operation() -> tuple[int, Any]:
        concern = services.raise_concern(
            community, request.user, services.ConcernInput(**payload.model_dump())
        )
        return 201, concern_out(concern, threshold) | {
            "created_at": concern.created_at.isoformat(),
            "responded_at": None,
        }

    scope = f"forums.concern:{community.pk}:{request.user.pk}"
    try:
        return Status(
            *run_once(
                scope, request.headers.get("Idempotency-Key"), payload.model_dump(), operation
            )
        )
    except IdempotencyError as exc:
        return Status(409, {"detail": str(exc)})
    except services.ForumError as exc:
        return _error(exc)
    except PermissionDenied as exc:
        return Status(403, {"detail": str(exc) or "Not allowed."})


@router.get("/communities/{slug}/concerns/{concern_id}", response={200: ConcernOut, **ERRORS})
def get_concern(request: HttpRequest, slug: str, concern_id: int) -> Any:
    """One concern."""
    community = _community(request, slug)
    concern = get_object_or_deny(
        Concern.objects.filter(community=community), request.user, "view", pk=concern_id
    )
    return concern_out(concern, services.settings_for(community).support_threshold)


@router.post(
    "/communities/{slug}/concerns/{concern_id}/support",
    response={200: SupportOut, **ERRORS},
    auth=django_auth,
)
def support_concern(request: HttpRequest, slug: str, concern_id: int) -> Any:
    """Support a concern (once per person: a second support gets 409)."""
    community = _community(request, slug)
    concern = get_object_or_deny(
        Concern.objects.filter(community=community), request.user, "view", pk=concern_id
    )
    try:
        concern = services.support_concern(concern, request.user)
    except services.ForumError as exc:
        return _error(exc)
    except PermissionDenied as exc:
        return Status(403, {"detail": str(exc) or "Not allowed."})
    return {
        "id": concern.pk,
        "support_count": concern.support_count,
        "status": concern.status,
        "on_agenda": concern.agenda_items.exists(),
    }


def meeting_out(meeting: Meeting) -> dict[str, Any]:
    """A meeting with its agenda and, once published, decisions and minutes."""
    published = meeting.minutes_published_at is not None
    return {
        "id": meeting.pk,
        "kind": meeting.kind,
        "title": meeting.title,
        "status": meeting.status,
        "area": meeting.area.name if meeting.area else None,
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "venue": meeting.venue,
        "online_url": meeting.online_url,
        "agenda": [
            {"title": i.title, "concern_id": i.concern_id, "outcome": i.outcome}
            for i in meeting.agenda.all()
        ],
        "decisions": [d.text for d in meeting.decisions.all()] if published else [],
        "minutes": meeting.minutes if published else "",
    }


@router.get("/communities/{slug}/meetings", response={200: list[MeetingOut], 404: ErrorsOut})
def list_meetings(request: HttpRequest, slug: str, upcoming: bool = True) -> Any:
    """Upcoming meetings (or past ones with ``upcoming=false``)."""
    community = _community(request, slug)
    rows = (
        services.upcoming_meetings(community, request.user)
        if upcoming
        else services.past_meetings(community, request.user)[:50]
    )
    return [meeting_out(m) for m in rows.prefetch_related("agenda", "decisions")]


@router.get("/communities/{slug}/meetings/{meeting_id}", response={200: MeetingOut, **ERRORS})
def get_meeting(request: HttpRequest, slug: str, meeting_id: int) -> Any:
    """One meeting with its agenda."""
    community = _community(request, slug)
    meeting = get_object_or_deny(
        Meeting.objects.filter(community=community), request.user, "view", pk=meeting_id
    )
    return meeting_out(meeting)


@router.post("/communities/{slug}/meetings", response={201: MeetingOut, **ERRORS}, auth=django_auth)
def schedule_meeting(request: HttpRequest, slug: str, payload: MeetingIn) -> Any:
    """Schedule a meeting (staff); its agenda is built from the top concerns."""
    community = _community(request, slug)
    try:
        meeting = services.schedule_meeting(
            community,
            request.user,  # type: ignore[arg-type]
            services.MeetingInput(**payload.model_dump()),
        )
    except services.ForumError as exc:
        return _error(exc)
    except PermissionDenied:
        return Status(403, {"detail": "Only staff of this community schedule meetings."})
    return Status(201, meeting_out(meeting))


def action_out(item: ActionItem) -> dict[str, Any]:
    """An action item as the public tracker shows it."""
    return {
        "id": item.pk,
        "title": item.title,
        "owner": item.owner_name,
        "due_date": item.due_date,
        "progress": item.progress,
        "status": item.status,
        "overdue": item.is_overdue,
        "result": item.result,
        "meeting_id": item.meeting_id,
        "concern_id": item.concern_id,
    }


@router.get("/communities/{slug}/action-items", response={200: list[ActionItemOut], 404: ErrorsOut})
def list_action_items(request: HttpRequest, slug: str, include_closed: bool = False) -> Any:
    """The public action tracker: open items until closed."""
    community = _community(request, slug)
    return [
        action_out(i)
        for i in services.tracker(community, request.user, include_closed=include_closed)
    ]


@router.post(
    "/communities/{slug}/action-items/{item_id}/progress",
    response={200: ActionItemOut, **ERRORS},
    auth=django_auth,
)
def record_progress(request: HttpRequest, slug: str, item_id: int, payload: ProgressIn) -> Any:
    """Record progress on an action item (staff, or the item's owner)."""
    community = _community(request, slug)
    item = get_object_or_deny(
        ActionItem.objects.filter(community=community), request.user, "change", pk=item_id
    )
    try:
        services.update_action(item, request.user, **payload.model_dump())  # type: ignore[arg-type]
    except services.ForumError as exc:
        return _error(exc)
    return action_out(item)
