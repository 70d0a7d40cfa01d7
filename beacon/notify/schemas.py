"""Pydantic schemas of the alerts API; the services check values and name the field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field


class ErrorsOut(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(default_factory=dict)


class SubscriptionIn(Schema):
    area_kind: str = Field(
        description="neighbourhood, beat, watch_group, polygon or radius", examples=["radius"]
    )
    topics: list[str] = Field(
        description="incident, near_repeat, broadcast, event, report_update",
        examples=[["incident"]],
    )
    channel: str = Field("email", description="email, sms or webhook")
    target: str = Field("", description="Email (default: yours), phone number or webhook URL.")
    frequency: str = Field("immediate", description="immediate, daily or weekly")
    offence_groups: list[str] = Field(default_factory=list, description="Empty: every group.")
    area_id: int | None = Field(None, description="The neighbourhood or beat id.")
    group_id: int | None = Field(None, description="The watch group id.")
    geometry: dict[str, Any] | None = Field(None, description="A GeoJSON Polygon (WGS84).")
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = Field(None, description="50 to 5,000 metres.")
    address: str = ""


class SubscriptionOut(Schema):
    id: int
    area_kind: str
    area: str
    topics: list[str]
    offence_groups: list[str]
    channel: str
    target: str
    frequency: str
    active: bool
    created_at: datetime
    secret: str | None = Field(
        None, description="The webhook signing secret; returned once, when created."
    )


class AlertOut(Schema):
    key: str
    topic: str
    title: str
    body: str
    link: str
    lat: float | None
    lon: float | None
    offence_group: str | None
    occurred_at: str


class BroadcastIn(Schema):
    geometry: dict[str, Any]
    title: str = ""
    body: str = ""


class PreviewOut(Schema):
    recipients: int


class BroadcastOut(Schema):
    key: str
    recipients: int
