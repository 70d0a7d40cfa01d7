"""Pydantic schemas of the insights API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

RunKindName = Literal["gi", "kde", "knox", "forecast", "trend"]
RunStatusName = Literal["queued", "running", "done", "failed"]


class RunIn(Schema):
    kind: RunKindName
    offence_groups: list[str] = Field(
        default_factory=list, description="Offence group codes; empty for all groups."
    )
    window_start: dt.date | None = Field(
        default=None, description="First day of data (local); default depends on the kind."
    )
    window_end: dt.date | None = Field(
        default=None, description="Last day of data (local, inclusive); default: the latest data."
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Parameters of the kind; omitted ones take defaults."
    )


class RunSummaryOut(Schema):
    id: int
    kind: RunKindName
    offence_groups: list[str]
    parameters: dict[str, Any]
    window_start: dt.date
    window_end: dt.date
    status: RunStatusName
    error: str
    created_by: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration_ms: int | None


class RunOut(RunSummaryOut):
    results: dict[str, Any]


class RiskZoneOut(Schema):
    id: int
    offence_group: str
    starts_on: dt.date
    ends_on: dt.date = Field(description="First day the zone is no longer open.")
    lat: float
    lon: float
    radius_m: float
    exact: bool = Field(description="True: the incident's true location (staff); false: masked.")
    mine: bool = Field(description="In the caller's beat or watch group area.")
    beat: str
    neighbourhood: str
    incident_id: int | None
    run_id: int | None


class TrendAlertOut(Schema):
    area_kind: Literal["neighbourhood", "beat"]
    area: int
    area_name: str
    offence_group: str
    method: Literal["poisson", "cusum"]
    observed: int
    history: int
    expected: float
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float
    weekly: list[int]
    cusum: dict[str, Any] | None = None


class TrendAlertsOut(Schema):
    run_id: int | None
    method: str | None
    current_start: dt.date | None
    current_end: dt.date | None
    history_start: dt.date | None
    history_days: int | None
    tested: int
    alerts: list[TrendAlertOut]
