"""Where a running issue stands in its process, so that a new execution can go on from there.

An execution can be lost (the embedded stack's Step Functions do not survive a restart) or
replaced (a move to a new version of the issue's type). The tasks in DynamoDB say where the
issue is: the step it waits on, the answers given so far, and, inside a parallel step, where each
branch is. These rules read that, with no I/O (decision 0039):

- `entry_point`: the step to enter, and each branch's position when it is a parallel step;
- `answers`: the completed steps' answers, which the `when`s ahead read;
- `resumed_execution_name`: a new, unique execution name for the issue's current run;
- `migration_refusal`, `on_version`, `rescheduled`: whether and how an issue on a step moves to
  another version of its type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from chalicelib.domain.issue_types import PARALLEL, IssueType, Step
from chalicelib.domain.issues import OPEN as ISSUE_OPEN
from chalicelib.domain.issues import Issue, TransitionRefused
from chalicelib.domain.tasks import COMPLETED, OPEN, Task

#: The resolution, as an entry: every step is behind the issue.
RESOLVE_ENTRY = "resolve"
#: A branch's position once it has finished.
BRANCH_DONE = "done"

_RESUMED = re.compile(r"-r(\d+)$")


@dataclass(frozen=True)
class Entry:
    """Where a new execution enters: a top-level step (`""`: from the start, `resolve`: only the
    resolution is left), and for a parallel step, each branch's step (or BRANCH_DONE); a branch
    not named starts from its beginning."""

    step: str = ""
    branches: Mapping[int, str] = field(default_factory=dict)


def entry_point(issue_type: IssueType, current_step: str, tasks: Iterable[Task]) -> Entry:
    """Where the issue's process stands: the step it waits on (`current_step`, the last one that
    opened a task) unless its task's completion already reached the workflow, then the step after.

    A step is re-entered while its task is open (the task is kept, with its holder and
    deadlines), completed but not yet delivered (the new execution receives the completion at
    once), or closed by its last checkpoint (the new execution's timers carry the process on to
    where that checkpoint leads). Inside a parallel step each branch is placed the same way.
    """
    by_step = {task.step: task for task in tasks}
    top = _top_step(issue_type, current_step)
    if top is None:
        return Entry()
    position = issue_type.steps.index(top)
    if top.kind == PARALLEL:
        branches = {index: _branch_position(branch, by_step) for index, branch in enumerate(top.branches)}
        if any(where != BRANCH_DONE for where in branches.values()):
            return Entry(top.id, {i: where for i, where in branches.items() if where})
    elif not _passed(by_step.get(top.id)):
        return Entry(top.id)
    following = issue_type.steps[position + 1 :]
    return Entry(following[0].id) if following else Entry(RESOLVE_ENTRY)


def _top_step(issue_type: IssueType, step_id: str) -> Step | None:
    """The top-level step that is `step_id` or holds it in a branch."""
    for step in issue_type.steps:
        if step.id == step_id or any(inner.id == step_id for branch in step.branches for inner in branch):
            return step
    return None


def _passed(task: Task | None) -> bool:
    """The workflow has moved past this task: it received the task's completion."""
    return task is not None and task.status == COMPLETED and bool(task.token) and task.delivered_token == task.token


def _branch_position(branch: tuple[Step, ...], by_step: Mapping[str, Task]) -> str:
    """The branch's step to enter: its last step with a task unless that one was passed, then the
    next; "" when no step of it opened yet (it starts from the beginning), BRANCH_DONE at its end."""
    opened = [index for index, step in enumerate(branch) if step.id in by_step]
    if not opened:
        return ""
    last = opened[-1]
    if not _passed(by_step[branch[last].id]):
        return branch[last].id
    return branch[last + 1].id if last + 1 < len(branch) else BRANCH_DONE


def answers(tasks: Iterable[Task]) -> dict[str, dict[str, Any]]:
    """The answers given so far: each completed task's fields, by step."""
    return {task.step: dict(task.fields or {}) for task in tasks if task.status == COMPLETED}


def resumed_execution_name(base_name: str, current_execution_arn: str) -> str:
    """The next execution name of a run named `base_name`: `<base>-r1`, then `-r2`, ... counted
    from the execution the issue has now, so that names never repeat (Step Functions keeps an
    ended execution's name for 90 days)."""
    current = current_execution_arn.rsplit(":", 1)[-1]
    found = _RESUMED.search(current) if current.startswith(f"{base_name}-r") else None
    return f"{base_name}-r{int(found.group(1)) + 1 if found else 1}"


# Moving to another version


def migration_refusal(old: IssueType, new: IssueType, current_step: str, tasks: Iterable[Task]) -> str | None:
    """Why an issue whose process is at `current_step` of `old` cannot move to `new`, or None.

    It moves when the step it stands on (and, inside a parallel step, each branch's step) exists in
    the new version under the same id, as the same kind of step: there it goes on, with its open
    task, holder and deadlines kept.
    """
    entry = entry_point(old, current_step, tasks)
    if not entry.step:
        return "the process has not reached a step yet"
    if entry.step == RESOLVE_ENTRY:
        return None
    new_ids = {step.id: step for step in new.steps}
    old_step = next(step for step in old.steps if step.id == entry.step)
    moved = new_ids.get(entry.step)
    if moved is None:
        return f"step {entry.step!r} is not in the new version"
    if moved.kind != old_step.kind:
        return f"step {entry.step!r} is a {moved.kind} step in the new version, not a {old_step.kind} step"
    for index, where in entry.branches.items():
        if where == BRANCH_DONE:
            continue
        if index >= len(moved.branches) or where not in {s.id for s in moved.branches[index]}:
            return f"step {where!r} is not in branch {index + 1} of {entry.step!r} in the new version"
    return None


def schedule_changed(old: Step, new: Step) -> bool:
    """Whether a step's checkpoints differ between two versions (then its task's timers are
    computed again on the new version's definition, from when the task opened)."""
    return (old.checkpoints(), old.deadline, old.deadline_by_segment, old.calendar, old.close_after) != (
        new.checkpoints(),
        new.deadline,
        new.deadline_by_segment,
        new.calendar,
        new.close_after,
    )


def is_waiting(task: Task) -> bool:
    """An open task: someone (a holder, the customer) still has to act on it."""
    return task.status == OPEN


def on_version(issue: Issue, from_version: int, to_version: int) -> Issue:
    """The issue on another version of its type; refused unless it is open on `from_version`, so
    that a repeated move moves nothing."""
    if issue.status != ISSUE_OPEN:
        raise TransitionRefused(f"issue {issue.reference} is resolved")
    if issue.type_version != from_version:
        raise TransitionRefused(f"issue {issue.reference} is on version {issue.type_version}, not {from_version}")
    return replace(issue, type_version=to_version)


def rescheduled(task: Task, schedule: tuple[datetime, ...], due_at: datetime, moves_on: bool) -> Task:
    """An open task on its step's definition in another version: the new checkpoints, counted from
    when it opened; the checkpoints already reached stay reached (as far as the new step has them)."""
    return replace(
        task,
        schedule=schedule,
        due_at=due_at,
        moves_on=moves_on,
        checkpoint=min(task.checkpoint, len(schedule)),
    )
