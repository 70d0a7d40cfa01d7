"""How the API shows problems, tasks, evidence links, questions, runs and assessments."""

from __future__ import annotations

from typing import Any

from beacon.problems.models import AnalysisQuestion, Assessment, EvidenceLink, Problem, ResponseTask


def problem_out(problem: Problem) -> dict[str, Any]:
    """A problem as the API returns it."""
    return {
        "id": problem.pk,
        "title": problem.title,
        "description": problem.description,
        "origin": problem.origin,
        "stage": problem.stage,
        "area": problem.area,
        "area_cells": list(problem.area_cells or []),
        "beat": problem.beat.name if problem.beat else None,
        "neighbourhood": problem.neighbourhood.name if problem.neighbourhood else None,
        "offence_groups": list(problem.offence_groups),
        "offences": list(problem.offences or []),
        "owner": str(problem.owner) if problem.owner else None,
        "partners": [p.name for p in problem.partners.all()],
        "opened_at": problem.opened_at.isoformat(),
        "closed_at": problem.closed_at.isoformat() if problem.closed_at else None,
        "outcome": problem.outcome,
        "response_started_on": problem.response_started_on.isoformat()
        if problem.response_started_on
        else None,
        "source_run_id": problem.source_run_id,
        "source_concern_id": problem.source_concern_id,
        "triangle": problem.triangle(),
    }


def task_out(task: ResponseTask, today: Any) -> dict[str, Any]:
    """A response task as the API returns it."""
    owner_id = {"staff": task.owner_user_id, "partner": task.owner_partner_id}.get(
        task.owner_kind, task.owner_group_id
    )
    return {
        "id": task.pk,
        "problem_id": task.problem_id,
        "title": task.title,
        "description": task.description,
        "owner_kind": task.owner_kind,
        "owner_id": owner_id,
        "owner": task.owner_label,
        "due_on": task.due_on.isoformat(),
        "status": task.status,
        "overdue": task.is_overdue(today),
        "completed_at": task.completed_at.isoformat() if task.completed_at else None,
    }


def assessment_out(row: Assessment) -> dict[str, Any]:
    """An assessment with its counts, figures and verdict."""
    return {
        "id": row.pk,
        "problem_id": row.problem_id,
        "response_started_on": row.response_started_on.isoformat(),
        "period_days": row.period_days,
        "before_start": row.before_start.isoformat(),
        "after_start": row.after_start.isoformat(),
        "after_end": row.after_end.isoformat(),
        "buffer_m": row.buffer_m,
        "control_area_id": row.control_area_id,
        "control_geometry": row.control_geometry,
        "buffer_geometry": row.buffer_geometry,
        "offence_groups": list(row.offence_groups),
        "offences": list(row.offences or []),
        "counts": row.counts,
        "results": row.results,
        "verdict": row.verdict,
        "verdict_text": row.verdict_text,
        "notes": list(row.notes or []),
        "created_at": row.created_at.isoformat(),
    }


def link_out(link: EvidenceLink) -> dict[str, Any]:
    """A linked report or concern as the API returns it."""
    return {
        "id": link.pk,
        "kind": link.kind,
        "target_id": link.report_id or link.concern_id,
        "note": link.note,
        "added_at": link.added_at.isoformat(),
    }


def question_out(row: AnalysisQuestion) -> dict[str, Any]:
    """An analysis question as the API returns it."""
    return {
        "id": row.pk,
        "question": row.question,
        "finding": row.finding,
        "answered_at": row.answered_at.isoformat() if row.answered_at else None,
    }


def run_out(run: Any) -> dict[str, Any]:
    """An attached analysis run, without its results."""
    return {
        "id": run.pk,
        "kind": run.kind,
        "offence_groups": list(run.offence_groups or []),
        "window_start": run.window_start.isoformat(),
        "window_end": run.window_end.isoformat(),
        "status": run.status,
    }
