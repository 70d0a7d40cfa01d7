"""Pydantic schemas of the reports API.

Limits (4,000-character descriptions, 5 photos, …) are checked by the services, so the
page, the API and Open311 give the same errors; the schemas only fix the shapes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field


class CategoryChoiceOut(Schema):
    key: str
    name: str


class CategoryQuestionOut(Schema):
    code: str
    prompt: str
    help_text: str
    datatype: str = Field(
        description="string, number, datetime, text, singlevaluelist or multivaluelist"
    )
    required: bool
    order: int
    choices: list[CategoryChoiceOut]


class CategoryOut(Schema):
    code: str
    name: str
    description: str
    group: str
    privacy: str = Field(description="public: shown masked on the public map; staff: never public")
    response_hours: int
    questions: list[CategoryQuestionOut]


class ReportIn(Schema):
    category: str = Field(description="A category code from /report-categories.")
    description: str = Field(description="What happened; at most 4,000 characters.")
    lat: float | None = Field(default=None, description="WGS84 latitude of the pin.")
    lon: float | None = Field(default=None, description="WGS84 longitude of the pin.")
    address: str = Field(default="", description="Typed address, used when there is no pin.")
    answers: dict[str, str | float | list[str]] = Field(
        default_factory=dict, description="Answers to the category's questions by code."
    )
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""


class FiledOut(Schema):
    id: int
    tip_code: str
    passphrase: str = Field(description="Shown once; needed with the tip code to follow up.")
    status: str
    category: str
    photos: int


class ErrorsOut(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(default_factory=dict)


class UpdateOut(Schema):
    id: int
    kind: str
    visibility: str
    body: str
    from_reporter: bool
    status_to: str
    created_at: datetime


class PublicReportOut(Schema):
    id: int
    category: str
    category_name: str
    status: str
    description: str | None
    lat: float | None = Field(description="Masked location, never the pin.")
    lon: float | None
    created_at: datetime
    updated_at: datetime
    supporters: int
    merged_into: int | None
    updates: list[UpdateOut]


class TipIn(Schema):
    code: str
    passphrase: str


class TipReplyIn(TipIn):
    body: str = ""


class TipSurveyIn(TipIn):
    rating: int


class TipOut(Schema):
    id: int
    category: str
    status: str
    description: str
    created_at: datetime
    can_reopen: bool
    satisfaction: int | None
    updates: list[UpdateOut]


class StaffReportOut(Schema):
    id: int
    category: str
    privacy: str
    status: str
    overdue: bool
    description: str
    answers: dict[str, Any]
    lat: float
    lon: float
    address: str
    public_lat: float | None
    public_lon: float | None
    beat: str | None
    assigned_to: str | None
    source: str
    contact_name: str
    contact_email: str
    contact_phone: str
    supporters: int
    merged_into: int | None
    created_at: datetime
    response_due_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    satisfaction: int | None
    photos: int


class StaffReportDetailOut(StaffReportOut):
    updates: list[UpdateOut]


class StatusIn(Schema):
    status: str
    message: str = ""
    visibility: str = "public"


class UpdateIn(Schema):
    body: str
    visibility: str = Field(description="internal, reporter (a question) or public")


class AssignIn(Schema):
    officer: str | None = Field(description="Email of a staff member, or null to unassign.")


class MergeIn(Schema):
    into: int
