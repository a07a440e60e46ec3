"""Where an issue's process stands, as an agent reads it: the steps done, the current ones and the
next, in the order of the type's process.

Only steps that people or the customer act on are listed (tasks and waits for the customer); the
emails the process sends are on the timeline. A step is `done` once its latest task was completed,
`current` while one is open, `closed` when its task ended without an answer (the process went on
past it, e.g. an escalation's branch), and `next` otherwise; a next step that runs only on some
condition says so, since whether it will run depends on answers not given yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.issue_types import TIMED_KINDS, IssueType, Step
from chalicelib.domain.tasks import COMPLETED, OPEN, Task

DONE, CURRENT, CLOSED, NEXT = "done", "current", "closed", "next"


@dataclass(frozen=True)
class StepProgress:
    step: Step
    state: str
    #: The step's latest task (None for a step not reached).
    task: Task | None
    #: The step's deadline as the type defines it (for a step not reached yet).
    deadline: timedelta | None
    #: Whether the step runs only on some condition.
    conditional: bool

    @property
    def moment(self) -> datetime | None:
        """When it was done (done), or when it is due (current)."""
        if self.task is None:
            return None
        return self.task.completed_at if self.state == DONE else self.task.due_at


def progress(issue_type: IssueType, tasks: Iterable[Task]) -> list[StepProgress]:
    """Each step people or the customer act on, in process order, with how far it got."""
    latest: dict[str, Task] = {}
    for task in sorted(tasks, key=lambda t: t.opened_at or t.due_at):
        latest[task.step] = task
    shown = []
    for step in issue_type.all_steps():
        if step.kind not in TIMED_KINDS:
            continue
        task = latest.get(step.id)
        shown.append(StepProgress(step, _state(task), task, step.deadline, step.when is not None))
    return shown


def _state(task: Task | None) -> str:
    if task is None:
        return NEXT
    if task.status == OPEN:
        return CURRENT
    return DONE if task.status == COMPLETED else CLOSED
