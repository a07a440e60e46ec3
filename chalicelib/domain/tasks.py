"""The rules of a human task: assignment by the workflow, escalation, and completion by an agent.

The workflow and the agent race: the workflow hands us a task token (again at every escalation
level) while an agent may complete the task at any moment. These functions decide, from the
task's stored state, what each event changes and whether the completion must now be delivered to
the workflow. The repository applies them under optimistic locking, so exactly one side delivers
a completion for each token, and a completion that arrives before a token is never lost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chalicelib.domain.errors import Conflict

OPEN = "open"
COMPLETED = "completed"

OPENED = "opened"
ESCALATED = "escalated"
BREACHED = "breached"
UNCHANGED = "unchanged"


def task_id_for(issue_id: str, step_id: str) -> str:
    return f"{issue_id}-{step_id}"


def parse_task_id(task_id: str) -> tuple[str, str]:
    """(issue id, step id) of a task id; issue ids are ULIDs, which contain no '-'."""
    issue_id, _, step_id = task_id.partition("-")
    return issue_id, step_id


@dataclass(frozen=True)
class Task:
    id: str
    issue_id: str
    step: str
    status: str
    level: int
    role: str
    due_at: datetime
    token: str = ""
    delivered_token: str = ""
    breached: bool = False
    fields: dict[str, Any] | None = None
    completed_by: str = ""
    completed_at: datetime | None = None
    opened_at: datetime | None = None
    reference: str = ""
    step_name: str = ""

    @property
    def needs_delivery(self) -> bool:
        """A completion exists that the workflow's current token has not received."""
        return self.status == COMPLETED and bool(self.token) and self.token != self.delivered_token

    def completion_output(self) -> dict[str, Any]:
        return {"fields": self.fields or {}, "completed_by": self.completed_by}


@dataclass(frozen=True)
class Assigned:
    task: Task
    change: str


def assign(
    current: Task | None,
    *,
    task_id: str,
    issue_id: str,
    step: str,
    level: int,
    role: str,
    due_at: datetime,
    token: str,
    now: datetime,
    breached: bool = False,
    reference: str = "",
    step_name: str = "",
) -> Assigned:
    """Apply the workflow's message for `level` of a step.

    `breached` marks the message sent when the last level's deadline has passed: the task stays
    with its holder, only the breach is recorded.
    """
    if current is None:
        task = Task(
            id=task_id,
            issue_id=issue_id,
            step=step,
            status=OPEN,
            level=level,
            role=role,
            due_at=due_at,
            token=token,
            opened_at=now,
            reference=reference,
            step_name=step_name,
        )
        return Assigned(task, OPENED)
    if level < current.level or token == current.token:
        return Assigned(current, UNCHANGED)
    if current.status == COMPLETED:
        return Assigned(replace(current, token=token, level=level), UNCHANGED)
    if breached:
        return Assigned(replace(current, token=token, level=level, breached=True), BREACHED)
    return Assigned(replace(current, token=token, level=level, role=role, due_at=due_at), ESCALATED)


def complete(current: Task, *, fields: dict[str, Any], by: str, now: datetime) -> Task:
    if current.status == COMPLETED:
        raise Conflict(f"task {current.id} was already completed by {current.completed_by}")
    return replace(current, status=COMPLETED, fields=fields, completed_by=by, completed_at=now)


def delivered(current: Task, token: str) -> Task:
    return replace(current, delivered_token=token)
