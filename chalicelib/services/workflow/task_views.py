"""How agents see a task: in their queue, on the issue, on a link's form, and in timeline entries.

A timeline entry about a task shows the task as it stood then. Entries store that moment as facts
(`TaskMoment`); the view is computed here when they are read. Entries written before that carry
the view itself, and are shown as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.domain.issues import TimelineEvent
from chalicelib.domain.task_moments import TaskMoment
from chalicelib.domain.tasks import Task


def task_view(task: Task) -> dict[str, Any]:
    holder = task.assigned_to
    return {
        "id": task.id,
        "issue_id": task.issue_id,
        "reference": task.reference,
        "step": task.step,
        "step_name": task.step_name,
        "role": task.role,
        "assignee": {"kind": holder.kind, "name": holder.name},
        "status": task.status,
        "due_at": task.due_at.isoformat(),
        "next_checkpoint_at": task.next_checkpoint_at.isoformat() if task.next_checkpoint_at else None,
        "checkpoints": [m.isoformat() for m in task.schedule],
        "escalation_level": task.level,
        "breached": task.breached,
        "fields": task.fields,
        "completed_by": task.completed_by or None,
        "completed_at": task.completed_at.isoformat() if task.completed_at else None,
        "closed_reason": task.closed_reason or None,
    }


def event_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """A timeline entry's data as agents see it: the view of its task then, and its own details."""
    moment = TaskMoment.from_data(data.get("task"))
    if moment is None:
        return dict(data)  # about no task, or written with the view itself
    return {**task_view(moment.task()), **{key: value for key, value in data.items() if key != "task"}}


def timeline_entry(event: TimelineEvent) -> dict[str, Any]:
    return {**event.as_dict(), "data": event_data(event.data)}


def history_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry of the customer's history (a timeline entry with its issue id)."""
    return {**entry, "data": event_data(entry.get("data") or {})}
