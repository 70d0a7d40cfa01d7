"""Pydantic schemas of the youth API (program staff only)."""

from __future__ import annotations

from datetime import date

from ninja import Schema


class MenteeSummaryOut(Schema):
    id: int
    name: str
    status: str
    consent: bool


class MenteeOut(MenteeSummaryOut):
    date_of_birth: date
    interests: list[str]
    languages: list[str]
    availability: list[str]
    mentor: str | None


class ErrorOut(Schema):
    detail: str
