"""Pydantic schemas of the partners API."""

from __future__ import annotations

from datetime import date

from ninja import Schema


class AgreementOut(Schema):
    id: int
    title: str
    scope: str
    information_sharing: str
    starts_on: date
    expires_on: date
    active: bool


class PartnerOut(Schema):
    id: int
    name: str
    kind: str
    agreements: list[AgreementOut]


class InitiativeTaskOut(Schema):
    id: int
    title: str
    partner: str | None
    due_on: date | None
    status: str


class InitiativeOut(Schema):
    id: int
    title: str
    status: str
    partners: list[str]
    programs: list[str]
    event_ids: list[int]
    tasks: list[InitiativeTaskOut]


class ErrorOut(Schema):
    detail: str
