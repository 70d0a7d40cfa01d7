"""Pydantic schemas of the core API."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Schema
from pydantic import Field


class CommunityOut(Schema):
    slug: str
    name: str
    timezone: str
    centre_lat: float
    centre_lon: float
    organization: str


class AreaOut(Schema):
    id: int
    kind: str
    name: str
    code: str
    population: int | None


class AreaFeature(Schema):
    type: Literal["Feature"] = "Feature"
    id: int
    properties: dict[str, Any]
    geometry: dict[str, Any]


class AreaCollection(Schema):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[AreaFeature]


class AreaIn(Schema):
    kind: Literal["neighbourhood", "beat", "district"]
    name: str = Field(min_length=1, max_length=200)
    code: str = Field(default="", max_length=50)
    population: int | None = Field(default=None, ge=0)
    geometry: dict[str, Any]


class ErrorOut(Schema):
    detail: str
