"""The indicators of the evaluation dashboard and the quarterly report.

Each indicator is a small function ``(community, period) -> Indicator``. Indicators read
other apps' models only when those apps are installed (``apps.is_installed``) and say
"not available" otherwise, so the dashboard and the PDF work whichever apps a
deployment runs. The dashboard, the API and the PDF all call :func:`compute`, so their
figures are the same figures.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from beacon.core.models import Area, Community

# --- Periods ------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A span of local dates ``[start, end)`` with its label (e.g. "2025 Q3")."""

    start: date
    end: date
    label: str

    @classmethod
    def quarter(cls, year: int, number: int, *, today: date | None = None) -> Period:
        """Calendar quarter ``number`` (1–4) of ``year``; the current one ends tomorrow."""
        if not 1 <= number <= 4:
            raise ValueError("a quarter is numbered 1 to 4")
        start = date(year, 3 * (number - 1) + 1, 1)
        end = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
        label = f"{year} Q{number}"
        if today is not None and start <= today < end:
            # A quarter under way is compared on the days it has had so far.
            return cls(start, today + timedelta(days=1), label + _(" (to date)"))
        return cls(start, end, label)

    @classmethod
    def parse(cls, text: str, *, today: date) -> Period:
        """``"2025-Q3"`` (or ``"2025Q3"``) to a quarter; raises ``ValueError`` if malformed."""
        cleaned = text.strip().upper().replace(" ", "").replace("-", "")
        if len(cleaned) != 6 or cleaned[4] != "Q" or not cleaned[:4].isdigit():
            raise ValueError(f"expected a quarter like 2025-Q3, got {text!r}")
        return cls.quarter(int(cleaned[:4]), int(cleaned[5]), today=today)

    @classmethod
    def current(cls, today: date) -> Period:
        return cls.quarter(today.year, (today.month - 1) // 3 + 1, today=today)

    @property
    def key(self) -> str:
        """The quarter key used in URLs (``2025-Q3``)."""
        return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Period:
        """The same number of days immediately before (the previous quarter when whole)."""
        if self.start.month in (1, 4, 7, 10) and self.start.day == 1:
            year, number = self.start.year, (self.start.month - 1) // 3 + 1
            year, number = (year - 1, 4) if number == 1 else (year, number - 1)
            whole = Period.quarter(year, number)
            if self.days >= 89:  # a complete quarter: compare with the complete one before
                return whole
            return Period(
                whole.start,
                whole.start + timedelta(days=self.days),
                whole.label + _(" (same days)"),
            )
        return Period(self.start - timedelta(days=self.days), self.start, _("previous period"))

    def bounds(self, zone: str) -> tuple[datetime, datetime]:
        """Aware datetimes of the period's start and end in the community's zone."""
        tz = ZoneInfo(zone)
        return (
            datetime.combine(self.start, time.min, tzinfo=tz),
            datetime.combine(self.end, time.min, tzinfo=tz),
        )


def recent_quarters(today: date, count: int = 8) -> list[Period]:
    """The current quarter and the ones before it, newest first."""
    year, number = today.year, (today.month - 1) // 3 + 1
    result = []
    for _i in range(count):
        result.append(Period.quarter(year, number, today=today))
        year, number = (year - 1, 4) if number == 1 else (year, number - 1)
    return result


# --- Results ------------------------------------------------------------------------


@dataclass
class Figure:
    """One number with the previous period's, and which way is better."""

    key: str
    label: str
    value: float | None
    previous: float | None = None
    unit: str = ""
    better: str = ""  # "up", "down" or "" (neither)
    digits: int = 0

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def percent_change(self) -> float | None:
        if self.change is None or not self.previous:
            return None
        return 100.0 * self.change / self.previous

    @property
    def improved(self) -> bool | None:
        """True when it moved the better way, False the worse way, None otherwise."""
        if self.change is None or self.change == 0 or not self.better:
            return None
        return (self.change > 0) == (self.better == "up")

    def text(self, value: float | None) -> str:
        if value is None:
            return "—"
        return f"{value:,.{self.digits}f}{self.unit}"

    @property
    def shown(self) -> str:
        return self.text(self.value)

    @property
    def shown_previous(self) -> str:
        return self.text(self.previous)

    @property
    def shown_change(self) -> str:
        if self.change is None:
            return "—"
        pct = self.percent_change
        sign = "+" if self.change > 0 else ""
        core = f"{sign}{self.change:,.{self.digits}f}{self.unit}"
        return f"{core} ({sign}{pct:.0f}%)" if pct is not None and not self.unit else core


@dataclass
class Indicator:
    """A group of figures from one source, with optional breakdown rows."""

    key: str
    title: str
    available: bool
    reason: str = ""
    figures: list[Figure] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    # Machine-readable details the rules read (per area, per program, ...).
    detail: dict[str, Any] = field(default_factory=dict)

    def figure(self, key: str) -> Figure | None:
        for item in self.figures:
            if item.key == key:
                return item
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the API."""
        return {
            "key": self.key,
            "title": self.title,
            "available": self.available,
            "reason": self.reason,
            "figures": [
                {k: v for k, v in asdict(f).items() if k != "digits"} | {"change": f.change}
                for f in self.figures
            ],
            "columns": self.columns,
            "rows": [[_plain(v) for v in row] for row in self.rows],
        }


def _plain(value: Any) -> Any:
    return value if isinstance(value, int | float | str | type(None)) else str(value)


def unavailable(key: str, title: str, app: str) -> Indicator:
    """The indicator of an app this deployment does not run."""
    return Indicator(
        key, title, False, _("Not available: the %(app)s app is not installed.") % {"app": app}
    )


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


# --- Reports ------------------------------------------------------------------------


def _report_period(community: Community, period: Period) -> dict[str, Any]:
    from beacon.reports.models import Report

    start, end = period.bounds(community.timezone)
    rows = list(
        Report.objects.filter(
            community=community, created_at__gte=start, created_at__lt=end, merged_into__isnull=True
        ).values_list(
            "created_at",
            "acknowledged_at",
            "resolved_at",
            "closed_at",
            "response_due_at",
            "satisfaction",
        )
    )
    first_response = []
    on_time = 0
    responded = 0
    for created, acknowledged, resolved, closed, due, _sat in rows:
        # The first response is the first time staff acted: acknowledging, or resolving
        # or closing a report that skipped acknowledgement.
        marks = [m for m in (acknowledged, resolved, closed) if m is not None]
        if marks:
            first = min(marks)
            responded += 1
            first_response.append(_hours(first - created))
            on_time += first <= due
    ratings = [r[5] for r in rows if r[5] is not None]
    resolved_count = Report.objects.filter(
        community=community, resolved_at__gte=start, resolved_at__lt=end
    ).count()
    return {
        "received": len(rows),
        "median_hours": _median(first_response),
        "on_time": 100.0 * on_time / responded if responded else None,
        "resolved": resolved_count,
        "satisfaction": sum(ratings) / len(ratings) if ratings else None,
    }


def reports_indicator(community: Community, period: Period) -> Indicator:
    """Reports received, first-response time, share on time, resolved, satisfaction."""
    title = _("Resident reports")
    if not apps.is_installed("beacon.reports"):
        return unavailable("reports", title, "reports")
    now, before = (_report_period(community, p) for p in (period, period.previous()))
    return Indicator(
        "reports",
        title,
        True,
        figures=[
            Figure("received", _("Reports received"), now["received"], before["received"]),
            Figure(
                "median_first_response_hours",
                _("Median first response (hours)"),
                now["median_hours"],
                before["median_hours"],
                better="down",
                digits=1,
            ),
            Figure(
                "on_time_percent",
                _("First response within target (%)"),
                now["on_time"],
                before["on_time"],
                better="up",
                digits=0,
            ),
            Figure(
                "resolved", _("Reports resolved"), now["resolved"], before["resolved"], better="up"
            ),
            Figure(
                "satisfaction",
                _("Reporter satisfaction (1–5)"),
                now["satisfaction"],
                before["satisfaction"],
                better="up",
                digits=2,
            ),
        ],
    )


# --- Incidents ----------------------------------------------------------------------


def _incident_counts(community: Community, period: Period) -> Counter[tuple[int | None, str]]:
    from beacon.incidents.models import Incident

    start, end = period.bounds(community.timezone)
    counts: Counter[tuple[int | None, str]] = Counter()
    for row in (
        Incident.objects.filter(
            community=community, occurred_from__gte=start, occurred_from__lt=end
        )
        .values("neighbourhood_id", "offence_group")
        .annotate(n=Count("pk"))
    ):
        counts[(row["neighbourhood_id"], row["offence_group"])] = row["n"]
    return counts


def incidents_indicator(community: Community, period: Period) -> Indicator:
    """Recorded incidents by offence group, with exact rate ratios against the period before."""
    from beacon.analytics.evaluation import rate_ratio

    title = _("Recorded incidents")
    if not apps.is_installed("beacon.incidents"):
        return unavailable("incidents", title, "incidents")
    previous = period.previous()
    now, before = _incident_counts(community, period), _incident_counts(community, previous)
    groups: Counter[str] = Counter()
    groups_before: Counter[str] = Counter()
    for (_area, group), n in now.items():
        groups[group] += n
    for (_area, group), n in before.items():
        groups_before[group] += n
    from beacon.incidents.models import Incident

    labels = {str(k): str(v) for k, v in Incident._meta.get_field("offence_group").choices or []}
    rows = []
    for group in sorted(set(groups) | set(groups_before)):
        a, b = groups[group], groups_before[group]
        ratio = rate_ratio(b, a, previous.days, period.days)
        rows.append(
            [labels.get(group, group), b, a, _ratio_text(ratio.ratio), f"{ratio.p_value:.3f}"]
        )
    names = dict(Area.objects.filter(community=community).values_list("pk", "name"))
    by_area = []
    for area_id, group in sorted(set(now) | set(before), key=lambda k: (str(k[0]), k[1])):
        a, b = now[(area_id, group)], before[(area_id, group)]
        ratio = rate_ratio(b, a, previous.days, period.days)
        by_area.append(
            {
                "area_id": area_id,
                "area": names.get(area_id, _("unknown area")) if area_id else "",
                "group": labels.get(group, group),
                "before": b,
                "after": a,
                "ratio": ratio.ratio,
                "p_value": ratio.p_value,
            }
        )
    total_now, total_before = sum(groups.values()), sum(groups_before.values())
    return Indicator(
        "incidents",
        title,
        True,
        figures=[
            Figure("total", _("Incidents recorded"), total_now, total_before, better="down"),
            Figure(
                "per_day",
                _("Incidents per day"),
                total_now / period.days,
                total_before / previous.days,
                better="down",
                digits=1,
            ),
        ],
        columns=[_("Offence group"), previous.label, period.label, _("Rate ratio"), _("p")],
        rows=rows,
        detail={"by_area": by_area},
    )


def _ratio_text(value: float) -> str:
    return "∞" if value == float("inf") else f"{value:.2f}"


# --- Problems -----------------------------------------------------------------------


def problems_indicator(community: Community, period: Period) -> Indicator:
    """SARA problems opened and closed, and concerns sent for problem solving."""
    from beacon.forums.models import Concern

    title = _("Problem solving (SARA)")
    start, end = period.bounds(community.timezone)
    requested = Concern.objects.filter(
        community=community, problem_requested_at__gte=start, problem_requested_at__lt=end
    ).count()
    prev_start, prev_end = period.previous().bounds(community.timezone)
    requested_before = Concern.objects.filter(
        community=community, problem_requested_at__gte=prev_start, problem_requested_at__lt=prev_end
    ).count()
    figures = [
        Figure(
            "concerns_to_problems",
            _("Concerns sent for problem solving"),
            requested,
            requested_before,
        ),
    ]
    if not apps.is_installed("beacon.problems"):
        return Indicator(
            "problems",
            title,
            True,
            reason=_(
                "The problems app is not installed: problems opened, closed and their "
                "assessments are not available."
            ),
            figures=figures,
        )
    figures += _problem_figures(community, period)
    return Indicator("problems", title, True, figures=figures)


def _problem_figures(community: Community, period: Period) -> list[Figure]:
    """Problems opened (``opened_at``) and closed (``closed_at``) in the two periods."""
    from beacon.problems.models import Problem

    figures = []
    for label, name, key in (
        (_("Problems opened"), "opened_at", "problems_opened"),
        (_("Problems closed"), "closed_at", "problems_closed"),
    ):
        values = []
        for p in (period, period.previous()):
            start, end = p.bounds(community.timezone)
            values.append(
                Problem.objects.filter(
                    community=community, **{f"{name}__gte": start, f"{name}__lt": end}
                ).count()
            )
        figures.append(Figure(key, label, values[0], values[1], better="up"))
    return figures


def open_problem_area_ids(community: Community) -> set[int]:
    """Areas with an open SARA problem (or a concern waiting to become one)."""
    from beacon.forums.models import Concern, ConcernStatus

    waiting = Concern.objects.filter(
        community=community, problem_requested_at__isnull=False
    ).exclude(status__in=[ConcernStatus.RESOLVED, ConcernStatus.CLOSED])
    ids = {a for row in waiting.values_list("neighbourhood_id", "beat_id") for a in row if a}
    if apps.is_installed("beacon.problems"):
        from beacon.problems.models import Problem, Stage

        rows = Problem.objects.filter(community=community).exclude(stage=Stage.CLOSED)
        ids |= {a for row in rows.values_list("neighbourhood_id", "beat_id") for a in row if a}
    return ids


# --- Programs -----------------------------------------------------------------------


def _program_attendance(community: Community, period: Period) -> dict[int | None, dict[str, int]]:
    from beacon.programs.models import Attendance, Registration

    start, end = period.bounds(community.timezone)
    result: dict[int | None, dict[str, int]] = defaultdict(lambda: {"attendance": 0, "reach": 0})
    for row in (
        Attendance.objects.filter(
            community=community, checked_in_at__gte=start, checked_in_at__lt=end
        )
        .values("session__event__program_id")
        .annotate(n=Count("pk"))
    ):
        result[row["session__event__program_id"]]["attendance"] = row["n"]
    for reg in (
        Registration.objects.filter(
            community=community,
            status="confirmed",
            event__sessions__starts_at__gte=start,
            event__sessions__starts_at__lt=end,
        )
        .values("event__program_id")
        .annotate(n=Count("email", distinct=True))
    ):
        result[reg["event__program_id"]]["reach"] = reg["n"]
    return result


def programs_indicator(community: Community, period: Period) -> Indicator:
    """Program reach (people registered) and attendance, per program."""
    title = _("Crime-prevention programs")
    if not apps.is_installed("beacon.programs"):
        return unavailable("programs", title, "programs")
    from beacon.programs.models import Program

    now = _program_attendance(community, period)
    before = _program_attendance(community, period.previous())
    names = dict(Program.objects.filter(community=community).values_list("pk", "name"))
    rows, detail = [], []
    for program_id in sorted(set(now) | set(before), key=lambda k: names.get(k, "") if k else ""):
        name = names.get(program_id, "") if program_id else _("Events outside a program")
        a, b = now.get(program_id, {}), before.get(program_id, {})
        rows.append(
            [
                name,
                b.get("reach", 0),
                a.get("reach", 0),
                b.get("attendance", 0),
                a.get("attendance", 0),
            ]
        )
        detail.append(
            {
                "program_id": program_id,
                "program": name,
                "attendance_before": b.get("attendance", 0),
                "attendance_after": a.get("attendance", 0),
            }
        )
    return Indicator(
        "programs",
        title,
        True,
        figures=[
            Figure(
                "reach",
                _("People registered (reach)"),
                sum(v["reach"] for v in now.values()),
                sum(v["reach"] for v in before.values()),
                better="up",
            ),
            Figure(
                "attendance",
                _("Session attendances"),
                sum(v["attendance"] for v in now.values()),
                sum(v["attendance"] for v in before.values()),
                better="up",
            ),
        ],
        columns=[
            _("Program"),
            _("Reach before"),
            _("Reach"),
            _("Attendance before"),
            _("Attendance"),
        ],
        rows=rows,
        detail={"programs": detail},
    )


# --- Neighbourhood watch ------------------------------------------------------------


def watch_indicator(community: Community, period: Period) -> Indicator:
    """Watch groups, active members, patrols and training completed in the period."""
    from beacon.watch.models import (
        MemberStatus,
        PatrolLog,
        TrainingRecord,
        WatchGroup,
        WatchMembership,
    )

    title = _("Neighbourhood watch")
    if not apps.is_installed("beacon.watch"):
        return unavailable("watch", title, "watch")

    def in_period(p: Period) -> dict[str, float]:
        start, end = p.bounds(community.timezone)
        patrols = PatrolLog.objects.filter(
            community=community, started_at__gte=start, started_at__lt=end
        )
        hours = sum(
            _hours(ended - started) * max(patrollers, 1)
            for started, ended, patrollers in patrols.values_list(
                "started_at", "ended_at", "patrollers"
            )
        )
        return {
            "members": WatchMembership.objects.filter(
                community=community, status=MemberStatus.ACTIVE, decided_at__lt=end
            ).count(),
            "patrols": patrols.count(),
            "patrol_hours": round(hours, 1),
            "training": TrainingRecord.objects.filter(
                community=community, completed_on__gte=p.start, completed_on__lt=p.end
            ).count(),
        }

    now, before = in_period(period), in_period(period.previous())
    figures = [
        Figure("groups", _("Watch groups"), WatchGroup.objects.filter(community=community).count()),
        Figure(
            "members", _("Active watch members"), now["members"], before["members"], better="up"
        ),
        Figure("patrols", _("Patrols logged"), now["patrols"], before["patrols"], better="up"),
        Figure(
            "patrol_hours",
            _("Patrol hours (per patroller)"),
            now["patrol_hours"],
            before["patrol_hours"],
            better="up",
            digits=1,
        ),
        Figure(
            "training",
            _("Training modules completed"),
            now["training"],
            before["training"],
            better="up",
        ),
    ]
    return Indicator("watch", title, True, figures=figures)


# --- Concerns, meetings and action items (forums) -----------------------------------


def _concern_figures(community: Community, period: Period) -> dict[str, float | None]:
    from beacon.forums.models import Concern, ConcernSupport

    start, end = period.bounds(community.timezone)
    raised = Concern.objects.filter(community=community, created_at__gte=start, created_at__lt=end)
    answered = Concern.objects.filter(
        community=community, responded_at__gte=start, responded_at__lt=end
    )
    waits = [
        (r - c).total_seconds() / 86400
        for c, r in answered.values_list("created_at", "responded_at")
        if r is not None
    ]
    return {
        "raised": raised.count(),
        "supports": ConcernSupport.objects.filter(
            community=community, created_at__gte=start, created_at__lt=end
        ).count(),
        "threshold": Concern.objects.filter(
            community=community, threshold_reached_at__gte=start, threshold_reached_at__lt=end
        ).count(),
        "answered": len(waits),
        "median_days": _median(waits),
        "resolved": Concern.objects.filter(
            community=community, closed_at__gte=start, closed_at__lt=end, status="resolved"
        ).count(),
    }


def concerns_indicator(community: Community, period: Period) -> Indicator:
    """Concerns raised, supported, over the threshold, answered and resolved."""
    now = _concern_figures(community, period)
    before = _concern_figures(community, period.previous())
    return Indicator(
        "concerns",
        _("Concerns board"),
        True,
        figures=[
            Figure("raised", _("Concerns raised"), now["raised"], before["raised"]),
            Figure(
                "supports", _("Supports given"), now["supports"], before["supports"], better="up"
            ),
            Figure(
                "over_threshold",
                _("Concerns reaching the agenda threshold"),
                now["threshold"],
                before["threshold"],
            ),
            Figure(
                "answered", _("Concerns answered"), now["answered"], before["answered"], better="up"
            ),
            Figure(
                "median_days_to_answer",
                _("Median days to answer"),
                now["median_days"],
                before["median_days"],
                better="down",
                digits=1,
            ),
            Figure(
                "resolved", _("Concerns resolved"), now["resolved"], before["resolved"], better="up"
            ),
        ],
    )


def _meeting_figures(community: Community, period: Period) -> dict[str, float | None]:
    from beacon.forums.models import ActionItem, Meeting, MeetingStatus

    start, end = period.bounds(community.timezone)
    held = Meeting.objects.filter(
        community=community, status=MeetingStatus.HELD, starts_at__gte=start, starts_at__lt=end
    ).annotate(present=Count("registrations", filter=Q(registrations__attended=True)))
    attendance = sum(m.present + m.walk_ins for m in held)
    created = ActionItem.objects.filter(
        community=community, created_at__gte=start, created_at__lt=end
    ).count()
    completed = ActionItem.objects.filter(
        community=community, status="completed", closed_at__gte=start, closed_at__lt=end
    )
    on_time = sum(
        1
        for closed, due in completed.values_list("closed_at", "due_date")
        if closed is not None and closed.date() <= due
    )
    overdue = (
        ActionItem.objects.filter(community=community, created_at__lt=end, due_date__lt=period.end)
        .exclude(closed_at__lt=end)
        .count()
    )
    n_completed = completed.count()
    return {
        "held": len(held),
        "attendance": attendance,
        "actions_created": created,
        "actions_completed": n_completed,
        "on_time": 100.0 * on_time / n_completed if n_completed else None,
        "overdue": overdue,
    }


def meetings_indicator(community: Community, period: Period) -> Indicator:
    """Meetings held, attendance, and action items created, completed and overdue."""
    now = _meeting_figures(community, period)
    before = _meeting_figures(community, period.previous())
    return Indicator(
        "meetings",
        _("Meetings and action items"),
        True,
        figures=[
            Figure("held", _("Meetings held"), now["held"], before["held"], better="up"),
            Figure(
                "attendance",
                _("Meeting attendance"),
                now["attendance"],
                before["attendance"],
                better="up",
            ),
            Figure(
                "actions_created",
                _("Action items agreed"),
                now["actions_created"],
                before["actions_created"],
            ),
            Figure(
                "actions_completed",
                _("Action items completed"),
                now["actions_completed"],
                before["actions_completed"],
                better="up",
            ),
            Figure(
                "actions_on_time",
                _("Completed on time (%)"),
                now["on_time"],
                before["on_time"],
                better="up",
            ),
            Figure(
                "actions_overdue",
                _("Action items overdue at period end"),
                now["overdue"],
                before["overdue"],
                better="down",
            ),
        ],
    )


# --- Trust index (surveys) ----------------------------------------------------------


def trust_indicator(community: Community, period: Period) -> Indicator:
    """The trust index of the latest wave ending in the period, against the wave before."""
    from beacon.surveys import trust
    from beacon.surveys.models import Survey, SurveyKind

    title = _("Community-trust index")
    waves = list(
        Survey.objects.filter(community=community, kind=SurveyKind.TRUST, opens_on__lt=period.end)
        .exclude(status="draft")
        .order_by("opens_on", "pk")
    )
    if not waves:
        return Indicator("trust", title, True, reason=_("No trust survey has been run yet."))
    latest = waves[-1]
    series = [w for w in waves if w.series == latest.series]
    current = trust.trust_results(latest)
    previous = trust.trust_results(series[-2]) if len(series) > 1 else None
    prev_areas = {a.area_id: a for a in previous.areas} if previous else {}
    rows, detail = [], []
    for area in current.areas:
        before = prev_areas.get(area.area_id)
        from beacon.surveys.stats import change

        delta = change(before.estimate, area.estimate) if before is not None else None
        rows.append(
            [
                area.name,
                before.estimate.label if before is not None else "—",
                area.estimate.label,
                f"{delta.difference:+.1f}" if delta is not None else "—",
            ]
        )
        detail.append(
            {
                "area_id": area.area_id,
                "area": area.name,
                "before": before.estimate.mean if before is not None else None,
                "after": area.estimate.mean,
                "difference": delta.difference if delta else None,
                "significant": delta.significant if delta else False,
            }
        )
    return Indicator(
        "trust",
        title,
        True,
        reason=_("Wave “%(wave)s”, %(n)d responses%(weighted)s.")
        % {
            "wave": latest.wave_label or latest.title,
            "n": current.responses,
            "weighted": _(", weighted to the population") if current.weighted else "",
        },
        figures=[
            Figure(
                "index",
                _("Trust index (0–100)"),
                current.overall.mean,
                previous.overall.mean if previous else None,
                better="up",
                digits=1,
            ),
            Figure(
                "procedural_fairness",
                _("Procedural fairness (0–100)"),
                current.procedural_fairness.mean,
                previous.procedural_fairness.mean if previous else None,
                better="up",
                digits=1,
            ),
            Figure(
                "responses",
                _("Survey responses"),
                current.responses,
                previous.responses if previous else None,
            ),
        ],
        columns=[_("Area"), _("Previous wave"), _("Latest wave"), _("Change")],
        rows=rows,
        detail={
            "areas": detail,
            "overall": current.overall,
            "wave": latest.wave_label or latest.title,
            "previous_wave": (series[-2].wave_label or series[-2].title) if previous else "",
            "area_estimates": [(a.name, a.estimate) for a in current.areas],
        },
    )


INDICATORS: list[Callable[[Community, Period], Indicator]] = [
    reports_indicator,
    incidents_indicator,
    problems_indicator,
    programs_indicator,
    watch_indicator,
    concerns_indicator,
    meetings_indicator,
    trust_indicator,
]


def compute(community: Community, period: Period) -> dict[str, Indicator]:
    """Every indicator for the community and period, by key."""
    result = {}
    for function in INDICATORS:
        indicator = function(community, period)
        result[indicator.key] = indicator
    return result
