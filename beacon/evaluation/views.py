"""The evaluation dashboard and the quarterly report (PDF)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from beacon.core.access import get_object_or_deny, require_role
from beacon.core.audit import record_event
from beacon.core.decorators import signed_in
from beacon.core.models import Community
from beacon.evaluation import report
from beacon.evaluation.access import EVALUATORS
from beacon.evaluation.indicators import Period, recent_quarters


def _community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    require_role(request.user, community, EVALUATORS)
    return community


def period_for(community: Community, key: str | None) -> Period:
    """The quarter named by ``key`` (``2025-Q3``), the current one by default; 404 if bad."""
    today = timezone.localdate(timezone=_zone(community))
    if not key:
        return Period.current(today)
    try:
        return Period.parse(key, today=today)
    except ValueError:
        raise Http404 from None


def _zone(community: Community):  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(community.timezone)


@signed_in
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    """Per-community indicators for a quarter against the period before."""
    community = _community(request, slug)
    period = period_for(community, request.GET.get("period"))
    evaluation = report.evaluate(community, period)
    today = timezone.localdate(timezone=_zone(community))
    return render(
        request,
        "evaluation/dashboard.html",
        {"community": community, "e": evaluation, "quarters": recent_quarters(today)},
    )


@signed_in
def report_pdf(request: HttpRequest, slug: str, period: str) -> HttpResponse:
    """The quarterly evaluation report as a PDF download; audited as an export."""
    community = _community(request, slug)
    evaluation = report.evaluate(community, period_for(community, period))
    pdf = report.report_pdf(evaluation)
    record_event(
        actor=request.user,
        action="export",
        obj=community,
        detail={"report": "evaluation", "period": evaluation.period.key},
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.report_filename(evaluation)}"'
    return response
