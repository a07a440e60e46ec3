"""How agents see a task: in their queue, on the issue, on a link's form, and in timeline entries.

A timeline entry about a task shows the task as it stood then. Entries store that moment as facts
(`TaskMoment`); the view is computed here when they are read. Entries written before that carry
the view itself, and are shown as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.domain import customer_replies
from chalicelib.domain import issue_types as types
from chalicelib.domain import tasks as rules
from chalicelib.domain.assignees import Holder
from chalicelib.domain.issue_types import IssueType, Step
from chalicelib.domain.issues import Issue, TimelineEvent
from chalicelib.domain.local_times import moment_in, zone_for
from chalicelib.domain.task_moments import TaskMoment
from chalicelib.domain.tasks import Task

#: How a customer's answer to a wait step is labelled among the earlier answers.
CUSTOMER_REPLY_LABEL = "The customer's reply"


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
        "claimed_from": _holder(task.claimed_from),
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


def _holder(key: str) -> dict[str, str] | None:
    """A holder key as `{kind, name}`; None for none (a task not claimed from a group)."""
    if not key:
        return None
    holder = Holder.from_key(key)
    return {"kind": holder.kind, "name": holder.name}


def step_form(step: Step) -> dict[str, Any]:
    """What the step asks of its holder: every field with its id, label, kind, whether it is
    required, its options with their labels, help and limits. Completing validates against it."""
    return {"id": step.id, "name": step.name, "kind": step.kind, "fields": [f.as_dict() for f in step.fields]}


def issue_facts(issue: Issue, issue_type: IssueType) -> dict[str, Any]:
    """The issue as its task's holder needs it: what the customer told us, in the type's labels
    (option labels, not codes)."""
    return {
        "id": issue.id,
        "reference": issue.reference,
        "type": issue.type_id,
        "type_name": issue_type.name,
        "channel": issue.channel,
        "created_at": issue.created_at.isoformat(),
        "fields": [
            {"id": spec.id, "label": spec.label, "value": spec.display(issue.fields[spec.id])}
            for spec in issue_type.fields
            if spec.id in issue.fields
        ],
    }


def earlier_answers(issue_type: IssueType, tasks: Iterable[Task]) -> list[dict[str, Any]]:
    """What the issue's completed steps answered, in the order they were completed, with labels."""
    answers = []
    for task in sorted((t for t in tasks if t.status == rules.COMPLETED), key=lambda t: t.completed_at or t.due_at):
        step = issue_type.step(task.step)
        values = task.fields or {}
        if step.kind == types.WAIT_FOR_CUSTOMER:
            shown = [{"id": key, "label": CUSTOMER_REPLY_LABEL, "value": str(value)} for key, value in values.items()]
        else:
            shown = [
                {"id": spec.id, "label": spec.label, "value": spec.display(values[spec.id])}
                for spec in step.fields
                if spec.id in values
            ]
        answers.append(
            {
                "step": step.id,
                "step_name": step.name,
                "completed_by": task.completed_by,
                "completed_at": task.completed_at.isoformat() if task.completed_at else None,
                "answers": shown,
            }
        )
    return answers


def holder_view(
    issue: Issue, issue_type: IssueType, task: Task, issue_tasks: Iterable[Task], time_zone: str = ""
) -> dict[str, Any]:
    """A task as its holder sees it: the task, what its step asks, the issue's facts and what the
    earlier steps answered; its deadline and next checkpoint in UTC and in the holder's `time_zone`
    (else the step's calendar's), and when the customer wrote if nobody acted since (decision 0030)."""
    step = issue_type.step(task.step)
    issue_tasks = list(issue_tasks)
    zone = zone_for(time_zone, issue_type.calendar(step.calendar).timezone)
    replied = customer_replies.replied_at(issue, issue_tasks)
    return {
        **task_view(task),
        "due": moment_in(task.due_at, zone),
        "next_checkpoint": moment_in(task.next_checkpoint_at, zone),
        "customer_replied_at": replied.isoformat() if replied else None,
        "form": step_form(step),
        "issue": issue_facts(issue, issue_type),
        "earlier_answers": earlier_answers(issue_type, (t for t in issue_tasks if t.id != task.id)),
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
