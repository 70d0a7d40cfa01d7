"""Pydantic schemas of the forums API."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema
from pydantic import Field


class ErrorsOut(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(default_factory=dict)


class ConcernIn(Schema):
    title: str = Field(max_length=160)
    body: str = Field(max_length=5000)
    category: str
    lat: float
    lon: float


class ConcernOut(Schema):
    id: int
    title: str
    body: str
    category: str
    status: str
    lat: float = Field(description="Rounded to about 100 m.")
    lon: float = Field(description="Rounded to about 100 m.")
    beat: str | None
    neighbourhood: str | None
    support_count: int
    threshold: int
    response: str
    responded_at: datetime | None
    created_at: datetime


class SupportOut(Schema):
    id: int
    support_count: int
    status: str
    on_agenda: bool


class AgendaItemOut(Schema):
    title: str
    concern_id: int | None
    outcome: str


class MeetingIn(Schema):
    title: str = Field(max_length=200)
    kind: str = "beat"
    starts_at: datetime | None = Field(default=None, description="Required, with a time zone.")
    ends_at: datetime | None = None
    venue: str = Field(default="", max_length=300)
    online_url: str = Field(default="", max_length=200)
    area_id: int | None = None
    description: str = ""
    capacity: int | None = None


class MeetingOut(Schema):
    id: int
    kind: str
    title: str
    status: str
    area: str | None
    starts_at: datetime
    ends_at: datetime | None
    venue: str
    online_url: str
    agenda: list[AgendaItemOut]
    decisions: list[str]
    minutes: str


class ActionItemOut(Schema):
    id: int
    title: str
    owner: str
    due_date: date
    progress: int
    status: str
    overdue: bool
    result: str
    meeting_id: int | None
    concern_id: int | None


class ProgressIn(Schema):
    progress: int = Field(ge=0, le=100)
    status: str
    note: str = ""
    result: str = ""
