"""Domain operations on youth programs: vetting, consent, matching, logs, retention.

Every create, change and delete of a mentor's or mentee's record is audited, and so is
every read (see :func:`audit_access`). Audit rows name records by id only: a minor's
name must not be copied into a log that outlives the record.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from beacon.core.access import member_community_ids
from beacon.core.audit import record_event
from beacon.core.models import Community, User
from beacon.core.roles import STAFF_ROLES
from beacon.youth.models import (
    Match,
    MatchStatus,
    Measure,
    Mentee,
    MenteeStatus,
    Mentor,
    OutcomeMeasure,
    ProgramStaff,
    SessionLog,
    YouthProgram,
    YouthProgramKind,
)

MIN_AGE = 5
MAX_AGE = 17
# Distance beyond which proximity adds nothing to a suggestion.
FAR_KM = 15.0


def retention_days() -> int:
    """Days after leaving the program before a mentee's records are deleted."""
    return int(settings.BEACON_YOUTH_RETENTION_DAYS)


class YouthError(ValueError):
    """Input that cannot be accepted; ``errors`` maps a field to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(
            "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
        )


def _fail(name: str, message: str) -> YouthError:
    return YouthError({name: [message]})


def audit_access(actor: Any, obj: Any, action: str = "view") -> None:
    """Record that ``actor`` read a safeguarded record."""
    record_event(actor=actor if getattr(actor, "pk", None) else None, action=action, obj=obj)


def audit_list(actor: Any, program: YouthProgram, ids: Iterable[int], kind: str) -> None:
    """Record that ``actor`` saw a list of records (by id) of ``program``."""
    record_event(
        actor=actor,
        action="view",
        object_type=f"youth.{kind}",
        community_id=program.community_id,
        detail={"program": program.pk, "ids": sorted(ids)},
    )


def _tags(values: Iterable[str]) -> list[str]:
    """Lower-cased, de-duplicated, sorted tags."""
    return sorted({v.strip().lower() for v in values if v and v.strip()})


# --- programs and staff -----------------------------------------------------------------


def save_program(
    community: Community,
    name: str,
    kind: str,
    *,
    description: str = "",
    actor: User | None = None,
) -> YouthProgram:
    """Create a youth program; audited."""
    if not name.strip():
        raise _fail("name", _("Give the program a name."))
    if kind not in YouthProgramKind.values:
        raise _fail("kind", _("Choose one of the listed kinds."))
    with transaction.atomic():
        program = YouthProgram.objects.create(
            community=community, name=name.strip(), kind=kind, description=description.strip()
        )
        record_event(actor=actor, action="create", obj=program)
    return program


def assign_staff(program: YouthProgram, user: User, *, actor: User | None = None) -> ProgramStaff:
    """Assign a staff member to a program, giving them its minors' records; audited.

    Only people with a staff role (who sign in with a second factor) can be assigned.
    """
    if (
        not member_community_ids(user, STAFF_ROLES)
        .filter(community_id=program.community_id)
        .exists()
    ):
        raise _fail("user", _("Only staff of this community can be assigned to a program."))
    with transaction.atomic():
        assignment, created = ProgramStaff.objects.get_or_create(
            program=program, user=user, defaults={"community_id": program.community_id}
        )
        if created:
            record_event(actor=actor, action="create", obj=assignment)
    return assignment


def is_program_staff(user: Any, program: YouthProgram) -> bool:
    """Whether ``user`` is assigned to ``program`` (and still staff of its community)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        ProgramStaff.objects.filter(program=program, user_id=user.pk).exists()
        and member_community_ids(user, STAFF_ROLES)
        .filter(community_id=program.community_id)
        .exists()
    )


# --- mentors ----------------------------------------------------------------------------


@dataclass
class MentorData:
    name: str
    email: str = ""
    interests: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    availability: list[str] = field(default_factory=list)
    lat: float | None = None
    lon: float | None = None
    background_check_on: date | None = None
    background_check_expires_on: date | None = None
    training_completed_on: date | None = None
    max_mentees: int = 1


def save_mentor(
    program: YouthProgram,
    data: MentorData,
    *,
    actor: User | None = None,
    mentor: Mentor | None = None,
) -> Mentor:
    """Create or update a mentor and their vetting record; audited."""
    errors: dict[str, list[str]] = {}
    if not data.name.strip():
        errors["name"] = [_("Give the mentor's name.")]
    if (
        data.background_check_on
        and data.background_check_expires_on
        and data.background_check_expires_on <= data.background_check_on
    ):
        errors["background_check_expires_on"] = [_("The check must expire after its date.")]
    if data.max_mentees < 1:
        errors["max_mentees"] = [_("A mentor takes at least one mentee.")]
    if errors:
        raise YouthError(errors)
    created = mentor is None
    mentor = mentor or Mentor(community_id=program.community_id, program=program)
    for name in ("email", "lat", "lon", "background_check_on", "background_check_expires_on"):
        setattr(mentor, name, getattr(data, name))
    mentor.name = data.name.strip()
    mentor.training_completed_on = data.training_completed_on
    mentor.max_mentees = data.max_mentees
    mentor.interests = _tags(data.interests)
    mentor.languages = _tags(data.languages)
    mentor.availability = _tags(data.availability)
    with transaction.atomic():
        mentor.save()
        record_event(actor=actor, action="create" if created else "update", obj=mentor)
    return mentor


# --- mentees: application, consent, profile ---------------------------------------------


def age_on(born: date, on: date) -> int:
    """Age in whole years on ``on``."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def apply(
    program: YouthProgram,
    name: str,
    date_of_birth: date | None,
    guardian_name: str,
    guardian_contact: str,
    *,
    actor: User | None = None,
) -> Mentee:
    """Record an application: the only thing stored before a guardian consents."""
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    if not name.strip():
        errors["name"] = [_("Give the young person's name.")]
    if date_of_birth is None:
        errors["date_of_birth"] = [_("Give the date of birth.")]
    elif not MIN_AGE <= age_on(date_of_birth, today) <= MAX_AGE:
        errors["date_of_birth"] = [
            _("Mentees must be %(low)s to %(high)s years old.") % {"low": MIN_AGE, "high": MAX_AGE}
        ]
    if not guardian_name.strip():
        errors["guardian_name"] = [_("Give the parent's or guardian's name.")]
    if not guardian_contact.strip():
        errors["guardian_contact"] = [_("Give a phone number or email for the guardian.")]
    if errors:
        raise YouthError(errors)
    assert date_of_birth is not None
    with transaction.atomic():
        mentee = Mentee.objects.create(
            community_id=program.community_id,
            program=program,
            name=name.strip(),
            date_of_birth=date_of_birth,
            guardian_name=guardian_name.strip(),
            guardian_contact=guardian_contact.strip(),
        )
        record_event(actor=actor, action="create", obj=mentee)
    return mentee


def record_consent(
    mentee: Mentee, given_by: str, method: str, *, actor: User | None = None
) -> Mentee:
    """Record the guardian's consent; the mentee joins the program."""
    if not given_by.strip():
        raise _fail("given_by", _("Say which parent or guardian consented."))
    if not method.strip():
        raise _fail("method", _("Say how consent was given (signed form, in person…)."))
    with transaction.atomic():
        mentee.guardian_consent_at = timezone.now()
        mentee.guardian_consent_by = given_by.strip()
        mentee.consent_method = method.strip()
        if mentee.status == MenteeStatus.APPLIED:
            mentee.status = MenteeStatus.ACTIVE
        mentee.save()
        record_event(actor=actor, action="update", obj=mentee, detail={"consent": True})
    return mentee


@dataclass
class Profile:
    interests: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    availability: list[str] = field(default_factory=list)
    lat: float | None = None
    lon: float | None = None
    school: str = ""
    notes: str = ""


def update_profile(mentee: Mentee, profile: Profile, *, actor: User | None = None) -> Mentee:
    """Store what goes beyond the application; refused without a guardian's consent."""
    if not mentee.has_consent:
        raise _fail(
            "consent",
            _("A guardian's consent must be recorded before anything beyond the application."),
        )
    mentee.interests = _tags(profile.interests)
    mentee.languages = _tags(profile.languages)
    mentee.availability = _tags(profile.availability)
    mentee.lat, mentee.lon = profile.lat, profile.lon
    mentee.school = profile.school.strip()
    mentee.notes = profile.notes.strip()
    with transaction.atomic():
        mentee.save()
        record_event(actor=actor, action="update", obj=mentee, detail={"profile": True})
    return mentee


# --- matching ---------------------------------------------------------------------------


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


@dataclass
class Suggestion:
    """A mentor suggested for a mentee: a score out of 100 and the reasons for it."""

    mentor: Mentor
    score: float
    reasons: list[str]


@dataclass
class Suggestions:
    ranked: list[Suggestion]
    # Mentors who cannot be matched, with why (unvetted, expired, full).
    excluded: list[tuple[Mentor, list[str]]]


def _score(mentor: Mentor, mentee: Mentee) -> Suggestion:
    reasons: list[str] = []
    score = 0.0
    shared_interests = sorted(set(mentor.interests) & set(mentee.interests))
    if mentee.interests:
        score += 35 * len(shared_interests) / len(set(mentee.interests))
    if shared_interests:
        reasons.append(_("shared interests: %(list)s") % {"list": ", ".join(shared_interests)})
    shared_languages = sorted(set(mentor.languages) & set(mentee.languages))
    if shared_languages:
        score += 30
        reasons.append(_("speaks %(list)s") % {"list": ", ".join(shared_languages)})
    elif mentee.languages:
        reasons.append(_("no shared language"))
    shared_times = sorted(set(mentor.availability) & set(mentee.availability))
    if mentee.availability:
        score += 20 * len(shared_times) / len(set(mentee.availability))
    if shared_times:
        reasons.append(_("both free: %(list)s") % {"list": ", ".join(shared_times)})
    elif mentee.availability:
        reasons.append(_("no common free time"))
    if None not in (mentor.lat, mentor.lon, mentee.lat, mentee.lon):
        km = distance_km(mentor.lat, mentor.lon, mentee.lat, mentee.lon)  # type: ignore[arg-type]
        score += 15 * max(0.0, 1 - km / FAR_KM)
        reasons.append(_("%(km).1f km apart") % {"km": km})
    return Suggestion(mentor, round(score, 1), reasons)


def suggest_matches(mentee: Mentee, on: date | None = None) -> Suggestions:
    """Mentors of the mentee's program ranked for the mentee, with the reasons shown.

    Unvetted, expired and full mentors are listed apart with why, never ranked.
    """
    on = on or timezone.localdate()
    ranked: list[Suggestion] = []
    excluded: list[tuple[Mentor, list[str]]] = []
    for mentor in Mentor.objects.filter(program_id=mentee.program_id):
        problems = mentor.vetting_problems(on)
        active = mentor.matches.filter(status=MatchStatus.ACTIVE).count()
        if active >= mentor.max_mentees:
            problems.append(_("already has %(n)s mentee(s)") % {"n": active})
        if problems:
            excluded.append((mentor, problems))
        else:
            ranked.append(_score(mentor, mentee))
    ranked.sort(key=lambda s: (-s.score, s.mentor.name))
    return Suggestions(ranked, excluded)


def match(mentee: Mentee, mentor: Mentor, *, actor: User | None = None) -> Match:
    """Pair a mentee with a vetted mentor of the same program; audited."""
    if not mentee.has_consent:
        raise _fail("mentee", _("A guardian's consent is needed before matching."))
    if mentee.status != MenteeStatus.ACTIVE:
        raise _fail("mentee", _("Only mentees in the program can be matched."))
    if mentor.program_id != mentee.program_id:
        raise _fail("mentor", _("The mentor belongs to another program."))
    problems = mentor.vetting_problems()
    if problems:
        raise _fail(
            "mentor",
            _("This mentor cannot be matched: %(why)s.") % {"why": "; ".join(problems)},
        )
    if mentor.matches.filter(status=MatchStatus.ACTIVE).count() >= mentor.max_mentees:
        raise _fail("mentor", _("This mentor already has as many mentees as they can take."))
    suggestion = _score(mentor, mentee)
    try:
        with transaction.atomic():
            pairing = Match.objects.create(
                community_id=mentee.community_id,
                program_id=mentee.program_id,
                mentor=mentor,
                mentee=mentee,
                score=suggestion.score,
                reasons=suggestion.reasons,
                created_by=actor,
            )
            record_event(actor=actor, action="create", obj=pairing)
    except IntegrityError:
        raise _fail("mentee", _("This mentee already has a mentor.")) from None
    return pairing


def end_match(pairing: Match, *, actor: User | None = None) -> Match:
    """End a match; audited."""
    pairing.status = MatchStatus.ENDED
    pairing.ended_on = timezone.localdate()
    with transaction.atomic():
        pairing.save(update_fields=["status", "ended_on"])
        record_event(actor=actor, action="update", obj=pairing, detail={"ended": True})
    return pairing


# --- sessions and outcomes --------------------------------------------------------------


def log_session(
    pairing: Match,
    occurred_on: date,
    minutes: int,
    activity: str,
    *,
    notes: str = "",
    actor: User | None = None,
) -> SessionLog:
    """Log a mentoring meeting; audited."""
    if not 1 <= minutes <= 24 * 60:
        raise _fail("minutes", _("Give the length in minutes (1 to 1440)."))
    if occurred_on > timezone.localdate():
        raise _fail("occurred_on", _("Sessions are logged after they happen."))
    if not activity.strip():
        raise _fail("activity", _("Say what you did."))
    with transaction.atomic():
        log = SessionLog.objects.create(
            community_id=pairing.community_id,
            match=pairing,
            occurred_on=occurred_on,
            minutes=minutes,
            activity=activity.strip(),
            notes=notes.strip(),
            logged_by=actor,
        )
        record_event(actor=actor, action="create", obj=log)
    return log


def record_outcome(
    mentee: Mentee,
    measure: str,
    value: float,
    recorded_on: date,
    *,
    note: str = "",
    actor: User | None = None,
) -> OutcomeMeasure:
    """Record an outcome measure; audited."""
    if measure not in Measure.values:
        raise _fail("measure", _("Choose one of the listed measures."))
    limits = {"school_attendance": (0, 100), "engagement": (1, 5), "self_esteem": (1, 5)}
    low, high = limits.get(measure, (0, 1000))
    if not (math.isfinite(value) and low <= value <= high):
        raise _fail(
            "value", _("The value must be %(low)s to %(high)s.") % {"low": low, "high": high}
        )
    with transaction.atomic():
        outcome = OutcomeMeasure.objects.create(
            community_id=mentee.community_id,
            mentee=mentee,
            measure=measure,
            value=value,
            recorded_on=recorded_on,
            note=note.strip(),
        )
        record_event(actor=actor, action="create", obj=outcome)
    return outcome


# --- leaving and retention --------------------------------------------------------------


def leave(mentee: Mentee, on: date | None = None, *, actor: User | None = None) -> Mentee:
    """A mentee leaves the program; the retention clock starts."""
    mentee.status = MenteeStatus.LEFT
    mentee.left_on = on or timezone.localdate()
    with transaction.atomic():
        mentee.save(update_fields=["status", "left_on"])
        for pairing in mentee.matches.filter(status=MatchStatus.ACTIVE):
            end_match(pairing, actor=actor)
        record_event(actor=actor, action="update", obj=mentee, detail={"left": True})
    return mentee


def purge_expired(today: date | None = None) -> int:
    """Delete mentees (and all their records) a retention period after they left.

    Applications that never got consent are deleted the same period after they were
    made. Each deletion is audited by id.
    """
    today = today or timezone.localdate()
    cutoff = today - timedelta(days=retention_days())
    left = Mentee.objects.filter(status=MenteeStatus.LEFT, left_on__lte=cutoff)
    stale = Mentee.objects.filter(status=MenteeStatus.APPLIED, created_at__date__lte=cutoff)
    count = 0
    for mentee in (left | stale).distinct():
        with transaction.atomic():
            record_event(action="delete", obj=mentee, detail={"reason": "retention"})
            # Match rows protect their mentor, not their mentee: deleting cascades.
            mentee.delete()
        count += 1
    return count
