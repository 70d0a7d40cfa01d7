"""Domain operations of the concerns board, meetings and action tracker.

Pages, the API, the demo and jobs all call these. Bad input raises :class:`ForumError`
with messages per field; a person acting where they may not raises ``PermissionDenied``
(or :class:`SignInRequired` for anonymous visitors).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import Point

from beacon.core.access import can, is_member, refuse
from beacon.core.audit import record_event
from beacon.core.models import Area, AreaKind, Community, User
from beacon.core.services import area_at, community_boundary
from beacon.forums.models import (
    CLOSED_ACTION_STATUSES,
    SUPPORTABLE,
    ActionItem,
    ActionStatus,
    ActionUpdate,
    AgendaItem,
    Concern,
    ConcernCategory,
    ConcernStatus,
    ConcernSupport,
    Decision,
    ForumSettings,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Registration,
)

TITLE_MIN, TITLE_MAX, BODY_MAX = 5, 160, 5000


class ForumError(ValueError):
    """Input that cannot be used, with messages per field (``__all__`` for the form)."""

    def __init__(self, errors: dict[str, list[str]] | str) -> None:
        if isinstance(errors, str):
            errors = {"__all__": [errors]}
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))

    @property
    def message(self) -> str:
        """All messages as one sentence list, for API and flash messages."""
        return " ".join(m for messages in self.errors.values() for m in messages)


class AlreadySupported(ForumError):
    """The person already supports this concern."""


class SignInRequired(PermissionDenied):
    """Anonymous visitors must sign in first."""


def _errors() -> dict[str, list[str]]:
    return {}


def settings_for(community: Community) -> ForumSettings:
    """The community's board settings, created with the defaults on first use."""
    row, _created = ForumSettings.objects.get_or_create(community=community)
    return row


def update_settings(
    community: Community, actor: User, *, support_threshold: int, agenda_size: int
) -> ForumSettings:
    """Change the support threshold and agenda size (managers); audited."""
    row = settings_for(community)
    if not can(actor, "change", row):
        refuse(actor, "change", row)
    errors = _errors()
    if not 1 <= support_threshold <= 100_000:
        errors["support_threshold"] = [_("The threshold must be between 1 and 100000.")]
    if not 1 <= agenda_size <= 50:
        errors["agenda_size"] = [_("The agenda size must be between 1 and 50.")]
    if errors:
        raise ForumError(errors)
    row.support_threshold = support_threshold
    row.agenda_size = agenda_size
    row.save()
    record_event(actor=actor, action="update", obj=row, detail={"threshold": support_threshold})
    return row


# --- Concerns ---------------------------------------------------------------------


@dataclass
class ConcernInput:
    """What a resident sends to raise a concern."""

    title: str
    body: str
    category: str
    lat: Any
    lon: Any


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def validate_concern(community: Community, data: ConcernInput) -> tuple[float, float]:
    """Check a concern; return its point or raise :class:`ForumError` naming each field."""
    errors = _errors()
    title = (data.title or "").strip()
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        errors["title"] = [
            _("Give a title of %(min)d to %(max)d characters.")
            % {"min": TITLE_MIN, "max": TITLE_MAX}
        ]
    body = (data.body or "").strip()
    if not body:
        errors["body"] = [_("Describe the concern.")]
    elif len(body) > BODY_MAX:
        errors["body"] = [_("Keep the description under %(max)d characters.") % {"max": BODY_MAX}]
    if data.category not in ConcernCategory.values:
        errors["category"] = [_("Choose one of the categories.")]
    lat, lon = _number(data.lat), _number(data.lon)
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        errors["location"] = [_("Put a pin on the map where the concern is.")]
    else:
        boundary = community_boundary(community)
        if boundary is not None and not boundary.covers(Point(lon, lat)):
            errors["location"] = [_("That point is outside %(name)s.") % {"name": community.name}]
    if errors:
        raise ForumError(errors)
    assert lat is not None and lon is not None
    return lat, lon


def raise_concern(community: Community, author: Any, data: ConcernInput) -> Concern:
    """A member raises a concern; their own support is counted at once."""
    if not getattr(author, "is_authenticated", False):
        raise SignInRequired(_("Sign in to raise a concern."))
    if not (is_member(author, community.pk) or author.is_superuser):
        refuse(author, "create", community, _("Only members of this community can raise concerns."))
    lat, lon = validate_concern(community, data)
    with transaction.atomic():
        concern = Concern.objects.create(
            community=community,
            author=author,
            title=data.title.strip(),
            body=data.body.strip(),
            category=data.category,
            lat=lat,
            lon=lon,
            beat=area_at(community, AreaKind.BEAT, lat, lon),
            neighbourhood=area_at(community, AreaKind.NEIGHBOURHOOD, lat, lon),
            support_count=1,
        )
        ConcernSupport.objects.create(community=community, concern=concern, user=author)
        record_event(actor=author, action="create", obj=concern)
        _check_threshold(concern)
    return concern


def has_supported(concern: Concern, user: Any) -> bool:
    """Whether ``user`` supports (or raised) ``concern``."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(ConcernSupport.objects.filter(concern=concern, user_id=user.pk).exists())


def support_concern(concern: Concern, user: Any) -> Concern:
    """Add one person's support; a second support by the same person is refused.

    The database's unique constraint is the guard (two clicks at once cannot both
    count); the count is updated in the same transaction.
    """
    if not getattr(user, "is_authenticated", False):
        raise SignInRequired(_("Sign in to support a concern."))
    if not can(user, "support", concern):
        refuse(
            user, "support", concern, _("Only members of this community can support its concerns.")
        )
    if not concern.supportable:
        raise ForumError(
            _("This concern is %(status)s and takes no more supports.")
            % {"status": concern.get_status_display().lower()}
        )
    try:
        with transaction.atomic():
            ConcernSupport.objects.create(
                community_id=concern.community_id, concern=concern, user=user
            )
            Concern.objects.filter(pk=concern.pk).update(support_count=F("support_count") + 1)
            concern.refresh_from_db()
            _check_threshold(concern)
    except IntegrityError:
        raise AlreadySupported(
            _("You already support this concern; each person can support it once.")
        ) from None
    return concern


def withdraw_support(concern: Concern, user: Any) -> Concern:
    """Take back one's support (the author's own support stays)."""
    if not getattr(user, "is_authenticated", False):
        raise SignInRequired(_("Sign in first."))
    if concern.author_id == user.pk:
        raise ForumError(_("You raised this concern; your support cannot be withdrawn."))
    with transaction.atomic():
        deleted, _rows = ConcernSupport.objects.filter(concern=concern, user=user).delete()
        if deleted:
            Concern.objects.filter(pk=concern.pk).update(support_count=F("support_count") - 1)
    concern.refresh_from_db()
    return concern


def _check_threshold(concern: Concern) -> None:
    """On reaching the threshold, note when and put the concern on the next agenda."""
    if concern.threshold_reached_at is not None:
        return
    if concern.support_count < settings_for(concern.community).support_threshold:
        return
    concern.threshold_reached_at = timezone.now()
    concern.save(update_fields=["threshold_reached_at"])
    meeting = next_meeting_for(concern)
    if meeting is not None:
        build_agenda(meeting)


def next_meeting_for(concern: Concern) -> Meeting | None:
    """The next scheduled meeting for the concern's beat or neighbourhood.

    Without one, the next community-wide meeting (no area) takes it.
    """
    upcoming = Meeting.objects.filter(
        community_id=concern.community_id,
        status=MeetingStatus.SCHEDULED,
        starts_at__gt=timezone.now(),
    ).order_by("starts_at", "pk")
    areas = [a for a in (concern.beat_id, concern.neighbourhood_id) if a]
    local = upcoming.filter(area_id__in=areas).first() if areas else None
    return local or upcoming.filter(area__isnull=True).first()


def _addressed() -> Exists:
    """Concerns already on an agenda of a meeting that was not cancelled."""
    return Exists(
        AgendaItem.objects.filter(concern_id=OuterRef("pk")).exclude(
            meeting__status=MeetingStatus.CANCELLED
        )
    )


def agenda_candidates(meeting: Meeting) -> QuerySet[Concern]:
    """Concerns over the threshold in the meeting's area, not yet on any agenda."""
    threshold = settings_for(meeting.community).support_threshold
    rows = (
        Concern.objects.filter(
            community_id=meeting.community_id,
            status__in=SUPPORTABLE,
            support_count__gte=threshold,
        )
        .annotate(addressed=_addressed())
        .filter(addressed=False)
    )
    if meeting.area_id is not None:
        rows = rows.filter(Q(beat_id=meeting.area_id) | Q(neighbourhood_id=meeting.area_id))
    return rows.order_by("-support_count", "created_at", "pk")


def build_agenda(meeting: Meeting) -> list[AgendaItem]:
    """Put the top concerns over the threshold on a scheduled meeting's agenda.

    Idempotent: concerns already on an agenda are skipped, and the agenda never holds
    more concern items than the community's agenda size.
    """
    if meeting.status != MeetingStatus.SCHEDULED:
        return []
    limit = settings_for(meeting.community).agenda_size
    with transaction.atomic():
        Meeting.objects.select_for_update().filter(pk=meeting.pk).first()
        room = limit - meeting.agenda.filter(concern__isnull=False).count()
        if room <= 0:
            return []
        last = meeting.agenda.order_by("-order").values_list("order", flat=True).first() or 0
        added = []
        for offset, concern in enumerate(agenda_candidates(meeting)[:room], 1):
            added.append(
                AgendaItem.objects.create(
                    community_id=meeting.community_id,
                    meeting=meeting,
                    concern=concern,
                    title=concern.title,
                    notes=_("Raised by residents; %(n)d supports.") % {"n": concern.support_count},
                    order=last + offset,
                )
            )
            if concern.status == ConcernStatus.OPEN:
                concern.status = ConcernStatus.ON_AGENDA
                concern.save(update_fields=["status"])
    return added


def answer_concern(concern: Concern, actor: User, response: str) -> Concern:
    """Staff answer a concern in public; audited."""
    if not can(actor, "answer", concern):
        refuse(actor, "answer", concern)
    text = (response or "").strip()
    if not text:
        raise ForumError({"response": [_("Write the answer residents will read.")]})
    concern.response = text
    concern.responded_by = actor
    concern.responded_at = timezone.now()
    if concern.status == ConcernStatus.OPEN:
        concern.status = ConcernStatus.ANSWERED
    concern.save()
    record_event(actor=actor, action="answer", obj=concern)
    return concern


def set_concern_status(concern: Concern, actor: User, status: str, *, result: str = "") -> Concern:
    """Move a concern to another status (resolve, close, hide, reopen); audited."""
    if not can(actor, "change", concern):
        refuse(actor, "change", concern)
    if status not in ConcernStatus.values:
        raise ForumError({"status": [_("Unknown status.")]})
    previous = concern.status
    concern.status = status
    if result.strip():
        concern.result = result.strip()
    closing = status in (ConcernStatus.RESOLVED, ConcernStatus.CLOSED)
    concern.closed_at = timezone.now() if closing else None
    concern.save()
    record_event(actor=actor, action="update", obj=concern, detail={"from": previous, "to": status})
    return concern


def request_problem(concern: Concern, actor: User) -> Concern:
    """Ask for the concern to become a SARA problem.

    The request is recorded on the concern. When the problems app is installed and
    offers ``open_from_concern(concern, actor)``, the problem is opened at once and
    linked; otherwise it is linked when that app picks the request up.
    """
    from django.apps import apps

    if not can(actor, "change", concern):
        refuse(actor, "change", concern)
    if concern.problem_requested_at is None:
        concern.problem_requested_at = timezone.now()
        concern.problem_requested_by = actor
    if concern.problem_id is None and apps.is_installed("beacon.problems"):
        import importlib

        problems = importlib.import_module("beacon.problems.services")
        opener = getattr(problems, "open_from_concern", None)
        if opener is not None:
            problem = opener(concern, actor)
            concern.problem_id = getattr(problem, "pk", None)
    concern.save()
    record_event(actor=actor, action="problem_request", obj=concern)
    return concern


def board(
    community: Community,
    user: Any,
    *,
    category: str = "",
    status: str = "",
    area_id: int | None = None,
) -> QuerySet[Concern]:
    """The concerns ``user`` may see, filtered as the board asks."""
    rows = Concern.objects.visible_to(user).filter(community=community)
    if category:
        rows = rows.filter(category=category)
    rows = rows.filter(status=status) if status else rows.exclude(status=ConcernStatus.HIDDEN)
    if area_id:
        rows = rows.filter(Q(beat_id=area_id) | Q(neighbourhood_id=area_id))
    return rows.select_related("beat", "neighbourhood")


def you_said_we_did(community: Community, user: Any) -> QuerySet[Concern]:
    """Concerns that got an answer or an action, with their actions and results."""
    return (
        board(community, user)
        .filter(Q(responded_at__isnull=False) | Q(action_items__isnull=False))
        .distinct()
        .prefetch_related(
            Prefetch(
                "action_items",
                queryset=ActionItem.objects.visible_to(user).order_by("due_date", "pk"),
            )
        )
        .order_by("-responded_at", "-pk")
    )


# --- Meetings ---------------------------------------------------------------------


@dataclass
class MeetingInput:
    """What staff give to schedule or edit a meeting."""

    title: str
    starts_at: datetime | None
    kind: str = MeetingKind.BEAT
    ends_at: datetime | None = None
    venue: str = ""
    online_url: str = ""
    area_id: int | None = None
    description: str = ""
    capacity: int | None = None


def validate_meeting(community: Community, data: MeetingInput) -> Area | None:
    """Check a meeting; return its area or raise :class:`ForumError` naming each field."""
    errors = _errors()
    if not (data.title or "").strip():
        errors["title"] = [_("Give the meeting a title.")]
    if data.kind not in MeetingKind.values:
        errors["kind"] = [_("Choose the kind of meeting.")]
    if data.starts_at is None:
        errors["starts_at"] = [_("A meeting needs a start time (date and time).")]
    elif timezone.is_naive(data.starts_at):
        errors["starts_at"] = [_("Give the start time with its time zone.")]
    if data.ends_at is not None and data.starts_at is not None and data.ends_at <= data.starts_at:
        errors["ends_at"] = [_("The meeting must end after it starts.")]
    if not (data.venue or "").strip() and not (data.online_url or "").strip():
        errors["venue"] = [_("Give a place, an online link, or both.")]
    if data.online_url and not data.online_url.startswith(("https://", "http://")):
        errors["online_url"] = [_("The online link must start with https://.")]
    if data.capacity is not None and data.capacity < 1:
        errors["capacity"] = [_("The capacity must be at least 1, or left empty.")]
    area = None
    if data.area_id is not None:
        area = Area.objects.filter(community=community, pk=data.area_id).first()
        if area is None:
            errors["area"] = [_("Choose a beat or neighbourhood of this community.")]
    if errors:
        raise ForumError(errors)
    return area


def schedule_meeting(community: Community, actor: User, data: MeetingInput) -> Meeting:
    """Schedule a meeting and build its agenda from the top concerns; audited."""
    if not can(actor, "view", community) or not _is_staff(actor, community):
        refuse(actor, "create", community)
    area = validate_meeting(community, data)
    assert data.starts_at is not None  # validate_meeting refuses a meeting without one
    with transaction.atomic():
        meeting = Meeting.objects.create(
            community=community,
            created_by=actor,
            kind=data.kind,
            title=data.title.strip(),
            description=data.description.strip(),
            area=area,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            venue=data.venue.strip(),
            online_url=data.online_url.strip(),
            capacity=data.capacity,
        )
        record_event(actor=actor, action="create", obj=meeting)
        build_agenda(meeting)
    return meeting


def update_meeting(meeting: Meeting, actor: User, data: MeetingInput) -> Meeting:
    """Change a meeting's details; audited."""
    if not can(actor, "change", meeting):
        refuse(actor, "change", meeting)
    area = validate_meeting(meeting.community, data)
    for name in ("kind", "starts_at", "ends_at", "capacity"):
        setattr(meeting, name, getattr(data, name))
    meeting.title = data.title.strip()
    meeting.description = data.description.strip()
    meeting.venue = data.venue.strip()
    meeting.online_url = data.online_url.strip()
    meeting.area = area
    meeting.save()
    record_event(actor=actor, action="update", obj=meeting)
    build_agenda(meeting)
    return meeting


def cancel_meeting(meeting: Meeting, actor: User) -> Meeting:
    """Cancel a meeting; its concerns go back to wait for the next one."""
    if not can(actor, "change", meeting):
        refuse(actor, "change", meeting)
    with transaction.atomic():
        meeting.status = MeetingStatus.CANCELLED
        meeting.save(update_fields=["status"])
        Concern.objects.filter(
            agenda_items__meeting=meeting, status=ConcernStatus.ON_AGENDA
        ).update(status=ConcernStatus.OPEN)
        record_event(actor=actor, action="cancel", obj=meeting)
    return meeting


def _is_staff(user: Any, community: Community) -> bool:
    from beacon.core.access import member_community_ids
    from beacon.core.roles import STAFF_ROLES

    if getattr(user, "is_superuser", False):
        return True
    return bool(member_community_ids(user, STAFF_ROLES).filter(community_id=community.pk).exists())


def add_agenda_item(meeting: Meeting, actor: User, title: str, notes: str = "") -> AgendaItem:
    """Add a manual item to the agenda."""
    if not can(actor, "change", meeting):
        refuse(actor, "change", meeting)
    if not (title or "").strip():
        raise ForumError({"title": [_("Give the agenda item a title.")]})
    last = meeting.agenda.order_by("-order").values_list("order", flat=True).first() or 0
    return AgendaItem.objects.create(
        community_id=meeting.community_id,
        meeting=meeting,
        title=title.strip(),
        notes=(notes or "").strip(),
        order=last + 1,
    )


def register(
    meeting: Meeting, *, user: Any = None, name: str = "", email: str = ""
) -> Registration:
    """Register a signed-in person, or someone by name and email, for a meeting."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    if meeting.status != MeetingStatus.SCHEDULED or meeting.starts_at <= timezone.now():
        raise ForumError(_("Registration is closed: this meeting is not coming up."))
    signed_in = getattr(user, "is_authenticated", False)
    errors = _errors()
    if signed_in:
        name = name.strip() or str(user)
        email = email.strip() or user.email
    else:
        user = None
        name, email = name.strip(), email.strip().lower()
        if not name:
            errors["name"] = [_("Give your name.")]
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Give an email address we can reach you at.")]
    if errors:
        raise ForumError(errors)
    if meeting.capacity is not None and meeting.registrations.count() >= meeting.capacity:
        raise ForumError(_("This meeting is full."))
    duplicate = Q(user_id=user.pk) if user is not None else Q(email=email)
    if meeting.registrations.filter(duplicate).exists():
        raise ForumError(_("You are already registered for this meeting."))
    try:
        with transaction.atomic():
            return Registration.objects.create(
                community_id=meeting.community_id,
                meeting=meeting,
                user=user,
                name=name[:120],
                email=email,
            )
    except IntegrityError:
        raise ForumError(_("You are already registered for this meeting.")) from None


def record_attendance(
    meeting: Meeting, actor: User, attended_ids: set[int], walk_ins: int
) -> Meeting:
    """Mark who came (registration ids) and how many came without registering."""
    if not can(actor, "change", meeting):
        refuse(actor, "change", meeting)
    if walk_ins < 0:
        raise ForumError({"walk_ins": [_("Walk-ins cannot be negative.")]})
    with transaction.atomic():
        meeting.registrations.update(attended=False)
        meeting.registrations.filter(pk__in=attended_ids).update(attended=True)
        meeting.walk_ins = walk_ins
        meeting.save(update_fields=["walk_ins"])
        record_event(actor=actor, action="attendance", obj=meeting)
    return meeting


@dataclass
class ActionInput:
    """One action item to create."""

    title: str
    owner_name: str
    due_date: date | None
    description: str = ""
    owner_id: int | None = None
    concern_id: int | None = None


def _validate_action(community: Community, data: ActionInput, prefix: str = "") -> list[str]:
    problems = []
    if not (data.title or "").strip():
        problems.append(_("%(p)sthe action needs a title.") % {"p": prefix})
    if not (data.owner_name or "").strip():
        problems.append(_("%(p)sname who owns the action.") % {"p": prefix})
    if data.due_date is None:
        problems.append(_("%(p)sgive a due date.") % {"p": prefix})
    if data.owner_id is not None and not is_member(
        User.objects.filter(pk=data.owner_id).first(), community.pk
    ):
        problems.append(_("%(p)sthe owner must be a member of this community.") % {"p": prefix})
    if (
        data.concern_id is not None
        and not Concern.objects.filter(community=community, pk=data.concern_id).exists()
    ):
        problems.append(_("%(p)sthat concern is not in this community.") % {"p": prefix})
    return problems


def create_action_item(
    community: Community, actor: User, data: ActionInput, *, meeting: Meeting | None = None
) -> ActionItem:
    """Create one action item (staff); it shows on the public tracker at once."""
    if not _is_staff(actor, community):
        refuse(actor, "create", community)
    problems = _validate_action(community, data)
    if problems:
        raise ForumError({"action": problems})
    with transaction.atomic():
        item = _create_action(community, actor, data, meeting)
    return item


def _create_action(
    community: Community, actor: User, data: ActionInput, meeting: Meeting | None
) -> ActionItem:
    assert data.due_date is not None
    item = ActionItem.objects.create(
        community=community,
        meeting=meeting,
        concern_id=data.concern_id,
        title=data.title.strip(),
        description=(data.description or "").strip(),
        owner_id=data.owner_id,
        owner_name=data.owner_name.strip(),
        due_date=data.due_date,
    )
    if data.concern_id is not None:
        Concern.objects.filter(pk=data.concern_id, status__in=[*SUPPORTABLE]).update(
            status=ConcernStatus.IN_ACTION
        )
    record_event(actor=actor, action="create", obj=item)
    return item


def record_minutes(
    meeting: Meeting,
    actor: User,
    *,
    minutes: str,
    decisions: list[str],
    actions: list[ActionInput],
) -> list[ActionItem]:
    """Publish a meeting's minutes and decisions and create its action items.

    Everything is checked first and saved in one transaction: a bad action item leaves
    the meeting as it was. The meeting is marked as held.
    """
    if not can(actor, "change", meeting):
        refuse(actor, "change", meeting)
    errors = _errors()
    if not (minutes or "").strip():
        errors["minutes"] = [_("Write the minutes.")]
    if meeting.status == MeetingStatus.CANCELLED:
        errors["__all__"] = [_("This meeting was cancelled.")]
    if meeting.starts_at > timezone.now():
        errors["__all__"] = [_("Minutes can be recorded once the meeting has started.")]
    problems: list[str] = []
    for number, action in enumerate(actions, 1):
        problems += _validate_action(
            meeting.community, action, prefix=_("Action %(n)d: ") % {"n": number}
        )
    if problems:
        errors["actions"] = problems
    if errors:
        raise ForumError(errors)
    with transaction.atomic():
        meeting.minutes = minutes.strip()
        meeting.minutes_published_at = timezone.now()
        meeting.status = MeetingStatus.HELD
        meeting.save(update_fields=["minutes", "minutes_published_at", "status"])
        start = meeting.decisions.count()
        for offset, text in enumerate((d.strip() for d in decisions if d.strip()), 1):
            Decision.objects.create(
                community_id=meeting.community_id, meeting=meeting, text=text, order=start + offset
            )
        items = [_create_action(meeting.community, actor, a, meeting) for a in actions]
        record_event(
            actor=actor, action="minutes", obj=meeting, detail={"action_items": len(items)}
        )
    return items


def update_action(
    item: ActionItem,
    actor: User,
    *,
    progress: int,
    status: str,
    note: str = "",
    result: str = "",
) -> ActionItem:
    """Record progress on an action item (staff or its owner); public and audited.

    Completing the item sets progress to 100 %; when the last open action of a concern
    closes, the concern is marked resolved.
    """
    if not can(actor, "change", item):
        refuse(actor, "change", item)
    errors = _errors()
    if not isinstance(progress, int) or not 0 <= progress <= 100:
        errors["progress"] = [_("Progress is a percentage from 0 to 100.")]
    if status not in ActionStatus.values:
        errors["status"] = [_("Choose a status.")]
    if status in CLOSED_ACTION_STATUSES and not (result or item.result).strip():
        errors["result"] = [_("Say what was done (or why not) before closing the action.")]
    if errors:
        raise ForumError(errors)
    now = timezone.now()
    with transaction.atomic():
        if status == ActionStatus.COMPLETED:
            progress = 100
        elif status == ActionStatus.OPEN and progress > 0:
            status = ActionStatus.IN_PROGRESS
        item.progress = progress
        item.status = status
        if result.strip():
            item.result = result.strip()
        item.updated_at = now
        item.closed_at = now if status in CLOSED_ACTION_STATUSES else None
        item.save()
        ActionUpdate.objects.create(
            community_id=item.community_id,
            action_item=item,
            progress=progress,
            status=status,
            note=(note or "").strip(),
            author=actor,
        )
        if item.concern_id is not None and item.is_closed:
            still_open = ActionItem.objects.filter(concern_id=item.concern_id).exclude(
                status__in=CLOSED_ACTION_STATUSES
            )
            if not still_open.exists():
                Concern.objects.filter(pk=item.concern_id, status=ConcernStatus.IN_ACTION).update(
                    status=ConcernStatus.RESOLVED, closed_at=now
                )
        record_event(
            actor=actor, action="update", obj=item, detail={"progress": progress, "status": status}
        )
    return item


def tracker(
    community: Community, user: Any, *, include_closed: bool = False
) -> QuerySet[ActionItem]:
    """Action items on the public tracker: open ones until they are closed."""
    rows = ActionItem.objects.visible_to(user).filter(community=community)
    if not include_closed:
        rows = rows.exclude(status__in=CLOSED_ACTION_STATUSES)
    return rows.select_related("meeting", "concern").order_by("due_date", "pk")


def upcoming_meetings(community: Community, user: Any) -> QuerySet[Meeting]:
    """Scheduled meetings from now on."""
    return (
        Meeting.objects.visible_to(user)
        .filter(community=community, status=MeetingStatus.SCHEDULED, starts_at__gte=timezone.now())
        .select_related("area")
        .order_by("starts_at")
    )


def past_meetings(community: Community, user: Any) -> QuerySet[Meeting]:
    """Meetings held, cancelled or past, newest first."""
    now = timezone.now()
    return (
        Meeting.objects.visible_to(user)
        .filter(community=community)
        .filter(Q(starts_at__lt=now) | ~Q(status=MeetingStatus.SCHEDULED))
        .select_related("area")
        .order_by("-starts_at")
    )
