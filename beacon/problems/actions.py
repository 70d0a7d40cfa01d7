"""The workspace's changes: one POST per section (stage, triangle, questions, runs,
evidence, tasks, response start). htmx requests get the changed section back; others
are redirected to it, or shown the page again with the form's errors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beacon.core.access import get_object_or_deny
from beacon.core.decorators import signed_in
from beacon.core.models import User
from beacon.core.roles import STAFF_ROLES
from beacon.problems import analysis, response, scanning, services
from beacon.problems.errors import ProblemError
from beacon.problems.forms import (
    FindingForm,
    LinkForm,
    QuestionForm,
    ResponseStartForm,
    StageForm,
    TaskForm,
    TaskStatusForm,
    TriangleForm,
    apply_errors,
)
from beacon.problems.models import AnalysisQuestion, EvidenceLink, Problem, ResponseTask
from beacon.problems.views import (
    actor_of,
    community_for,
    detail_url,
    is_htmx,
    problem_for,
    workspace_context,
)


@signed_in
@require_POST
def problem_action(request: HttpRequest, slug: str, pk: int, action: str) -> HttpResponse:
    """One change to the workspace (stage, triangle, questions, runs, evidence, tasks,
    response start). htmx requests get the changed section back; others a redirect."""
    community = community_for(request, slug, STAFF_ROLES)
    problem = problem_for(request, community, pk, "change")
    handler = ACTIONS.get(action)
    if handler is None:
        return HttpResponse(status=404)
    actor = actor_of(request)
    form, anchor = None, "workspace"
    try:
        form, anchor = handler(request, problem, actor)
    except ProblemError as exc:
        messages.error(request, exc.message)
    if form is not None and form.errors:
        problem.refresh_from_db()
        context = workspace_context(request, problem, **{FORM_NAMES[action]: form})
        if is_htmx(request) and action in FRAGMENTS:
            return render(request, FRAGMENTS[action], context)
        return render(request, "problems/detail.html", context, status=400)
    if is_htmx(request) and action in FRAGMENTS:
        problem.refresh_from_db()
        return render(request, FRAGMENTS[action], workspace_context(request, problem))
    return redirect(detail_url(problem, anchor))


Handled = tuple[Any, str]


def _do_stage(request: HttpRequest, problem: Problem, actor: User) -> Handled:
    form = StageForm(request.POST)
    if form.is_valid():
        try:
            services.set_stage(
                problem,
                actor,
                form.cleaned_data["stage"],
                outcome=form.cleaned_data.get("outcome") or "",
                note=form.cleaned_data.get("note") or "",
            )
            messages.success(request, _("Stage changed."))
        except ProblemError as exc:
            apply_errors(form, exc)
    return form, "stage"


def _do_triangle(request: HttpRequest, problem: Problem, actor: User) -> Handled:
    form = TriangleForm(request.POST)
    if form.is_valid():
        analysis.save_triangle(problem, actor, form.sides())
        messages.success(request, _("Analysis saved."))
    return form, "analysis"


def _do_question(request: HttpRequest, problem: Problem, actor: User) -> Handled:
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            analysis.add_question(
                problem,
                actor,
                form.cleaned_data["question"],
                form.cleaned_data.get("finding") or "",
            )
        except ProblemError as exc:
            apply_errors(form, exc)
    return form, "questions"


def _do_finding(request: HttpRequest, problem: Problem, actor: User) -> Handled:
    form = FindingForm(request.POST)
    row = get_object_or_deny(
        AnalysisQuestion.objects.filter(problem=problem),
        actor,
        "change",
        pk=_posted_id(request, "question_id"),
    )
    if form.is_valid():
        analysis.answer_question(row, actor, form.cleaned_data.get("finding") or "")
    return None, "questions"


def _do_run(request: HttpRequest, problem: Problem, actor: User) -> Handled:
    analysis.attach_run(problem, actor, request.POST.get("run", ""))
    return None, "runs"


def _do_detach(request: HttpRequest, problem: Problem, actor: User) -> Handled:
    analysis.detach_run(problem, actor, _posted_id(request, "run"))
    return None, "runs"


def _do_link(request: HttpRequest, problem: Problem, actor: User) -> Handled:
    form = LinkForm(request.POST)
    if form.is_valid():
        try:
            scanning.link_evidence(
                problem,
                actor,
                form.cleaned_data["kind"],
                form.cleaned_data["target_id"],
                form.cleaned_data.get("note") or "",
            )
        except ProblemError as exc:
            apply_errors(form, exc)
    return form, "evidence"


def _do_unlink(request: HttpRequest, problem: Problem, actor: User) -> Handled:
    link = get_object_or_deny(
        EvidenceLink.objects.filter(problem=problem),
        actor,
        "change",
        pk=_posted_id(request, "link"),
    )
    scanning.unlink_evidence(link, actor)
    return None, "evidence"


def _do_task(request: HttpRequest, problem: Problem, actor: User) -> Handled:
    form = TaskForm(problem.community, list(problem.partners.all()), request.POST)
    if form.is_valid():
        kind, owner_id = form.owner_parts()
        try:
            response.add_task(
                problem,
                actor,
                response.TaskInput(
                    title=form.cleaned_data["title"],
                    description=form.cleaned_data.get("description") or "",
                    owner_kind=kind,
                    owner_id=owner_id,
                    due_on=form.cleaned_data["due_on"],
                    status=form.cleaned_data["status"],
                ),
            )
        except ProblemError as exc:
            apply_errors(form, exc)
    return form, "tasks"


def _do_task_status(request: HttpRequest, problem: Problem, actor: User) -> Handled:
    task = get_object_or_deny(
        ResponseTask.objects.filter(problem=problem),
        actor,
        "change",
        pk=_posted_id(request, "task"),
    )
    form = TaskStatusForm(request.POST)
    if form.is_valid():
        response.set_task_status(task, actor, form.cleaned_data["status"])
    return None, "tasks"


def _do_response_start(request: HttpRequest, problem: Problem, actor: User) -> Handled:
    form = ResponseStartForm(request.POST)
    if form.is_valid():
        try:
            services.set_response_start(problem, actor, form.cleaned_data["response_started_on"])
            messages.success(request, _("Response start date saved."))
        except ProblemError as exc:
            apply_errors(form, exc)
    return form, "response"


def _posted_id(request: HttpRequest, name: str) -> int:
    value = request.POST.get(name, "")
    return int(value) if value.isdigit() else 0


ACTIONS = {
    "stage": _do_stage,
    "triangle": _do_triangle,
    "question": _do_question,
    "finding": _do_finding,
    "run": _do_run,
    "detach": _do_detach,
    "link": _do_link,
    "unlink": _do_unlink,
    "task": _do_task,
    "task-status": _do_task_status,
    "response-start": _do_response_start,
}
FORM_NAMES = {
    "stage": "stage_form",
    "triangle": "triangle_form",
    "question": "question_form",
    "link": "link_form",
    "task": "task_form",
    "response-start": "start_form",
}
FRAGMENTS = {
    "question": "problems/_questions.html",
    "finding": "problems/_questions.html",
    "task": "problems/_tasks.html",
    "task-status": "problems/_tasks.html",
}
