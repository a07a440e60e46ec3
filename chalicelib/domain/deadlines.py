"""When an open step's checkpoints fall, and the Step Functions timers that wait for them.

A step's deadline, warnings and escalation levels are business durations on the step's calendar.
When the step opens, each checkpoint becomes a moment; the workflow then waits for them one after
another, so the timer before checkpoint i+1 lasts from checkpoint i to checkpoint i+1.
"""

from __future__ import annotations

import math
from datetime import datetime

from chalicelib.domain.calendars import BusinessCalendar
from chalicelib.domain.issue_types import Checkpoint, Step

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
    """Seconds from now to the first checkpoint, then between consecutive checkpoints."""
    seconds = {}
    previous = now
    for index, moment in enumerate(moments):
        seconds[timer_key(index)] = max(MIN_TIMER_SECONDS, math.ceil((moment - previous).total_seconds()))
        previous = max(previous, moment)
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
