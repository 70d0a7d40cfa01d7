"""Incident endpoints of the JSON API.

Public endpoints (``/communities/{slug}/crime/...``) serve only published, masked data
from :mod:`beacon.incidents.public`. Staff endpoints (``/communities/{slug}/incidents``
and ``/incident-imports``) read true records through the access policy.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import File, Form, Query, Router, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.security import django_auth

from beacon.core.access import get_object_or_deny, require_role
from beacon.core.decorators import second_factor_satisfied
from beacon.core.idempotency import IdempotencyError, run_once
from beacon.core.models import Community
from beacon.core.roles import STAFF_ROLES
from beacon.incidents import public, stats
from beacon.incidents.importer import FormatError, ImportOptions
from beacon.incidents.models import IMPORTERS, Incident, IncidentImport
from beacon.incidents.schemas import (
    ErrorOut,
    FeatureCollectionOut,
    ImportIn,
    ImportOut,
    IncidentOut,
    IncidentPatch,
    StatsOut,
    UnitOut,
)
from beacon.incidents.services import start_upload_import, update_incident

router = Router(tags=["incidents"])
# Repeatable ``group`` query parameter (a module-level default, as ninja reads it).
GROUPS_PARAM: Any = Query([], description="Offence group codes; repeat for several.")
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    return community


def _query(
    pub: public.Publication,
    first: str | None,
    last: str | None,
    groups: list[str],
    *,
    mapped_only: bool,
    default_months: int = 12,
) -> public.PublicQuery:
    try:
        return pub.query(
            first, last, groups, mapped_only=mapped_only, default_months=default_months
        )
    except public.QueryError as exc:
        raise HttpError(400, str(exc)) from None


# --------------------------------------------------------------------------- public


@router.get("/communities/{slug}/crime/metadata", response={200: dict[str, Any], 404: ErrorOut})
def crime_metadata(request: HttpRequest, slug: str) -> dict[str, Any]:
    """The data dictionary, the masking method and what has been published."""
    return public.metadata(public.publication(_community(request, slug)))


@router.get("/communities/{slug}/crime/hexagons", response={200: FeatureCollectionOut, **ERRORS})
def crime_hexagons(
    request: HttpRequest,
    slug: str,
    resolution: int = 7,
    first: str | None = Query(None, alias="from"),
    last: str | None = Query(None, alias="to"),
    group: list[str] = GROUPS_PARAM,
) -> dict[str, Any]:
    """Published counts per H3 hexagon (resolution 6, 7 or 8) for whole months."""
    community = _community(request, slug)
    query = _query(public.publication(community), first, last, group, mapped_only=True)
    try:
        features = public.hexagons(community, resolution, query)
    except public.QueryError as exc:
        raise HttpError(400, str(exc)) from None
    return {"type": "FeatureCollection", "features": features}


@router.get("/communities/{slug}/crime/points", response={200: FeatureCollectionOut, **ERRORS})
def crime_points(
    request: HttpRequest,
    slug: str,
    bbox: str | None = None,
    first: str | None = Query(None, alias="from"),
    last: str | None = Query(None, alias="to"),
    group: list[str] = GROUPS_PARAM,
) -> dict[str, Any]:
    """Masked points (centres of k-site cells) with published counts by group."""
    community = _community(request, slug)
    query = _query(public.publication(community), first, last, group, mapped_only=True)
    try:
        box = public.parse_bbox(bbox) if bbox else None
    except public.QueryError as exc:
        raise HttpError(400, str(exc)) from None
    return {"type": "FeatureCollection", "features": public.points(community, query, box)}


@router.get("/communities/{slug}/crime/units", response={200: list[UnitOut], **ERRORS})
def crime_units(
    request: HttpRequest,
    slug: str,
    first: str | None = Query(None, alias="from"),
    last: str | None = Query(None, alias="to"),
    group: list[str] = GROUPS_PARAM,
    limit: int = Query(1000, ge=1, le=10_000),
    offset: int = Query(0, ge=0),
) -> list[dict[str, Any]]:
    """The published units behind every figure (the open-data table), paginated."""
    community = _community(request, slug)
    query = _query(public.publication(community), first, last, group, mapped_only=False)
    rows: list[dict[str, Any]] = []
    for index, row in enumerate(public.unit_rows(community, query)):
        if index < offset:
            continue
        if len(rows) >= limit:
            break
        rows.append(row)
    return rows


@router.get("/communities/{slug}/crime/stats", response={200: StatsOut, **ERRORS})
def crime_stats(
    request: HttpRequest,
    slug: str,
    first: str | None = Query(None, alias="from"),
    last: str | None = Query(None, alias="to"),
    group: list[str] = GROUPS_PARAM,
) -> dict[str, Any]:
    """Counts by group and month against a year earlier, by neighbourhood, by time."""
    community = _community(request, slug)
    pub = public.publication(community)
    query = _query(pub, first, last, group, mapped_only=False)

    def comparison(row: stats.Comparison) -> dict[str, Any]:
        return {
            "label": row.label,
            "current": row.current.as_dict(),
            "previous": row.previous.as_dict(),
            "change": row.change,
        }

    return {
        "from_month": f"{query.first:%Y-%m}",
        "to_month": f"{query.last:%Y-%m}",
        "total": comparison(stats.total(community, query)),
        "by_group": [comparison(r) for r in stats.by_group(community, query)],
        "by_month": [comparison(r) for r in stats.by_month(community, query)],
        "by_neighbourhood": [
            {"name": r.name, **r.figure.as_dict(), "population": r.population, "per_1000": r.rate}
            for r in stats.by_neighbourhood(community, query)
        ],
        "time_of_day": [
            {"hours": label, "days": [f.as_dict() for f in row]}
            for label, row in stats.time_of_day(community, query)
        ],
    }


# --------------------------------------------------------------------------- staff


def _staff(request: HttpRequest, slug: str, roles: frozenset[str] = STAFF_ROLES) -> Community:
    community = _community(request, slug)
    try:
        require_role(request.user, community, roles)
    except PermissionDenied:
        raise HttpError(403, "Your role does not allow this.") from None
    if not second_factor_satisfied(request):
        raise HttpError(403, "Sign in with your second factor first.")
    return community


def _incident_out(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.pk,
        "source": incident.source,
        "external_id": incident.external_id,
        "occurred_from": incident.occurred_from,
        "occurred_to": incident.occurred_to,
        "reported_at": incident.reported_at,
        "offence": incident.offence,
        "offence_group": incident.offence_group,
        "nibrs_code": incident.nibrs.nibrs_code,
        "source_offence": incident.source_offence,
        "sensitive": incident.sensitive,
        "lat": incident.lat,
        "lon": incident.lon,
        "location_status": incident.location_status,
        "block_address": incident.block_address,
        "neighbourhood": incident.neighbourhood.name if incident.neighbourhood else "",
        "beat": incident.beat.name if incident.beat else "",
        "status": incident.status,
        "outcome": incident.outcome,
    }


@router.get(
    "/communities/{slug}/incidents",
    response={200: list[IncidentOut], **ERRORS},
    auth=django_auth,
)
def list_incidents(
    request: HttpRequest,
    slug: str,
    group: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> list[dict[str, Any]]:
    """Staff: incidents with true locations, newest first."""
    community = _staff(request, slug)
    qs = (
        Incident.objects.restrict(request.user, "view")
        .filter(community=community)
        .select_related("neighbourhood", "beat")
        .order_by("-occurred_from", "-id")
    )
    if group:
        qs = qs.filter(offence_group=group)
    if since:
        qs = qs.filter(occurred_from__date__gte=since)
    if until:
        qs = qs.filter(occurred_from__date__lte=until)
    return [_incident_out(i) for i in qs[offset : offset + limit]]


@router.get(
    "/communities/{slug}/incidents/{incident_id}",
    response={200: IncidentOut, **ERRORS},
    auth=django_auth,
)
def get_incident(request: HttpRequest, slug: str, incident_id: int) -> dict[str, Any]:
    """Staff: one incident."""
    community = _staff(request, slug)
    incident = get_object_or_deny(
        Incident.objects.filter(community=community).select_related("neighbourhood", "beat"),
        request.user,
        "view",
        pk=incident_id,
    )
    return _incident_out(incident)


@router.patch(
    "/communities/{slug}/incidents/{incident_id}",
    response={200: IncidentOut, **ERRORS},
    auth=django_auth,
)
def patch_incident(
    request: HttpRequest, slug: str, incident_id: int, payload: IncidentPatch
) -> Any:
    """Staff: correct an incident (audited; the public data is rebuilt)."""
    community = _staff(request, slug)
    try:
        incident = get_object_or_deny(
            Incident.objects.filter(community=community).select_related("community"),
            request.user,
            "change",
            pk=incident_id,
        )
    except PermissionDenied:
        raise HttpError(403, "Your role does not allow changing incidents.") from None
    changes = payload.model_dump(exclude_unset=True)
    try:
        update_incident(incident, changes, actor=request.user)
    except ValueError as exc:
        return Status(400, {"detail": str(exc)})
    incident.refresh_from_db()
    return _incident_out(incident)


def _import_out(record: IncidentImport) -> dict[str, Any]:
    return {
        "id": record.pk,
        "status": record.status,
        "format": record.fmt,
        "source": record.source,
        "file": record.original_name,
        "percent": record.percent,
        "rows_read": record.rows_read,
        "imported": record.imported,
        "updated": record.updated,
        "unchanged": record.unchanged,
        "rejected": record.rejected,
        "mapped": record.mapped,
        "unmapped": record.unmapped,
        "rejections": [{"line": line, "reason": reason} for line, reason in record.rejections],
        "message": record.message,
    }


@router.post(
    "/communities/{slug}/incident-imports",
    response={202: ImportOut, **ERRORS},
    auth=django_auth,
)
def create_import(
    request: HttpRequest,
    slug: str,
    options: Form[ImportIn],
    file: File[UploadedFile],
) -> Any:
    """Staff (analysts, supervisors, admins): upload a file; the worker imports it.

    Send an ``Idempotency-Key`` header to make a retried upload start nothing new.
    """
    community = _staff(request, slug, IMPORTERS)
    try:
        import_options = ImportOptions(
            fmt=options.format,
            source=options.source,
            crs=options.crs or None,
            mapping=options.mapping_dict(),
            time_format=options.time_format,
            on_error=options.on_error,
            default_offence=options.default_offence or None,
        )
    except (FormatError, ValueError) as exc:
        return Status(400, {"detail": str(exc)})

    def operation() -> tuple[int, Any]:
        record = start_upload_import(community, file, import_options, actor=request.user)
        return 202, _import_out(record)

    payload = {**import_options.as_dict(), "name": file.name, "size": file.size}
    try:
        status, body = run_once(
            f"incident-import:{community.pk}:{request.user.pk}",
            request.headers.get("Idempotency-Key"),
            payload,
            operation,
        )
    except IdempotencyError as exc:
        return Status(400, {"detail": str(exc)})
    return Status(status, body)


@router.get(
    "/communities/{slug}/incident-imports/{import_id}",
    response={200: ImportOut, **ERRORS},
    auth=django_auth,
)
def get_import(request: HttpRequest, slug: str, import_id: int) -> dict[str, Any]:
    """Staff: an import's progress and its rejected rows (line and reason)."""
    community = _staff(request, slug)
    record = get_object_or_deny(
        IncidentImport.objects.filter(community=community), request.user, "view", pk=import_id
    )
    return _import_out(record)
