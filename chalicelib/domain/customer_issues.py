"""A customer's own list of issues ("My issues"): who may ask for it, what its link carries, and
what each line says.

The customer asks with their email address and gets a link by email: signed, for one customer,
good for `LINK_LIFETIME` and for one use (`link_payload` names the use with an id of its own).
Each line of the list says what the issue's status page says at its top, in the customer's words:
the type's customer-facing name, the status, the current step's customer label and when we
expect to be done (`issue_line`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import free_text
from chalicelib.domain import tasks as task_rules
from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.issue_types import HUMAN_TASK, WAIT_FOR_CUSTOMER, IssueType, Step
from chalicelib.domain.issues import RESOLVED, Issue, normalise_email
from chalicelib.domain.tasks import Task

#: What the link's payload says it is for; a status or survey link is not this.
PURPOSE = "my-issues"
LINK_LIFETIME = timedelta(minutes=30)
#: The most issues one list shows, newest first (one bounded read of the customer's issues).
MAX_LISTED = 100


@dataclass(frozen=True)
class IssueLine:
    """One of the customer's issues as the list shows it."""

    issue_id: str
    reference: str
    type_name: str
    status: str
    opened_at: datetime
    resolved_at: datetime | None
    #: The current step's customer label; None once resolved or between steps.
    current_step: str | None
    expected_by: datetime | None
    waiting_for_customer: bool

    @property
    def resolved(self) -> bool:
        return self.status == RESOLVED


def requested_address(value: Any) -> str:
    """The address a customer typed, normalised as customers are stored; ValidationFailed (`email`)
    for what cannot be an address."""
    if (
        not isinstance(value, str)
        or free_text.problem(value, free_text.EMAIL_LENGTH)
        or value.count("@") != 1
        or any(c.isspace() for c in value.strip())
        or not all(value.strip().split("@"))
    ):
        raise ValidationFailed([FieldError("email", "enter the email address you reported with")])
    return normalise_email(value)


def link_payload(customer_id: str, use_id: str) -> dict[str, str]:
    """What a "My issues" link carries: the customer, and the id its one use is recorded under."""
    return {"for": PURPOSE, "customer": customer_id, "use": use_id}


def read_payload(payload: Mapping[str, Any]) -> tuple[str, str] | None:
    """(customer id, use id) of a "My issues" link's payload; None for any other link."""
    customer, use = payload.get("customer"), payload.get("use")
    if payload.get("for") != PURPOSE or not isinstance(customer, str) or not isinstance(use, str):
        return None
    if not customer or not use:
        return None
    return customer, use


def link_email(name: str, link: str, lifetime: timedelta = LINK_LIFETIME) -> tuple[str, str]:
    """The subject and body of the email that carries the link."""
    minutes = int(lifetime.total_seconds() // 60)
    body = (
        f"Dear {name or 'customer'},\n\n"
        "You asked for a list of your issues with us. Open it here:\n"
        f"{link}\n\n"
        f"The link works once, for {minutes} minutes. If it has expired or was used, ask for a new one "
        "on our site.\n\n"
        "If you did not ask for this, you can ignore this email: nobody else can open the link.\n\n"
        "Caseflow customer service\n"
    )
    return "Your issues with us", body


def open_tasks(tasks: Iterable[Task]) -> list[Task]:
    return [t for t in tasks if t.status == task_rules.OPEN]


def current_step(issue_type: IssueType, issue: Issue, open_now: list[Task]) -> Step | None:
    """The step the issue is at: the one it records, else the step of its first open task."""
    current = next((s for s in issue_type.all_steps() if s.id == issue.current_step), None)
    if current is None and open_now:
        current = issue_type.step(open_now[0].step)
    return current


def expected_by(issue_type: IssueType, open_now: list[Task]) -> datetime | None:
    """The current step's deadline, then each later timed step's deadline on its own calendar (as
    the status page reckons it); None with no open task."""
    if not open_now:
        return None
    moment = max(t.due_at for t in open_now)
    steps = list(issue_type.steps)
    current_ids = {t.step for t in open_now}
    index = max((i for i, s in enumerate(steps) if s.id in current_ids or _contains(s, current_ids)), default=-1)
    for step in steps[index + 1 :]:
        if step.kind in (HUMAN_TASK, WAIT_FOR_CUSTOMER) and step.deadline and step.when is None:
            moment = issue_type.calendar(step.calendar).add(moment, step.deadline)
    return moment


def issue_line(issue: Issue, issue_type: IssueType, tasks: Iterable[Task]) -> IssueLine:
    """The issue's line in the list, from the issue, its type's version and its tasks."""
    resolved = issue.status == RESOLVED
    open_now = [] if resolved else open_tasks(tasks)
    step = None if resolved else current_step(issue_type, issue, open_now)
    return IssueLine(
        issue_id=issue.id,
        reference=issue.reference,
        type_name=issue_type.customer_name,
        status=issue.status,
        opened_at=issue.created_at,
        resolved_at=issue.resolved_at,
        current_step=step.label_for_customer if step else None,
        expected_by=None if resolved else expected_by(issue_type, open_now),
        waiting_for_customer=any(t.assigned_to.kind == "customer" for t in open_now),
    )


def newest_first(lines: Iterable[IssueLine]) -> list[IssueLine]:
    return sorted(lines, key=lambda line: (line.opened_at, line.issue_id), reverse=True)


def _contains(step: Step, ids: set[str]) -> bool:
    return any(inner.id in ids for branch in step.branches for inner in branch)
