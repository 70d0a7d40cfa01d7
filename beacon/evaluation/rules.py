"""Suggested adjustments, each from one explicit rule over the computed indicators.

A rule is a small function ``(context) -> list[Suggestion]``; the thresholds are named
constants so the report can print them and the tests can pin them. Rules only read the
:class:`~beacon.evaluation.indicators.Indicator` results (and, for the open-problem
check, the set of areas with an open problem), so the same figures drive the
dashboard, the PDF and the suggestions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from beacon.evaluation.indicators import Indicator

# An offence group "rises" in an area when it has at least this many incidents, its
# rate is up by this factor or more, and the exact test says it is unlikely to be chance.
RISE_MIN_COUNT = 10
RISE_MIN_RATIO = 1.25
RISE_MAX_P = 0.05
# A program's attendance "falls" when it had at least this many and lost this share.
ATTENDANCE_MIN_BEFORE = 10
ATTENDANCE_MAX_FALL = 0.25
# A trust index "drops" when it falls this many points and the change is significant.
TRUST_MIN_DROP = 3.0
# Reports: the median first response got this much slower (share and hours).
RESPONSE_MIN_SLOWDOWN = 0.25
RESPONSE_MIN_HOURS = 2.0


@dataclass(frozen=True)
class Suggestion:
    """One suggested adjustment and the evidence for it."""

    rule: str
    subject: str
    text: str
    evidence: str


@dataclass
class RuleContext:
    """What the rules read."""

    indicators: dict[str, Indicator]
    open_problem_areas: set[int] = field(default_factory=set)
    problems_installed: bool = False


def rising_offence_without_problem(ctx: RuleContext) -> list[Suggestion]:
    """An offence group rising in an area with no open problem: open one (SARA scanning)."""
    incidents = ctx.indicators.get("incidents")
    if incidents is None or not incidents.available:
        return []
    out = []
    # Strongest evidence first, so the top of the list is what to look at first.
    rows = sorted(incidents.detail.get("by_area", []), key=lambda r: (r["p_value"], -r["after"]))
    for row in rows:
        if row["area_id"] is None or row["area_id"] in ctx.open_problem_areas:
            continue
        if (
            row["after"] >= RISE_MIN_COUNT
            and row["ratio"] >= RISE_MIN_RATIO
            and row["p_value"] < RISE_MAX_P
        ):
            ratio = "∞" if row["ratio"] == float("inf") else f"{row['ratio']:.2f}"
            out.append(
                Suggestion(
                    "rising_offence_without_problem",
                    f"{row['area']}: {row['group']}",
                    _(
                        "%(group)s is rising in %(area)s and no problem is open there: open a "
                        "SARA problem to analyse it."
                    )
                    % {"group": row["group"], "area": row["area"]},
                    _("%(before)d → %(after)d incidents, rate ratio %(ratio)s, p = %(p).3f.")
                    % {
                        "before": row["before"],
                        "after": row["after"],
                        "ratio": ratio,
                        "p": row["p_value"],
                    },
                )
            )
    return out


def falling_program_attendance(ctx: RuleContext) -> list[Suggestion]:
    """A program whose attendance fell sharply: review its timing, venue or outreach."""
    programs = ctx.indicators.get("programs")
    if programs is None or not programs.available:
        return []
    out = []
    for row in programs.detail.get("programs", []):
        before, after = row["attendance_before"], row["attendance_after"]
        if before >= ATTENDANCE_MIN_BEFORE and after <= before * (1 - ATTENDANCE_MAX_FALL):
            out.append(
                Suggestion(
                    "falling_program_attendance",
                    row["program"],
                    _("Attendance at %(program)s fell: review its timing, venue and outreach.")
                    % {"program": row["program"]},
                    _("%(before)d → %(after)d session attendances (%(pct)+.0f%%).")
                    % {"before": before, "after": after, "pct": 100 * (after - before) / before},
                )
            )
    return out


def trust_dropped(ctx: RuleContext) -> list[Suggestion]:
    """An area (beat or neighbourhood) whose trust index dropped significantly."""
    trust = ctx.indicators.get("trust")
    if trust is None or not trust.available:
        return []
    out = []
    for row in trust.detail.get("areas", []):
        difference = row.get("difference")
        if difference is not None and difference <= -TRUST_MIN_DROP and row.get("significant"):
            out.append(
                Suggestion(
                    "trust_dropped",
                    row["area"],
                    _(
                        "Trust fell in %(area)s: hold a listening meeting there and review "
                        "recent contacts and complaints."
                    )
                    % {"area": row["area"]},
                    _("Index %(before).1f → %(after).1f (%(diff)+.1f points, significant).")
                    % {"before": row["before"], "after": row["after"], "diff": difference},
                )
            )
    return out


def slower_report_response(ctx: RuleContext) -> list[Suggestion]:
    """First response to reports got markedly slower: check queue staffing and triage."""
    reports = ctx.indicators.get("reports")
    figure = reports.figure("median_first_response_hours") if reports else None
    if figure is None or figure.value is None or figure.previous is None:
        return []
    slower = figure.value - figure.previous
    if slower >= RESPONSE_MIN_HOURS and slower >= RESPONSE_MIN_SLOWDOWN * figure.previous:
        return [
            Suggestion(
                "slower_report_response",
                _("Resident reports"),
                _(
                    "First responses to reports are slower: check who covers the queue and "
                    "the response targets."
                ),
                _("Median %(before).1f h → %(after).1f h.")
                % {"before": figure.previous, "after": figure.value},
            )
        ]
    return []


def overdue_actions(ctx: RuleContext) -> list[Suggestion]:
    """Action items past due: residents see them on the tracker, so follow them up."""
    meetings = ctx.indicators.get("meetings")
    figure = meetings.figure("actions_overdue") if meetings else None
    if figure is None or not figure.value:
        return []
    return [
        Suggestion(
            "overdue_actions",
            _("Action tracker"),
            _(
                "Follow up the overdue action items with their owners, or close them with a "
                "reason: residents see them on the public tracker."
            ),
            _("%(n)d action items overdue at the end of the period.") % {"n": figure.value},
        )
    ]


RULES: list[Callable[[RuleContext], list[Suggestion]]] = [
    rising_offence_without_problem,
    falling_program_attendance,
    trust_dropped,
    slower_report_response,
    overdue_actions,
]


def suggest(ctx: RuleContext) -> list[Suggestion]:
    """Every rule's suggestions, in rule order."""
    result: list[Suggestion] = []
    for rule in RULES:
        result += rule(ctx)
    return result


def describe_rules() -> list[tuple[str, str]]:
    """Each rule's name and first docstring line, for the report's method section."""
    out: list[tuple[str, Any]] = []
    for rule in RULES:
        doc = (rule.__doc__ or "").strip().splitlines()[0]
        out.append((rule.__name__, doc))
    return out
