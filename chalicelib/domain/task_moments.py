"""What a timeline event records of its task: the task as it stood at that moment.

An event about a task (opened, warned, escalated, completed...) keeps the facts of its moment in
this shape: who held the task, its status, when it was due, which checkpoint and escalation level
it had reached, and, once it ended, how. The workflow's tokens are left out. How agents see a
task is computed from these facts when the timeline is read, so the stored events do not change
when the view does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.tasks import Task, parse_task_id


@dataclass(frozen=True)
class TaskMoment:
    task_id: str
    step: str
    holder: str
    status: str
    due_at: datetime
    schedule: tuple[datetime, ...] = ()
    checkpoint: int = 0
    level: int = 0
    breached: bool = False
    reference: str = ""
    step_name: str = ""
    fields: dict[str, Any] | None = None
    completed_by: str = ""
    completed_at: datetime | None = None
    closed_reason: str = ""

    @classmethod
    def of(cls, task: Task) -> TaskMoment:
        return cls(
            task_id=task.id,
            step=task.step,
            holder=task.holder,
            status=task.status,
            due_at=task.due_at,
            schedule=task.schedule,
            checkpoint=task.checkpoint,
            level=task.level,
            breached=task.breached,
            reference=task.reference,
            step_name=task.step_name,
            fields=task.fields,
            completed_by=task.completed_by,
            completed_at=task.completed_at,
            closed_reason=task.closed_reason,
        )

    def task(self) -> Task:
        """The task as it stood then, without the workflow's tokens."""
        return Task(
            id=self.task_id,
            issue_id=parse_task_id(self.task_id)[0],
            step=self.step,
            status=self.status,
            holder=self.holder,
            due_at=self.due_at,
            checkpoint=self.checkpoint,
            level=self.level,
            schedule=self.schedule,
            breached=self.breached,
            fields=self.fields,
            completed_by=self.completed_by,
            completed_at=self.completed_at,
            reference=self.reference,
            step_name=self.step_name,
            closed_reason=self.closed_reason,
        )

    def as_data(self) -> dict[str, Any]:
        """The moment as JSON, leaving out what is empty (a task not yet ended has no outcome)."""
        data: dict[str, Any] = {
            "task": self.task_id,
            "step": self.step,
            "holder": self.holder,
            "status": self.status,
            "due_at": self.due_at.isoformat(),
            "schedule": [m.isoformat() for m in self.schedule],
            "checkpoint": self.checkpoint,
            "level": self.level,
            "breached": self.breached,
            "reference": self.reference,
            "step_name": self.step_name,
            "fields": self.fields,
            "completed_by": self.completed_by,
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
            "closed_reason": self.closed_reason,
        }
        return {key: value for key, value in data.items() if value not in (None, "", 0, False, [])}

    @classmethod
    def from_data(cls, data: Any) -> TaskMoment | None:
        """The moment `as_data` stored, or None for anything else (e.g. an older event's data)."""
        if not isinstance(data, Mapping) or not all(isinstance(data.get(k), str) for k in _REQUIRED):
            return None
        completed_at = data.get("completed_at")
        return cls(
            task_id=data["task"],
            step=data["step"],
            holder=data["holder"],
            status=data["status"],
            due_at=datetime.fromisoformat(data["due_at"]),
            schedule=tuple(datetime.fromisoformat(m) for m in data.get("schedule") or ()),
            checkpoint=int(data.get("checkpoint") or 0),
            level=int(data.get("level") or 0),
            breached=bool(data.get("breached")),
            reference=str(data.get("reference") or ""),
            step_name=str(data.get("step_name") or ""),
            fields=data.get("fields"),
            completed_by=str(data.get("completed_by") or ""),
            completed_at=datetime.fromisoformat(completed_at) if completed_at else None,
            closed_reason=str(data.get("closed_reason") or ""),
        )


_REQUIRED = ("task", "step", "holder", "status", "due_at")
