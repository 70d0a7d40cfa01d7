"""Background work: tasks are enqueued after the transaction commits, with ids only.

A task that runs before its rows are committed would find nothing, and one whose
transaction rolls back must never run; ``transaction.on_commit`` gives both.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Enqueue ``task`` (a ``django_tasks`` task) once the current transaction commits.

    Pass ids and plain values, never model instances: the worker reloads what it needs,
    so a retried or late task sees the current state.
    """
    transaction.on_commit(lambda: task.enqueue(*args, **kwargs))
