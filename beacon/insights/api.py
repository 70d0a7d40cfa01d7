"""Insights endpoints of the JSON API: analysis runs, near-repeat zones, trend alerts.

Runs and trend alerts are staff only; the zones are also open to watch coordinators,
who get the masked circle only. Requesting a run (analysts, supervisors, admins) is
audited and accepts an ``Idempotency-Key``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.errors import HttpError
from ninja.security import django_auth

from beacon.core.access import get_object_or_deny, require_role
from beacon.core.decorators import second_factor_satisfied
from beacon.core.idempotency import IdempotencyError, run_once
from beacon.core.models import Community
from beacon.core.roles import STAFF_ROLES
from beacon.core.schemas import ErrorOut
from beacon.insights import services
from beacon.insights.models import RUNNERS, AnalysisRun, RunKind, RunStatus
from beacon.insights.params import RunParameterError
from beacon.insights.schemas import RiskZoneOut, RunIn, RunOut, RunSummaryOut, TrendAlertsOut
from beacon.insights.views import ZONE_READERS
from beacon.insights.zones import zones_for

router = Router(tags=["insights"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _community(request: HttpRequest, slug: str, roles: frozenset[str] = STAFF_ROLES) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    try:
        require_role(request.user, community, roles)
    except PermissionDenied:
        raise HttpError(403, "Your role does not allow this.") from None
    if not second_factor_satisfied(request):
        raise HttpError(403, "Sign in with your second factor first.")
    return community


def _summary(run: AnalysisRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "kind": run.kind,
        "offence_groups": run.offence_groups,
        "parameters": run.parameters,
        "window_start": run.window_start,
        "window_end": run.window_end,
        "status": run.status,
        "error": run.error,
        "created_by": str(run.created_by) if run.created_by_id else None,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_ms": run.duration_ms,
    }


@router.get(
    "/communities/{slug}/insights/runs",
    response={200: list[RunSummaryOut], **ERRORS},
    auth=django_auth,
)
def list_runs(
    request: HttpRequest,
    slug: str,
    kind: RunKind | None = None,
    status: RunStatus | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> list[dict[str, Any]]:
    """Staff: the community's analysis runs, newest first, without their results."""
    community = _community(request, slug)
    runs = services.visible_runs(request.user, community)
    if kind:
        runs = runs.filter(kind=kind)
    if status:
        runs = runs.filter(status=status)
    return [_summary(r) for r in runs[offset : offset + limit]]


@router.get(
    "/communities/{slug}/insights/runs/{run_id}",
    response={200: RunOut, **ERRORS},
    auth=django_auth,
)
def get_run(request: HttpRequest, slug: str, run_id: int) -> dict[str, Any]:
    """Staff: one run with its results (for ``gi``: ``results.cells`` and
    ``results.geojson``)."""
    community = _community(request, slug)
    run = get_object_or_deny(
        AnalysisRun.objects.filter(community=community).select_related("created_by"),
        request.user,
        "view",
        pk=run_id,
    )
    return {**_summary(run), "results": run.results or {}}


@router.post(
    "/communities/{slug}/insights/runs",
    response={200: RunSummaryOut, 202: RunSummaryOut, **ERRORS},
    auth=django_auth,
)
def create_run(request: HttpRequest, slug: str, payload: RunIn) -> Any:
    """Analysts, supervisors, admins: queue a run (202), or get the stored run with the
    same kind, groups, window and parameters (200). Audited; send an
    ``Idempotency-Key`` header to make a retry queue nothing new."""
    community = _community(request, slug, RUNNERS)

    def operation() -> tuple[int, Any]:
        run, created = services.request_run(
            community,
            payload.kind,
            offence_groups=payload.offence_groups,
            window_start=payload.window_start,
            window_end=payload.window_end,
            parameters=payload.parameters,
            actor=request.user,  # type: ignore[arg-type]
        )
        run.refresh_from_db()
        # JSON-ready (dates as text): the idempotency record stores this body.
        body = RunSummaryOut.model_validate(_summary(run)).model_dump(mode="json")
        return (202 if created else 200), body

    try:
        status, body = run_once(
            f"insights-run:{community.pk}:{request.user.pk}",
            request.headers.get("Idempotency-Key"),
            payload.model_dump(mode="json"),
            operation,
        )
    except (RunParameterError, IdempotencyError) as exc:
        return Status(400, {"detail": str(exc)})
    return Status(status, body)


@router.get(
    "/communities/{slug}/insights/risk-zones",
    response={200: list[RiskZoneOut], **ERRORS},
    auth=django_auth,
)
def risk_zones(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    """Staff and watch coordinators: the open near-repeat risk zones, the caller's own
    area first. Coordinators get the masked circle only (``exact`` false)."""
    community = _community(request, slug, ZONE_READERS)
    return [row.as_dict() for row in zones_for(request.user, community)]


@router.get(
    "/communities/{slug}/insights/trend-alerts",
    response={200: TrendAlertsOut, **ERRORS},
    auth=django_auth,
)
def trend_alerts(
    request: HttpRequest, slug: str, run: int | None = Query(None, alias="run")
) -> dict[str, Any]:
    """Staff: the alerts of the latest trend run (or of the run given), with the
    figures that triggered each."""
    community = _community(request, slug)
    if run is not None:
        found = get_object_or_deny(
            AnalysisRun.objects.filter(community=community, kind=RunKind.TREND),
            request.user,
            "view",
            pk=run,
        )
    else:
        found = services.latest_run(community, RunKind.TREND)
    if found is None or found.status != RunStatus.DONE:
        return {
            "run_id": found.pk if found else None,
            "method": None,
            "current_start": None,
            "current_end": None,
            "history_start": None,
            "history_days": None,
            "tested": 0,
            "alerts": [],
        }
    results = found.results
    return {
        "run_id": found.pk,
        "method": results.get("method"),
        "current_start": results.get("current_start"),
        "current_end": results.get("current_end"),
        "history_start": results.get("history_start"),
        "history_days": results.get("history_days"),
        "tested": results.get("tested", 0),
        "alerts": results.get("alerts", []),
    }
