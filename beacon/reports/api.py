"""Reports endpoints of the JSON API: filing, tips, the public view and triage."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import File, Form, Query, Router
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.security import django_auth
from pydantic import BaseModel, ValidationError

from beacon.core.access import get_object_or_deny, require_role
from beacon.core.decorators import second_factor_satisfied
from beacon.core.idempotency import IdempotencyError, run_once
from beacon.core.models import Community, User
from beacon.core.roles import STAFF_ROLES
from beacon.reports import ratelimit, services, tips
from beacon.reports.models import Category, Privacy, Report, ReportUpdate, Source, Status
from beacon.reports.photos import MAX_BYTES, MAX_PHOTOS
from beacon.reports.schemas import (
    AssignIn,
    CategoryOut,
    ErrorsOut,
    FiledOut,
    MergeIn,
    PublicReportOut,
    ReportIn,
    StaffReportDetailOut,
    StaffReportOut,
    StatusIn,
    TipIn,
    TipOut,
    TipReplyIn,
    TipSurveyIn,
    UpdateIn,
)

router = Router(tags=["reports"])
ERRORS = {400: ErrorsOut, 403: ErrorsOut, 404: ErrorsOut, 409: ErrorsOut, 429: ErrorsOut}


def _community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    return community


def _error(exc: services.ReportError) -> tuple[int, dict[str, Any]]:
    return 400, {"detail": str(exc), "errors": exc.errors}


def _throttle(request: HttpRequest, limits: Any, key: str | None = None) -> None:
    # RateLimited becomes 429 with Retry-After in the API's handler (beacon/api.py).
    ratelimit.hit(limits, key or ratelimit.source_key(request))


def _category_out(category: Category) -> dict[str, Any]:
    return {
        "code": category.code,
        "name": category.name,
        "description": category.description,
        "group": category.group,
        "privacy": category.privacy,
        "response_hours": category.response_hours,
        "questions": [
            {
                "code": q.code,
                "prompt": q.prompt,
                "help_text": q.help_text,
                "datatype": q.datatype,
                "required": q.required,
                "order": q.order,
                "choices": [{"key": str(c["key"]), "name": str(c["name"])} for c in q.choices],
            }
            for q in category.questions.all()
        ],
    }


def _update_out(update: ReportUpdate) -> dict[str, Any]:
    return {
        "id": update.pk,
        "kind": update.kind,
        "visibility": update.visibility,
        "body": update.body,
        "from_reporter": update.from_reporter,
        "status_to": update.status_to,
        "created_at": update.created_at,
    }


def _public_out(report: Report) -> dict[str, Any]:
    public = report.category.privacy == Privacy.PUBLIC
    return {
        "id": report.pk,
        "category": report.category.code,
        "category_name": report.category.name,
        "status": report.status,
        "description": report.description if public else None,
        "lat": report.public_lat if public else None,
        "lon": report.public_lon if public else None,
        "created_at": report.created_at,
        "updated_at": report.updated_at,
        "supporters": report.supporters,
        "merged_into": report.merged_into_id,
        "updates": [_update_out(u) for u in services.public_thread(report)],
    }


def _staff_out(report: Report, *, thread: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": report.pk,
        "category": report.category.code,
        "privacy": report.category.privacy,
        "status": report.status,
        "overdue": report.is_overdue,
        "description": report.description,
        "answers": report.answers,
        "lat": report.lat,
        "lon": report.lon,
        "address": report.address,
        "public_lat": report.public_lat,
        "public_lon": report.public_lon,
        "beat": report.beat.name if report.beat else None,
        "assigned_to": report.assigned_to.email if report.assigned_to else None,
        "source": report.source,
        "contact_name": report.contact_name,
        "contact_email": report.contact_email,
        "contact_phone": report.contact_phone,
        "supporters": report.supporters,
        "merged_into": report.merged_into_id,
        "created_at": report.created_at,
        "response_due_at": report.response_due_at,
        "acknowledged_at": report.acknowledged_at,
        "resolved_at": report.resolved_at,
        "satisfaction": report.satisfaction,
        "photos": report.photos.count(),
    }
    if thread:
        out["updates"] = [_update_out(u) for u in report.updates.all()]
    return out


def _tip_out(report: Report) -> dict[str, Any]:
    return {
        "id": report.pk,
        "category": report.category.code,
        "status": report.status,
        "description": report.description,
        "created_at": report.created_at,
        "can_reopen": report.can_reopen,
        "satisfaction": report.satisfaction,
        "updates": [_update_out(u) for u in services.reporter_thread(report)],
    }


# --- categories and filing --------------------------------------------------------------


@router.get(
    "/communities/{slug}/report-categories", response={200: list[CategoryOut], 404: ErrorsOut}
)
def list_categories(request: HttpRequest, slug: str) -> Any:
    """The categories residents can report in, with their questions."""
    community = _community(request, slug)
    return [_category_out(c) for c in services.categories_for(community)]


def _file(
    request: HttpRequest,
    community: Community,
    payload: ReportIn,
    photos: list[services.PhotoUpload],
    fingerprint: dict[str, Any],
) -> Any:
    _throttle(request, ratelimit.SUBMIT_LIMITS)
    user = request.user if request.user.is_authenticated else None
    submission = services.Submission(
        category=payload.category,
        description=payload.description,
        lat=payload.lat,
        lon=payload.lon,
        address=payload.address,
        answers=dict(payload.answers),
        photos=photos,
        contact_name=payload.contact_name,
        contact_email=payload.contact_email,
        contact_phone=payload.contact_phone,
        source=Source.API,
        reporter=user,
    )

    def operation() -> tuple[int, Any]:
        filed = services.file_report(community, submission)
        return 201, {
            "id": filed.report.pk,
            "tip_code": filed.report.tip_code,
            "passphrase": filed.passphrase,
            "status": filed.report.status,
            "category": filed.report.category.code,
            "photos": len(photos),
        }

    # Scoped per community and signed-in user, so two clients' keys never collide.
    scope = f"reports:{community.pk}:{getattr(user, 'pk', '') or 'anonymous'}"
    try:
        return run_once(scope, request.headers.get("Idempotency-Key"), fingerprint, operation)
    except IdempotencyError as exc:
        return 409, {"detail": str(exc), "errors": {}}
    except services.ReportError as exc:
        return _error(exc)


@router.post("/communities/{slug}/reports", response={201: FiledOut, **ERRORS})
def file_report(request: HttpRequest, slug: str, payload: ReportIn) -> Any:
    """File a report or anonymous tip (JSON, no photos).

    Send an ``Idempotency-Key`` header to make retries safe: a retry returns the first
    response, passphrase included, and creates nothing.
    """
    community = _community(request, slug)
    return _file(request, community, payload, [], payload.model_dump())


@router.post("/communities/{slug}/reports/with-photos", response={201: FiledOut, **ERRORS})
def file_report_with_photos(
    request: HttpRequest,
    slug: str,
    data: Form[str],
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Any:
    """File a report with up to 5 photos (multipart: ``data`` is the JSON report)."""
    community = _community(request, slug)
    try:
        payload = ReportIn.model_validate_json(data)
    except ValidationError as exc:
        problems: dict[str, list[str]] = {}
        for error in exc.errors():
            name = ".".join(str(p) for p in error["loc"]) or "data"
            problems.setdefault(name, []).append(error["msg"])
        return 400, {"detail": "data is not a valid report.", "errors": problems}
    uploads = list(photos or [])
    if len(uploads) > MAX_PHOTOS:
        return 400, {
            "detail": "Too many photos.",
            "errors": {"photos": [f"Attach at most {MAX_PHOTOS} photos."]},
        }
    files: list[services.PhotoUpload] = []
    for upload in uploads:
        if upload.size and upload.size > MAX_BYTES:
            return 400, {
                "detail": "A photo is too large.",
                "errors": {"photos": [f"{upload.name} is larger than 10 MB."]},
            }
        files.append(services.PhotoUpload(upload.name or "photo", upload.read()))
    import hashlib

    fingerprint = {
        "data": payload.model_dump(),
        "photos": [hashlib.sha256(f.data).hexdigest() for f in files],
    }
    return _file(request, community, payload, files, fingerprint)


class NearbyQuery(BaseModel):
    category: str
    lat: float
    lon: float


@router.get(
    "/communities/{slug}/reports/nearby", response={200: list[PublicReportOut], 404: ErrorsOut}
)
def nearby(request: HttpRequest, slug: str, query: Query[NearbyQuery]) -> Any:
    """Open public reports of a category within 250 m in the last 14 days."""
    community = _community(request, slug)
    category = services.resolve_category(community, query.category)
    if category is None:
        return 404, {"detail": f"Unknown category {query.category!r}.", "errors": {}}
    found = services.nearby_open_reports(community, category, query.lat, query.lon)
    return [_public_out(r) for r in found]


class PublicFilter(BaseModel):
    category: str = ""
    status: Status | None = None
    page: int = 1


@router.get("/communities/{slug}/reports", response={200: list[PublicReportOut], 404: ErrorsOut})
def public_reports(request: HttpRequest, slug: str, filters: Query[PublicFilter]) -> Any:
    """Public-class reports at their masked locations, newest first, 100 a page."""
    community = _community(request, slug)
    rows = (
        Report.objects.filter(community=community, category__privacy=Privacy.PUBLIC)
        .select_related("category")
        .prefetch_related("updates")
    )
    if filters.category:
        rows = rows.filter(category__code=filters.category)
    if filters.status:
        rows = rows.filter(status=filters.status)
    page = max(filters.page, 1)
    return [_public_out(r) for r in rows[(page - 1) * 100 : page * 100]]


@router.get(
    "/communities/{slug}/reports/{report_id}",
    response={200: PublicReportOut, 403: ErrorsOut, 404: ErrorsOut},
)
def public_report(request: HttpRequest, slug: str, report_id: int) -> Any:
    """One report as the public sees it."""
    community = _community(request, slug)
    report = get_object_or_deny(
        Report.objects.filter(community=community).select_related("category"),
        request.user,
        "view",
        pk=report_id,
    )
    return _public_out(report)


@router.post(
    "/communities/{slug}/reports/{report_id}/support", response={200: PublicReportOut, **ERRORS}
)
def support(request: HttpRequest, slug: str, report_id: int) -> Any:
    """Support an open report instead of filing a duplicate."""
    community = _community(request, slug)
    report = get_object_or_deny(
        Report.objects.filter(community=community).select_related("category"),
        request.user,
        "view",
        pk=report_id,
    )
    _throttle(request, ratelimit.SUPPORT_LIMITS)
    if not report.is_open:
        return 400, {"detail": "Only open reports can be supported.", "errors": {}}
    return _public_out(services.support_report(report))


# --- tips -------------------------------------------------------------------------------


def _open_tip(request: HttpRequest, community: Community, payload: TipIn) -> Report:
    _throttle(request, ratelimit.TIP_SOURCE_LIMITS)
    _throttle(request, ratelimit.TIP_CODE_LIMITS, ratelimit.code_key(tips.normalise(payload.code)))
    report = tips.find_tip(community, payload.code, payload.passphrase)
    if report is None:
        raise HttpError(404, "That tip code and passphrase do not match a report.")
    return report


@router.post("/communities/{slug}/tips/open", response={200: TipOut, **ERRORS})
def tip_open(request: HttpRequest, slug: str, payload: TipIn) -> Any:
    """Read a report with its tip code and passphrase."""
    community = _community(request, slug)
    return _tip_out(_open_tip(request, community, payload))


@router.post("/communities/{slug}/tips/reply", response={200: TipOut, **ERRORS})
def tip_reply(request: HttpRequest, slug: str, payload: TipReplyIn) -> Any:
    """Reply to staff or add information."""
    community = _community(request, slug)
    report = _open_tip(request, community, payload)
    try:
        services.reporter_reply(report, payload.body)
    except services.ReportError as exc:
        return _error(exc)
    return _tip_out(report)


@router.post("/communities/{slug}/tips/reopen", response={200: TipOut, **ERRORS})
def tip_reopen(request: HttpRequest, slug: str, payload: TipReplyIn) -> Any:
    """Reopen a report resolved in the last 30 days."""
    community = _community(request, slug)
    report = _open_tip(request, community, payload)
    try:
        services.reopen(report, payload.body)
    except services.ReportError as exc:
        return _error(exc)
    report.refresh_from_db()
    return _tip_out(report)


@router.post("/communities/{slug}/tips/survey", response={200: TipOut, **ERRORS})
def tip_survey(request: HttpRequest, slug: str, payload: TipSurveyIn) -> Any:
    """Answer the one-question satisfaction survey (1–5) on a resolved report."""
    community = _community(request, slug)
    report = _open_tip(request, community, payload)
    try:
        report = services.answer_survey(report, payload.rating)
    except services.ReportError as exc:
        return _error(exc)
    return _tip_out(report)


# --- triage -----------------------------------------------------------------------------


def _staff(request: HttpRequest, slug: str) -> tuple[Community, User]:
    community = _community(request, slug)
    require_role(request.user, community, STAFF_ROLES)
    if not second_factor_satisfied(request):
        raise HttpError(403, "Sign in with your second factor first.")
    return community, request.user  # type: ignore[return-value]


def _staff_report(request: HttpRequest, community: Community, report_id: int) -> Report:
    report: Report = get_object_or_deny(
        Report.objects.filter(community=community).select_related(
            "category", "beat", "assigned_to"
        ),
        request.user,
        "change",
        pk=report_id,
    )
    return report


class QueueQuery(BaseModel):
    status: list[Status] = []
    category: str = ""
    beat: int | None = None
    age: str = ""
    overdue: bool = False
    mine: bool = False
    page: int = 1


@router.get(
    "/communities/{slug}/queue", response={200: list[StaffReportOut], **ERRORS}, auth=django_auth
)
def staff_queue(request: HttpRequest, slug: str, filters: Query[QueueQuery]) -> Any:
    """The triage queue: overdue first, then newest; 100 a page."""
    community, user = _staff(request, slug)
    rows = services.queue(
        user,
        community,
        services.QueueFilter(
            status=[str(s) for s in filters.status],
            category=filters.category,
            beat=filters.beat,
            age=filters.age,
            overdue=filters.overdue,
            mine=filters.mine,
        ),
    )
    page = max(filters.page, 1)
    return [_staff_out(r) for r in rows[(page - 1) * 100 : page * 100]]


@router.get(
    "/communities/{slug}/queue/{report_id}",
    response={200: StaffReportDetailOut, **ERRORS},
    auth=django_auth,
)
def staff_report(request: HttpRequest, slug: str, report_id: int) -> Any:
    """One report with its whole thread."""
    community, _user = _staff(request, slug)
    return _staff_out(_staff_report(request, community, report_id), thread=True)


@router.post(
    "/communities/{slug}/queue/{report_id}/status",
    response={200: StaffReportDetailOut, **ERRORS},
    auth=django_auth,
)
def staff_status(request: HttpRequest, slug: str, report_id: int, payload: StatusIn) -> Any:
    """Move a report along the workflow."""
    community, user = _staff(request, slug)
    report = _staff_report(request, community, report_id)
    try:
        services.change_status(
            report,
            payload.status,
            actor=user,
            message=payload.message,
            visibility=payload.visibility,
        )
    except services.ReportError as exc:
        return _error(exc)
    return _staff_out(_staff_report(request, community, report_id), thread=True)


@router.post(
    "/communities/{slug}/queue/{report_id}/updates",
    response={200: StaffReportDetailOut, **ERRORS},
    auth=django_auth,
)
def staff_update(request: HttpRequest, slug: str, report_id: int, payload: UpdateIn) -> Any:
    """Add an internal note, a public update or a question to the reporter."""
    community, user = _staff(request, slug)
    report = _staff_report(request, community, report_id)
    try:
        services.add_update(report, payload.body, actor=user, visibility=payload.visibility)
    except services.ReportError as exc:
        return _error(exc)
    return _staff_out(_staff_report(request, community, report_id), thread=True)


@router.post(
    "/communities/{slug}/queue/{report_id}/assign",
    response={200: StaffReportDetailOut, **ERRORS},
    auth=django_auth,
)
def staff_assign(request: HttpRequest, slug: str, report_id: int, payload: AssignIn) -> Any:
    """Assign a report to a staff member, or unassign it."""
    community, user = _staff(request, slug)
    report = _staff_report(request, community, report_id)
    officer = None
    if payload.officer:
        officer = User.objects.filter(email=payload.officer.lower()).first()
        if officer is None:
            return 400, {
                "detail": "Unknown staff member.",
                "errors": {"officer": ["Unknown staff member."]},
            }
    try:
        services.assign(report, officer, actor=user)
    except services.ReportError as exc:
        return _error(exc)
    return _staff_out(_staff_report(request, community, report_id), thread=True)


@router.post(
    "/communities/{slug}/queue/{report_id}/merge",
    response={200: StaffReportDetailOut, **ERRORS},
    auth=django_auth,
)
def staff_merge(request: HttpRequest, slug: str, report_id: int, payload: MergeIn) -> Any:
    """Merge this report into another as its duplicate; returns the surviving report."""
    community, user = _staff(request, slug)
    report = _staff_report(request, community, report_id)
    into = _staff_report(request, community, payload.into)
    try:
        services.merge(report, into, actor=user)
    except services.ReportError as exc:
        return _error(exc)
    return _staff_out(_staff_report(request, community, payload.into), thread=True)
