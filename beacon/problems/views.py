"""Problem pages: the list and board, opening a problem, its SARA workspace, and the
assessment with its PDF.

Staff work problems; partner users read the problems their agreements cover (the access
policy decides which; the pages never filter by organisation themselves) and never see
incident-level evidence.
"""

from __future__ import annotations

from typing import Any, cast

import h3
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from beacon.core.access import can, get_object_or_deny, require_role
from beacon.core.audit import record_event
from beacon.core.decorators import signed_in
from beacon.core.models import AreaKind, Community, User
from beacon.core.roles import STAFF_ROLES
from beacon.incidents import taxonomy
from beacon.problems import assessment as assessing
from beacon.problems import board as boards
from beacon.problems import geometry as pgeo
from beacon.problems import origins, report, response, scanning, services
from beacon.problems.errors import ProblemError
from beacon.problems.forms import (
    AssessmentForm,
    HotspotForm,
    LinkForm,
    ProblemForm,
    QuestionForm,
    ResponseStartForm,
    RunForm,
    StageForm,
    TaskForm,
    TriangleForm,
    apply_errors,
)
from beacon.problems.models import (
    STAFF_AND_PARTNERS,
    AnalysisQuestion,
    Assessment,
    Problem,
    Stage,
)

MAP_POINTS = 2000


def community_for(request: HttpRequest, slug: str, roles: frozenset[str]) -> Community:
    """The community of the URL, for holders of ``roles`` (404 outsiders, 403 others)."""
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    require_role(request.user, community, roles)
    return community


def problem_for(
    request: HttpRequest, community: Community, pk: int, action: str = "view"
) -> Problem:
    """A problem of the community on which the user may do ``action`` (or 404/403)."""
    problem: Problem = get_object_or_deny(
        Problem.objects.filter(community=community).select_related(
            "beat", "neighbourhood", "owner"
        ),
        request.user,
        action,
        pk=pk,
    )
    return problem


def actor_of(request: HttpRequest) -> User:
    """The signed-in user (the pages are behind ``signed_in``)."""
    return cast(User, request.user)


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx sent the request (it then wants a fragment, not a page)."""
    return request.headers.get("HX-Request") == "true"


def detail_url(problem: Problem, anchor: str = "") -> str:
    """The workspace page of a problem, optionally at a section."""
    url = reverse("problems:detail", args=[problem.community.slug, problem.pk])
    return f"{url}#{anchor}" if anchor else url


# --- list, board -------------------------------------------------------------------------


@signed_in
@require_GET
def problem_list(request: HttpRequest, slug: str) -> HttpResponse:
    """Problems the user may see, by stage and beat."""
    community = community_for(request, slug, STAFF_AND_PARTNERS)
    rows = services.problems_for(community, request.user)
    stage = request.GET.get("stage", "")
    if stage in Stage.values:
        rows = rows.filter(stage=stage)
    beat = request.GET.get("beat", "")
    if beat.isdigit():
        rows = rows.filter(beat_id=int(beat))
    return render(
        request,
        "problems/list.html",
        {
            "community": community,
            "problems": rows[:500],
            "stages": Stage.choices,
            "stage": stage,
            "beats": community_beats(community),
            "beat": beat,
            "can_open": is_staff_in(request, community),
        },
    )


def community_beats(community: Community) -> Any:
    """The community's beats by name."""
    from beacon.core.models import Area

    return Area.objects.filter(community=community, kind=AreaKind.BEAT).order_by("name")


def is_staff_in(request: HttpRequest, community: Community) -> bool:
    """Whether the user holds a staff role in the community (or is a superuser)."""
    user: Any = request.user
    return bool(user.is_superuser or user.roles_in(community) & STAFF_ROLES)


@signed_in
@require_GET
def board_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The supervisors' board: problems by stage and beat, overdue tasks, outcomes."""
    community = community_for(request, slug, STAFF_ROLES)
    beat = request.GET.get("beat", "")
    board = boards.build(community, request.user, beat_id=int(beat) if beat.isdigit() else None)
    return render(
        request,
        "problems/board.html",
        {"community": community, "board": board, "beats": community_beats(community), "beat": beat},
    )


# --- opening -----------------------------------------------------------------------------


def _input(form: ProblemForm) -> services.ProblemInput:
    data = form.cleaned_data
    return services.ProblemInput(
        title=data.get("title") or "",
        description=data.get("description") or "",
        offence_groups=list(data.get("offence_groups") or []),
        offences=list(data.get("offences") or []),
        geometry=data.get("geometry"),
        owner_id=data.get("owner"),
        partner_ids=[int(p) for p in data.get("partners") or []],
    )


def _gi_runs(request: HttpRequest, community: Community) -> list[Any]:
    from beacon.insights.models import AnalysisRun

    return list(
        AnalysisRun.objects.visible_to(request.user)
        .defer("results")
        .filter(community=community, kind="gi", status="done")
        .order_by("-created_at")[:20]
    )


def _reports_from(request: HttpRequest) -> list[int]:
    raw = request.GET.get("reports", "") or request.POST.get("reports", "")
    return [int(part) for part in raw.replace(" ", ",").split(",") if part.strip().isdigit()]


@signed_in
@require_http_methods(["GET", "POST"])
def problem_new(request: HttpRequest, slug: str) -> HttpResponse:
    """Open a problem: draw its area by hand, or start from resident reports (``?reports=``)."""
    community = community_for(request, slug, STAFF_ROLES)
    report_ids = _reports_from(request)
    form = ProblemForm(community, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if report_ids:
                problem = origins.open_from_reports(
                    community, actor_of(request), report_ids, _input(form)
                )
            else:
                problem = services.open_problem(community, actor_of(request), _input(form))
        except ProblemError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Problem opened."))
            return redirect(detail_url(problem))
    return render(
        request,
        "problems/new.html",
        {
            "community": community,
            "form": form,
            "report_ids": ",".join(map(str, report_ids)),
            "runs": _gi_runs(request, community),
        },
    )


def cells_geojson(run: Any, chosen: set[str] | None = None) -> dict[str, Any]:
    """The significant hot cells of a run as hexagons, with their cluster number."""
    clusters = origins.hot_clusters(run)
    cluster_of = {cell: index for index, c in enumerate(clusters) for cell in c.cells}
    features = []
    for row in origins.gi_cells(run):
        cell = row["cell"]
        if cell not in cluster_of and cell not in (chosen or set()):
            continue
        ring = [[lon, lat] for lat, lon in h3.cell_to_boundary(cell)]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                "properties": {
                    "cell": cell,
                    "count": row.get("count"),
                    "z": row.get("z"),
                    "cluster": cluster_of.get(cell),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


@signed_in
@require_http_methods(["GET", "POST"])
def problem_from_hotspot(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """Open a problem from a Gi* run: pick a hot cluster (or cells on the map)."""
    from beacon.insights.models import AnalysisRun

    community = community_for(request, slug, STAFF_ROLES)
    run = get_object_or_deny(
        AnalysisRun.objects.filter(community=community), request.user, "view", pk=run_id
    )
    try:
        clusters = origins.hot_clusters(run)
    except ProblemError as exc:
        messages.error(request, exc.message)
        return redirect("problems:new", slug)
    form = HotspotForm(clusters, request.POST or None, initial={"run": run.pk, "cluster": 0})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        cells = data["cells"]
        if not cells and data.get("cluster") is not None and 0 <= data["cluster"] < len(clusters):
            cells = list(clusters[data["cluster"]].cells)
        try:
            problem = origins.open_from_hotspot(
                community,
                actor_of(request),
                run,
                cells=cells or None,
                title=data.get("title") or "",
                offences=list(data.get("offences") or []),
            )
        except ProblemError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Problem opened from the hot spot."))
            return redirect(detail_url(problem))
    return render(
        request,
        "problems/hotspot.html",
        {
            "community": community,
            "run": run,
            "form": form,
            "clusters": clusters,
            "cells": cells_geojson(run),
            "groups": [
                taxonomy.GROUPS[g].label for g in run.offence_groups if g in taxonomy.GROUPS
            ],
        },
    )


# --- the workspace -----------------------------------------------------------------------


def workspace_context(request: HttpRequest, problem: Problem, **forms: Any) -> dict[str, Any]:
    """What the workspace page shows; forms only for those who may change the problem."""
    from beacon.partners.models import JointInitiative

    user = request.user
    community = problem.community
    editable = can(user, "change", problem)
    is_staff = is_staff_in(request, community)
    tasks = list(
        response.ResponseTask.objects.visible_to(user)
        .filter(problem=problem)
        .select_related("owner_user", "owner_partner", "owner_group")
    )
    today = services.today_in(community)
    context: dict[str, Any] = {
        "community": community,
        "problem": problem,
        "editable": editable,
        "is_staff": is_staff,
        "scan": scanning.scanning(problem, user) if is_staff else None,
        "offences": report.offences_label(problem),
        "partners": list(problem.partners.all()),
        "questions": AnalysisQuestion.objects.visible_to(user).filter(problem=problem),
        # Runs are listed, not drawn: their (large) results stay in the database.
        "runs": list(problem.analysis_runs.defer("results")) if is_staff else [],
        "tasks": tasks,
        "overdue_ids": {t.pk for t in tasks if t.is_overdue(today)},
        "assessments": Assessment.objects.visible_to(user).filter(problem=problem),
        "initiatives": JointInitiative.objects.visible_to(user).filter(
            problem_type__app_label="problems", problem_type__model="problem", problem_id=problem.pk
        ),
        "today": today,
        "stages": Stage.choices,
    }
    if editable:
        from beacon.insights.models import AnalysisRun

        attachable = [
            r
            for r in AnalysisRun.objects.visible_to(user)
            .defer("results")
            .filter(community=community, status="done")
            .order_by("-created_at")[:30]
            if r not in context["runs"]
        ]
        context.update(
            {
                "stage_form": forms.get("stage_form")
                or StageForm(initial={"stage": problem.stage, "outcome": problem.outcome}),
                "triangle_form": forms.get("triangle_form")
                or TriangleForm(initial=problem.triangle()),
                "question_form": forms.get("question_form") or QuestionForm(),
                "run_form": RunForm(attachable) if attachable else None,
                "link_form": forms.get("link_form") or LinkForm(),
                "task_form": forms.get("task_form") or TaskForm(community, context["partners"]),
                "start_form": forms.get("start_form")
                or ResponseStartForm(initial={"response_started_on": problem.response_started_on}),
                "status_choices": response.TaskStatus.choices,
            }
        )
    return context


@signed_in
@require_GET
def problem_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A problem's SARA workspace: scanning, analysis, response and assessment."""
    community = community_for(request, slug, STAFF_AND_PARTNERS)
    problem = problem_for(request, community, pk)
    return render(request, "problems/detail.html", workspace_context(request, problem))


@signed_in
@require_http_methods(["GET", "POST"])
def problem_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Change a problem's title, area, offences, owner and partners."""
    community = community_for(request, slug, STAFF_ROLES)
    problem = problem_for(request, community, pk, "change")
    initial = {
        "title": problem.title,
        "description": problem.description,
        "offence_groups": problem.offence_groups,
        "offences": problem.offences,
        "owner": problem.owner_id,
        "partners": [p.pk for p in problem.partners.all()],
    }
    form = ProblemForm(community, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_problem(problem, actor_of(request), _input(form))
        except ProblemError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Problem saved."))
            return redirect(detail_url(problem))
    return render(
        request, "problems/edit.html", {"community": community, "problem": problem, "form": form}
    )


@signed_in
@require_GET
def problem_geojson(request: HttpRequest, slug: str, pk: int) -> JsonResponse:
    """The area and (staff only) its incidents and linked reports, for the map."""
    community = community_for(request, slug, STAFF_AND_PARTNERS)
    problem = problem_for(request, community, pk)
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": problem.area,
            "properties": {"kind": "area", "name": problem.title},
        }
    ]
    if is_staff_in(request, community):
        from beacon.problems import counting

        rows = counting.incidents_in(
            community,
            services.problem_shape(problem),
            services.incident_filter(problem),
            fields=("pk", "lat", "lon", "offence", "occurred_from"),
        )
        # The latest 2000 are plenty for a map; older ones are in the counts and trend.
        rows.sort(key=lambda row: row[4], reverse=True)
        for pk_, lat, lon, offence, when in rows[:MAP_POINTS]:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {
                        "kind": "incident",
                        "id": pk_,
                        "offence": taxonomy.OFFENCES[offence].label
                        if offence in taxonomy.OFFENCES
                        else offence,
                        "date": when.date().isoformat(),
                    },
                }
            )
    return JsonResponse({"type": "FeatureCollection", "features": features})


# --- assessment --------------------------------------------------------------------------


@signed_in
@require_http_methods(["GET", "POST"])
def assessment_new(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Choose a control area, buffer and periods, and compute the assessment."""
    community = community_for(request, slug, STAFF_ROLES)
    problem = problem_for(request, community, pk, "change")
    from beacon.core.models import Area

    neighbourhoods = Area.objects.filter(community=community, kind=AreaKind.NEIGHBOURHOOD)
    suggested = assessing.suggest_control(
        problem, ((a.pk, pgeo.shape_of(a.geometry)) for a in neighbourhoods)
    )
    form = AssessmentForm(community, request.POST or None, initial={"control_area": suggested})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            row = assessing.assess(
                problem,
                actor_of(request),
                assessing.AssessmentInput(
                    control_geometry=data.get("control_geometry"),
                    control_area_id=data.get("control_area"),
                    buffer_m=data["buffer_m"],
                    period_days=data["period_days"],
                ),
            )
        except ProblemError as exc:
            apply_errors(form, exc)
        else:
            return redirect("problems:assessment", slug, problem.pk, row.pk)
    return render(
        request,
        "problems/assessment_form.html",
        {"community": community, "problem": problem, "form": form, "area": problem.area},
    )


@signed_in
@require_GET
def assessment_detail(request: HttpRequest, slug: str, pk: int, aid: int) -> HttpResponse:
    """An assessment's figures, verdict, charts and map."""
    community = community_for(request, slug, STAFF_AND_PARTNERS)
    problem = problem_for(request, community, pk)
    row = get_object_or_deny(
        Assessment.objects.filter(problem=problem), request.user, "view", pk=aid
    )
    row.problem = problem
    data = report.build(row, with_charts=is_staff_in(request, community))
    return render(
        request,
        "problems/assessment.html",
        {
            "community": community,
            "problem": problem,
            "r": data,
            "a": row,
            "results": row.results,
            "can_export": can(request.user, "export", row),
        },
    )


@signed_in
@require_GET
def assessment_pdf(request: HttpRequest, slug: str, pk: int, aid: int) -> HttpResponse:
    """The assessment report as a PDF download; audited as an export."""
    community = community_for(request, slug, STAFF_ROLES)
    problem = problem_for(request, community, pk)
    row = get_object_or_deny(
        Assessment.objects.filter(problem=problem), request.user, "export", pk=aid
    )
    row.problem = problem
    pdf = report.report_pdf(report.build(row))
    record_event(actor=request.user, action="export", obj=row, detail={"report": "assessment"})
    result = HttpResponse(pdf, content_type="application/pdf")
    result["Content-Disposition"] = f'attachment; filename="{report.report_filename(row)}"'
    return result
