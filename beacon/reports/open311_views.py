"""The Open311 GeoReport v2 endpoints under /open311/v2/.

Each resource answers as ``.xml`` or ``.json``; errors come back in the specification's
format (``<errors><error><code>…``) with 400, 403 or 404 (429 when a source is throttled).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from beacon.core.idempotency import IdempotencyError, run_once
from beacon.reports import open311, ratelimit, services
from beacon.reports.models import Category, Privacy, Report, ReportUpdate, Source, Visibility
from beacon.reports.open311 import Open311Error

_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}


def render(fmt: str, kind: str | None, data: Any, status: int = 200) -> HttpResponse:
    """Serialise an Open311 document in the requested format."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    else:
        if kind is None:
            raise ValueError("XML needs a root element")
        root, item = open311.XML_NAMES.get(kind, (kind, None))
        body = open311.to_xml(root, item, data)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def render_error(fmt: str, error: Open311Error) -> HttpResponse:
    data = [{"code": error.status, "description": text} for text in error.descriptions]
    response = render(fmt, "errors", data, status=error.status)
    return response


def open311_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Turn :class:`Open311Error` into the specification's error documents."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as error:
            return render_error(fmt, error)

    return wrapper


@open311_endpoint
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET discovery.{format}."""
    changed = Category.objects.aggregate(latest=Max("reports__updated_at"))["latest"]
    base = request.build_absolute_uri(reverse("open311:root"))
    return render(fmt, "discovery", open311.discovery(changed, base))


@open311_endpoint
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET services.{format}."""
    community = open311.jurisdiction(request.GET.get("jurisdiction_id"))
    categories = services.categories_for(community)
    return render(fmt, "services", [open311.service(c) for c in categories])


@open311_endpoint
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    """GET services/{service_code}.{format}."""
    community = open311.jurisdiction(request.GET.get("jurisdiction_id"))
    category = services.categories_for(community).filter(code=code).first()
    if category is None:
        raise Open311Error(404, f"service_code {code!r} was not found.")
    return render(fmt, "service_definition", open311.service_definition(category))


@csrf_exempt
@require_http_methods(["GET", "POST"])
@open311_endpoint
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET (query) or POST (create) requests.{format}."""
    if request.method == "POST":
        return _create(request, fmt)
    params = request.GET
    community = open311.jurisdiction(params.get("jurisdiction_id"))
    rows = open311.public_requests(community)
    ids = open311.split_list(params.get("service_request_id"))
    if ids:
        if not all(i.isdigit() for i in ids):
            raise Open311Error(400, "service_request_id must be a comma-separated list of ids.")
        rows = rows.filter(pk__in=[int(i) for i in ids])
    else:
        codes = open311.split_list(params.get("service_code"))
        if codes:
            rows = rows.filter(category__code__in=codes)
        start, end = open311.date_range(params.get("start_date"), params.get("end_date"))
        rows = rows.filter(created_at__gte=start, created_at__lte=end)
        wanted = set(open311.split_list(params.get("status")))
        if wanted - {"open", "closed"}:
            raise Open311Error(400, "status must be open, closed or both (comma-separated).")
        if wanted == {"open"}:
            rows = rows.filter(
                status__in=[s for s, v in open311.OPEN311_STATUS.items() if v == "open"]
            )
        elif wanted == {"closed"}:
            rows = rows.filter(
                status__in=[s for s, v in open311.OPEN311_STATUS.items() if v == "closed"]
            )
    page, size = open311.paging(params.get("page"), params.get("page_size"))
    chunk = rows[(page - 1) * size : page * size]
    return render(fmt, "requests", [open311.service_request(r) for r in chunk])


def _answers(post: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for key in post:
        match = _ATTRIBUTE.match(key)
        if not match:
            continue
        values = post.getlist(key)
        answers[match.group(1)] = values if match.group(2) or len(values) > 1 else values[0]
    return answers


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    post = request.POST
    key = open311.key_for(post.get("api_key", ""))
    if key is None:
        raise Open311Error(403, "Missing or invalid api_key; ask the community for a key.")
    community = open311.jurisdiction(post.get("jurisdiction_id"), key=key)
    if community.pk != key.community_id:
        raise Open311Error(403, "This api_key is not valid for that jurisdiction_id.")
    code = post.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code was not provided.")
    if services.resolve_category(community, code) is None:
        raise Open311Error(404, f"service_code {code!r} was not found.")
    has_point = bool(post.get("lat") or post.get("long"))
    if not has_point and not post.get("address_string") and post.get("address_id"):
        raise Open311Error(
            400, "address_id is not supported here; send lat and long or address_string."
        )
    try:
        ratelimit.hit(ratelimit.SUBMIT_LIMITS, ratelimit.source_key(request))
    except ratelimit.RateLimited as exc:
        throttled = render_error(fmt, Open311Error(429, str(exc)))
        throttled["Retry-After"] = str(exc.retry_after)
        return throttled
    name = " ".join(p for p in (post.get("first_name", ""), post.get("last_name", "")) if p)
    submission = services.Submission(
        category=code,
        description=post.get("description", ""),
        lat=post.get("lat") or None,  # type: ignore[arg-type]
        lon=post.get("long") or None,  # type: ignore[arg-type]
        address=post.get("address_string", ""),
        answers=_answers(post),
        contact_name=name,
        contact_email=post.get("email", ""),
        contact_phone=post.get("phone", ""),
        source=Source.OPEN311,
        open311_key=key,
    )
    payload = {k: post.getlist(k) for k in sorted(post) if k != "api_key"}

    def operation() -> tuple[int, Any]:
        filed = services.file_report(community, submission)
        return 200, [
            {
                "service_request_id": str(filed.report.pk),
                "service_notice": filed.report.category.service_notice or None,
                "account_id": None,
            }
        ]

    try:
        status, body = run_once(
            f"open311:{key.pk}", request.headers.get("Idempotency-Key"), payload, operation
        )
    except IdempotencyError as exc:
        raise Open311Error(400, str(exc)) from None
    except services.ReportError as exc:
        raise Open311Error(
            400, [f"{field}: {m}" for field, messages in exc.errors.items() for m in messages]
        ) from None
    return render(fmt, "requests", body, status=status)


@open311_endpoint
def request_detail(request: HttpRequest, pk: str, fmt: str) -> HttpResponse:
    """GET requests/{service_request_id}.{format}."""
    community = open311.jurisdiction(request.GET.get("jurisdiction_id"))
    report = open311.public_requests(community).filter(pk=int(pk)).first() if pk.isdigit() else None
    if report is None:
        raise Open311Error(404, f"service_request_id {pk!r} was not found.")
    return render(fmt, "requests", [open311.service_request(report)])


@open311_endpoint
def token(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    """GET tokens/{token}.{format}."""
    community = open311.jurisdiction(request.GET.get("jurisdiction_id"))
    report = Report.objects.filter(community=community, token=token).first()
    if report is None:
        raise Open311Error(404, f"token {token!r} was not found.")
    return render(fmt, "requests", [{"service_request_id": str(report.pk), "token": token}])


@open311_endpoint
def request_updates(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET servicerequestupdates.{format} (mySociety's extension).

    Public updates of public reports; with a valid ``api_key``, also the updates the
    reporter was sent on the reports that key filed.
    """
    params = request.GET
    key = open311.key_for(params.get("api_key", ""))
    community = open311.jurisdiction(params.get("jurisdiction_id"), key=key)
    start, end = open311.date_range(params.get("start_date"), params.get("end_date"))
    visible = ReportUpdate.objects.filter(
        community=community,
        visibility=Visibility.PUBLIC,
        report__category__privacy=Privacy.PUBLIC,
    )
    if key is not None and key.community_id == community.pk:
        visible = visible | ReportUpdate.objects.filter(
            community=community,
            report__open311_key=key,
            visibility__in=[Visibility.PUBLIC, Visibility.REPORTER],
            from_reporter=False,
        )
    rows = (
        visible.filter(created_at__gte=start, created_at__lte=end)
        .select_related("report")
        .order_by("created_at", "pk")
    )
    page, size = open311.paging(params.get("page"), params.get("page_size"))
    chunk = list(rows[(page - 1) * size : page * size])
    return render(fmt, "updates", open311.request_updates(chunk))


def root(request: HttpRequest) -> HttpResponse:
    """The endpoint base: point clients at the discovery document."""
    from django.shortcuts import redirect

    return redirect("open311:discovery", fmt="xml")
