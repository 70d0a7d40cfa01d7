"""Pydantic schemas of the incident API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from beacon.incidents import taxonomy
from beacon.incidents.formats import FORMATS, GENERIC_KEYS
from beacon.incidents.models import IncidentStatus


class ErrorOut(BaseModel):
    detail: str


class FeatureCollectionOut(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]


class UnitOut(BaseModel):
    month: str
    offence_group: str
    offence_group_label: str
    cell: str
    cell_resolution: int | None
    lat: float | None
    lon: float | None
    neighbourhood: str
    count: int | None
    suppressed: bool
    label: str


class FigureOut(BaseModel):
    count: int | None
    suppressed: bool
    low: int
    high: int
    label: str


class ComparisonOut(BaseModel):
    label: str
    current: FigureOut
    previous: FigureOut
    change: str


class NeighbourhoodOut(FigureOut):
    name: str
    population: int | None
    per_1000: str


class TimeRowOut(BaseModel):
    hours: str
    days: list[FigureOut]


class StatsOut(BaseModel):
    from_month: str
    to_month: str
    total: ComparisonOut
    by_group: list[ComparisonOut]
    by_month: list[ComparisonOut]
    by_neighbourhood: list[NeighbourhoodOut]
    time_of_day: list[TimeRowOut]


class IncidentOut(BaseModel):
    id: int
    source: str
    external_id: str
    occurred_from: dt.datetime
    occurred_to: dt.datetime | None
    reported_at: dt.datetime | None
    offence: str
    offence_group: str
    nibrs_code: str
    source_offence: str
    sensitive: bool
    lat: float | None
    lon: float | None
    location_status: str
    block_address: str
    neighbourhood: str
    beat: str
    status: str
    outcome: str


class IncidentPatch(BaseModel):
    """Fields staff may correct; omitted fields stay as they are."""

    offence: str | None = Field(None, description="A Beacon offence code.")
    status: str | None = Field(None, description="reported, investigating, cleared, unfounded")
    occurred_from: dt.datetime | None = None
    occurred_to: dt.datetime | None = None
    reported_at: dt.datetime | None = None
    block_address: str | None = Field(None, max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    sensitive: bool | None = None
    outcome: str | None = Field(None, max_length=200)

    @field_validator("offence")
    @classmethod
    def _known_offence(cls, value: str | None) -> str | None:
        if value is not None and value not in taxonomy.OFFENCES:
            raise ValueError(f"unknown offence {value!r}")
        return value

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str | None) -> str | None:
        if value is not None and value not in IncidentStatus.values:
            raise ValueError(f"unknown status {value!r}; use {', '.join(IncidentStatus.values)}")
        return value


class ImportIn(BaseModel):
    format: Literal[FORMATS]  # type: ignore[valid-type]
    source: str = Field("", max_length=40)
    on_error: Literal["skip", "abort"] = "skip"
    crs: str = Field("", pattern=r"^(EPSG:\d{4,6})?$")
    mapping: str = Field("", description="key=column pairs, comma separated (generic format)")
    time_format: str = "iso"
    default_offence: str = ""

    def mapping_dict(self) -> dict[str, str]:
        result: dict[str, str] = {}
        for part in self.mapping.split(","):
            if not part.strip():
                continue
            key, _sep, column = part.partition("=")
            if key.strip() not in GENERIC_KEYS or not column.strip():
                raise ValueError(f"bad mapping {part.strip()!r}; write key=column")
            result[key.strip()] = column.strip()
        return result


class ImportOut(BaseModel):
    id: int
    status: str
    format: str
    source: str
    file: str
    percent: int
    rows_read: int
    imported: int
    updated: int
    unchanged: int
    rejected: int
    mapped: int
    unmapped: int
    rejections: list[dict[str, Any]]
    message: str
