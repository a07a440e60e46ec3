"""The rules of a task: opened by the workflow, moved on by its checkpoints, completed by its holder.

A task belongs to a timed step: an agent's task, or the customer's turn to reply. The workflow
opens it, then waits for it once per checkpoint (warnings, deadline, escalation levels), each
wait with a fresh task token, while the holder may complete it at any moment. These functions
decide, from the task's stored state, what each event changes and whether a completion must now
be delivered to the workflow. The repository applies them under optimistic locking, so each
checkpoint acts once, exactly one side delivers a completion for each token, and a completion
that arrives before a token is never lost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chalicelib.domain.assignees import ROLE, TEAM, Holder
from chalicelib.domain.errors import Conflict

OPEN = "open"
COMPLETED = "completed"
#: Ended without a completion: an escalation moved the process on, or the customer never replied.
CLOSED = "closed"

OPENED = "opened"
REACHED = "reached"
TOKEN_ONLY = "token_only"
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
    holder: str  # a Holder key: role:hr, team:x, user:sam, email:a@b, customer:<id>
    due_at: datetime
    checkpoint: int = 0
    level: int = 0
    schedule: tuple[datetime, ...] = ()
    token: str = ""
    #: When the workflow entered the wait that handed over `token`; None before the first wait.
    token_entered_at: datetime | None = None
    delivered_token: str = ""
    breached: bool = False
    fields: dict[str, Any] | None = None
    completed_by: str = ""
    completed_at: datetime | None = None
    opened_at: datetime | None = None
    reference: str = ""
    step_name: str = ""
    closed_reason: str = ""
    #: The last checkpoint moves the workflow past the task (an escalation's branch, or auto-close):
    #: only the workflow's timer can carry it out, so the SLA sweep never does.
    moves_on: bool = False
    #: Everyone who held the task before its current holder (claims, releases, reassignments),
    #: oldest first: they keep seeing the issue they worked on.
    past_holders: tuple[str, ...] = ()
    #: The role or team a person claimed the task from (or a lead handed it to them from): a
    #: release, or an untouched claim's return, gives it back there. "" when not claimed.
    claimed_from: str = ""
    #: When an untouched claim goes back to `claimed_from` (the step's `return_after` past the
    #: last touch); None when the step has none, or once it returned (decision 0026).
    return_at: datetime | None = None
    #: The issue's type when the task opened, so that a queue can be narrowed to a type.
    type_id: str = ""

    @property
    def assigned_to(self) -> Holder:
        return Holder.from_key(self.holder)

    @property
    def role(self) -> str | None:
        """The group holding the task, when a group does."""
        holder = self.assigned_to
        return holder.name if holder.kind in (ROLE, TEAM) else None

    @property
    def needs_delivery(self) -> bool:
        """A completion exists that the workflow's current token has not received."""
        return self.status == COMPLETED and bool(self.token) and self.token != self.delivered_token

    @property
    def next_checkpoint_at(self) -> datetime | None:
        return self.schedule[self.checkpoint] if self.checkpoint < len(self.schedule) else None

    @property
    def next_sweep_at(self) -> datetime | None:
        """When the SLA sweep next has a checkpoint of this task to act on; None once only the
        workflow's own checkpoint (or none) remains, so that the sweep stops finding the task."""
        if self.status != OPEN:
            return None
        sweepable = len(self.schedule) - 1 if self.moves_on else len(self.schedule)
        checkpoint = self.schedule[self.checkpoint] if self.checkpoint < sweepable else None
        moments = [m for m in (checkpoint, self.return_at) if m is not None]
        return min(moments) if moments else None

    @property
    def queue_at(self) -> datetime:
        """Where the task stands in a queue: its next checkpoint (warning, deadline, escalation),
        or its due time once none is left. Never later than `due_at`."""
        return self.next_checkpoint_at or self.due_at


@dataclass(frozen=True)
class Change:
    task: Task
    change: str


def open_task(
    current: Task | None,
    *,
    issue_id: str,
    step: str,
    holder: str,
    schedule: tuple[datetime, ...],
    due_at: datetime,
    now: datetime,
    reference: str = "",
    step_name: str = "",
    moves_on: bool = False,
    type_id: str = "",
) -> Change:
    """The workflow opens the step; a repeated opening message changes nothing."""
    if current is not None:
        return Change(current, UNCHANGED)
    task = Task(
        id=task_id_for(issue_id, step),
        issue_id=issue_id,
        step=step,
        status=OPEN,
        holder=holder,
        due_at=due_at,
        schedule=schedule,
        opened_at=now,
        reference=reference,
        step_name=step_name,
        moves_on=moves_on,
        type_id=type_id,
    )
    return Change(task, OPENED)


def reach(
    current: Task,
    *,
    checkpoint: int,
    token: str,
    holder: str | None = None,
    level: int | None = None,
    breached: bool = False,
    due_at: datetime | None = None,
    entered_at: datetime | None = None,
) -> Change:
    """The workflow waits again, with a new token, after reaching `checkpoint` (0: the first wait).

    A checkpoint acts once: a redelivered message, or one for a checkpoint the task has reached
    already (the SLA sweep's, or a resumed workflow's), only refreshes the token. A message from
    a wait entered before the one whose token the task holds (two timers' messages handled side
    by side, the later first) changes nothing: that wait has timed out, and its token with it. A
    completed task takes the token (to deliver its completion) but neither escalates nor warns.
    """
    if token and token == current.token:
        return Change(current, UNCHANGED)
    if entered_at and current.token_entered_at and entered_at < current.token_entered_at:
        return Change(current, UNCHANGED)
    entered = entered_at or current.token_entered_at
    if checkpoint <= current.checkpoint or current.status != OPEN:
        moved = replace(current, token=token, token_entered_at=entered, checkpoint=max(checkpoint, current.checkpoint))
        return Change(moved, TOKEN_ONLY)
    changed = _advance(current, checkpoint, holder, level, breached, due_at)
    return Change(replace(changed, token=token, token_entered_at=entered), REACHED)


def reach_missed(
    current: Task,
    *,
    checkpoint: int,
    holder: str | None = None,
    level: int | None = None,
    breached: bool = False,
    due_at: datetime | None = None,
) -> Change:
    """The SLA sweep reaches a checkpoint whose timer has not (yet) been handled.

    The token stays: the workflow still waits on it, and a completion must reach it. When the
    timer's message comes, `reach` finds the checkpoint reached and only refreshes the token. A
    checkpoint already reached, or a task no longer open, is left as it is.
    """
    if checkpoint <= current.checkpoint or current.status != OPEN:
        return Change(current, UNCHANGED)
    return Change(_advance(current, checkpoint, holder, level, breached, due_at), REACHED)


def _advance(
    current: Task, checkpoint: int, holder: str | None, level: int | None, breached: bool, due_at: datetime | None
) -> Task:
    moved = holder is not None and holder != current.holder
    return replace(
        current,
        checkpoint=checkpoint,
        holder=holder or current.holder,
        past_holders=with_past_holder(current) if moved else current.past_holders,
        claimed_from="" if moved else current.claimed_from,
        return_at=None if moved else current.return_at,
        level=current.level if level is None else level,
        breached=current.breached or breached,
        due_at=due_at or current.due_at,
    )


def with_past_holder(current: Task) -> tuple[str, ...]:
    """The task's past holders once its current holder hands it on (each named once, oldest first)."""
    if current.holder in current.past_holders:
        return current.past_holders
    return (*current.past_holders, current.holder)


def close(current: Task, *, checkpoint: int, reason: str, now: datetime) -> Change:
    """An escalation moved the process past this task, or the customer's wait ran out."""
    if current.status != OPEN:
        return Change(replace(current, checkpoint=max(checkpoint, current.checkpoint)), UNCHANGED)
    closed = replace(current, status=CLOSED, checkpoint=checkpoint, closed_reason=reason, completed_at=now)
    return Change(closed, REACHED)


def complete(current: Task, *, fields: dict[str, Any], by: str, now: datetime) -> Task:
    if current.status == COMPLETED:
        raise Conflict(f"task {current.id} was already completed by {current.completed_by}")
    if current.status == CLOSED:
        raise Conflict(f"task {current.id} is closed: {current.closed_reason}")
    return replace(current, status=COMPLETED, fields=fields, completed_by=by, completed_at=now)


def delivered(current: Task, token: str) -> Task:
    return replace(current, delivered_token=token)
