"""The supervisors' problem board: problems by stage and beat, overdue tasks, outcomes."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q

from beacon.core.models import Community
from beacon.problems.models import (
    OPEN_TASK_STATUSES,
    STAGE_ORDER,
    Assessment,
    Outcome,
    Problem,
    ResponseTask,
    Stage,
    Verdict,
)
from beacon.problems.response import overdue_tasks
from beacon.problems.services import problems_for, today_in


@dataclass
class BeatRow:
    """One beat's problems per stage (``None`` beat: areas outside every beat)."""

    beat_id: int | None
    name: str
    by_stage: dict[str, int]

    @property
    def open(self) -> int:
        return sum(n for stage, n in self.by_stage.items() if stage != Stage.CLOSED)

    def cells(self) -> list[int]:
        """Counts in stage order, for the table."""
        return [self.by_stage.get(stage, 0) for stage in STAGE_ORDER]


@dataclass
class Board:
    today: dt.date
    columns: list[tuple[str, str, list[Problem]]]
    beats: list[BeatRow]
    overdue: list[ResponseTask]
    outcomes: list[tuple[str, str, int]]
    verdicts: list[tuple[str, str, int]]
    stale: list[Problem]

    @property
    def stage_totals(self) -> list[int]:
        return [len(problems) for _code, _label, problems in self.columns]


STALE_DAYS = 60


def build(community: Community, user: Any, *, beat_id: int | None = None) -> Board:
    """Everything the board shows, as ``user`` may see it."""
    today = today_in(community)
    rows = (
        problems_for(community, user)
        .annotate(
            open_tasks=Count(
                "tasks", filter=Q(tasks__status__in=OPEN_TASK_STATUSES), distinct=True
            ),
            overdue_tasks=Count(
                "tasks",
                filter=Q(tasks__status__in=OPEN_TASK_STATUSES, tasks__due_on__lt=today),
                distinct=True,
            ),
        )
        .prefetch_related(
            Prefetch("assessments", queryset=Assessment.objects.order_by("-created_at", "-pk"))
        )
    )
    if beat_id:
        rows = rows.filter(beat_id=beat_id)
    problems: list[Problem] = list(rows.order_by("-opened_at", "-pk"))
    columns = [
        (stage.value, str(stage.label), [p for p in problems if p.stage == stage])
        for stage in Stage
    ]
    per_beat: dict[int | None, BeatRow] = {}
    for problem in problems:
        key = problem.beat_id
        row = per_beat.get(key)
        if row is None:
            name = problem.beat.name if problem.beat else "—"
            row = per_beat[key] = BeatRow(key, name, {})
        row.by_stage[problem.stage] = row.by_stage.get(problem.stage, 0) + 1
    overdue = overdue_tasks(community, user, today)
    if beat_id:
        overdue = overdue.filter(problem__beat_id=beat_id)
    outcomes = Counter(p.outcome for p in problems if p.stage == Stage.CLOSED and p.outcome)
    verdicts: Counter[str] = Counter()
    for problem in problems:
        latest = next(iter(problem.assessments.all()), None)
        if latest is not None:
            verdicts[latest.verdict] += 1
    stale_before = today - dt.timedelta(days=STALE_DAYS)
    stale = [
        p for p in problems if p.stage != Stage.CLOSED and p.stage_changed_at.date() < stale_before
    ]
    return Board(
        today=today,
        columns=columns,
        beats=sorted(per_beat.values(), key=lambda r: (r.beat_id is None, r.name)),
        overdue=list(overdue[:200]),
        outcomes=[(o.value, str(o.label), outcomes.get(o.value, 0)) for o in Outcome],
        verdicts=[(v.value, str(v.label), verdicts.get(v.value, 0)) for v in Verdict],
        stale=stale,
    )
