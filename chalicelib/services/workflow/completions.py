"""Tasks completed by their holders: an agent, an outside party through their signed link, or the
customer's reply to a step waiting for it; each completion is delivered to the workflow.

A completion and a checkpoint's new token may race: the task records both under optimistic
locking, and whichever side finds a completion the current token has not received delivers it
(decision 0003), so it is never lost and never sent twice for one token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.domain import free_text, kpi_events
from chalicelib.domain import issue_types as types
from chalicelib.domain import tasks as rules
from chalicelib.domain.agents import Agent
from chalicelib.domain.assignees import CUSTOMER
from chalicelib.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from chalicelib.domain.fields import validate_values
from chalicelib.domain.issue_types import Step
from chalicelib.domain.issues import Issue, TimelineEvent
from chalicelib.domain.tasks import Task
from chalicelib.services.access import IssueAccess
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.kpi_recorder import KpiRecorder
from chalicelib.services.ports import IssueRepository, TaskRepository, WorkflowEngine
from chalicelib.services.workflow.lookups import issue_type_of
from chalicelib.services.workflow.task_links import TaskLinks
from chalicelib.services.workflow.task_timeline import TaskTimeline
from chalicelib.services.workflow.task_views import holder_view, task_view
from chalicelib.workflows.compiler import state_reads

CUSTOMER_REPLY_FIELD = "reply"
#: How a customer's message reached us when an agent records it.
CONTACT_CHANNELS = ("phone", "email", "chat", "in_person", "letter")


class Completions:
    def __init__(
        self,
        *,
        issues: IssueRepository,
        tasks: TaskRepository,
        issue_types: IssueTypeService,
        engine: WorkflowEngine,
        timeline: TaskTimeline,
        links: TaskLinks,
        access: IssueAccess,
        kpis: KpiRecorder | None = None,
        clock: Clock = utc_now,
    ):
        self._access = access
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._engine = engine
        self._timeline = timeline
        self._links = links
        self._kpis = kpis or KpiRecorder()
        self._clock = clock

    # By an agent

    def task(self, task_id: str, agent: Agent) -> dict[str, Any]:
        """One task as its holder sees it, shown to anyone who may see its issue; NotFound for anyone
        else, who may not learn that it exists (decision 0025)."""
        issue, task = self._visible_task(task_id, agent)
        return self._holder_view(issue, task, agent.time_zone)

    def _holder_view(self, issue: Issue, task: Task, time_zone: str) -> dict[str, Any]:
        return holder_view(issue, issue_type_of(self._types, issue), task, self._tasks.for_issue(issue.id), time_zone)

    def complete(self, task_id: str, fields: Any, agent: Agent) -> dict[str, Any]:
        """Record the agent's answer to a task and resume the workflow with it; only its holder may."""
        issue, task = self._visible_task(task_id, agent)
        agent.require_holder(task.holder)
        return self._record(issue, task, fields, agent.username, lambda t: agent.require_holder(t.holder))

    # By an outside party's link

    def form_by_link(self, token: str) -> dict[str, Any]:
        """What an outside party's link opens: the task, its step's form, and the issue's facts."""
        issue, task, step = self._linked_task(token)
        issue_type = issue_type_of(self._types, issue)
        return {
            "task": task_view(task),
            "step": {"id": step.id, "name": step.name, "fields": [f.as_dict() for f in step.fields]},
            "issue": {
                "reference": issue.reference,
                "type_name": issue_type.name,
                "fields": [
                    {"label": spec.label, "value": spec.display(issue.fields[spec.id])}
                    for spec in issue_type.fields
                    if spec.id in issue.fields
                ],
            },
        }

    def complete_by_link(self, token: str, fields: Any) -> dict[str, Any]:
        """An outside party answers through their signed link; the link then stops working."""
        issue, task, _ = self._linked_task(token)

        def still_theirs(current: Task) -> None:
            if current.holder != task.holder:
                raise Conflict("this task has been passed to someone else; the link no longer works")

        return self._record(issue, task, fields, task.assigned_to.name, still_theirs)

    def _linked_task(self, token: str) -> tuple[Issue, Task, Step]:
        payload = self._links.payload(token)
        issue, task = self._task(str(payload.get("task", "")))
        if task.holder != payload.get("holder"):
            raise Conflict("this task has been passed to someone else; the link no longer works")
        if task.status == rules.COMPLETED:
            raise Conflict("this link has already been used: the task was completed")
        if task.status != rules.OPEN:
            raise Conflict(f"this task is closed ({task.closed_reason}); the link no longer works")
        return issue, task, issue_type_of(self._types, issue).step(task.step)

    # By the customer's reply

    def record_customer_message(self, issue_id: str, text: Any, channel: Any, agent: Agent) -> dict[str, Any]:
        """An agent who may see the issue records what the customer told them, e.g. on the phone."""
        agent.require_any_role()
        self._access.require_visible(agent, issue_id)
        channel = "phone" if channel is None else channel
        if not isinstance(channel, str) or channel not in CONTACT_CHANNELS:
            raise ValidationFailed([FieldError("channel", f"must be one of {', '.join(CONTACT_CHANNELS)}")])
        return self.customer_replied(issue_id, text, channel, f"{agent.username} (for the customer)")

    def customer_replied(self, issue_id: str, text: Any, channel: str, actor: str) -> dict[str, Any]:
        """Record the customer's message; a step waiting for their reply is completed by it."""
        text = free_text.clean(text, "text", free_text.MESSAGE_LENGTH)
        issue = self._issues.get(issue_id)
        if issue is None:
            raise NotFound(f"no issue {issue_id}")
        self._issues.add_event(
            issue, TimelineEvent(self._clock(), "customer_message", text, actor=actor, data={"channel": channel})
        )
        return {"resumed_step": self.resume_waiting_step(issue, text, actor)}

    def waiting_step(self, issue_id: str) -> str | None:
        """The step waiting for the customer's reply, if one is open."""
        waiting = next(
            (t for t in self._tasks.for_issue(issue_id) if t.status == rules.OPEN and t.assigned_to.kind == CUSTOMER),
            None,
        )
        return waiting.step if waiting else None

    def resume_waiting_step(self, issue: Issue, reply: str, actor: str, step_id: str | None = None) -> str | None:
        """Complete the step waiting for the customer with their reply; returns its id, if any.

        With `step_id`, only that step is resumed, and only while it still waits (a retried email
        finishes what its first delivery started, and never answers a later wait).
        """
        step_id = step_id or self.waiting_step(issue.id)
        waiting = self._tasks.get(issue.id, step_id) if step_id else None
        if waiting is None or waiting.status != rules.OPEN or waiting.assigned_to.kind != CUSTOMER:
            return None
        self._record(issue, waiting, {CUSTOMER_REPLY_FIELD: reply}, actor, lambda _: None)
        return waiting.step

    # Every completion

    def _task(self, task_id: str) -> tuple[Issue, Task]:
        issue_id, step_id = rules.parse_task_id(task_id)
        task = self._tasks.get(issue_id, step_id) if step_id else None
        issue = self._issues.get(issue_id) if task else None
        if task is None or issue is None:
            raise NotFound(f"no task {task_id}")
        return issue, task

    def _visible_task(self, task_id: str, agent: Agent) -> tuple[Issue, Task]:
        issue, task = self._task(task_id)
        if not self._access.visible(agent, issue):
            raise NotFound(f"no task {task_id}")
        return issue, task

    def _record(self, issue: Issue, task: Task, fields: Any, by: str, check: Callable[[Task], None]) -> dict[str, Any]:
        if task.status == rules.COMPLETED:
            raise Conflict(f"task {task.id} was already completed by {task.completed_by}")
        step = issue_type_of(self._types, issue).step(task.step)
        cleaned = (
            fields if step.kind == types.WAIT_FOR_CUSTOMER else validate_values(step.fields, fields, self._clock())
        )
        now = self._clock()

        def decide(current: Task | None) -> Task:
            if current is None:
                raise NotFound(f"no task {task.id}")
            check(current)
            return rules.complete(current, fields=cleaned, by=by, now=now)

        done = self._tasks.change(issue.id, task.step, decide)
        if step.kind == types.WAIT_FOR_CUSTOMER:
            self._timeline.note(issue, "customer_replied", f"{step.name}: the customer replied", done)
        else:
            on_time = "" if now <= done.due_at else " (after the deadline)"
            self._timeline.note(issue, "task_completed", f"{step.name}: completed by {by}{on_time}", done, actor=by)
            in_time = now <= done.due_at if step.deadline else None
            self._kpis.record(
                kpi_events.task_completed(
                    issue.id, issue.run, issue.type_id, issue.channel, step.id, now, in_time, done.opened_at
                )
            )
        if done.needs_delivery:
            self.deliver(issue, done)
        return task_view(done)

    def deliver(self, issue: Issue, task: Task) -> None:
        """Hand the completion to the workflow, the answers its Choice states read and no more; a
        stale token waits for the next checkpoint's token."""
        output = state_reads(issue_type_of(self._types, issue)).task_output(task.step, task.fields)
        if not self._engine.send_success(task.token, output):
            return
        self._tasks.change(
            task.issue_id,
            task.step,
            lambda current: (
                rules.delivered(current, task.token) if current and current.token == task.token else current
            ),
        )
