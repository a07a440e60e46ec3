"""The workflow's side of every step, and the agents' side of human tasks.

The workflow sends one message per step (and per escalation level) to the task queue and waits
on the message's token. `handle_workflow_message` does automatic steps at once and opens or
escalates human tasks; `complete` records an agent's answer and resumes the workflow.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import tasks as rules
from chalicelib.domain.agents import Agent
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.fields import validate_values
from chalicelib.domain.issue_types import IssueType
from chalicelib.domain.issues import RESOLVED, Customer, Issue, TimelineEvent
from chalicelib.domain.tasks import Task
from chalicelib.domain.templates import render
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.notifications import NotificationService
from chalicelib.services.ports import IssueRepository, TaskRepository, WorkflowEngine
from chalicelib.workflows import compiler


class UnknownMessage(ValueError):
    """A task queue message this code cannot handle; it ends in the dead-letter queue."""


def task_view(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "issue_id": task.issue_id,
        "reference": task.reference,
        "step": task.step,
        "step_name": task.step_name,
        "role": task.role,
        "status": task.status,
        "due_at": task.due_at.isoformat(),
        "escalation_level": task.level,
        "breached": task.breached,
        "fields": task.fields,
        "completed_by": task.completed_by or None,
        "completed_at": task.completed_at.isoformat() if task.completed_at else None,
    }


class TaskService:
    def __init__(
        self,
        issues: IssueRepository,
        tasks: TaskRepository,
        issue_types: IssueTypeService,
        engine: WorkflowEngine,
        notifications: NotificationService,
        clock: Clock = utc_now,
    ):
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._engine = engine
        self._notifications = notifications
        self._clock = clock

    # The workflow's side

    def handle_workflow_message(self, message: dict[str, Any]) -> None:
        """Act on one task queue message. Safe to run twice for the same message."""
        kind = message.get("kind")
        issue = self._issues.get(str(message.get("issue_id")))
        if issue is None:
            raise UnknownMessage(f"no issue {message.get('issue_id')!r}")
        if kind == compiler.KIND_TASK:
            self._assign(issue, message)
        elif kind == compiler.KIND_ACKNOWLEDGE:
            self._acknowledge(issue)
            self._engine.send_success(message["token"], {})
        elif kind == compiler.KIND_EMAIL_CUSTOMER:
            self._email_customer(issue, str(message.get("step")))
            self._engine.send_success(message["token"], {})
        elif kind == compiler.KIND_RESOLVE:
            self._resolve(issue)
            self._engine.send_success(message["token"], {})
        else:
            raise UnknownMessage(f"unknown message kind {kind!r}")

    def _assign(self, issue: Issue, message: dict[str, Any]) -> None:
        issue_type = self._issue_type(issue)
        step = issue_type.step(message["step"])
        level = int(message["level"])
        breached = bool(message.get("breached"))
        assignment = step.levels[min(level, len(step.levels) - 1)]
        entered_at = datetime.fromisoformat(message["entered_at"].replace("Z", "+00:00"))
        due_at = entered_at + timedelta(seconds=int(message.get("deadline_seconds") or 0))
        outcome: list[rules.Assigned] = []

        def decide(current: Task | None) -> Task:
            assigned = rules.assign(
                current,
                task_id=rules.task_id_for(issue.id, step.id),
                issue_id=issue.id,
                step=step.id,
                level=level,
                role=assignment.role,
                due_at=due_at,
                token=message["token"],
                now=self._clock(),
                breached=breached,
                reference=issue.reference,
                step_name=step.name,
            )
            outcome[:] = [assigned]
            return assigned.task

        task = self._tasks.change(issue.id, step.id, decide)
        change = outcome[-1].change
        if change == rules.OPENED:
            self._issues.update(issue.id, current_step=step.id)
            self._event(issue, "task_opened", f"{step.name}: assigned to {task.role}", data=task_view(task))
            self._notify_assignees(issue, task, f"New task {issue.reference}: {step.name}")
        elif change == rules.ESCALATED:
            self._event(
                issue,
                "escalated",
                f"{step.name}: deadline passed, escalated to {task.role} (level {level})",
                data=task_view(task),
            )
            self._notify_assignees(issue, task, f"Escalated to you {issue.reference}: {step.name}")
        elif change == rules.BREACHED:
            self._event(issue, "deadline_breached", f"{step.name}: the last deadline has passed", data=task_view(task))
        if task.needs_delivery:
            self._deliver(task)

    def _notify_assignees(self, issue: Issue, task: Task, subject: str) -> None:
        body = (
            f"{subject}\n\nIssue {issue.reference} ({issue.type_id}) needs the role {task.role}.\n"
            f"Due: {task.due_at:%Y-%m-%d %H:%M} UTC\nTask id: {task.id}\n"
        )
        reached = self._notifications.notify_role(issue, task.role, subject, body)
        if reached:
            self._event(issue, "assignees_notified", f"emailed {', '.join(reached)}", data={"role": task.role})

    def _acknowledge(self, issue: Issue) -> None:
        issue_type = self._issue_type(issue)
        customer = self._customer(issue)
        lines = [
            f"{spec.label}: {spec.display(issue.fields[spec.id])}"
            for spec in issue_type.fields
            if spec.id in issue.fields
        ]
        body = (
            f"Dear {customer.name or 'customer'},\n\nWe have received your report and will keep you "
            f"informed by email.\n\nReference: {issue.reference}\nType: {issue_type.name}\n"
            + "\n".join(lines)
            + "\n\nPlease quote the reference if you contact us about it.\n\nCaseflow customer service\n"
        )
        subject = f"We have received your report {issue.reference}: {issue_type.name}"
        self._notifications.email_customer(issue, customer, subject, body, "acknowledgement")

    def _email_customer(self, issue: Issue, step_id: str) -> None:
        issue_type = self._issue_type(issue)
        step = issue_type.step(step_id)
        customer = self._customer(issue)
        context = self._template_context(issue, issue_type, customer)
        subject = render(step.subject, context).strip()
        self._notifications.email_customer(issue, customer, subject, render(step.body, context), step.id)

    def _template_context(self, issue: Issue, issue_type: IssueType, customer: Customer) -> dict[str, Any]:
        results: dict[str, dict[str, Any]] = {}
        for task in self._tasks.for_issue(issue.id):
            if task.status != rules.COMPLETED:
                continue
            values = dict(task.fields or {})
            for spec in issue_type.step(task.step).fields:
                if spec.id in values:
                    values[f"{spec.id}_label"] = spec.display(values[spec.id])
            values["completed_by"] = task.completed_by
            results[task.step] = values
        return {
            "issue": {
                "id": issue.id,
                "reference": issue.reference,
                "type": issue.type_id,
                "type_name": issue_type.name,
            },
            "customer": {"name": customer.name, "email": customer.email},
            "fields": issue.fields,
            "results": results,
        }

    def _resolve(self, issue: Issue) -> None:
        if issue.status == RESOLVED:
            return
        now = self._clock()
        self._issues.update(issue.id, status=RESOLVED, resolved_at=now, current_step="")
        self._event(issue, "issue_resolved", "the issue is resolved")

    # The agents' side

    def queue(self, agent: Agent) -> list[dict[str, Any]]:
        """The open tasks of every role the agent holds, soonest due first."""
        agent.require_any_role()
        return [task_view(t) for t in self._tasks.open_for_roles(agent.roles)]

    def complete(self, task_id: str, fields: Any, agent: Agent) -> dict[str, Any]:
        """Record the agent's answer to a task and resume the workflow with it."""
        issue_id, step_id = rules.parse_task_id(task_id)
        task = self._tasks.get(issue_id, step_id) if step_id else None
        issue = self._issues.get(issue_id) if task else None
        if task is None or issue is None:
            raise NotFound(f"no task {task_id}")
        agent.require_role(task.role)
        if task.status == rules.COMPLETED:
            raise Conflict(f"task {task_id} was already completed by {task.completed_by}")
        step = self._issue_type(issue).step(step_id)
        cleaned = validate_values(step.fields, fields, self._clock())
        now = self._clock()

        def decide(current: Task | None) -> Task:
            if current is None:
                raise NotFound(f"no task {task_id}")
            agent.require_role(current.role)
            return rules.complete(current, fields=cleaned, by=agent.username, now=now)

        done = self._tasks.change(issue_id, step_id, decide)
        self._event(
            issue,
            "task_completed",
            f"{step.name}: completed by {agent.username}",
            actor=agent.username,
            data=task_view(done),
        )
        if done.needs_delivery:
            self._deliver(done)
        return task_view(done)

    def _deliver(self, task: Task) -> None:
        """Hand the completion to the workflow; a stale token waits for the next level's token."""
        if not self._engine.send_success(task.token, task.completion_output()):
            return
        self._tasks.change(
            task.issue_id,
            task.step,
            lambda current: (
                rules.delivered(current, task.token) if current and current.token == task.token else current
            ),
        )

    # Helpers

    def _issue_type(self, issue: Issue) -> IssueType:
        return self._types.version(issue.type_id, issue.type_version).issue_type

    def _customer(self, issue: Issue) -> Customer:
        customer = self._issues.customer(issue.customer_id)
        if customer is None:
            raise NotFound(f"issue {issue.id} has no customer {issue.customer_id}")
        return customer

    def _event(
        self, issue: Issue, kind: str, text: str, actor: str = "caseflow", data: dict[str, Any] | None = None
    ) -> None:
        self._issues.add_event(issue, TimelineEvent(self._clock(), kind, text, actor=actor, data=data or {}))
