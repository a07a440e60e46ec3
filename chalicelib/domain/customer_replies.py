"""When the customer writes back: who is told, and when a task shows "customer replied".

The holders of the issue's open tasks are told (a role or team: its members; a person: them). With
no task open (the process is between steps, or was just reopened) the holder of the type's first
task is told instead, as it would be given the issue next. A reply that resumed a step waiting for
the customer tells nobody here: the task the process moves on to is announced by its own email,
which carries the reply (decision 0030).

A task shows "customer replied" while the customer's latest message is later than everything our
side did since: an agent's reply to the customer, or the completion of a task of this run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain import issue_types as types
from chalicelib.domain import tasks as rules
from chalicelib.domain.assignees import CUSTOMER, Holder
from chalicelib.domain.issue_types import IssueType, Step
from chalicelib.domain.issues import Issue
from chalicelib.domain.tasks import Task


@dataclass(frozen=True)
class ToTell:
    """Someone to tell that the customer wrote: about their open task, or about the issue."""

    holder: Holder
    task: Task | None = None


def first_step(issue_type: IssueType, fields: Mapping[str, Any]) -> Step | None:
    """The type's first step that an agent (or outside party) holds."""
    return next(
        (s for s in issue_type.all_steps() if s.kind == types.HUMAN_TASK and issue_type.holder_of(s, fields)),
        None,
    )


def first_holder(issue_type: IssueType, fields: Mapping[str, Any]) -> Holder | None:
    """The holder of the type's first task for these field values: who is given the issue first."""
    step = first_step(issue_type, fields)
    return issue_type.holder_of(step, fields) if step else None


def to_tell(issue: Issue, issue_type: IssueType, tasks: Iterable[Task], resumed_step: str | None) -> list[ToTell]:
    """Whom to tell that the customer wrote: the holders of the open tasks (not the customer's own
    wait); else, unless the message resumed a waiting step, the holder of the type's first task."""
    held = [ToTell(t.assigned_to, t) for t in tasks if t.status == rules.OPEN and t.assigned_to.kind != CUSTOMER]
    if held or resumed_step:
        return held
    first = first_holder(issue_type, issue.fields)
    return [ToTell(first)] if first else []


def replied_at(issue: Issue, tasks: Iterable[Task]) -> datetime | None:
    """When the customer wrote, if nobody on our side acted since: no reply to them, no task of this
    run completed by an agent. None otherwise."""
    wrote = issue.customer_wrote_at
    if wrote is None:
        return None
    acted = [issue.answered_at] + [
        t.completed_at for t in tasks if t.status == rules.COMPLETED and t.assigned_to.kind != CUSTOMER
    ]
    latest = max((moment for moment in acted if moment is not None), default=None)
    return wrote if latest is None or wrote > latest else None
