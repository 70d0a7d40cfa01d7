"""Assessment: did the response work? Before/after counts for the problem's area, a
buffer ring around it and a control area, computed with ``beacon.analytics.evaluation``.

Zones
    *target*: the problem's area; *buffer*: the ring ``buffer_m`` wide around it, where
    crime could be displaced to (or benefits diffuse); *control*: a comparable area that
    did not get the response, which must not overlap the target or the buffer;
    *control buffer*: the same ring around the control area (less the other zones), the
    displacement control of the WDD test.

Periods
    ``period_days`` before the response started and as many days from it. Equal periods
    keep the WDQ and WDD (which compare raw counts) valid; the after period must have
    ended.

Figures (all from the analytics library, nothing re-implemented here)
    ``rate_ratio``: the target's after/before rate ratio with its exact test;
    ``relative``: the target's ratio against the control's (``ratio_of_ratios``);
    ``wdq``: Bowers and Johnson's weighted displacement quotient; ``wdd``: Wheeler and
    Ratcliffe's weighted displacement difference with its z-test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from beacon.analytics import evaluation as stats
from beacon.analytics.events import AnalysisInputError
from beacon.core.audit import record_event
from beacon.core.models import Area, User
from beacon.problems import counting
from beacon.problems import geometry as pgeo
from beacon.problems.errors import ProblemError, fail
from beacon.problems.models import Assessment, Problem, Verdict
from beacon.problems.services import (
    incident_filter,
    problem_shape,
    require_permission,
    today_in,
)

DEFAULT_PERIOD_DAYS = 182
PERIOD_DAYS = (28, 730)
DEFAULT_BUFFER_M = 400
BUFFER_M = (50, 3000)
ALPHA = 0.05
ZONES: tuple[str, ...] = ("target", "buffer", "control", "control_buffer")


@dataclass
class AssessmentInput:
    """The choices of an assessment: a control area (drawn, or an existing area), the
    buffer width and the length of each period."""

    control_geometry: Any = None
    control_area_id: int | None = None
    buffer_m: int = DEFAULT_BUFFER_M
    period_days: int = DEFAULT_PERIOD_DAYS


@dataclass(frozen=True)
class Zones:
    """The four zones of an assessment as WGS84 shapes."""

    target: BaseGeometry
    buffer: BaseGeometry
    control: BaseGeometry
    control_buffer: BaseGeometry

    def get(self, name: str) -> BaseGeometry:
        shape: BaseGeometry = getattr(self, name)
        return shape


def _control(problem: Problem, data: AssessmentInput) -> tuple[BaseGeometry, Area | None]:
    community = problem.community
    if data.control_area_id not in (None, ""):
        area = Area.objects.filter(
            community=community,
            pk=data.control_area_id if str(data.control_area_id).isdigit() else 0,
        ).first()
        if area is None:
            raise fail("control_area_id", _("Choose an area of this community as the control."))
        return pgeo.shape_of(area.geometry), area
    if not data.control_geometry:
        raise fail("control_geometry", _("Draw a control area or choose an existing area."))
    try:
        return pgeo.area_from_geometry(community, data.control_geometry, "control_geometry"), None
    except pgeo.AreaError as exc:
        raise fail(
            exc.field, _("The control area cannot be used: %(e)s.") % {"e": exc.message}
        ) from None


def build_zones(problem: Problem, data: AssessmentInput) -> tuple[Zones, Area | None]:
    """Target, buffer, control and control buffer; refuses a control area that
    overlaps the target or the buffer, naming by how much."""
    errors: dict[str, list[str]] = {}
    if not isinstance(data.buffer_m, int) or not BUFFER_M[0] <= data.buffer_m <= BUFFER_M[1]:
        errors["buffer_m"] = [
            _("The buffer must be %(low)d to %(high)d metres wide.")
            % {"low": BUFFER_M[0], "high": BUFFER_M[1]}
        ]
    try:
        control, control_area = _control(problem, data)
    except ProblemError as exc:
        errors.update(exc.errors)
    if errors:
        raise ProblemError(errors)
    field = "control_area_id" if control_area is not None else "control_geometry"
    target = problem_shape(problem)
    metric = pgeo.Metric.around(target)
    buffer = pgeo.clip(pgeo.ring(target, data.buffer_m, metric), problem.community)
    for zone, name in (
        (target, _("the problem area")),
        (buffer, _("its %(m)d m buffer") % {"m": data.buffer_m}),
    ):
        shared = pgeo.overlap_m2(control, zone, metric)
        if shared > pgeo.OVERLAP_TOLERANCE_M2:
            share = shared / max(metric.area_m2(control), 1.0)
            raise fail(
                field,
                _(
                    "The control area overlaps %(zone)s by %(m2).0f m² (%(share).0f%% of the "
                    "control area). Choose a control area that does not overlap the problem "
                    "area or its buffer."
                )
                % {"zone": name, "m2": shared, "share": 100 * share},
            )
    taken = unary_union([target, buffer, control])
    control_buffer = pgeo.clip(
        pgeo.ring(control, data.buffer_m, metric, exclude=taken), problem.community
    )
    return Zones(target, buffer, control, control_buffer), control_area


@dataclass(frozen=True)
class Periods:
    before_start: dt.date
    after_start: dt.date
    after_end: dt.date  # exclusive

    @property
    def days(self) -> int:
        return (self.after_end - self.after_start).days


def periods(problem: Problem, period_days: Any) -> Periods:
    """The before and after periods around the response start; the after one must be over."""
    start = problem.response_started_on
    if start is None:
        raise fail("response_started_on", _("Set the date the response started first."))
    if not isinstance(period_days, int) or not PERIOD_DAYS[0] <= period_days <= PERIOD_DAYS[1]:
        raise fail(
            "period_days",
            _("Each period must be %(low)d to %(high)d days long.")
            % {"low": PERIOD_DAYS[0], "high": PERIOD_DAYS[1]},
        )
    span = dt.timedelta(days=period_days)
    result = Periods(start - span, start, start + span)
    today = today_in(problem.community)
    if result.after_end > today:
        raise fail(
            "period_days",
            _(
                "The after period would run to %(end)s, which has not ended yet (today is "
                "%(today)s). Choose at most %(days)d days."
            )
            % {
                "end": result.after_end - dt.timedelta(days=1),
                "today": today,
                "days": max((today - start).days, 0),
            },
        )
    return result


def count_zones(problem: Problem, zones: Zones, when: Periods) -> dict[str, list[int]]:
    """``[before, after]`` incidents of the problem's offences per zone."""
    return counting.count_periods(
        problem.community,
        {name: zones.get(name) for name in ZONES},
        incident_filter(problem),
        when.before_start,
        when.after_start,
        when.after_end,
    )


def _pair(counts: dict[str, list[int]], name: str) -> tuple[int, int]:
    before, after = counts[name]
    return int(before), int(after)


def figures(counts: dict[str, list[int]], period_days: int, alpha: float = ALPHA) -> dict[str, Any]:
    """The library's figures for the zone counts; a measure that cannot be computed
    carries the library's reason as ``{"error": ...}``."""
    target, buffer = _pair(counts, "target"), _pair(counts, "buffer")
    control, control_buffer = _pair(counts, "control"), _pair(counts, "control_buffer")
    calls: dict[str, Any] = {
        "rate_ratio": lambda: stats.rate_ratio(
            target[0],
            target[1],
            exposure_before=period_days,
            exposure_after=period_days,
            alpha=alpha,
        ),
        "relative": lambda: stats.ratio_of_ratios(target, control, alpha=alpha),
        "wdq": lambda: stats.wdq(target, buffer, control),
        "wdd": lambda: stats.wdd(target, control, buffer, control_buffer, alpha=alpha),
    }
    results: dict[str, Any] = {}
    for name, call in calls.items():
        try:
            results[name] = call().to_dict()
        except AnalysisInputError as exc:
            results[name] = {"error": str(exc)}
    return results


def verdict(counts: dict[str, list[int]], results: dict[str, Any]) -> tuple[str, str]:
    """A verdict code and a few sentences in plain words."""
    relative = results.get("relative", {})
    target_before, target_after = _pair(counts, "target")
    if "error" in relative or relative.get("ratio") is None:
        reason = relative.get("error") or _("no incidents before the response")
        return Verdict.INSUFFICIENT, _(
            "There are too few incidents to tell whether the response worked (%(reason)s). "
            "The problem area had %(b)d incidents before and %(a)d after."
        ) % {"reason": reason, "b": target_before, "a": target_after}
    ratio, p_value = float(relative["ratio"]), float(relative["p_value"])
    change = abs(100.0 * (ratio - 1.0))
    words = {"b": target_before, "a": target_after, "pct": change, "p": p_value}
    if p_value < ALPHA and ratio < 1:
        code = Verdict.REDUCED
        text = (
            _(
                "Incidents in the problem area went from %(b)d to %(a)d: %(pct).0f%% fewer than "
                "the control area's trend predicts. A change this large is unlikely to be chance "
                "(p = %(p).3g)."
            )
            % words
        )
    elif p_value < ALPHA and ratio > 1:
        code = Verdict.INCREASED
        text = (
            _(
                "Incidents in the problem area went from %(b)d to %(a)d: %(pct).0f%% more than "
                "the control area's trend predicts (p = %(p).3g). The response has not reduced "
                "the problem."
            )
            % words
        )
    else:
        code = Verdict.NO_CLEAR_CHANGE
        text = (
            _(
                "Incidents in the problem area went from %(b)d to %(a)d. Against the control "
                "area this is no clear change: it could be chance (p = %(p).3g)."
            )
            % words
        )
    extra: list[str] = []
    wdq = results.get("wdq", {})
    if "error" not in wdq and wdq.get("success_measure") is not None and wdq["success_measure"] < 0:
        extra.append(_("Displacement: %(words)s.") % {"words": wdq["interpretation"]})
    wdd = results.get("wdd", {})
    if "error" not in wdd:
        extra.append(
            _(
                "Counting the buffer too, the net change is %(wdd)+.0f incidents against the "
                "control areas (z = %(z).2f, p = %(p).3g)."
            )
            % {"wdd": wdd["wdd"], "z": wdd["z"], "p": wdd["p_value"]}
        )
    return code, " ".join([text, *extra])


def assess(problem: Problem, actor: User, data: AssessmentInput) -> Assessment:
    """Count the zones, compute the figures, store the assessment; audited."""
    require_permission(actor, "change", problem)
    errors: dict[str, list[str]] = {}
    when: Periods | None = None
    try:
        when = periods(problem, data.period_days)
    except ProblemError as exc:
        errors.update(exc.errors)
    try:
        zones, control_area = build_zones(problem, data)
    except ProblemError as exc:
        errors.update(exc.errors)
    if errors or when is None:
        raise ProblemError(errors)
    counts = count_zones(problem, zones, when)
    results = figures(counts, when.days)
    code, text = verdict(counts, results)
    notes = []
    latest = counting.latest_incident_date(problem.community)
    last_day = when.after_end - dt.timedelta(days=1)
    if latest is None or latest < last_day:
        notes.append(
            _(
                "The incident data reaches only to %(latest)s, but the after period runs to "
                "%(end)s: incidents after that are missing from the counts."
            )
            % {"latest": latest or _("no incidents"), "end": last_day}
        )
    with transaction.atomic():
        row = Assessment.objects.create(
            community=problem.community,
            problem=problem,
            response_started_on=when.after_start,
            period_days=when.days,
            before_start=when.before_start,
            after_start=when.after_start,
            after_end=when.after_end,
            buffer_m=data.buffer_m,
            control_area=control_area,
            target_geometry=pgeo.as_geojson(zones.target),
            control_geometry=pgeo.as_geojson(zones.control),
            buffer_geometry=pgeo.as_geojson(zones.buffer),
            control_buffer_geometry=pgeo.as_geojson(zones.control_buffer),
            offence_groups=list(problem.offence_groups),
            offences=list(problem.offences or []),
            counts=counts,
            results=results,
            verdict=code,
            verdict_text=text,
            notes=notes,
            created_by=actor,
        )
        record_event(
            actor=actor,
            action="create",
            obj=row,
            detail={"problem": problem.pk, "counts": counts, "verdict": code},
        )
    return row


def clear_of(
    problem: Problem,
    candidates: Iterable[tuple[Any, BaseGeometry]],
    buffer_m: int = DEFAULT_BUFFER_M,
) -> list[tuple[Any, BaseGeometry]]:
    """The candidate areas that overlap neither the problem area nor its buffer."""
    target = problem_shape(problem)
    metric = pgeo.Metric.around(target)
    taken = unary_union([target, pgeo.ring(target, buffer_m, metric)])
    return [
        (key, shape)
        for key, shape in candidates
        if pgeo.overlap_m2(shape, taken, metric) <= pgeo.OVERLAP_TOLERANCE_M2
    ]


def suggest_control(
    problem: Problem,
    candidates: Iterable[tuple[Any, BaseGeometry]],
    buffer_m: int = DEFAULT_BUFFER_M,
) -> Any:
    """The key of a candidate area to start from as the control, or None.

    A control area should be clear of the problem area and its buffer and have enough
    of the same incidents to compare with: among the clear candidates with at least a
    quarter of the problem area's count (and at least 10) in the year before the
    response (or the latest year of data), the nearest; failing that, the busiest.
    """
    clear = clear_of(problem, candidates, buffer_m)
    if not clear:
        return None
    community = problem.community
    end = problem.response_started_on
    if end is None:
        latest = counting.latest_incident_date(community)
        end = (latest or today_in(community)) + dt.timedelta(days=1)
    start = end - dt.timedelta(days=365)
    target = problem_shape(problem)
    zones = {index: shape for index, (_key, shape) in enumerate(clear)}
    zones[-1] = target
    counts = counting.count_periods(community, zones, incident_filter(problem), start, end, end)
    enough = max(10, counts[-1][0] // 4)
    comparable = [i for i in range(len(clear)) if counts[i][0] >= enough]
    if comparable:
        best = min(comparable, key=lambda i: clear[i][1].distance(target))
    else:
        best = max(range(len(clear)), key=lambda i: counts[i][0])
    return clear[best][0]


def zones_of(assessment: Assessment) -> Zones:
    """The stored zones of an assessment (for maps and the report)."""
    return Zones(
        target=pgeo.shape_of(assessment.target_geometry),
        buffer=pgeo.shape_of(assessment.buffer_geometry),
        control=pgeo.shape_of(assessment.control_geometry),
        control_buffer=pgeo.shape_of(assessment.control_buffer_geometry),
    )
