"""Domain operations on reports and tips.

The report page, the JSON API, Open311 and the CLI all call these functions; none of them
writes report rows directly. Every create and change is audited. Nothing here ever sees
the client's address: rate limiting happens at the edge with a pseudonymous key.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from shapely.geometry import Point

from beacon.core.access import member_community_ids
from beacon.core.audit import record_event
from beacon.core.jobs import enqueue_on_commit
from beacon.core.models import AreaKind, Community, User
from beacon.core.roles import STAFF_ROLES
from beacon.core.services import area_at, community_boundary
from beacon.officers.models import BeatAssignment
from beacon.reports import geocode, tips
from beacon.reports.models import (
    OPEN_STATUSES,
    TRANSITIONS,
    Category,
    Datatype,
    Privacy,
    Question,
    Report,
    ReportPhoto,
    ReportUpdate,
    Source,
    Status,
    UpdateKind,
    Visibility,
)
from beacon.reports.photos import MAX_PHOTOS, CleanPhoto, PhotoError, clean_photo

logger = logging.getLogger(__name__)

DESCRIPTION_MAX = 4000  # Open311 GeoReport v2 limits descriptions to 4,000 characters
BODY_MAX = 4000
STRING_MAX = 300
NEARBY_METRES = 250
NEARBY_DAYS = 14
ANONYMOUS_LABEL = "anonymous reporter"


class ReportError(ValueError):
    """A submission or change that cannot be accepted; ``errors`` maps field to messages.

    Nothing was stored when this is raised.
    """

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(
            "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
        )


@dataclass
class PhotoUpload:
    """An uploaded file's name and bytes, before checking."""

    name: str
    data: bytes


@dataclass
class Submission:
    """What a resident or partner sends to file a report."""

    category: str
    description: str
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    photos: Sequence[PhotoUpload] = ()
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    source: str = Source.WEB
    reporter: User | None = None
    open311_key: Any = None
    watch_group: Any = None  # a beacon.watch WatchGroup the reporter filed it through


@dataclass
class Filed:
    """A new report and the passphrase shown to its reporter once."""

    report: Report
    passphrase: str


# --- categories -------------------------------------------------------------------------


def categories_for(community: Community) -> QuerySet[Category]:
    """The active categories of a community with their questions."""
    return Category.objects.filter(community=community, active=True).prefetch_related("questions")


def save_category(
    community: Community,
    code: str,
    *,
    actor: User | None = None,
    questions: Iterable[dict[str, Any]] = (),
    **fields: Any,
) -> Category:
    """Create or update a category and replace its questions; audited."""
    with transaction.atomic():
        category, created = Category.objects.update_or_create(
            community=community, code=code, defaults=fields
        )
        questions = list(questions)
        if questions:
            Question.objects.filter(category=category).delete()
            for order, spec in enumerate(questions, 1):
                Question.objects.create(community=community, category=category, order=order, **spec)
        record_event(actor=actor, action="create" if created else "update", obj=category)
    return category


# --- locations --------------------------------------------------------------------------


def masked_location(community: Community, lat: float, lon: float) -> tuple[float, float] | None:
    """The public point for a report: the incidents app's masking, or None without it.

    Without masking the report stays off the public map rather than show the pin.
    """
    try:
        from beacon.incidents.privacy import public_location
    except ImportError as exc:
        if exc.name not in ("beacon.incidents", "beacon.incidents.privacy"):
            raise
        logger.warning("Location masking is unavailable; reports stay off the public map.")
        return None
    point = public_location(community, lat, lon)
    return float(point[0]), float(point[1])


def refresh_public_locations(community: Community) -> int:
    """Fill in masked locations that are missing (e.g. filed before masking existed)."""
    count = 0
    for report in Report.objects.filter(community=community, public_lat__isnull=True):
        point = masked_location(community, report.lat, report.lon)
        if point is None:
            break
        Report.objects.filter(pk=report.pk).update(public_lat=point[0], public_lon=point[1])
        count += 1
    return count


def inside_community(community: Community, lat: float, lon: float) -> bool:
    """Whether a point lies in the community's boundary (any point if none is set)."""
    boundary = community_boundary(community)
    if boundary is None:
        return True
    return bool(boundary.covers(Point(lon, lat)))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def nearby_open_reports(
    community: Community,
    category: Category,
    lat: float,
    lon: float,
    radius_m: float = NEARBY_METRES,
    days: int = NEARBY_DAYS,
) -> list[Report]:
    """Open public reports of the same category near a point, for a resident to support.

    The pin is masked the same way reports are, and distances are measured between
    masked points only, so probing with pins cannot locate anyone's report more finely
    than the public map already shows it. Staff-only categories are never offered.
    """
    if not category.is_public:
        return []
    masked = masked_location(community, lat, lon)
    if masked is None:
        return []
    lat, lon = masked
    since = timezone.now() - timedelta(days=days)
    pad = radius_m / 111_000 * 1.1
    rows = Report.objects.filter(
        community=community,
        category=category,
        status__in=OPEN_STATUSES,
        merged_into__isnull=True,
        created_at__gte=since,
        public_lat__range=(lat - pad, lat + pad),
        public_lon__range=(lon - pad * 2, lon + pad * 2),
    ).order_by("-created_at")
    found = []
    for report in rows[:200]:
        assert report.public_lat is not None and report.public_lon is not None
        if distance_m(lat, lon, report.public_lat, report.public_lon) <= radius_m:
            found.append(report)
    return found[:10]


# --- validation -------------------------------------------------------------------------


def _clean_answer(question: Question, raw: Any) -> tuple[Any, str | None]:
    """The stored form of one answer, or an error message."""
    values = raw if isinstance(raw, list | tuple) else ([] if raw in (None, "") else [raw])
    values = [str(v).strip() for v in values if str(v).strip() != ""]
    if not values:
        if question.required:
            return None, _("This question needs an answer.")
        return None, None
    if question.datatype != Datatype.MULTI and len(values) > 1:
        return None, _("Give one answer only.")
    value = values[0]
    if question.datatype == Datatype.STRING:
        if "\n" in value or len(value) > STRING_MAX:
            return None, _("Use one line of at most %(n)d characters.") % {"n": STRING_MAX}
        return value, None
    if question.datatype == Datatype.TEXT:
        if len(value) > BODY_MAX:
            return None, _("Use at most %(n)d characters.") % {"n": BODY_MAX}
        return value, None
    if question.datatype == Datatype.NUMBER:
        try:
            number = float(value)
        except ValueError:
            return None, _("Enter a number.")
        if not math.isfinite(number):
            return None, _("Enter a number.")
        return (int(number) if number.is_integer() else number), None
    if question.datatype == Datatype.DATETIME:
        moment: datetime | None = None
        try:
            moment = parse_datetime(value)
            if moment is None:
                day = parse_date(value)
                moment = datetime(day.year, day.month, day.day) if day else None
        except ValueError:
            moment = None
        if moment is None:
            return None, _("Enter a date and time such as 2024-05-01T21:30.")
        return moment.isoformat(), None
    keys = question.choice_keys()
    unknown = [v for v in values if v not in keys]
    if unknown:
        return None, _("Choose from the listed options (not %(value)s).") % {
            "value": ", ".join(unknown)
        }
    if question.datatype == Datatype.SINGLE:
        return value, None
    return list(dict.fromkeys(values)), None


def _coordinate(value: Any) -> float | None:
    if value in (None, ""):
        return None
    number = float(value)
    if not math.isfinite(number):
        raise ValueError
    return number


@dataclass
class _Checked:
    category: Category
    lat: float
    lon: float
    address: str
    description: str
    answers: dict[str, Any]
    photos: list[CleanPhoto]


def resolve_category(community: Community, code: str) -> Category | None:
    """The active category of ``community`` with this code (or numeric id)."""
    code = (code or "").strip()
    if not code:
        return None
    categories = Category.objects.filter(community=community, active=True)
    found = categories.filter(code=code).first()
    if found is None and code.isdigit():
        found = categories.filter(pk=int(code)).first()
    return found


def validate_submission(community: Community, submission: Submission) -> _Checked:
    """Check everything about a submission and collect every problem at once."""
    errors: dict[str, list[str]] = {}

    def problem(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    category = resolve_category(community, submission.category)
    if category is None:
        if submission.category:
            problem(
                "category",
                _("Unknown category %(code)r; choose one of this community's categories.")
                % {"code": submission.category},
            )
        else:
            problem("category", _("Choose a category."))
    description = (submission.description or "").strip()
    if not description:
        problem("description", _("Describe what you saw."))
    elif len(description) > DESCRIPTION_MAX:
        problem(
            "description",
            _("The description is %(length)d characters long; the limit is %(limit)d.")
            % {"length": len(description), "limit": DESCRIPTION_MAX},
        )
    address = (submission.address or "").strip()
    if len(address) > STRING_MAX:
        problem("address", _("The address is too long."))
    lat = lon = None
    try:
        lat, lon = _coordinate(submission.lat), _coordinate(submission.lon)
    except (TypeError, ValueError):
        problem("location", _("Latitude and longitude must be numbers."))
    if (lat is None) != (lon is None):
        problem("location", _("Give both latitude and longitude."))
        lat = lon = None
    if lat is not None and lon is not None:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            problem("location", _("Those coordinates are not on Earth."))
        elif not inside_community(community, lat, lon):
            problem(
                "location",
                _("That point is outside %(community)s; put the pin inside the area it serves.")
                % {"community": community.name},
            )
    elif "location" not in errors:
        if address:
            places = geocode.geocode(community, address, limit=1)
            if places:
                lat, lon = places[0].lat, places[0].lon
            else:
                problem(
                    "location",
                    _("No address in %(community)s matches %(address)r; put a pin on the map.")
                    % {"community": community.name, "address": address},
                )
        else:
            problem(
                "location",
                _("Put a pin on the map, type an address or use your location."),
            )
    answers: dict[str, Any] = {}
    if category is not None:
        raw_answers = submission.answers or {}
        for question in category.questions.all():
            value, error = _clean_answer(question, raw_answers.get(question.code))
            if error:
                problem(f"answers.{question.code}", f"{question.prompt}: {error}")
            elif value is not None:
                answers[question.code] = value
    email = (submission.contact_email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problem("contact_email", _("Enter a valid email address, or leave it empty."))
    if len(submission.contact_name or "") > 120:
        problem("contact_name", _("The name is too long."))
    if len(submission.contact_phone or "") > 40:
        problem("contact_phone", _("The phone number is too long."))
    photos: list[CleanPhoto] = []
    if len(submission.photos) > MAX_PHOTOS:
        problem("photos", _("Attach at most %(n)d photos.") % {"n": MAX_PHOTOS})
    else:
        for upload in submission.photos:
            try:
                photos.append(clean_photo(upload.data, upload.name or _("a photo")))
            except PhotoError as exc:
                problem("photos", str(exc))
    if errors:
        raise ReportError(errors)
    assert category is not None and lat is not None and lon is not None
    return _Checked(category, lat, lon, address, description, answers, photos)


# --- filing -----------------------------------------------------------------------------


def _unique_tip_code() -> str:
    for _attempt in range(10):
        code = tips.new_tip_code()
        if not Report.objects.filter(tip_code=code).exists():
            return code
    raise RuntimeError("could not find a free tip code")


def file_report(community: Community, submission: Submission) -> Filed:
    """Validate and store a report with its photos; all of it or nothing.

    The reporter gets a tip code and a passphrase (returned here, shown once; only its
    Argon2 hash is kept). The report goes to the beat holding its location.
    """
    checked = validate_submission(community, submission)
    passphrase = tips.new_passphrase()
    passphrase_hash = tips.hash_passphrase(passphrase)
    masked = masked_location(community, checked.lat, checked.lon)
    beat = area_at(community, AreaKind.BEAT, checked.lat, checked.lon)
    now = timezone.now()
    stored: list[ReportPhoto] = []
    try:
        with transaction.atomic():
            report = Report.objects.create(
                community=community,
                category=checked.category,
                description=checked.description,
                answers=checked.answers,
                lat=checked.lat,
                lon=checked.lon,
                address=checked.address,
                public_lat=masked[0] if masked else None,
                public_lon=masked[1] if masked else None,
                beat=beat,
                reporter=submission.reporter,
                contact_name=(submission.contact_name or "").strip(),
                contact_email=(submission.contact_email or "").strip(),
                contact_phone=(submission.contact_phone or "").strip(),
                tip_code=_unique_tip_code(),
                passphrase_hash=passphrase_hash,
                source=submission.source,
                open311_key=submission.open311_key,
                watch_group=submission.watch_group,
                created_at=now,
                updated_at=now,
                response_due_at=now + timedelta(hours=checked.category.response_hours),
            )
            for index, photo in enumerate(checked.photos, 1):
                row = ReportPhoto(
                    community=community,
                    report=report,
                    content_type=photo.content_type,
                    width=photo.width,
                    height=photo.height,
                    size=len(photo.content),
                )
                row.image.save(
                    f"{report.token}-{index}.{photo.extension}",
                    ContentFile(photo.content),
                    save=False,
                )
                stored.append(row)
                row.save()
            record_event(
                actor=submission.reporter,
                actor_label=None if submission.reporter else ANONYMOUS_LABEL,
                action="create",
                obj=report,
                detail={
                    "category": checked.category.code,
                    "source": submission.source,
                    "photos": len(checked.photos),
                    "beat": beat.name if beat else "",
                    "watch_group": getattr(submission.watch_group, "pk", None),
                },
            )
    except BaseException:
        for row in stored:  # the rows rolled back; their files must go too
            row.image.delete(save=False)
        raise
    return Filed(report, passphrase)


def support_report(report: Report) -> Report:
    """Count one more resident supporting an existing report; audited."""
    with transaction.atomic():
        Report.objects.filter(pk=report.pk).update(supporters=F("supporters") + 1)
        record_event(actor_label=ANONYMOUS_LABEL, action="support", obj=report)
    report.refresh_from_db(fields=["supporters"])
    return report


# --- the staff queue --------------------------------------------------------------------


def active_beats(user: Any, community: Community) -> QuerySet[Any]:
    """Ids of the beats ``user`` works today."""
    today = timezone.localdate()
    return (
        BeatAssignment.objects.filter(
            community=community, officer_id=user.pk, started_on__lte=today
        )
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=today))
        .values("beat_id")
    )


def beat_officers(community: Community, beat_id: int | None) -> list[User]:
    """The officers working a beat today."""
    if beat_id is None:
        return []
    today = timezone.localdate()
    ids = (
        BeatAssignment.objects.filter(community=community, beat_id=beat_id, started_on__lte=today)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=today))
        .values("officer_id")
    )
    return list(User.objects.filter(pk__in=ids).order_by("email"))


AGES = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}


@dataclass
class QueueFilter:
    """The staff queue's filters; empty values mean "any"."""

    status: list[str] = field(default_factory=list)
    category: str = ""
    beat: int | None = None
    age: str = ""  # day, week, month (newer than) or "older" (than a month)
    overdue: bool = False
    mine: bool = False  # the user's beats and assignments


def queue(user: Any, community: Community, filters: QueueFilter | None = None) -> QuerySet[Report]:
    """Reports ``user`` may triage in ``community``, overdue first, then newest."""
    filters = filters or QueueFilter()
    now = timezone.now()
    rows = (
        Report.objects.restrict(user, "change")
        .filter(community=community)
        .select_related("category", "beat", "assigned_to", "watch_group")
    )
    if filters.status:
        rows = rows.filter(status__in=filters.status)
    if filters.category:
        rows = rows.filter(category__code=filters.category)
    if filters.beat:
        rows = rows.filter(beat_id=filters.beat)
    if filters.age in AGES:
        rows = rows.filter(created_at__gte=now - AGES[filters.age])
    elif filters.age == "older":
        rows = rows.filter(created_at__lt=now - AGES["month"])
    if filters.overdue:
        rows = rows.filter(status=Status.NEW, response_due_at__lt=now)
    if filters.mine:
        rows = rows.filter(Q(beat_id__in=active_beats(user, community)) | Q(assigned_to=user.pk))
    return rows.annotate(
        overdue_rank=Case(
            When(status=Status.NEW, response_due_at__lt=now, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    ).order_by("-overdue_rank", "-created_at", "-pk")


# --- staff changes ----------------------------------------------------------------------


def _notify(update: ReportUpdate) -> None:
    if update.visibility == Visibility.INTERNAL or update.from_reporter:
        return
    from beacon.notify.services import notify_report_update
    from beacon.reports.tasks import notify_reporter

    enqueue_on_commit(notify_reporter, update.pk)
    # The reporter's own alert subscriptions (SMS, webhook, other addresses), written to
    # the outbox in this transaction.
    notify_report_update(update)


def _new_update(report: Report, **fields: Any) -> ReportUpdate:
    update = ReportUpdate.objects.create(community_id=report.community_id, report=report, **fields)
    Report.objects.filter(pk=report.pk).update(updated_at=update.created_at)
    report.updated_at = update.created_at
    return update


def _apply_status(report: Report, new_status: str, now: datetime) -> str:
    old = report.status
    report.status = new_status
    if old == Status.NEW and report.acknowledged_at is None:
        report.acknowledged_at = now
    if new_status == Status.RESOLVED:
        report.resolved_at = now
    if new_status == Status.CLOSED:
        report.closed_at = now
    if new_status in OPEN_STATUSES and old in (Status.RESOLVED, Status.CLOSED):
        report.resolved_at = None
        report.closed_at = None
        report.reopened_at = now
    report.updated_at = now
    report.save()
    return old


def change_status(
    report: Report,
    new_status: str,
    *,
    actor: User,
    message: str = "",
    visibility: str = Visibility.PUBLIC,
) -> ReportUpdate:
    """Move a report along the workflow, with an optional message; audited."""
    if new_status not in Status.values:
        raise ReportError({"status": [_("Unknown status %(s)r.") % {"s": new_status}]})
    if new_status not in TRANSITIONS[report.status]:
        raise ReportError(
            {
                "status": [
                    _("A report that is %(old)s cannot become %(new)s.")
                    % {"old": report.get_status_display(), "new": Status(new_status).label}
                ]
            }
        )
    _check_body(message, required=False)
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        old = _apply_status(report, new_status, timezone.now())
        update = _new_update(
            report,
            kind=UpdateKind.STATUS,
            visibility=visibility,
            body=message.strip(),
            author=actor,
            status_from=old,
            status_to=new_status,
        )
        record_event(
            actor=actor,
            action="update",
            obj=report,
            detail={"status": [old, new_status], "visibility": visibility},
        )
        _notify(update)
    return update


def _check_body(body: str, *, required: bool = True) -> None:
    text = (body or "").strip()
    if required and not text:
        raise ReportError({"body": [_("Write a message.")]})
    if len(text) > BODY_MAX:
        raise ReportError(
            {
                "body": [
                    _("The message is %(length)d characters long; the limit is %(limit)d.")
                    % {"length": len(text), "limit": BODY_MAX}
                ]
            }
        )


def add_update(report: Report, body: str, *, actor: User, visibility: str) -> ReportUpdate:
    """Write an internal note, a public update or a question to the reporter; audited.

    A public update or question on a new report is its first response, so it also
    acknowledges the report.
    """
    if visibility not in Visibility.values:
        raise ReportError({"visibility": [_("Unknown visibility %(v)r.") % {"v": visibility}]})
    _check_body(body)
    kind = {
        Visibility.INTERNAL: UpdateKind.NOTE,
        Visibility.PUBLIC: UpdateKind.UPDATE,
        Visibility.REPORTER: UpdateKind.QUESTION,
    }[Visibility(visibility)]
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        old = report.status
        if visibility != Visibility.INTERNAL and report.status == Status.NEW:
            _apply_status(report, Status.ACKNOWLEDGED, timezone.now())
        update = _new_update(
            report,
            kind=kind,
            visibility=visibility,
            body=body.strip(),
            author=actor,
            status_from=old if old != report.status else "",
            status_to=report.status if old != report.status else "",
        )
        record_event(
            actor=actor,
            action="update",
            obj=report,
            detail={"update": kind, "visibility": visibility, "status": [old, report.status]},
        )
        _notify(update)
    return update


def assign(report: Report, officer: User | None, *, actor: User) -> Report:
    """Assign a report to a staff member of its community (or nobody); audited."""
    if (
        officer is not None
        and not (
            member_community_ids(officer, STAFF_ROLES).filter(community_id=report.community_id)
        ).exists()
    ):
        raise ReportError({"assigned_to": [_("Assign the report to a member of staff.")]})
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        report.assigned_to = officer
        report.updated_at = timezone.now()
        report.save(update_fields=["assigned_to", "updated_at"])
        _new_update(
            report,
            kind=UpdateKind.ASSIGN,
            visibility=Visibility.INTERNAL,
            body=str(officer) if officer else _("Unassigned"),
            author=actor,
        )
        record_event(
            actor=actor,
            action="update",
            obj=report,
            detail={"assigned_to": officer.email if officer else None},
        )
    return report


def merge(duplicate: Report, into: Report, *, actor: User) -> Report:
    """Close ``duplicate`` as a duplicate of ``into``; its supporters carry over; audited."""
    if duplicate.pk == into.pk:
        raise ReportError({"into": [_("A report cannot be merged into itself.")]})
    if duplicate.community_id != into.community_id:
        raise ReportError({"into": [_("Both reports must belong to the same community.")]})
    if into.merged_into_id is not None:
        raise ReportError({"into": [_("That report was itself merged; merge into its target.")]})
    with transaction.atomic():
        duplicate = Report.objects.select_for_update().get(pk=duplicate.pk)
        into = Report.objects.select_for_update().get(pk=into.pk)
        if duplicate.merged_into_id is not None:
            raise ReportError({"report": [_("This report was already merged.")]})
        old = duplicate.status
        now = timezone.now()
        duplicate.merged_into = into
        duplicate.status = Status.CLOSED
        duplicate.closed_at = now
        duplicate.acknowledged_at = duplicate.acknowledged_at or now
        duplicate.updated_at = now
        duplicate.save()
        Report.objects.filter(pk=into.pk).update(
            supporters=F("supporters") + duplicate.supporters + 1
        )
        update = _new_update(
            duplicate,
            kind=UpdateKind.MERGE,
            visibility=Visibility.PUBLIC,
            body=_("This is a duplicate of report #%(id)s; follow that report for updates.")
            % {"id": into.pk},
            author=actor,
            status_from=old,
            status_to=Status.CLOSED,
        )
        _new_update(
            into,
            kind=UpdateKind.MERGE,
            visibility=Visibility.INTERNAL,
            body=_("Report #%(id)s was merged into this one.") % {"id": duplicate.pk},
            author=actor,
        )
        record_event(actor=actor, action="merge", obj=duplicate, detail={"into": into.pk})
        record_event(actor=actor, action="update", obj=into, detail={"merged": duplicate.pk})
        _notify(update)
    into.refresh_from_db()
    return into


# --- the reporter's side ----------------------------------------------------------------


def reporter_reply(report: Report, body: str, *, user: User | None = None) -> ReportUpdate:
    """The reporter answers a question or adds information; audited without identity."""
    _check_body(body)
    with transaction.atomic():
        update = _new_update(
            report,
            kind=UpdateKind.REPLY,
            visibility=Visibility.REPORTER,
            body=body.strip(),
            author=user,
            from_reporter=True,
        )
        record_event(
            actor=user,
            actor_label=None if user else ANONYMOUS_LABEL,
            action="update",
            obj=report,
            detail={"update": UpdateKind.REPLY},
        )
    return update


def reopen(report: Report, body: str, *, user: User | None = None) -> ReportUpdate:
    """The reporter reopens a report resolved within the last 30 days; audited."""
    if not report.can_reopen:
        raise ReportError(
            {"status": [_("Only a report resolved in the last 30 days can be reopened.")]}
        )
    _check_body(body, required=False)
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        old = _apply_status(report, Status.IN_PROGRESS, timezone.now())
        update = _new_update(
            report,
            kind=UpdateKind.REOPEN,
            visibility=Visibility.REPORTER,
            body=(body or "").strip(),
            author=user,
            from_reporter=True,
            status_from=old,
            status_to=Status.IN_PROGRESS,
        )
        record_event(
            actor=user,
            actor_label=None if user else ANONYMOUS_LABEL,
            action="update",
            obj=report,
            detail={"status": [old, Status.IN_PROGRESS], "reopened": True},
        )
    return update


def answer_survey(report: Report, rating: int, *, user: User | None = None) -> Report:
    """Record the reporter's 1–5 satisfaction with how a resolved report was handled."""
    if report.status not in (Status.RESOLVED, Status.CLOSED) or report.resolved_at is None:
        raise ReportError({"rating": [_("The survey opens once the report is resolved.")]})
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ReportError({"rating": [_("Choose a rating from 1 to 5.")]})
    with transaction.atomic():
        Report.objects.filter(pk=report.pk).update(
            satisfaction=rating, satisfaction_at=timezone.now()
        )
        record_event(
            actor=user,
            actor_label=None if user else ANONYMOUS_LABEL,
            action="update",
            obj=report,
            detail={"satisfaction": rating},
        )
    report.refresh_from_db()
    return report


def reporter_thread(report: Report) -> QuerySet[ReportUpdate]:
    """What the reporter sees of the thread: everything but internal notes."""
    return report.updates.exclude(visibility=Visibility.INTERNAL).select_related("author")


def public_thread(report: Report) -> QuerySet[ReportUpdate]:
    """What the public sees of a public report's thread."""
    if report.category.privacy != Privacy.PUBLIC:
        return report.updates.none()
    return report.updates.filter(visibility=Visibility.PUBLIC)
