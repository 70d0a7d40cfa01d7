"""Analysis: the problem-analysis triangle, questions and findings, attached runs."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from beacon.core.audit import record_event
from beacon.core.models import User
from beacon.problems.errors import fail
from beacon.problems.models import TRIANGLE_FIELDS, AnalysisQuestion, Problem
from beacon.problems.services import clean_text, require_permission


def save_triangle(problem: Problem, actor: User, sides: dict[str, Any]) -> Problem:
    """Record the problem-analysis triangle (offender, target, place and their
    controllers); sides not given are left as they are; audited."""
    require_permission(actor, "change", problem)
    unknown = sorted(set(sides) - set(TRIANGLE_FIELDS))
    if unknown:
        raise fail(
            unknown[0],
            _("Not a side of the triangle; use %(f)s.") % {"f": ", ".join(TRIANGLE_FIELDS)},
        )
    changed = []
    for name, value in sides.items():
        text = clean_text(value)
        if text != getattr(problem, name):
            setattr(problem, name, text)
            changed.append(name)
    if changed:
        problem.save(update_fields=[*changed, "updated_at"])
        record_event(actor=actor, action="update", obj=problem, detail={"triangle": changed})
    return problem


def add_question(
    problem: Problem, actor: User, question: str, finding: str = ""
) -> AnalysisQuestion:
    """Add an analysis question (and its finding, if known); audited."""
    require_permission(actor, "change", problem)
    text = clean_text(question, 500)
    if len(text) < 3:
        raise fail("question", _("Write the question (3 to 500 characters)."))
    finding = clean_text(finding)
    row = AnalysisQuestion.objects.create(
        community=problem.community,
        problem=problem,
        question=text,
        finding=finding,
        answered_at=timezone.now() if finding else None,
        created_by=actor,
    )
    record_event(actor=actor, action="create", obj=row, detail={"problem": problem.pk})
    return row


def answer_question(row: AnalysisQuestion, actor: User, finding: str) -> AnalysisQuestion:
    """Record (or change) what the analysis found for a question; audited."""
    require_permission(actor, "change", row)
    row.finding = clean_text(finding)
    row.answered_at = timezone.now() if row.finding else None
    row.save(update_fields=["finding", "answered_at"])
    record_event(actor=actor, action="update", obj=row, detail={"answered": bool(row.finding)})
    return row


def attach_run(problem: Problem, actor: User, run_id: Any) -> Any:
    """Attach a stored analysis run of the community to the problem; audited."""
    from beacon.insights.models import AnalysisRun

    require_permission(actor, "change", problem)
    run = (
        AnalysisRun.objects.visible_to(actor)
        .defer("results")
        .filter(community=problem.community, pk=run_id if str(run_id).isdigit() else 0)
        .first()
    )
    if run is None:
        raise fail("run_id", _("No analysis run %(id)s in this community.") % {"id": run_id})
    problem.analysis_runs.add(run)
    record_event(actor=actor, action="update", obj=problem, detail={"attached_run": run.pk})
    return run


def detach_run(problem: Problem, actor: User, run_id: int) -> None:
    """Detach an analysis run from the problem; audited."""
    require_permission(actor, "change", problem)
    problem.analysis_runs.remove(run_id)
    record_event(actor=actor, action="update", obj=problem, detail={"detached_run": run_id})
