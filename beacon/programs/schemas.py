"""Pydantic schemas of the programs API."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field


class ProgramOut(Schema):
    id: int
    name: str
    kind: str
    summary: str
    curriculum: str
    audience: str
    materials: list[str]


class SessionOut(Schema):
    id: int
    starts_at: datetime
    ends_at: datetime
    venue: str
    address: str
    lat: float
    lon: float
    neighbourhood: str | None


class EventOut(Schema):
    id: int
    title: str
    kind: str
    program: str | None
    description: str
    audience: str
    status: str
    capacity: int | None
    free_seats: int | None
    registration_open: bool
    sessions: list[SessionOut]


class SessionIn(Schema):
    starts_at: datetime
    ends_at: datetime
    venue: str = Field(max_length=200)
    address: str = Field(default="", max_length=300)
    lat: float
    lon: float


class EventIn(Schema):
    title: str = Field(max_length=200)
    kind: str
    program_id: int | None = None
    description: str = ""
    audience: str = "everyone"
    capacity: int | None = None
    registration_open: bool = True
    publish: bool = False
    sessions: list[SessionIn] = Field(min_length=1)


class RegistrationIn(Schema):
    name: str = Field(max_length=120)
    # A plain string: the service gives the clear message for a bad address.
    email: str = Field(max_length=254)


class RegistrationOut(Schema):
    status: str
    detail: str


class FigureRowOut(Schema):
    month: str | None
    key: str
    events: int
    confirmed: int
    attended: int
    attendance_rate: float | None
    feedback: int
    average_rating: float | None


class FiguresOut(Schema):
    dimension: str
    rows: list[FigureRowOut]
    totals: list[FigureRowOut]


class ErrorsOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}
