"""Report pages: filing, the public map, the tip page and the staff queue.

Tip pages take the code and passphrase by POST only, so neither ever appears in a URL,
a server log or a browser history; nothing about a tip goes into a cookie or session.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from beacon.core.access import deny, get_object_or_deny, require_role
from beacon.core.decorators import signed_in
from beacon.core.models import Area, AreaKind, Community, User
from beacon.core.roles import STAFF_ROLES
from beacon.reports import geocode, ratelimit, services, tips
from beacon.reports.models import (
    TRANSITIONS,
    Category,
    Privacy,
    Question,
    Report,
    ReportPhoto,
    Status,
    Visibility,
)
from beacon.reports.photos import MAX_BYTES, MAX_PHOTOS

HONEYPOT = "website"
# A whole submission: five photos at the limit plus the form itself.
MAX_REQUEST_BYTES = MAX_PHOTOS * MAX_BYTES + 1024 * 1024


def _community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    return community


def _categories(community: Community) -> list[Category]:
    return list(
        Category.objects.filter(community=community, active=True).prefetch_related(
            Prefetch("questions", queryset=Question.objects.order_by("order", "pk"))
        )
    )


def _answers_from_post(request: HttpRequest, category: Category | None) -> dict[str, Any]:
    if category is None:
        return {}
    answers: dict[str, Any] = {}
    for question in category.questions.all():
        name = f"q-{category.code}-{question.code}"
        answers[question.code] = (
            request.POST.getlist(name)
            if question.datatype == "multivaluelist"
            else request.POST.get(name, "")
        )
    return answers


def _too_big(request: HttpRequest) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > MAX_REQUEST_BYTES
    except ValueError:
        return True


@never_cache
@require_http_methods(["GET", "POST"])
def report_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The public report form: category, questions, location, photos, contact."""
    community = _community(request, slug)
    categories = _categories(community)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        values.update(request.POST.dict())
        values["answers"] = {
            key: request.POST.getlist(key) for key in request.POST if key.startswith("q-")
        }
        if request.POST.get(HONEYPOT):
            # A field people cannot see was filled in: a bot. Say nothing useful, keep nothing.
            return render(request, "reports/filed.html", {"community": community, "bot": True})
        if _too_big(request):
            errors = {"photos": [_("The upload is too large: at most 5 photos of 10 MB each.")]}
            status = 400
        else:
            try:
                ratelimit.hit(ratelimit.SUBMIT_LIMITS, ratelimit.source_key(request))
            except ratelimit.RateLimited as exc:
                errors = {
                    "__all__": [
                        _("Too many reports from here just now. Please try again in %(n)d minutes.")
                        % {"n": max(1, exc.retry_after // 60)}
                    ]
                }
                status = 429
        if not errors:
            files = request.FILES.getlist("photos")
            photos: list[services.PhotoUpload] = []
            for upload in files[: MAX_PHOTOS + 1]:
                if upload.size and upload.size > MAX_BYTES:
                    errors.setdefault("photos", []).append(
                        _("%(name)s is larger than 10 MB; choose a smaller photo.")
                        % {"name": upload.name}
                    )
                    continue
                photos.append(services.PhotoUpload(upload.name or "photo", upload.read()))
            if len(files) > MAX_PHOTOS:
                errors.setdefault("photos", []).append(
                    _("Attach at most %(n)d photos.") % {"n": MAX_PHOTOS}
                )
            chosen = services.resolve_category(community, request.POST.get("category", ""))
            submission = services.Submission(
                category=request.POST.get("category", ""),
                description=request.POST.get("description", ""),
                lat=request.POST.get("lat") or None,  # type: ignore[arg-type]
                lon=request.POST.get("lon") or None,  # type: ignore[arg-type]
                address=request.POST.get("address", ""),
                answers=_answers_from_post(request, chosen),
                photos=photos,
                contact_name=request.POST.get("contact_name", ""),
                contact_email=request.POST.get("contact_email", ""),
                contact_phone=request.POST.get("contact_phone", ""),
                reporter=request.user if request.user.is_authenticated else None,
            )
            try:
                if errors:
                    services.validate_submission(community, submission)
                    raise services.ReportError(errors)
                filed = services.file_report(community, submission)
            except services.ReportError as exc:
                for name, problems in exc.errors.items():
                    for problem in problems:
                        if problem not in errors.get(name, []):
                            errors.setdefault(name, []).append(problem)
                status = 400
            else:
                response = render(
                    request,
                    "reports/filed.html",
                    {
                        "community": community,
                        "report": filed.report,
                        "passphrase": filed.passphrase,
                        "public": filed.report.category.is_public,
                    },
                )
                response["Cache-Control"] = "no-store"
                return response
    answer_errors = {k.split(".", 1)[1]: v for k, v in errors.items() if k.startswith("answers.")}
    return render(
        request,
        "reports/report_form.html",
        {
            "community": community,
            "categories": categories,
            "errors": errors,
            "answer_errors": answer_errors,
            "values": values,
            "honeypot": HONEYPOT,
            "max_photos": MAX_PHOTOS,
        },
        status=status,
    )


@require_GET
def nearby(request: HttpRequest, slug: str) -> HttpResponse:
    """Open reports of the chosen category near the pin, to support instead of refile."""
    community = _community(request, slug)
    category = services.resolve_category(community, request.GET.get("category", ""))
    try:
        lat = float(request.GET.get("lat", ""))
        lon = float(request.GET.get("lon", ""))
    except ValueError:
        return HttpResponseBadRequest(_("lat and lon must be numbers"))
    reports = services.nearby_open_reports(community, category, lat, lon) if category else []
    return render(
        request,
        "reports/_nearby.html",
        {"community": community, "reports": reports, "category": category},
    )


@require_GET
def geocode_view(request: HttpRequest, slug: str) -> JsonResponse:
    """Address suggestions for the report page (block level, never a house)."""
    community = _community(request, slug)
    places = geocode.geocode(community, request.GET.get("q", ""))
    return JsonResponse(
        {"results": [{"label": p.label, "lat": p.lat, "lon": p.lon} for p in places]}
    )


@require_POST
def support(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A resident supports an existing open report instead of filing a duplicate."""
    community = _community(request, slug)
    report = get_object_or_deny(
        Report.objects.filter(community=community), request.user, "view", pk=pk
    )
    try:
        ratelimit.hit(ratelimit.SUPPORT_LIMITS, ratelimit.source_key(request))
    except ratelimit.RateLimited:
        messages.error(request, _("Too many attempts from here just now; try again later."))
        return redirect("reports:public_detail", slug=slug, pk=pk)
    if report.is_open:
        services.support_report(report)
        messages.success(request, _("Thank you: your support was added to this report."))
    return redirect("reports:public_detail", slug=slug, pk=pk)


@require_GET
def public_map(request: HttpRequest, slug: str) -> HttpResponse:
    """The public map of public-class reports at their masked locations."""
    community = _community(request, slug)
    reports = (
        Report.objects.visible_to(request.user)
        .filter(community=community, category__privacy=Privacy.PUBLIC)
        .select_related("category")[:50]
    )
    return render(request, "reports/public_map.html", {"community": community, "reports": reports})


@require_GET
def public_geojson(request: HttpRequest, slug: str) -> JsonResponse:
    """Public reports as GeoJSON points at the masked location (never the pin)."""
    community = _community(request, slug)
    rows = (
        Report.objects.filter(
            community=community,
            category__privacy=Privacy.PUBLIC,
            public_lat__isnull=False,
            merged_into__isnull=True,
        )
        .select_related("category")
        .order_by("-created_at")[:2000]
    )
    features = [
        {
            "type": "Feature",
            "id": r.pk,
            "geometry": {"type": "Point", "coordinates": [r.public_lon, r.public_lat]},
            "properties": {
                "category": r.category.name,
                "status": r.get_status_display(),
                "created": r.created_at.date().isoformat(),
                "url": f"/c/{community.slug}/reports/{r.pk}/",
            },
        }
        for r in rows
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


@require_GET
def public_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One report as the public (or its signed-in reporter) sees it."""
    community = _community(request, slug)
    report = get_object_or_deny(
        Report.objects.filter(community=community).select_related("category"),
        request.user,
        "view",
        pk=pk,
    )
    is_reporter = request.user.is_authenticated and report.reporter_id == request.user.pk
    thread = services.reporter_thread(report) if is_reporter else services.public_thread(report)
    return render(
        request,
        "reports/public_detail.html",
        {
            "community": community,
            "report": report,
            "thread": thread,
            "is_reporter": is_reporter,
            "public": report.category.is_public,
        },
    )


@require_POST
@signed_in
def my_reply(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A signed-in reporter replies, reopens or answers the survey on their own report."""
    community = _community(request, slug)
    report = get_object_or_deny(
        Report.objects.filter(community=community), request.user, "view", pk=pk
    )
    if report.reporter_id != request.user.pk:
        deny(request.user, "reply", report)  # only the reporter replies here
    user: User = request.user  # type: ignore[assignment]
    try:
        _reporter_action(request, report, user)
    except services.ReportError as exc:
        for problems in exc.errors.values():
            for problem in problems:
                messages.error(request, problem)
    return redirect("reports:public_detail", slug=slug, pk=pk)


def _reporter_action(request: HttpRequest, report: Report, user: User | None) -> str:
    action = request.POST.get("action", "reply")
    if action == "reopen":
        services.reopen(report, request.POST.get("body", ""), user=user)
        return _("The report was reopened; staff will look at it again.")
    if action == "survey":
        try:
            rating = int(request.POST.get("rating", ""))
        except ValueError:
            rating = 0
        services.answer_survey(report, rating, user=user)
        return _("Thank you for your answer.")
    services.reporter_reply(report, request.POST.get("body", ""), user=user)
    return _("Your reply was sent.")


@never_cache
@require_http_methods(["GET", "POST"])
def tip_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Follow a report or tip with its code and passphrase: read, reply, reopen, rate."""
    community = _community(request, slug)
    context: dict[str, Any] = {"community": community}
    if request.method == "GET":
        return render(request, "reports/tip_open.html", context)
    report = None
    token = request.POST.get("access", "")
    if token:
        report = tips.report_from_token(community, token)
        if report is None:
            context["error"] = _("This page has expired; enter your tip code and passphrase again.")
            return render(request, "reports/tip_open.html", context, status=400)
    else:
        code = request.POST.get("code", "")
        try:
            ratelimit.hit(ratelimit.TIP_SOURCE_LIMITS, ratelimit.source_key(request))
            ratelimit.hit(ratelimit.TIP_CODE_LIMITS, ratelimit.code_key(tips.normalise(code)))
        except ratelimit.RateLimited as exc:
            context["error"] = _("Too many attempts. Wait %(n)d minutes, then try again.") % {
                "n": max(1, exc.retry_after // 60)
            }
            return render(request, "reports/tip_open.html", context, status=429)
        report = tips.find_tip(community, code, request.POST.get("passphrase", ""))
        if report is None:
            # The same words whether the code, the passphrase or both were wrong.
            context["error"] = _("That tip code and passphrase do not match a report.")
            return render(request, "reports/tip_open.html", context, status=400)
    if request.POST.get("action"):
        try:
            context["notice"] = _reporter_action(request, report, None)
        except services.ReportError as exc:
            context["action_errors"] = [m for ms in exc.errors.values() for m in ms]
        report.refresh_from_db()
    context.update(
        {
            "report": report,
            "thread": services.reporter_thread(report),
            "access": tips.access_token(report),
        }
    )
    response = render(request, "reports/tip.html", context)
    response["Cache-Control"] = "no-store"
    return response


# --- staff ------------------------------------------------------------------------------


def _queue_filter(request: HttpRequest) -> services.QueueFilter:
    beat = request.GET.get("beat", "")
    return services.QueueFilter(
        status=[s for s in request.GET.getlist("status") if s in Status.values],
        category=request.GET.get("category", ""),
        beat=int(beat) if beat.isdigit() else None,
        age=request.GET.get("age", ""),
        overdue=request.GET.get("overdue") == "1",
        mine=request.GET.get("mine") == "1",
    )


@signed_in
def staff_queue(request: HttpRequest, slug: str) -> HttpResponse:
    """The community queue, filterable down to the signed-in officer's beats."""
    community = _community(request, slug)
    require_role(request.user, community, STAFF_ROLES)
    filters = _queue_filter(request)
    rows = services.queue(request.user, community, filters)
    return render(
        request,
        "reports/queue.html",
        {
            "community": community,
            "reports": rows[:200],
            "total": rows.count(),
            "filters": filters,
            "statuses": Status.choices,
            "categories": Category.objects.filter(community=community),
            "beats": Area.objects.filter(community=community, kind=AreaKind.BEAT),
            "ages": [
                ("day", _("Last 24 hours")),
                ("week", _("Last 7 days")),
                ("month", _("Last 30 days")),
                ("older", _("Older than 30 days")),
            ],
        },
    )


@signed_in
@require_http_methods(["GET", "POST"])
def triage(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One report for staff: status, updates, assignment, merging."""
    community = _community(request, slug)
    require_role(request.user, community, STAFF_ROLES)
    report: Report = get_object_or_deny(
        Report.objects.filter(community=community).select_related("category", "beat"),
        request.user,
        "change",
        pk=pk,
    )
    actor: User = request.user  # type: ignore[assignment]
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "status":
                services.change_status(
                    report,
                    request.POST.get("status", ""),
                    actor=actor,
                    message=request.POST.get("body", ""),
                    visibility=request.POST.get("visibility", Visibility.PUBLIC),
                )
            elif action == "update":
                services.add_update(
                    report,
                    request.POST.get("body", ""),
                    actor=actor,
                    visibility=request.POST.get("visibility", Visibility.INTERNAL),
                )
            elif action == "assign":
                officer_id = request.POST.get("officer", "")
                officer = (
                    User.objects.filter(pk=officer_id).first() if officer_id.isdigit() else None
                )
                services.assign(report, officer, actor=actor)
            elif action == "merge":
                into_id = request.POST.get("into", "")
                into = (
                    Report.objects.restrict(actor, "change")
                    .filter(community=community, pk=into_id)
                    .first()
                    if into_id.isdigit()
                    else None
                )
                if into is None:
                    raise services.ReportError({"into": [_("No report with that number here.")]})
                services.merge(report, into, actor=actor)
            else:
                return HttpResponseBadRequest(_("Unknown action."))
        except services.ReportError as exc:
            for problems in exc.errors.values():
                for problem in problems:
                    messages.error(request, problem)
        else:
            messages.success(request, _("Saved."))
        return redirect("reports:triage", slug=slug, pk=pk)
    staff = (
        User.objects.filter(memberships__community=community, memberships__role__in=STAFF_ROLES)
        .distinct()
        .order_by("email")
    )
    questions = {q.code: q for q in report.category.questions.all()}
    answers = [
        (
            questions[code].prompt if code in questions else code,
            _display_answer(questions.get(code), value),
        )
        for code, value in report.answers.items()
    ]
    return render(
        request,
        "reports/triage.html",
        {
            "community": community,
            "report": report,
            "thread": report.updates.select_related("author"),
            "photos": report.photos.all(),
            "answers": answers,
            "next_statuses": [
                (s, Status(s).label) for s in Status.values if s in TRANSITIONS[report.status]
            ],
            "visibilities": Visibility.choices,
            "staff": staff,
            "beat_officers": services.beat_officers(community, report.beat_id),
            "nearby": services.nearby_open_reports(
                community, report.category, report.public_lat, report.public_lon
            )
            if report.public_lat is not None and report.public_lon is not None
            else [],
        },
    )


def _display_answer(question: Question | None, value: Any) -> str:
    values = value if isinstance(value, list) else [value]
    if question is not None and question.is_list:
        return ", ".join(question.choice_name(str(v)) for v in values)
    return ", ".join(str(v) for v in values)


@signed_in
def photo(request: HttpRequest, slug: str, pk: int) -> Any:
    """A report photo, for staff and the reporter only."""
    community = _community(request, slug)
    row: ReportPhoto = get_object_or_deny(
        ReportPhoto.objects.filter(community=community), request.user, "view", pk=pk
    )
    response = FileResponse(row.image.open("rb"), content_type=row.content_type)
    response["Cache-Control"] = "private, no-store"
    return response
