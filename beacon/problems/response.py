"""The response plan: tasks owned by an officer or staff member, a partner organisation
or a resident group (neighbourhood watch), with due dates, status and overdue
detection."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from beacon.core.models import Community, User
from beacon.problems.errors import ProblemError, fail
from beacon.problems.models import (
    OPEN_TASK_STATUSES,
    OwnerKind,
    Problem,
    ResponseTask,
    TaskStatus,
)
from beacon.problems.services import clean_text, require_permission, staff_member, today_in


@dataclass
class TaskInput:
    """A task of the response plan; ``owner_id`` names a user, partner or watch group
    according to ``owner_kind``."""

    title: str
    owner_kind: str
    owner_id: Any
    due_on: Any
    description: str = ""
    status: str = TaskStatus.PLANNED


def _owner(problem: Problem, kind: str, owner_id: Any) -> dict[str, Any]:
    from beacon.watch.models import WatchGroup

    community = problem.community
    if kind == OwnerKind.STAFF:
        user = staff_member(community, owner_id, "owner_id")
        if user is None:
            raise fail("owner_id", _("Choose who owns the task."))
        return {"owner_user": user}
    pk = int(owner_id) if str(owner_id).isdigit() else 0
    if kind == OwnerKind.PARTNER:
        partner = problem.partners.filter(pk=pk).first()
        if partner is None:
            raise fail(
                "owner_id",
                _(
                    "Choose one of the problem's partners (add the organisation to the "
                    "problem first)."
                ),
            )
        return {"owner_partner": partner}
    if kind == OwnerKind.WATCH_GROUP:
        group = WatchGroup.objects.filter(community=community, pk=pk).first()
        if group is None:
            raise fail("owner_id", _("Choose a neighbourhood watch group of this community."))
        return {"owner_group": group}
    raise fail("owner_kind", _("The owner is a staff member, a partner or a watch group."))


def _checked(problem: Problem, data: TaskInput) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    title = clean_text(data.title, 200)
    if len(title) < 3:
        errors["title"] = [_("Give the task a title of 3 to 200 characters.")]
    if not isinstance(data.due_on, dt.date) or isinstance(data.due_on, dt.datetime):
        errors["due_on"] = [_("Give a due date (YYYY-MM-DD).")]
    if data.status not in TaskStatus.values:
        errors["status"] = [
            _("Unknown status; use one of %(s)s.") % {"s": ", ".join(TaskStatus.values)}
        ]
    owner: dict[str, Any] = {}
    try:
        owner = _owner(problem, data.owner_kind, data.owner_id)
    except ProblemError as exc:
        for key, messages in exc.errors.items():
            errors.setdefault(key, []).extend(messages)
    if errors:
        raise ProblemError(errors)
    return {"title": title, "description": clean_text(data.description), **owner}


def add_task(problem: Problem, actor: User, data: TaskInput) -> ResponseTask:
    """Add a task to the response plan; audited."""
    require_permission(actor, "change", problem)
    checked = _checked(problem, data)
    with transaction.atomic():
        task = ResponseTask.objects.create(
            community=problem.community,
            problem=problem,
            owner_kind=data.owner_kind,
            due_on=data.due_on,
            status=data.status,
            completed_at=timezone.now() if data.status == TaskStatus.DONE else None,
            created_by=actor,
            **checked,
        )
        record_event_for(task, actor, "create")
    return task


def update_task(task: ResponseTask, actor: User, data: TaskInput) -> ResponseTask:
    """Change a task (title, owner, due date, status); audited."""
    require_permission(actor, "change", task)
    checked = _checked(task.problem, data)
    with transaction.atomic():
        for name in ("owner_user", "owner_partner", "owner_group"):
            setattr(task, name, None)
        for name, value in checked.items():
            setattr(task, name, value)
        task.owner_kind = data.owner_kind
        task.due_on = data.due_on
        _apply_status(task, data.status)
        task.save()
        record_event_for(task, actor, "update")
    return task


def set_task_status(task: ResponseTask, actor: User, status: str) -> ResponseTask:
    """Change only a task's status (done stamps the completion time); audited."""
    require_permission(actor, "change", task)
    if status not in TaskStatus.values:
        raise fail(
            "status", _("Unknown status; use one of %(s)s.") % {"s": ", ".join(TaskStatus.values)}
        )
    _apply_status(task, status)
    task.save(update_fields=["status", "completed_at"])
    record_event_for(task, actor, "update")
    return task


def _apply_status(task: ResponseTask, status: str) -> None:
    if status == TaskStatus.DONE and task.status != TaskStatus.DONE:
        task.completed_at = timezone.now()
    elif status != TaskStatus.DONE:
        task.completed_at = None
    task.status = status


def record_event_for(task: ResponseTask, actor: User, action: str) -> None:
    """Audit a change to a task, with its problem, status, due date and owner kind."""
    from beacon.core.audit import record_event

    record_event(
        actor=actor,
        action=action,
        obj=task,
        detail={
            "problem": task.problem_id,
            "status": task.status,
            "due_on": str(task.due_on),
            "owner": task.owner_kind,
        },
    )


def overdue_tasks(
    community: Community, user: Any, today: dt.date | None = None
) -> QuerySet[ResponseTask]:
    """Open tasks past their due date, of problems ``user`` may see, oldest due first."""
    today = today or today_in(community)
    return (
        ResponseTask.objects.visible_to(user)
        .filter(community=community, status__in=OPEN_TASK_STATUSES, due_on__lt=today)
        .select_related("problem", "owner_user", "owner_partner", "owner_group")
        .order_by("due_on", "pk")
    )
