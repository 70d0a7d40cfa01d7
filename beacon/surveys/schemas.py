"""Pydantic schemas of the surveys API."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field


class ErrorsOut(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(default_factory=dict)


class SurveyChoiceOut(Schema):
    key: str
    label: str


class SurveyQuestionOut(Schema):
    code: str
    prompt: str
    kind: str
    required: bool
    choices: list[SurveyChoiceOut]
    scale_min: int | None
    scale_max: int | None
    low_label: str
    high_label: str


class AreaChoiceOut(Schema):
    id: int
    name: str


class SurveyOut(Schema):
    token: str
    title: str
    description: str
    community: str
    anonymous: bool
    open: bool
    asks_demographics: bool
    areas: list[AreaChoiceOut]
    questions: list[SurveyQuestionOut]


class ResponseIn(Schema):
    answers: dict[str, Any] = Field(
        description="Question code to answer: a number (Likert, number), a choice key "
        "(single), a list of keys (multiple) or text."
    )
    area_id: int | None = None
    age_band: str = ""
    gender: str = ""


class ResponseOut(Schema):
    id: int
    survey: str
