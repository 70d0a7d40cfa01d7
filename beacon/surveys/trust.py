"""The ready community-trust instrument and its indices per area and wave.

Items follow the procedural-justice literature (Tyler 1990; Jackson et al. 2012; the
Crime Survey for England and Wales and Zencity-style community-sentiment items): a
feeling of safety, trust in the police, the four elements of procedural fairness
(respect, voice, neutrality, trustworthy motives) and fear of crime. Every item is a
1–5 agreement or safety scale; fear-of-crime items are reverse-scored so a higher index
always means more trust and safety. The statistics are in :mod:`beacon.surveys.stats`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from beacon.surveys import stats
from beacon.surveys.models import (
    Answer,
    PopulationGroup,
    QuestionKind,
    Response,
    Survey,
    SurveyKind,
)

AGREE = ("Strongly disagree", "Strongly agree")

DIMENSIONS: dict[str, Any] = {
    "safety": _("Feeling of safety"),
    "trust": _("Trust in the police"),
    "respect": _("Respect"),
    "voice": _("Voice"),
    "neutrality": _("Neutrality"),
    "motives": _("Trustworthy motives"),
    "fear": _("Freedom from fear of crime"),
}
PROCEDURAL_FAIRNESS = ("respect", "voice", "neutrality", "motives")

# code, dimension, prompt, reverse, (low label, high label)
ITEMS: list[tuple[str, str, str, bool, tuple[str, str]]] = [
    (
        "safe_day",
        "safety",
        "How safe do you feel walking alone in your neighbourhood during the day?",
        False,
        ("Very unsafe", "Very safe"),
    ),
    (
        "safe_night",
        "safety",
        "How safe do you feel walking alone in your neighbourhood after dark?",
        False,
        ("Very unsafe", "Very safe"),
    ),
    ("trust_police", "trust", "I trust the police in my neighbourhood.", False, AGREE),
    (
        "rely_police",
        "trust",
        "I can rely on the police to be there when I need them.",
        False,
        AGREE,
    ),
    (
        "respect",
        "respect",
        "The police treat people in my neighbourhood with respect.",
        False,
        AGREE,
    ),
    (
        "voice",
        "voice",
        "The police listen to the concerns of people in my neighbourhood.",
        False,
        AGREE,
    ),
    (
        "explain",
        "voice",
        "The police explain their decisions to the people they deal with.",
        False,
        AGREE,
    ),
    ("neutral", "neutrality", "The police make fair and impartial decisions.", False, AGREE),
    ("equal", "neutrality", "The police treat everyone equally, whoever they are.", False, AGREE),
    (
        "motives",
        "motives",
        "The police try to do what is best for people in my neighbourhood.",
        False,
        AGREE,
    ),
    (
        "worry_victim",
        "fear",
        "I worry about becoming a victim of crime in my neighbourhood.",
        True,
        AGREE,
    ),
    ("worry_home", "fear", "I worry about my home being broken into.", True, AGREE),
]


def trust_questions() -> list[dict[str, Any]]:
    """The instrument as question definitions for :func:`services.add_question`."""
    return [
        {
            "code": code,
            "prompt": prompt,
            "kind": QuestionKind.LIKERT,
            # Optional: a respondent may skip an item; the index needs half of them.
            "required": False,
            "scale_min": 1,
            "scale_max": 5,
            "low_label": low,
            "high_label": high,
            "dimension": dimension,
            "reverse": reverse,
        }
        for code, dimension, prompt, reverse, (low, high) in ITEMS
    ]


@dataclass
class RespondentScore:
    """One respondent's indices and the facts used to group and weight them."""

    response_id: int
    area_id: int | None
    group: tuple[str, str] | None
    index: float | None
    dimensions: dict[str, float | None]


def respondent_scores(survey: Survey) -> list[RespondentScore]:
    """Every response's overall and per-dimension 0–100 index."""
    questions = list(survey.questions.filter(kind=QuestionKind.LIKERT).exclude(dimension=""))
    by_response: dict[int, dict[int, float]] = defaultdict(dict)
    for response_id, question_id, number in Answer.objects.filter(
        response__survey=survey, question__in=questions, number__isnull=False
    ).values_list("response_id", "question_id", "number"):
        if number is not None:
            by_response[response_id][question_id] = number
    result = []
    for response in Response.objects.filter(survey=survey).only(
        "pk", "area_id", "age_band", "gender"
    ):
        answers = by_response.get(response.pk, {})
        scores = [answers.get(q.pk) for q in questions]
        reverse = [q.reverse for q in questions]
        dims: dict[str, float | None] = {}
        for dim in DIMENSIONS:
            picked = [i for i, q in enumerate(questions) if q.dimension == dim]
            if picked:
                dims[dim] = _index(
                    [scores[i] for i in picked], [reverse[i] for i in picked], questions
                )
        group = (
            (response.age_band, response.gender) if response.age_band and response.gender else None
        )
        result.append(
            RespondentScore(
                response.pk,
                response.area_id,
                group,
                _index(scores, reverse, questions),
                dims,
            )
        )
    return result


def _index(scores: list[float | None], reverse: list[bool], questions: list[Any]) -> float | None:
    if not scores:
        return None
    low = min((q.scale_min or 1) for q in questions)
    high = max((q.scale_max or 5) for q in questions)
    return stats.respondent_index(scores, reverse, scale_min=low, scale_max=high)


def population_table(survey: Survey) -> dict[int | None, dict[Hashable, float]]:
    """Population counts by (age band, gender), per area id (None = whole community)."""
    table: dict[int | None, dict[Hashable, float]] = defaultdict(dict)
    for row in PopulationGroup.objects.filter(community_id=survey.community_id):
        table[row.area_id][(row.age_band, row.gender)] = float(row.population)
    return table


def weights_for(scores: list[RespondentScore], survey: Survey) -> dict[int, float]:
    """Post-stratification weights per response id (all 1 without population data).

    Weighting is done within each area when that area has its own population rows, and
    against the whole community's shares otherwise.
    """
    table = population_table(survey) if survey.asks_demographics else {}
    if not table:
        return {s.response_id: 1.0 for s in scores}
    by_area: dict[int | None, list[RespondentScore]] = defaultdict(list)
    for score in scores:
        by_area[score.area_id if score.area_id in table else None].append(score)
    weights: dict[int, float] = {}
    for area_id, members in by_area.items():
        population = table.get(area_id) or table.get(None) or {}
        computed = stats.poststratification_weights([m.group for m in members], population)
        weights.update({m.response_id: w for m, w in zip(members, computed, strict=True)})
    return weights


@dataclass
class AreaIndex:
    """The index of one area (or the whole community) in one wave."""

    area_id: int | None
    name: str
    estimate: stats.Estimate
    dimensions: dict[str, stats.Estimate] = field(default_factory=dict)


@dataclass
class TrustResults:
    """A wave's indices: overall, per area (small areas suppressed) and per dimension."""

    survey: Survey
    responses: int
    scored: int
    weighted: bool
    overall: stats.Estimate
    dimensions: dict[str, stats.Estimate]
    procedural_fairness: stats.Estimate
    areas: list[AreaIndex]

    @property
    def suppressed_areas(self) -> list[AreaIndex]:
        return [a for a in self.areas if a.estimate.suppressed]


def trust_results(survey: Survey) -> TrustResults:
    """Compute a wave's indices with confidence intervals (see :mod:`stats`)."""
    scores = respondent_scores(survey)
    weights = weights_for(scores, survey)
    scored = [s for s in scores if s.index is not None]
    overall = stats.estimate(
        [s.index for s in scored if s.index is not None], [weights[s.response_id] for s in scored]
    )
    dims = {}
    for dim in DIMENSIONS:
        values = [(s.dimensions.get(dim), weights[s.response_id]) for s in scores]
        given = [(v, w) for v, w in values if v is not None]
        if given:
            dims[dim] = stats.estimate([v for v, _ in given], [w for _, w in given])
    pf_rows = []
    for s in scores:
        parts = [s.dimensions.get(d) for d in PROCEDURAL_FAIRNESS]
        present = [p for p in parts if p is not None]
        if len(present) * 2 >= len(PROCEDURAL_FAIRNESS):
            pf_rows.append((sum(present) / len(present), weights[s.response_id]))
    fairness = stats.estimate([v for v, _ in pf_rows], [w for _, w in pf_rows])
    from beacon.core.models import Area

    names = dict(Area.objects.filter(community_id=survey.community_id).values_list("pk", "name"))
    per_area = stats.estimate_groups(
        (s.area_id, s.index, weights[s.response_id]) for s in scored if s.index is not None
    )
    areas = []
    for area_id, est in per_area.items():
        dim_rows = {}
        if not est.suppressed:
            members = [s for s in scored if s.area_id == area_id]
            for dim in DIMENSIONS:
                kept: list[tuple[float, float]] = []
                for s in members:
                    value = s.dimensions.get(dim)
                    if value is not None:
                        kept.append((value, weights[s.response_id]))
                if kept:
                    dim_rows[dim] = stats.estimate([v for v, _ in kept], [w for _, w in kept])
        key = area_id if isinstance(area_id, int) else None
        name = names.get(key, "") if key is not None else str(_("Area not given"))
        areas.append(AreaIndex(key, name, est, dim_rows))
    areas.sort(key=lambda a: (a.estimate.suppressed, a.name))
    return TrustResults(
        survey=survey,
        responses=len(scores),
        scored=len(scored),
        weighted=any(abs(w - 1.0) > 1e-9 for w in weights.values()),
        overall=overall,
        dimensions=dims,
        procedural_fairness=fairness,
        areas=areas,
    )


def waves(survey: Survey) -> QuerySet[Survey]:
    """The trust surveys of ``survey``'s series in the same community, oldest first."""
    rows = Survey.objects.filter(community_id=survey.community_id, kind=SurveyKind.TRUST)
    rows = rows.filter(series=survey.series) if survey.series else rows.filter(pk=survey.pk)
    return rows.exclude(status="draft").order_by("opens_on", "pk")


@dataclass
class TrendPoint:
    """One wave in a trend, with the change from the wave before."""

    survey: Survey
    estimate: stats.Estimate
    change: stats.Change | None


def trend(
    survey: Survey, area_id: int | None = None, *, results: dict[int, TrustResults] | None = None
) -> list[TrendPoint]:
    """The overall index (or one area's) across the series' waves."""
    results = results if results is not None else {}
    points: list[TrendPoint] = []
    previous: stats.Estimate | None = None
    for wave in waves(survey):
        if wave.pk not in results:
            results[wave.pk] = trust_results(wave)
        outcome = results[wave.pk]
        if area_id is None:
            est = outcome.overall
        else:
            match = [a for a in outcome.areas if a.area_id == area_id]
            est = match[0].estimate if match else stats.estimate([])
        points.append(
            TrendPoint(wave, est, stats.change(previous, est) if previous is not None else None)
        )
        previous = est
    return points


def latest_trust_survey(community_id: int) -> Survey | None:
    """The most recent non-draft trust survey of a community."""
    return (
        Survey.objects.filter(community_id=community_id, kind=SurveyKind.TRUST)
        .exclude(status="draft")
        .order_by("-opens_on", "-pk")
        .first()
    )
