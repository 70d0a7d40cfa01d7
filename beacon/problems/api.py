"""Problems endpoints: problems, scanning evidence, the analysis triangle and questions,
attached runs, response tasks, assessments and the supervisors' board.

Staff read and change; partner users read the problems their agreements cover. Creates
accept an ``Idempotency-Key``; every change is audited by the service it calls.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import Router, Status
from ninja.security import django_auth

from beacon.core.access import get_object_or_deny, require_role
from beacon.core.audit import record_event
from beacon.core.idempotency import IdempotencyError, run_once
from beacon.core.models import Community, User
from beacon.core.roles import STAFF_ROLES
from beacon.problems import analysis, origins, report, response, scanning, services
from beacon.problems import assessment as assessing
from beacon.problems import board as boards
from beacon.problems.errors import ProblemError
from beacon.problems.models import (
    STAFF_AND_PARTNERS,
    AnalysisQuestion,
    Assessment,
    EvidenceLink,
    Problem,
    ResponseTask,
)
from beacon.problems.schemas import (
    ErrorsOut,
    ProblemAssessmentIn,
    ProblemAssessmentOut,
    ProblemBoardOut,
    ProblemEvidenceOut,
    ProblemFindingIn,
    ProblemIn,
    ProblemLinkIn,
    ProblemLinkOut,
    ProblemOut,
    ProblemPatch,
    ProblemQuestionIn,
    ProblemQuestionOut,
    ProblemResponseStartIn,
    ProblemRunIn,
    ProblemRunOut,
    ProblemStageIn,
    ProblemTaskIn,
    ProblemTaskOut,
    ProblemTaskPatch,
    ProblemTriangle,
)
from beacon.problems.serializers import (
    assessment_out,
    link_out,
    problem_out,
    question_out,
    run_out,
    task_out,
)

router = Router(tags=["problems"], auth=django_auth)
ERRORS = {400: ErrorsOut, 403: ErrorsOut, 404: ErrorsOut, 409: ErrorsOut}
BASE = "/communities/{slug}/problems"


def handled(view: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the services' refusals into JSON answers: 400 for bad input (with the
    fields at fault), 403 for a missing right, 409 for a reused Idempotency-Key."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ProblemError as exc:
            return Status(400, {"detail": exc.message, "errors": exc.errors})
        except IdempotencyError as exc:
            return Status(409, {"detail": str(exc)})
        except PermissionDenied as exc:
            return Status(403, {"detail": str(exc) or "You may not do that."})

    return wrapper


def _community(
    request: HttpRequest, slug: str, roles: frozenset[str] = STAFF_AND_PARTNERS
) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), _actor(request), "view", slug=slug
    )
    require_role(_actor(request), community, roles)
    return community


def _problem(request: HttpRequest, slug: str, problem_id: int, action: str = "view") -> Problem:
    roles = STAFF_AND_PARTNERS if action == "view" else STAFF_ROLES
    community = _community(request, slug, roles)
    problem: Problem = get_object_or_deny(
        Problem.objects.filter(community=community).select_related(
            "beat", "neighbourhood", "owner"
        ),
        _actor(request),
        action,
        pk=problem_id,
    )
    return problem


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _key(request: HttpRequest) -> str | None:
    return request.headers.get("Idempotency-Key")


# --- problems ----------------------------------------------------------------------------


@router.get(BASE, response={200: list[ProblemOut], **ERRORS})
def list_problems(
    request: HttpRequest, slug: str, stage: str = "", beat_id: int | None = None
) -> Any:
    """Problems the caller may see (partners: those their agreements cover)."""
    community = _community(request, slug)
    rows = services.problems_for(community, _actor(request)).prefetch_related("partners")
    if stage:
        rows = rows.filter(stage=stage)
    if beat_id:
        rows = rows.filter(beat_id=beat_id)
    return [problem_out(p) for p in rows[:500]]


@router.post(BASE, response={201: ProblemOut, **ERRORS})
@handled
def create_problem(request: HttpRequest, slug: str, payload: ProblemIn) -> Any:
    """Open a problem by hand, from a Gi* run, from reports or from a concern.
    Send an ``Idempotency-Key`` to make retries safe."""
    community = _community(request, slug, STAFF_ROLES)
    actor: Any = request.user

    def operation() -> tuple[int, Any]:
        data = services.ProblemInput(
            title=payload.title,
            description=payload.description,
            offence_groups=payload.offence_groups,
            offences=payload.offences,
            geometry=payload.geometry,
            cells=payload.cells,
            owner_id=payload.owner_id,
            partner_ids=payload.partner_ids,
        )
        if payload.run_id is not None:
            from beacon.insights.models import AnalysisRun

            run = get_object_or_deny(
                AnalysisRun.objects.filter(community=community), actor, "view", pk=payload.run_id
            )
            problem = origins.open_from_hotspot(
                community,
                actor,
                run,
                cells=payload.cells,
                title=payload.title,
                description=payload.description,
                offences=payload.offences,
                owner_id=payload.owner_id,
                partner_ids=payload.partner_ids,
            )
        elif payload.concern_id is not None:
            from beacon.forums.models import Concern
            from beacon.forums.services import request_problem

            concern = get_object_or_deny(
                Concern.objects.filter(community=community), actor, "change", pk=payload.concern_id
            )
            request_problem(concern, actor)
            problem = services.open_from_concern(concern, actor)
        elif payload.report_ids:
            problem = origins.open_from_reports(community, actor, payload.report_ids, data)
        else:
            problem = services.open_problem(community, actor, data)
        return 201, problem_out(problem)

    scope = f"problems.create:{community.pk}:{actor.pk}"
    return Status(*run_once(scope, _key(request), payload.model_dump(mode="json"), operation))


@router.get(BASE + "/{problem_id}", response={200: ProblemOut, **ERRORS})
def get_problem(request: HttpRequest, slug: str, problem_id: int) -> Any:
    """One problem."""
    return problem_out(_problem(request, slug, problem_id))


@router.patch(BASE + "/{problem_id}", response={200: ProblemOut, **ERRORS})
@handled
def patch_problem(request: HttpRequest, slug: str, problem_id: int, payload: ProblemPatch) -> Any:
    """Change a problem's title, description, area, offences, owner or partners."""
    problem = _problem(request, slug, problem_id, "change")
    given = payload.model_dump(exclude_unset=True)
    data = services.ProblemInput(
        title=given.get("title", problem.title),
        description=given.get("description", problem.description),
        offence_groups=given.get("offence_groups", problem.offence_groups),
        offences=given.get("offences", problem.offences),
        geometry=given.get("geometry"),
        cells=given.get("cells"),
        owner_id=given.get("owner_id", problem.owner_id),
        partner_ids=given.get("partner_ids", [p.pk for p in problem.partners.all()]),
    )
    return problem_out(services.update_problem(problem, _actor(request), data))


@router.post(BASE + "/{problem_id}/stage", response={200: ProblemOut, **ERRORS})
@handled
def set_stage(request: HttpRequest, slug: str, problem_id: int, payload: ProblemStageIn) -> Any:
    """Move the problem to a SARA stage (closing needs an outcome)."""
    problem = _problem(request, slug, problem_id, "change")
    services.set_stage(
        problem, _actor(request), payload.stage, outcome=payload.outcome, note=payload.note
    )
    return problem_out(problem)


@router.put(BASE + "/{problem_id}/response-start", response={200: ProblemOut, **ERRORS})
@handled
def set_response_start(
    request: HttpRequest, slug: str, problem_id: int, payload: ProblemResponseStartIn
) -> Any:
    """Record the date the response started (the assessment's before/after split)."""
    problem = _problem(request, slug, problem_id, "change")
    services.set_response_start(problem, _actor(request), payload.response_started_on)
    return problem_out(problem)


# --- scanning evidence -------------------------------------------------------------------


@router.get(BASE + "/{problem_id}/evidence", response={200: ProblemEvidenceOut, **ERRORS})
def get_evidence(request: HttpRequest, slug: str, problem_id: int) -> Any:
    """Incident counts and monthly trend in the area, and linked reports and concerns
    (staff only: the evidence is incident-level)."""
    _community(request, slug, STAFF_ROLES)
    problem = _problem(request, slug, problem_id)
    scan = scanning.scanning(problem, _actor(request))
    return {
        "total": scan.total,
        "last_12_months": scan.last_12,
        "previous_12_months": scan.previous_12,
        "area_km2": round(scan.area_km2, 4),
        "by_offence": dict(scan.by_offence),
        "trend": [{"month": m, "count": n} for m, n in scan.trend],
        "links": [link_out(link) for link in scan.links],
    }


@router.post(BASE + "/{problem_id}/evidence", response={201: ProblemLinkOut, **ERRORS})
@handled
def add_evidence(request: HttpRequest, slug: str, problem_id: int, payload: ProblemLinkIn) -> Any:
    """Link a report or concern (idempotent: a second link returns the first)."""
    problem = _problem(request, slug, problem_id, "change")

    def operation() -> tuple[int, Any]:
        link = scanning.link_evidence(
            problem, _actor(request), payload.kind, payload.target_id, payload.note
        )
        return 201, link_out(link)

    scope = f"problems.link:{problem.pk}:{request.user.pk}"
    return Status(*run_once(scope, _key(request), payload.model_dump(mode="json"), operation))


@router.delete(BASE + "/{problem_id}/evidence/{link_id}", response={204: None, **ERRORS})
@handled
def remove_evidence(request: HttpRequest, slug: str, problem_id: int, link_id: int) -> Any:
    """Unlink a report or concern."""
    problem = _problem(request, slug, problem_id, "change")
    link = get_object_or_deny(
        EvidenceLink.objects.filter(problem=problem), _actor(request), "change", pk=link_id
    )
    scanning.unlink_evidence(link, _actor(request))
    return Status(204, None)


# --- analysis ----------------------------------------------------------------------------


@router.get(BASE + "/{problem_id}/triangle", response={200: ProblemTriangle, **ERRORS})
def get_triangle(request: HttpRequest, slug: str, problem_id: int) -> Any:
    """The problem-analysis triangle."""
    return _problem(request, slug, problem_id).triangle()


@router.put(BASE + "/{problem_id}/triangle", response={200: ProblemTriangle, **ERRORS})
@handled
def put_triangle(request: HttpRequest, slug: str, problem_id: int, payload: ProblemTriangle) -> Any:
    """Record the triangle; sides left out keep their text."""
    problem = _problem(request, slug, problem_id, "change")
    analysis.save_triangle(problem, _actor(request), payload.model_dump(exclude_none=True))
    return problem.triangle()


@router.get(BASE + "/{problem_id}/questions", response={200: list[ProblemQuestionOut], **ERRORS})
def list_questions(request: HttpRequest, slug: str, problem_id: int) -> Any:
    """Analysis questions and findings."""
    problem = _problem(request, slug, problem_id)
    return [
        question_out(q)
        for q in AnalysisQuestion.objects.visible_to(_actor(request)).filter(problem=problem)
    ]


@router.post(BASE + "/{problem_id}/questions", response={201: ProblemQuestionOut, **ERRORS})
@handled
def add_question(
    request: HttpRequest, slug: str, problem_id: int, payload: ProblemQuestionIn
) -> Any:
    """Add an analysis question (send an ``Idempotency-Key`` to make retries safe)."""
    problem = _problem(request, slug, problem_id, "change")

    def operation() -> tuple[int, Any]:
        row = analysis.add_question(problem, _actor(request), payload.question, payload.finding)
        return 201, question_out(row)

    scope = f"problems.question:{problem.pk}:{request.user.pk}"
    return Status(*run_once(scope, _key(request), payload.model_dump(mode="json"), operation))


@router.patch(
    BASE + "/{problem_id}/questions/{question_id}", response={200: ProblemQuestionOut, **ERRORS}
)
@handled
def answer_question(
    request: HttpRequest, slug: str, problem_id: int, question_id: int, payload: ProblemFindingIn
) -> Any:
    """Record what was found."""
    problem = _problem(request, slug, problem_id, "change")
    row = get_object_or_deny(
        AnalysisQuestion.objects.filter(problem=problem), _actor(request), "change", pk=question_id
    )
    return question_out(analysis.answer_question(row, _actor(request), payload.finding))


@router.get(BASE + "/{problem_id}/runs", response={200: list[ProblemRunOut], **ERRORS})
def list_runs(request: HttpRequest, slug: str, problem_id: int) -> Any:
    """Analysis runs attached to the problem (staff)."""
    _community(request, slug, STAFF_ROLES)
    problem = _problem(request, slug, problem_id)
    return [run_out(r) for r in problem.analysis_runs.defer("results")]


@router.post(BASE + "/{problem_id}/runs", response={200: ProblemRunOut, **ERRORS})
@handled
def attach_run(request: HttpRequest, slug: str, problem_id: int, payload: ProblemRunIn) -> Any:
    """Attach a stored analysis run (attaching twice changes nothing)."""
    problem = _problem(request, slug, problem_id, "change")
    return run_out(analysis.attach_run(problem, _actor(request), payload.run_id))


# --- response tasks ------------------------------------------------------------------------


@router.get(BASE + "/{problem_id}/tasks", response={200: list[ProblemTaskOut], **ERRORS})
def list_tasks(request: HttpRequest, slug: str, problem_id: int) -> Any:
    """The response plan."""
    problem = _problem(request, slug, problem_id)
    today = services.today_in(problem.community)
    rows = ResponseTask.objects.visible_to(_actor(request)).filter(problem=problem)
    return [
        task_out(t, today)
        for t in rows.select_related("owner_user", "owner_partner", "owner_group")
    ]


@router.post(BASE + "/{problem_id}/tasks", response={201: ProblemTaskOut, **ERRORS})
@handled
def add_task(request: HttpRequest, slug: str, problem_id: int, payload: ProblemTaskIn) -> Any:
    """Add a task owned by a staff member, a partner of the problem or a watch group.
    Send an ``Idempotency-Key`` to make retries safe."""
    problem = _problem(request, slug, problem_id, "change")

    def operation() -> tuple[int, Any]:
        task = response.add_task(
            problem, _actor(request), response.TaskInput(**payload.model_dump())
        )
        return 201, task_out(task, services.today_in(problem.community))

    scope = f"problems.task:{problem.pk}:{request.user.pk}"
    return Status(*run_once(scope, _key(request), payload.model_dump(mode="json"), operation))


@router.patch(BASE + "/{problem_id}/tasks/{task_id}", response={200: ProblemTaskOut, **ERRORS})
@handled
def patch_task(
    request: HttpRequest, slug: str, problem_id: int, task_id: int, payload: ProblemTaskPatch
) -> Any:
    """Change a task; fields left out keep their value."""
    problem = _problem(request, slug, problem_id, "change")
    task = get_object_or_deny(
        ResponseTask.objects.filter(problem=problem), _actor(request), "change", pk=task_id
    )
    given = payload.model_dump(exclude_unset=True)
    owner_id = {"staff": task.owner_user_id, "partner": task.owner_partner_id}.get(
        task.owner_kind, task.owner_group_id
    )
    data = response.TaskInput(
        title=given.get("title", task.title),
        description=given.get("description", task.description),
        owner_kind=given.get("owner_kind", task.owner_kind),
        owner_id=given.get("owner_id", owner_id),
        due_on=given.get("due_on", task.due_on),
        status=given.get("status", task.status),
    )
    task = response.update_task(task, _actor(request), data)
    return task_out(task, services.today_in(problem.community))


# --- assessment ----------------------------------------------------------------------------


@router.get(
    BASE + "/{problem_id}/assessments", response={200: list[ProblemAssessmentOut], **ERRORS}
)
def list_assessments(request: HttpRequest, slug: str, problem_id: int) -> Any:
    """The problem's assessments, latest first."""
    problem = _problem(request, slug, problem_id)
    return [
        assessment_out(a)
        for a in Assessment.objects.visible_to(_actor(request)).filter(problem=problem)
    ]


@router.post(BASE + "/{problem_id}/assessments", response={201: ProblemAssessmentOut, **ERRORS})
@handled
def create_assessment(
    request: HttpRequest, slug: str, problem_id: int, payload: ProblemAssessmentIn
) -> Any:
    """Count the problem area, buffer and control area before and after the response
    start and compute the rate ratio, WDQ and WDD. A control area overlapping the
    problem area or its buffer is refused (400, naming the field)."""
    problem = _problem(request, slug, problem_id, "change")

    def operation() -> tuple[int, Any]:
        row = assessing.assess(
            problem, _actor(request), assessing.AssessmentInput(**payload.model_dump())
        )
        return 201, assessment_out(row)

    scope = f"problems.assessment:{problem.pk}:{request.user.pk}"
    return Status(*run_once(scope, _key(request), payload.model_dump(mode="json"), operation))


@router.get(
    BASE + "/{problem_id}/assessments/{assessment_id}",
    response={200: ProblemAssessmentOut, **ERRORS},
)
def get_assessment(request: HttpRequest, slug: str, problem_id: int, assessment_id: int) -> Any:
    """One assessment."""
    problem = _problem(request, slug, problem_id)
    row = get_object_or_deny(
        Assessment.objects.filter(problem=problem), _actor(request), "view", pk=assessment_id
    )
    return assessment_out(row)


@router.get(
    BASE + "/{problem_id}/assessments/{assessment_id}/report.pdf",
    response={200: None, **ERRORS},
    openapi_extra={
        "responses": {"200": {"content": {"application/pdf": {}}, "description": "The PDF report"}}
    },
)
def assessment_pdf(request: HttpRequest, slug: str, problem_id: int, assessment_id: int) -> Any:
    """The printable assessment report (staff); audited as an export."""
    _community(request, slug, STAFF_ROLES)
    problem = _problem(request, slug, problem_id)
    row = get_object_or_deny(
        Assessment.objects.filter(problem=problem), _actor(request), "export", pk=assessment_id
    )
    row.problem = problem
    pdf = report.report_pdf(report.build(row))
    record_event(
        actor=_actor(request),
        action="export",
        obj=row,
        detail={"report": "assessment", "via": "api"},
    )
    result = HttpResponse(pdf, content_type="application/pdf")
    result["Content-Disposition"] = f'attachment; filename="{report.report_filename(row)}"'
    return result


# --- the board -----------------------------------------------------------------------------


@router.get("/communities/{slug}/problem-board", response={200: ProblemBoardOut, **ERRORS})
def get_board(request: HttpRequest, slug: str, beat_id: int | None = None) -> Any:
    """Problems by stage and beat, overdue tasks and outcomes (staff)."""
    community = _community(request, slug, STAFF_ROLES)
    board = boards.build(community, _actor(request), beat_id=beat_id)
    return {
        "by_stage": {
            code: [
                {
                    "id": p.pk,
                    "title": p.title,
                    "stage": p.stage,
                    "beat": p.beat.name if p.beat else None,
                    "open_tasks": getattr(p, "open_tasks", 0),
                    "overdue_tasks": getattr(p, "overdue_tasks", 0),
                }
                for p in problems
            ]
            for code, _label, problems in board.columns
        },
        "by_beat": [{"beat": row.name, "by_stage": row.by_stage} for row in board.beats],
        "overdue_tasks": [task_out(t, board.today) for t in board.overdue],
        "outcomes": {code: n for code, _label, n in board.outcomes},
        "verdicts": {code: n for code, _label, n in board.verdicts},
    }
