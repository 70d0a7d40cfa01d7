"""Pydantic schemas of the problems API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field


class ErrorsOut(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(default_factory=dict)


class ProblemIn(Schema):
    """A new problem. Give ``geometry`` (drawn GeoJSON polygon) or ``cells`` (H3 hex
    strings); with ``run_id`` the cells come from that Gi* run (default: its largest hot
    cluster); with ``report_ids`` the area defaults to the reports' outline; with
    ``concern_id`` the problem is opened from that concern."""

    title: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=10_000)
    offence_groups: list[str] = Field(default_factory=list, max_length=20)
    offences: list[str] = Field(default_factory=list, max_length=50)
    geometry: dict[str, Any] | None = None
    cells: list[str] | None = Field(default=None, max_length=2000)
    owner_id: int | None = None
    partner_ids: list[int] = Field(default_factory=list, max_length=50)
    run_id: int | None = None
    report_ids: list[int] = Field(default_factory=list, max_length=500)
    concern_id: int | None = None


class ProblemPatch(Schema):
    """Fields to change; those left out keep their value."""

    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    offence_groups: list[str] | None = Field(default=None, max_length=20)
    offences: list[str] | None = Field(default=None, max_length=50)
    geometry: dict[str, Any] | None = None
    cells: list[str] | None = Field(default=None, max_length=2000)
    owner_id: int | None = None
    partner_ids: list[int] | None = Field(default=None, max_length=50)


class ProblemStageIn(Schema):
    stage: Literal["scanning", "analysis", "response", "assessment", "closed"]
    outcome: str = ""
    note: str = Field(default="", max_length=10_000)


class ProblemResponseStartIn(Schema):
    response_started_on: date


class ProblemTriangle(Schema):
    offender: str | None = Field(default=None, max_length=10_000)
    handler: str | None = Field(default=None, max_length=10_000)
    target: str | None = Field(default=None, max_length=10_000)
    guardian: str | None = Field(default=None, max_length=10_000)
    place: str | None = Field(default=None, max_length=10_000)
    manager: str | None = Field(default=None, max_length=10_000)


class ProblemQuestionIn(Schema):
    question: str = Field(max_length=500)
    finding: str = Field(default="", max_length=10_000)


class ProblemFindingIn(Schema):
    finding: str = Field(default="", max_length=10_000)


class ProblemQuestionOut(Schema):
    id: int
    question: str
    finding: str
    answered_at: datetime | None


class ProblemRunIn(Schema):
    run_id: int


class ProblemRunOut(Schema):
    id: int
    kind: str
    offence_groups: list[str]
    window_start: date
    window_end: date
    status: str


class ProblemLinkIn(Schema):
    kind: Literal["report", "concern"]
    target_id: int
    note: str = Field(default="", max_length=300)


class ProblemLinkOut(Schema):
    id: int
    kind: str
    target_id: int
    note: str
    added_at: datetime


class ProblemMonthCount(Schema):
    month: date
    count: int


class ProblemEvidenceOut(Schema):
    total: int
    last_12_months: int
    previous_12_months: int
    area_km2: float
    by_offence: dict[str, int]
    trend: list[ProblemMonthCount]
    links: list[ProblemLinkOut]


class ProblemTaskIn(Schema):
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=10_000)
    owner_kind: Literal["staff", "partner", "watch_group"]
    owner_id: int
    due_on: date
    status: Literal["planned", "in_progress", "done", "cancelled"] = "planned"


class ProblemTaskPatch(Schema):
    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    owner_kind: Literal["staff", "partner", "watch_group"] | None = None
    owner_id: int | None = None
    due_on: date | None = None
    status: Literal["planned", "in_progress", "done", "cancelled"] | None = None


class ProblemTaskOut(Schema):
    id: int
    problem_id: int
    title: str
    description: str
    owner_kind: str
    owner_id: int | None
    owner: str
    due_on: date
    status: str
    overdue: bool
    completed_at: datetime | None


class ProblemOut(Schema):
    id: int
    title: str
    description: str
    origin: str
    stage: str
    area: dict[str, Any]
    area_cells: list[str]
    beat: str | None
    neighbourhood: str | None
    offence_groups: list[str]
    offences: list[str]
    owner: str | None
    partners: list[str]
    opened_at: datetime
    closed_at: datetime | None
    outcome: str
    response_started_on: date | None
    source_run_id: int | None
    source_concern_id: int | None
    triangle: ProblemTriangle


class ProblemAssessmentIn(Schema):
    control_geometry: dict[str, Any] | None = None
    control_area_id: int | None = None
    buffer_m: int = 400
    period_days: int = 182


class ProblemAssessmentOut(Schema):
    id: int
    problem_id: int
    response_started_on: date
    period_days: int
    before_start: date
    after_start: date
    after_end: date
    buffer_m: int
    control_area_id: int | None
    control_geometry: dict[str, Any]
    buffer_geometry: dict[str, Any]
    offence_groups: list[str]
    offences: list[str]
    counts: dict[str, list[int]]
    results: dict[str, Any]
    verdict: str
    verdict_text: str
    notes: list[str]
    created_at: datetime


class ProblemBoardItem(Schema):
    id: int
    title: str
    stage: str
    beat: str | None
    open_tasks: int
    overdue_tasks: int


class ProblemBoardBeat(Schema):
    beat: str
    by_stage: dict[str, int]


class ProblemBoardOut(Schema):
    by_stage: dict[str, list[ProblemBoardItem]]
    by_beat: list[ProblemBoardBeat]
    overdue_tasks: list[ProblemTaskOut]
    outcomes: dict[str, int]
    verdicts: dict[str, int]
