"""When an open step's checkpoints fall, and the Step Functions timers that wait for them.

A step's deadline, warnings and escalation levels are business durations on the step's calendar.
When the step opens, each checkpoint becomes a moment; the workflow then waits for them one after
another, so the timer before checkpoint i+1 lasts from checkpoint i to checkpoint i+1. The hourly
SLA sweep is the safety net for those timers: `due_checkpoints` says what it may catch up on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.calendars import BusinessCalendar
from chalicelib.domain.issue_types import AUTO_CLOSE, BREACH, REMINDER, WARNING, Checkpoint, Step
from chalicelib.domain.tasks import OPEN, Task

#: Step Functions timers are whole seconds, at least one.
MIN_TIMER_SECONDS = 1


def timer_key(index: int) -> str:
    """The name, in the execution's `$.timers.<step>`, of the timer that ends at checkpoint index+1."""
    return f"t{index}"


def checkpoint_moments(step: Step, calendar: BusinessCalendar, opened_at: datetime, segment: str) -> list[datetime]:
    """The moment of each checkpoint after the opening (checkpoint 1 first)."""
    deadline = step.deadline_for(segment)
    return [calendar.add(opened_at, point.offset(deadline, step.close_after)) for point in step.checkpoints()[1:]]


def timers(moments: list[datetime], now: datetime) -> dict[str, int]:
    """Seconds from now to the first checkpoint, then from each timer's firing to the next checkpoint.

    Step Functions counts whole seconds, so each timer is rounded down: it fires less than a second
    before its checkpoint's moment, and the handler holds its message until that moment
    (`Checkpoints.hold_until_due`). Rounded up, it would fire up to a second late, with the
    message's delivery on top. Counting the next one from when this one fires (not from its
    planned moment) keeps the roundings from adding up."""
    seconds = {}
    fired = now
    for index, moment in enumerate(moments):
        wait = max(MIN_TIMER_SECONDS, math.floor((moment - fired).total_seconds()))
        seconds[timer_key(index)] = wait
        fired += timedelta(seconds=wait)
    return seconds


def deadline_moment(step: Step, moments: list[datetime]) -> datetime | None:
    """When the step's deadline falls (the breach checkpoint), or when a wait ends."""
    points: tuple[Checkpoint, ...] = step.checkpoints()
    for point, moment in zip(points[1:], moments, strict=True):
        if point.kind in ("breach", "reminder"):
            return moment
    return moments[-1] if moments else None


def act_by(step: Step, moments: list[datetime], reached: int) -> datetime | None:
    """What the holder sees as 'due': the deadline, and once it has passed, the next escalation."""
    deadline = deadline_moment(step, moments)
    upcoming = [m for point, m in zip(step.checkpoints()[1:], moments, strict=True) if point.index > reached]
    if deadline is None:
        return None
    if upcoming and reached and moments[reached - 1] >= deadline:
        return upcoming[0]
    return deadline


def ends_by_moving_on(step: Step) -> bool:
    """Whether the step's last checkpoint moves the workflow past its task (a branch, auto-close)."""
    points = step.checkpoints()
    return bool(points) and points[-1].branch is not None


def describe_checkpoint(point: Checkpoint) -> str:
    """A checkpoint as people read it on a timeline: 'the 50% warning', 'the deadline (escalation level 1)'."""
    level = f"escalation level {point.level.number}" if point.level else ""
    if point.kind == WARNING:
        return f"the {point.percent}% warning"
    if point.kind == BREACH:
        return f"the deadline ({level})" if level else "the deadline"
    if point.kind == REMINDER:
        return "the reminder to the customer"
    if point.kind == AUTO_CLOSE:
        return "auto-close"
    return level or point.kind


@dataclass(frozen=True)
class DueCheckpoints:
    """An open task's checkpoints whose moment has come but that it has not reached, in order.

    `sweep`: what the SLA sweep carries out itself (warnings, the breach, escalation levels that
    stay on the task, the customer's reminder). `workflow`: what only the workflow can carry out,
    because it moves the execution on (an escalation's branch, auto-close); its timer does it.
    """

    sweep: tuple[Checkpoint, ...] = ()
    workflow: tuple[Checkpoint, ...] = ()


def due_checkpoints(task: Task, step: Step, now: datetime) -> DueCheckpoints:
    """What of `task` (a task of `step`) is due at `now` and not yet reached; nothing unless it is open."""
    if task.status != OPEN:
        return DueCheckpoints()
    due = [
        point
        for point, moment in zip(step.checkpoints()[1:], task.schedule, strict=False)
        if point.index > task.checkpoint and moment <= now
    ]
    return DueCheckpoints(
        sweep=tuple(p for p in due if p.branch is None),
        workflow=tuple(p for p in due if p.branch is not None),
    )
