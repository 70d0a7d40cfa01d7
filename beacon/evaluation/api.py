"""Evaluation endpoint: a community's indicators and suggested adjustments for a quarter."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import django_auth

from beacon.core.access import get_object_or_deny, require_role
from beacon.core.models import Community
from beacon.evaluation import report
from beacon.evaluation.access import EVALUATORS
from beacon.evaluation.views import period_for

router = Router(tags=["evaluation"])


class SuggestionOut(Schema):
    rule: str
    subject: str
    text: str
    evidence: str


class EvaluationOut(Schema):
    community: str
    period: str
    start: str
    end: str
    previous: str
    indicators: list[dict[str, Any]]
    suggestions: list[SuggestionOut]


class ErrorOut(Schema):
    detail: str


@router.get(
    "/communities/{slug}/indicators",
    response={200: EvaluationOut, 403: ErrorOut, 404: ErrorOut},
    auth=django_auth,
)
def indicators(request: HttpRequest, slug: str, period: str = "") -> Any:
    """Indicators for a quarter (``period=2025-Q3``; the current one by default), staff only.

    The same figures as the dashboard and the quarterly PDF.
    """
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    require_role(request.user, community, EVALUATORS)
    evaluation = report.evaluate(community, period_for(community, period), with_charts=False)
    return {
        "community": community.slug,
        "period": evaluation.period.key,
        "start": evaluation.period.start.isoformat(),
        "end": evaluation.period.end.isoformat(),
        "previous": evaluation.previous.label,
        "indicators": [i.to_dict() for i in evaluation.indicators.values()],
        "suggestions": [s.__dict__ for s in evaluation.suggestions],
    }
