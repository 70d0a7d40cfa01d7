"""Officer operations: profiles, beat assignments, "your officer", activity and workload."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

from beacon.core import geo
from beacon.core.access import member_community_ids
from beacon.core.audit import record_event
from beacon.core.models import Area, AreaKind, Community, User
from beacon.core.roles import Role
from beacon.core.services import area_at
from beacon.officers.models import ActivityEntry, ActivityKind, BeatAssignment, OfficerProfile

INTRO_MAX = 2000
SUMMARY_MAX = 2000
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class OfficerError(ValueError):
    """Input that cannot be accepted; ``errors`` maps field to messages. Nothing stored."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


# --- assignments ------------------------------------------------------------------------


def current(rows: QuerySet[BeatAssignment], on: date | None = None) -> QuerySet[BeatAssignment]:
    """Assignments running on ``on`` (today by default)."""
    day = on or timezone.localdate()
    return rows.filter(started_on__lte=day).filter(Q(ended_on__isnull=True) | Q(ended_on__gte=day))


def active_beat_ids(user: Any, community: Community) -> QuerySet[Any]:
    """Ids of the beats ``user`` works today (a subquery)."""
    rows = BeatAssignment.objects.filter(community=community, officer_id=user.pk)
    return current(rows).values("beat_id")


def beat_officers(community: Community, beat_id: int | None) -> list[User]:
    """The officers working a beat today."""
    if beat_id is None:
        return []
    rows = current(BeatAssignment.objects.filter(community=community, beat_id=beat_id))
    return list(User.objects.filter(pk__in=rows.values("officer_id")).order_by("email"))


def assign_beat(
    beat: Area, officer: User, *, actor: User | None, started_on: date | None = None
) -> BeatAssignment:
    """Put an officer on a beat from a day (today by default); audited."""
    if beat.kind != AreaKind.BEAT:
        raise OfficerError({"beat": [_("Choose a beat.")]})
    if (
        not member_community_ids(officer, frozenset({Role.OFFICER, Role.SUPERVISOR}))
        .filter(community_id=beat.community_id)
        .exists()
    ):
        raise OfficerError({"officer": [_("Only officers and supervisors can work a beat.")]})
    started_on = started_on or timezone.localdate()
    existing = current(
        BeatAssignment.objects.filter(beat=beat, officer=officer), started_on
    ).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        assignment = BeatAssignment.objects.create(
            community_id=beat.community_id, beat=beat, officer=officer, started_on=started_on
        )
        record_event(actor=actor, action="create", obj=assignment, detail={"beat": beat.name})
    return assignment


def end_assignment(
    assignment: BeatAssignment, *, actor: User | None, ended_on: date | None = None
) -> BeatAssignment:
    """End an assignment (it stays in the beat's history); audited."""
    ended_on = ended_on or timezone.localdate()
    if ended_on < assignment.started_on:
        raise OfficerError({"ended_on": [_("An assignment cannot end before it started.")]})
    with transaction.atomic():
        assignment.ended_on = ended_on
        assignment.save(update_fields=["ended_on"])
        record_event(
            actor=actor, action="update", obj=assignment, detail={"ended_on": str(ended_on)}
        )
    return assignment


def assignment_history(beat: Area) -> list[BeatAssignment]:
    """Every assignment of a beat, newest first."""
    return list(
        BeatAssignment.objects.filter(beat=beat)
        .select_related("officer")
        .order_by("-started_on", "-pk")
    )


def beat_broadcast_areas(user: User, community: Community) -> list[BaseGeometry]:
    """Officers may broadcast inside the beats they work today."""
    beats = Area.objects.filter(pk__in=active_beat_ids(user, community))
    return [geo.parse_area_geometry(b.geometry) for b in beats]


# --- "your officer" ---------------------------------------------------------------------


@dataclass
class YourOfficer:
    """The beat holding a point and the officers working it, with their public profiles."""

    beat: Area | None
    officers: list[tuple[User, OfficerProfile | None]] = field(default_factory=list)


def officers_at(community: Community, lat: float, lon: float) -> YourOfficer:
    """Who polices the beat holding a point today."""
    beat = area_at(community, AreaKind.BEAT, lat, lon)
    if beat is None:
        return YourOfficer(None)
    officers = beat_officers(community, beat.pk)
    profiles = {
        p.user_id: p
        for p in OfficerProfile.objects.filter(
            community=community, user__in=officers, published=True
        )
    }
    return YourOfficer(beat, [(o, profiles.get(o.pk)) for o in officers])


def officers_at_address(community: Community, address: str) -> tuple[YourOfficer, str]:
    """Geocode a typed address and answer as :func:`officers_at`, with the place found."""
    from beacon.reports.geocode import geocode

    places = geocode(community, address, limit=1)
    if not places:
        raise OfficerError(
            {
                "address": [
                    _("No address in %(c)s matches that; click the map instead.")
                    % {"c": community.name}
                ]
            }
        )
    place = places[0]
    return officers_at(community, place.lat, place.lon), place.label


def public_profiles(community: Community) -> list[tuple[OfficerProfile, list[Area]]]:
    """Published profiles with the beats each officer works today."""
    profiles = list(OfficerProfile.objects.filter(community=community, published=True))
    beats: dict[int, list[Area]] = defaultdict(list)
    for row in current(BeatAssignment.objects.filter(community=community)).select_related("beat"):
        beats[row.officer_id].append(row.beat)
    return [(p, sorted(beats.get(p.user_id, []), key=lambda a: a.name)) for p in profiles]


# --- profiles ---------------------------------------------------------------------------


def _clean_hours(value: Any) -> list[dict[str, str]]:
    if not value:
        return []
    if not isinstance(value, list):
        raise OfficerError({"office_hours": [_("Give office hours as a list.")]})
    cleaned = []
    for index, row in enumerate(value, 1):
        if not isinstance(row, dict):
            raise OfficerError({"office_hours": [_("Line %(n)d is not readable.") % {"n": index}]})
        day, start, end = (
            str(row.get("day", "")),
            str(row.get("start", "")),
            str(row.get("end", "")),
        )
        if day not in DAYS or not _TIME.match(start) or not _TIME.match(end) or start >= end:
            raise OfficerError(
                {
                    "office_hours": [
                        _(
                            "Line %(n)d: write a weekday and a time range such as "
                            "Tuesday 10:00-12:00."
                        )
                        % {"n": index}
                    ]
                }
            )
        cleaned.append(
            {"day": day, "start": start, "end": end, "place": str(row.get("place", ""))[:200]}
        )
    return cleaned


def parse_office_hours(text: str) -> list[dict[str, str]]:
    """Read office hours typed one per line: "Tuesday 10:00-12:00 Community centre"."""
    rows = []
    for line in (text or "").splitlines():
        parts = line.strip().split(None, 2)
        if not parts:
            continue
        times = parts[1].split("-", 1) if len(parts) > 1 else ["", ""]
        rows.append(
            {
                "day": parts[0].capitalize(),
                "start": times[0],
                "end": times[1] if len(times) > 1 else "",
                "place": parts[2] if len(parts) > 2 else "",
            }
        )
    return _clean_hours(rows)


def save_profile(
    community: Community,
    user: User,
    *,
    actor: User,
    photo: tuple[str, bytes] | None = None,
    **fields: Any,
) -> OfficerProfile:
    """Create or update an officer's public profile; the photo is re-encoded; audited."""
    from beacon.reports.photos import PhotoError, clean_photo

    errors: dict[str, list[str]] = {}
    if (
        not member_community_ids(user, frozenset({Role.OFFICER, Role.SUPERVISOR}))
        .filter(community_id=community.pk)
        .exists()
    ):
        raise OfficerError({"user": [_("Profiles are for officers and supervisors.")]})
    name = str(fields.get("display_name") or user.display_name or "").strip()
    if not name:
        errors["display_name"] = [_("Give the name residents will see.")]
    if len(str(fields.get("introduction") or "")) > INTRO_MAX:
        errors["introduction"] = [_("At most %(n)d characters.") % {"n": INTRO_MAX}]
    email = str(fields.get("contact_email") or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["contact_email"] = [_("Enter a valid email address.")]
    try:
        fields["office_hours"] = _clean_hours(fields.get("office_hours"))
    except OfficerError as exc:
        errors.update(exc.errors)
    languages = fields.get("languages") or []
    fields["languages"] = [str(x).strip()[:40] for x in languages if str(x).strip()][:12]
    cleaned_photo = None
    if photo is not None:
        try:
            cleaned_photo = clean_photo(photo[1], photo[0])
        except PhotoError as exc:
            errors["photo"] = [str(exc)]
    if errors:
        raise OfficerError(errors)
    allowed = {
        "title",
        "introduction",
        "languages",
        "office_hours",
        "contact_email",
        "contact_phone",
        "contact_note",
        "published",
    }
    values = {k: v for k, v in fields.items() if k in allowed}
    with transaction.atomic():
        profile, created = OfficerProfile.objects.update_or_create(
            community=community, user=user, defaults={"display_name": name, **values}
        )
        if cleaned_photo is not None:
            profile.photo.save(
                f"officer-{profile.pk}.{cleaned_photo.extension}",
                ContentFile(cleaned_photo.content),
                save=True,
            )
        record_event(actor=actor, action="create" if created else "update", obj=profile)
    return profile


# --- activity ---------------------------------------------------------------------------


def log_activity(
    community: Community,
    officer: User,
    *,
    kind: str,
    minutes: Any,
    occurred_on: date | None = None,
    people: Any = 0,
    summary: str = "",
    beat: Area | None = None,
    problem_ref: str = "",
) -> ActivityEntry:
    """Record a contact, meeting, patrol or problem task with the time spent; audited.

    Without a beat, the entry goes to the officer's beat when they work exactly one.
    """
    errors: dict[str, list[str]] = {}
    if kind not in ActivityKind.values:
        errors["kind"] = [_("Choose what kind of work this was.")]
    try:
        minutes = int(minutes)
        if not 1 <= minutes <= 24 * 60:
            raise ValueError
    except (TypeError, ValueError):
        errors["minutes"] = [_("Give the time spent in minutes, from 1 to 1,440.")]
    try:
        people = int(people or 0)
        if not 0 <= people <= 10_000:
            raise ValueError
    except (TypeError, ValueError):
        errors["people"] = [_("Give the number of people contacted (0 or more).")]
    occurred_on = occurred_on or timezone.localdate()
    if occurred_on > timezone.localdate():
        errors["occurred_on"] = [_("The date cannot be in the future.")]
    if len(summary or "") > SUMMARY_MAX:
        errors["summary"] = [_("At most %(n)d characters.") % {"n": SUMMARY_MAX}]
    if beat is not None and (beat.community_id != community.pk or beat.kind != AreaKind.BEAT):
        errors["beat"] = [_("Choose a beat of this community.")]
    if errors:
        raise OfficerError(errors)
    if beat is None:
        beats = list(Area.objects.filter(pk__in=active_beat_ids(officer, community))[:2])
        beat = beats[0] if len(beats) == 1 else None
    with transaction.atomic():
        entry = ActivityEntry.objects.create(
            community=community,
            officer=officer,
            beat=beat,
            kind=kind,
            minutes=minutes,
            people=people,
            occurred_on=occurred_on,
            summary=(summary or "").strip(),
            problem_ref=(problem_ref or "").strip()[:100],
        )
        record_event(actor=officer, action="create", obj=entry, detail={"kind": kind})
    return entry


@dataclass
class BeatWorkload:
    """One row of the supervisor view."""

    beat: Area
    officers: list[User]
    entries: int = 0
    minutes: int = 0
    people: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    open_reports: int = 0

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)


def workload(community: Community, days: int = 30) -> list[BeatWorkload]:
    """Per beat: who works it, community work logged, time spent, contacts, open reports."""
    since = timezone.localdate() - timedelta(days=days)
    beats = list(Area.objects.filter(community=community, kind=AreaKind.BEAT).order_by("name"))
    officers: dict[int, list[User]] = defaultdict(list)
    for assignment in current(BeatAssignment.objects.filter(community=community)).select_related(
        "officer"
    ):
        officers[assignment.beat_id].append(assignment.officer)
    rows = {
        b.pk: BeatWorkload(b, sorted(officers.get(b.pk, []), key=lambda u: u.email)) for b in beats
    }
    totals = (
        ActivityEntry.objects.filter(
            community=community, occurred_on__gte=since, beat__isnull=False
        )
        .values("beat_id", "kind")
        .annotate(n=Count("pk"), minutes=Sum("minutes"), people=Sum("people"))
    )
    for total in totals:
        found = rows.get(total["beat_id"])
        if found is None:
            continue
        row = found
        row.entries += total["n"]
        row.minutes += total["minutes"] or 0
        row.people += total["people"] or 0
        row.by_kind[total["kind"]] = total["n"]
    try:
        from beacon.reports.models import OPEN_STATUSES, Report
    except ImportError:  # reports are optional for the workload view
        return list(rows.values())
    for beat_id, count in (
        Report.objects.filter(community=community, status__in=OPEN_STATUSES, beat__isnull=False)
        .values("beat_id")
        .annotate(n=Count("pk"))
        .values_list("beat_id", "n")
    ):
        if beat_id in rows:
            rows[beat_id].open_reports = count
    return list(rows.values())
