"""Domain operations of surveys: building, opening, answering and distributing.

Answers are checked on the server whatever sent them: each error names the question
(its code and prompt) and says what is wrong, e.g. a Likert answer outside its scale.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from beacon.core.access import can, member_community_ids
from beacon.core.audit import record_event
from beacon.core.jobs import enqueue_on_commit
from beacon.core.models import Area, AreaKind, Community, User
from beacon.surveys.models import (
    SURVEY_EDITORS,
    AgeBand,
    Answer,
    Channel,
    Distribution,
    Gender,
    Question,
    QuestionKind,
    Response,
    Survey,
    SurveyKind,
    SurveyStatus,
)

TEXT_MAX = 5000
NUMBER_LIMIT = 1e12


class SurveyError(ValueError):
    """Input that cannot be used, with messages per field or question code."""

    def __init__(self, errors: dict[str, list[str]] | str) -> None:
        if isinstance(errors, str):
            errors = {"__all__": [errors]}
        self.errors = errors
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return " ".join(m for messages in self.errors.values() for m in messages)


def _require_editor(actor: Any, community: Community) -> None:
    if getattr(actor, "is_superuser", False):
        return
    if not member_community_ids(actor, SURVEY_EDITORS).filter(community_id=community.pk).exists():
        raise PermissionDenied


@dataclass
class SurveyInput:
    """A new survey's settings."""

    title: str
    description: str = ""
    kind: str = SurveyKind.CUSTOM
    anonymous: bool = True
    area_kind: str = AreaKind.NEIGHBOURHOOD
    asks_demographics: bool = True
    series: str = ""
    wave_label: str = ""
    opens_on: date | None = None
    closes_on: date | None = None


def create_survey(community: Community, actor: User, data: SurveyInput) -> Survey:
    """Create a draft survey; a trust survey comes with the ready instrument."""
    from beacon.surveys.trust import trust_questions

    _require_editor(actor, community)
    errors: dict[str, list[str]] = {}
    if not data.title.strip():
        errors["title"] = [_("Give the survey a title.")]
    if data.kind not in SurveyKind.values:
        errors["kind"] = [_("Choose the kind of survey.")]
    if data.area_kind and data.area_kind not in AreaKind.values:
        errors["area_kind"] = [_("Choose which areas respondents pick from.")]
    opens = data.opens_on or timezone.localdate()
    if data.closes_on is not None and data.closes_on < opens:
        errors["closes_on"] = [_("The survey must close after it opens.")]
    if errors:
        raise SurveyError(errors)
    series = slugify(data.series)[:50] or ("trust" if data.kind == SurveyKind.TRUST else "")
    with transaction.atomic():
        survey = Survey.objects.create(
            community=community,
            title=data.title.strip(),
            description=data.description.strip(),
            kind=data.kind,
            anonymous=data.anonymous,
            area_kind=data.area_kind,
            asks_demographics=data.asks_demographics,
            series=series,
            wave_label=data.wave_label.strip(),
            opens_on=opens,
            closes_on=data.closes_on,
            created_by=actor,
        )
        if data.kind == SurveyKind.TRUST:
            for definition in trust_questions():
                _add_question(survey, definition)
        record_event(actor=actor, action="create", obj=survey)
    return survey


def _check_question(survey: Survey, spec: dict[str, Any]) -> dict[str, Any]:
    errors: list[str] = []
    kind = spec.get("kind")
    prompt = str(spec.get("prompt") or "").strip()
    if kind not in QuestionKind.values:
        errors.append(_("Choose the kind of question."))
    if not prompt:
        errors.append(_("Write the question."))
    code = slugify(spec.get("code") or prompt)[:50] or "q"
    existing = set(survey.questions.values_list("code", flat=True))
    base, n = code, 2
    while code in existing:
        code = f"{base[:46]}-{n}"
        n += 1
    cleaned: dict[str, Any] = {
        "code": code,
        "prompt": prompt[:400],
        "kind": kind,
        "help_text": str(spec.get("help_text") or "")[:300],
        "required": bool(spec.get("required")),
        "dimension": str(spec.get("dimension") or ""),
        "reverse": bool(spec.get("reverse")),
        "low_label": str(spec.get("low_label") or "")[:80],
        "high_label": str(spec.get("high_label") or "")[:80],
        "choices": [],
        "scale_min": spec.get("scale_min"),
        "scale_max": spec.get("scale_max"),
    }
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        raw = spec.get("choices") or []
        if isinstance(raw, str):
            raw = [line for line in raw.splitlines() if line.strip()]
        choices = []
        for i, item in enumerate(raw, 1):
            if isinstance(item, dict):
                key, label = str(item.get("key") or i), str(item.get("label") or "")
            else:
                key, label = str(i), str(item).strip()
            choices.append({"key": key, "label": label or key})
        keys = [c["key"] for c in choices]
        if len(choices) < 2:
            errors.append(_("Give at least two choices, one per line."))
        elif len(set(keys)) != len(keys):
            errors.append(_("Each choice needs its own key."))
        cleaned["choices"] = choices
    if kind == QuestionKind.LIKERT:
        low = 1 if cleaned["scale_min"] is None else cleaned["scale_min"]
        high = 5 if cleaned["scale_max"] is None else cleaned["scale_max"]
        if not (isinstance(low, int) and isinstance(high, int) and 0 <= low < high <= 10):
            errors.append(_("A Likert scale runs between two whole numbers from 0 to 10."))
        cleaned["scale_min"], cleaned["scale_max"] = low, high
    elif kind == QuestionKind.NUMBER:
        low, high = cleaned["scale_min"], cleaned["scale_max"]
        if low is not None and high is not None and low >= high:
            errors.append(_("The smallest allowed number must be below the largest."))
    else:
        cleaned["scale_min"] = cleaned["scale_max"] = None
    if errors:
        raise SurveyError({"question": errors})
    return cleaned


def _add_question(survey: Survey, spec: dict[str, Any]) -> Question:
    cleaned = _check_question(survey, spec)
    last = survey.questions.order_by("-order").values_list("order", flat=True).first() or 0
    return Question.objects.create(
        community_id=survey.community_id, survey=survey, order=last + 1, **cleaned
    )


def add_question(survey: Survey, actor: User, spec: dict[str, Any]) -> Question:
    """Add a question to a draft survey (its answers would not match once it is open)."""
    if not can(actor, "change", survey):
        raise PermissionDenied
    if survey.status != SurveyStatus.DRAFT:
        raise SurveyError(_("Questions can only be changed while the survey is a draft."))
    return _add_question(survey, spec)


def remove_question(question: Question, actor: User) -> None:
    """Remove a question from a draft survey."""
    if not can(actor, "change", question.survey):
        raise PermissionDenied
    if question.survey.status != SurveyStatus.DRAFT:
        raise SurveyError(_("Questions can only be changed while the survey is a draft."))
    question.delete()


def set_status(survey: Survey, actor: User, status: str) -> Survey:
    """Open or close a survey; audited."""
    if not can(actor, "change", survey):
        raise PermissionDenied
    if status not in SurveyStatus.values:
        raise SurveyError({"status": [_("Unknown status.")]})
    if status == SurveyStatus.OPEN and not survey.questions.exists():
        raise SurveyError(_("Add at least one question before opening the survey."))
    survey.status = status
    if status == SurveyStatus.OPEN and survey.opens_on > timezone.localdate():
        survey.opens_on = timezone.localdate()
    if status == SurveyStatus.CLOSED and survey.closes_on is None:
        survey.closes_on = timezone.localdate()
    survey.save()
    record_event(actor=actor, action="update", obj=survey, detail={"status": status})
    return survey


# --- Answers ------------------------------------------------------------------------

Clean = tuple[float | None, str, list[str]]


def _name(question: Question) -> str:
    return f"“{question.prompt}” ({question.code})"


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def clean_answer(question: Question, value: Any) -> Clean | None:
    """Check one answer; None when blank. Raises ``ValueError`` with the reason."""
    if _is_blank(value):
        return None
    kind = question.kind
    if kind == QuestionKind.LIKERT:
        number = _as_number(value)
        scale = question.scale()
        if number is None or number != int(number):
            raise ValueError(
                _("give a whole number on the scale %(low)d–%(high)d")
                % {"low": scale[0], "high": scale[-1]}
            )
        if int(number) not in scale:
            raise ValueError(
                _("%(value)s is outside the scale %(low)d–%(high)d")
                % {"value": int(number), "low": scale[0], "high": scale[-1]}
            )
        return float(number), "", []
    if kind == QuestionKind.NUMBER:
        number = _as_number(value)
        if number is None or abs(number) > NUMBER_LIMIT:
            raise ValueError(_("give a number"))
        if question.scale_min is not None and number < question.scale_min:
            raise ValueError(_("give a number of at least %(min)d") % {"min": question.scale_min})
        if question.scale_max is not None and number > question.scale_max:
            raise ValueError(_("give a number of at most %(max)d") % {"max": question.scale_max})
        return number, "", []
    if kind == QuestionKind.SINGLE:
        key = value[0] if isinstance(value, list) and len(value) == 1 else value
        if str(key) not in question.choice_keys():
            raise ValueError(_("choose one of the listed answers"))
        return None, "", [str(key)]
    if kind == QuestionKind.MULTIPLE:
        keys = value if isinstance(value, list) else [value]
        keys = [str(k) for k in keys]
        unknown = [k for k in keys if k not in question.choice_keys()]
        if unknown:
            raise ValueError(
                _("%(keys)s is not one of the listed answers") % {"keys": ", ".join(unknown)}
            )
        return None, "", sorted(set(keys), key=question.choice_keys().index)
    text = str(value).strip()
    if len(text) > TEXT_MAX:
        raise ValueError(_("keep the answer under %(max)d characters") % {"max": TEXT_MAX})
    return None, text, []


def validate_answers(
    survey: Survey, raw: dict[str, Any], questions: list[Question] | None = None
) -> dict[int, tuple[Question, Clean]]:
    """Check every answer against its question; errors are keyed by question code."""
    questions = list(survey.questions.all()) if questions is None else questions
    known = {q.code for q in questions}
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(raw) - known)
    if unknown:
        errors["__all__"] = [
            _("Unknown question codes: %(codes)s.") % {"codes": ", ".join(unknown)}
        ]
    cleaned: dict[int, tuple[Question, Clean]] = {}
    for question in questions:
        try:
            value = clean_answer(question, raw.get(question.code))
        except ValueError as exc:
            errors[question.code] = [
                _("Question %(name)s: %(reason)s.") % {"name": _name(question), "reason": exc}
            ]
            continue
        if value is None:
            if question.required:
                errors[question.code] = [
                    _("Question %(name)s needs an answer.") % {"name": _name(question)}
                ]
            continue
        cleaned[question.pk] = (question, value)
    if errors:
        raise SurveyError(errors)
    return cleaned


@dataclass
class About:
    """What a respondent says about themselves (all optional)."""

    area_id: int | None = None
    age_band: str = ""
    gender: str = ""


def _check_about(survey: Survey, about: About) -> Area | None:
    errors: dict[str, list[str]] = {}
    area = None
    if about.area_id is not None:
        area = Area.objects.filter(
            community_id=survey.community_id, pk=about.area_id, kind=survey.area_kind
        ).first()
        if area is None or not survey.area_kind:
            errors["area"] = [_("Choose an area of this community from the list.")]
    if about.age_band and about.age_band not in AgeBand.values:
        errors["age_band"] = [_("Choose an age band from the list.")]
    if about.gender and about.gender not in Gender.values:
        errors["gender"] = [_("Choose a gender from the list, or leave it empty.")]
    if errors:
        raise SurveyError(errors)
    return area


def submit_response(
    survey: Survey,
    raw: dict[str, Any],
    *,
    user: Any = None,
    about: About | None = None,
    channel: str = Channel.LINK,
    on_date: date | None = None,
) -> Response:
    """Record one response after checking it all; nothing is saved if any answer is bad.

    Anonymous surveys ignore who is signed in. Identified surveys need a signed-in
    person and take one response each.
    """
    if not survey.is_open:
        raise SurveyError(_("This survey is not open for responses."))
    about = about or About()
    signed_in = bool(getattr(user, "is_authenticated", False))
    if not survey.anonymous and not signed_in:
        raise PermissionDenied(_("Sign in to answer this survey."))
    area = _check_about(survey, about)
    cleaned = validate_answers(survey, raw)
    if not cleaned:
        raise SurveyError(_("Answer at least one question."))
    respondent = None if survey.anonymous else user
    if respondent is not None and survey.responses.filter(respondent=respondent).exists():
        raise SurveyError(_("You have already answered this survey."))
    try:
        with transaction.atomic():
            response = Response.objects.create(
                community_id=survey.community_id,
                survey=survey,
                respondent=respondent,
                area=area,
                age_band=about.age_band if survey.asks_demographics else "",
                gender=about.gender if survey.asks_demographics else "",
                channel=channel if channel in Channel.values else Channel.LINK,
                submitted_on=on_date or timezone.localdate(),
            )
            Answer.objects.bulk_create(
                [
                    Answer(
                        community_id=survey.community_id,
                        response=response,
                        question=question,
                        number=number,
                        text=text,
                        choices=choices,
                    )
                    for question, (number, text, choices) in cleaned.values()
                ]
            )
    except IntegrityError:
        raise SurveyError(_("You have already answered this survey.")) from None
    return response


def record_responses(
    survey: Survey, rows: list[tuple[dict[str, Any], About, date]], *, channel: str = Channel.LINK
) -> int:
    """Record many anonymous responses at once (paper forms typed in, imports, the demo).

    Every row is checked exactly as :func:`submit_response` checks one; if any row is
    bad nothing is saved and the error names the row (1-based) and the question.
    """
    if not survey.anonymous:
        raise SurveyError(_("Only anonymous surveys take responses in bulk."))
    questions = list(survey.questions.all())
    areas = (
        set(
            Area.objects.filter(
                community_id=survey.community_id, kind=survey.area_kind
            ).values_list("pk", flat=True)
        )
        if survey.area_kind
        else set()
    )
    checked = []
    for number, (raw, about, on_date) in enumerate(rows, 1):
        try:
            if about.area_id is not None and about.area_id not in areas:
                raise SurveyError({"area": [_("Choose an area of this community from the list.")]})
            if about.age_band and about.age_band not in AgeBand.values:
                raise SurveyError({"age_band": [_("Choose an age band from the list.")]})
            if about.gender and about.gender not in Gender.values:
                raise SurveyError(
                    {"gender": [_("Choose a gender from the list, or leave it empty.")]}
                )
            checked.append((validate_answers(survey, raw, questions), about, on_date))
        except SurveyError as exc:
            raise SurveyError(
                {
                    f"row {number}: {k}": [_("Row %(n)d: %(m)s") % {"n": number, "m": m} for m in v]
                    for k, v in exc.errors.items()
                }
            ) from None
    with transaction.atomic():
        responses = Response.objects.bulk_create(
            [
                Response(
                    community_id=survey.community_id,
                    survey=survey,
                    area_id=about.area_id,
                    age_band=about.age_band if survey.asks_demographics else "",
                    gender=about.gender if survey.asks_demographics else "",
                    channel=channel,
                    submitted_on=on_date,
                )
                for _answers, about, on_date in checked
            ],
            batch_size=500,
        )
        Answer.objects.bulk_create(
            [
                Answer(
                    community_id=survey.community_id,
                    response=response,
                    question=question,
                    number=number_,
                    text=text,
                    choices=choices,
                )
                for response, (answers, _about, _d) in zip(responses, checked, strict=True)
                for question, (number_, text, choices) in answers.values()
            ],
            batch_size=1000,
        )
    return len(responses)


# --- Distribution -------------------------------------------------------------------


def survey_path(survey: Survey) -> str:
    """The survey's public path (the link shared and encoded in the QR code)."""
    from django.urls import reverse

    return reverse("surveys:respond", args=[survey.token])


def qr_svg(url: str) -> str:
    """An SVG QR code of ``url``."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=2, xmldecl=False)
    return buffer.getvalue().decode("utf-8")


def distribute_to_members(
    survey: Survey, actor: User, *, link: str, message: str = ""
) -> Distribution:
    """Email the survey's link to the community's residents, in the background.

    Until a subscriptions app exists, "subscribers" are the community's resident
    members; the task sends one message each and is safe to run twice.
    """
    from beacon.surveys.tasks import send_invitations

    if not can(actor, "change", survey):
        raise PermissionDenied
    if not survey.is_open:
        raise SurveyError(_("Open the survey before sending invitations."))
    if not re.match(r"^https?://", link):
        raise SurveyError({"link": [_("The link must be an absolute web address.")]})
    with transaction.atomic():
        distribution = Distribution.objects.create(
            community_id=survey.community_id,
            survey=survey,
            channel=Channel.EMAIL,
            message=message.strip(),
            link=link,
            created_by=actor,
        )
        record_event(actor=actor, action="distribute", obj=survey)
        enqueue_on_commit(send_invitations, distribution.pk)
    return distribution


@dataclass
class QuestionSummary:
    """Counts (choice questions) or mean (Likert and number) of one question."""

    question: Question
    answered: int
    suppressed: bool
    mean: float | None = None
    counts: list[tuple[str, int]] | None = None


def summaries(survey: Survey, min_n: int = 5) -> list[QuestionSummary]:
    """Per-question results; questions with fewer than ``min_n`` answers are suppressed."""
    from collections import Counter

    result = []
    for question in survey.questions.all():
        answers = Answer.objects.filter(question=question)
        answered = answers.count()
        if answered < min_n:
            result.append(QuestionSummary(question, answered, True))
            continue
        if question.kind in (QuestionKind.LIKERT, QuestionKind.NUMBER):
            numbers = [a for a in answers.values_list("number", flat=True) if a is not None]
            counts = None
            if question.kind == QuestionKind.LIKERT:
                points = Counter(int(n) for n in numbers)
                counts = [(str(p), points.get(p, 0)) for p in question.scale()]
            result.append(
                QuestionSummary(question, answered, False, sum(numbers) / len(numbers), counts)
            )
        elif question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            tally: Counter[str] = Counter(
                str(k) for row in answers.values_list("choices", flat=True) for k in row
            )
            counts = [(question.choice_label(k), tally.get(k, 0)) for k in question.choice_keys()]
            result.append(QuestionSummary(question, answered, False, counts=counts))
        else:
            result.append(QuestionSummary(question, answered, False))
    return result
