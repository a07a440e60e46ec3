"""The workflow's side of every step, and the holders' side of tasks.

The workflow sends a message to the task queue whenever it needs us and waits on the message's
token. `handle_workflow_message` does automatic steps at once, opens timed steps (computing their
checkpoints on the step's business calendar), acts on each checkpoint once (warnings, breach,
escalation levels, reminders) and moves the process on when an escalation or an unanswered wait
says so. `complete` records an agent's answer, `complete_by_link` an outside party's, and
`customer_replied` the customer's, each resuming the workflow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import deadlines, free_text, kpi_events
from chalicelib.domain import issue_types as types
from chalicelib.domain import tasks as rules
from chalicelib.domain.agents import Agent
from chalicelib.domain.assignees import CUSTOMER, EMAIL, Holder
from chalicelib.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from chalicelib.domain.fields import validate_values
from chalicelib.domain.issue_types import Checkpoint, IssueType, Step
from chalicelib.domain.issues import EMAIL as EMAIL_CHANNEL
from chalicelib.domain.issues import RESOLVED, Customer, Issue, TimelineEvent, raised
from chalicelib.domain.tasks import Task
from chalicelib.domain.templates import TemplateFailed, render
from chalicelib.mail.threading import subject_without_prefixes
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.kpi_recorder import KpiRecorder
from chalicelib.services.notifications import ACKNOWLEDGEMENT, NotificationService
from chalicelib.services.ports import IssueRepository, TaskRepository, WorkflowEngine
from chalicelib.web_tokens.signed_links import sign, verify
from chalicelib.workflows import compiler

#: How long an outside party's link to a task form stays valid.
LINK_LIFETIME = timedelta(days=14)
CUSTOMER_REPLY_FIELD = "reply"
#: How a customer's message reached us when an agent records it.
CONTACT_CHANNELS = ("phone", "email", "chat", "in_person", "letter")
#: How overdue a checkpoint must be before the SLA sweep takes it from its timer.
SWEEP_GRACE = timedelta(minutes=5)
#: Who did it, in the timeline, when the SLA sweep reached a checkpoint.
SLA_SWEEP = "sla_sweep"

log = logging.getLogger(__name__)


class UnknownMessage(ValueError):
    """A task queue message this code cannot handle; it ends in the dead-letter queue."""


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


class TaskService:
    def __init__(
        self,
        issues: IssueRepository,
        tasks: TaskRepository,
        issue_types: IssueTypeService,
        engine: WorkflowEngine,
        notifications: NotificationService,
        link_secret: str,
        public_url: str,
        clock: Clock = utc_now,
        on_resolved: Callable[[Issue], Any] | None = None,
        status_link: Callable[[str], str] | None = None,
        kpis: KpiRecorder | None = None,
    ):
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._engine = engine
        self._notifications = notifications
        self._link_secret = link_secret
        self._public_url = public_url.rstrip("/")
        self._clock = clock
        #: What else happens when an issue is resolved (the satisfaction survey).
        self._on_resolved = on_resolved
        #: The customer's status page of an issue, given in the acknowledgement.
        self._status_link = status_link
        self._kpis = kpis or KpiRecorder()

    # The workflow's side

    def handle_workflow_message(self, message: dict[str, Any]) -> None:
        """Act on one task queue message. Safe to run twice for the same message."""
        kind = message.get("kind")
        issue = self._issues.get(str(message.get("issue_id")))
        if issue is None:
            raise UnknownMessage(f"no issue {message.get('issue_id')!r}")
        if message.get("execution") and issue.execution_arn and message["execution"] != issue.execution_arn:
            return  # from a workflow stopped when the issue changed type
        if kind == compiler.KIND_OPEN:
            self._engine.send_success(message["token"], self._open(issue, message))
        elif kind == compiler.KIND_WAIT:
            self._wait(issue, message)
        elif kind == compiler.KIND_MOVE_ON:
            self._move_on(issue, message)
            self._engine.send_success(message["token"], {})
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

    def _open(self, issue: Issue, message: dict[str, Any]) -> dict[str, int]:
        """Open the step's task and answer with its timers, computed on the step's calendar."""
        issue_type = self._issue_type(issue)
        step = issue_type.step(str(message.get("step")))
        customer = self._customer(issue)
        now = self._clock()
        entered = _moment(message.get("entered_at"))
        # The step opened when the workflow entered it, and never later than now (clocks differ).
        opened_at = min(entered, now) if entered else now
        segment = str(message.get("segment") or customer.segment)
        moments = deadlines.checkpoint_moments(step, issue_type.calendar(step.calendar), opened_at, segment)
        holder = self._holder_for(issue, issue_type, step, customer)
        task, change = self._change(
            issue.id,
            step.id,
            lambda current: rules.open_task(
                current,
                issue_id=issue.id,
                step=step.id,
                holder=holder.key,
                schedule=tuple(moments),
                due_at=deadlines.deadline_moment(step, moments) or opened_at,
                now=opened_at,
                reference=issue.reference,
                step_name=step.name,
                moves_on=deadlines.ends_by_moving_on(step),
            ),
        )
        if change == rules.OPENED:
            self._announce_opening(issue, step, task)
            if step.kind == types.WAIT_FOR_CUSTOMER and (early := self._unanswered_reply(issue.id)):
                self.resume_waiting_step(issue, early.text, early.actor, step.id)
            if step.kind != types.WAIT_FOR_CUSTOMER:
                self._kpis.record(
                    kpi_events.task_opened(issue.id, issue.run, issue.type_id, issue.channel, step.id, opened_at)
                )
        return deadlines.timers(list(task.schedule), self._clock())

    def _unanswered_reply(self, issue_id: str) -> TimelineEvent | None:
        """The customer's latest message if it came after our latest email: a reply that arrived
        while the workflow was still on its way to waiting for it (else it would wait for days)."""
        latest = None
        for event in self._issues.timeline(issue_id):
            if event.kind == "email_sent":
                latest = None
            elif event.kind == "customer_message":
                latest = event
        return latest

    def _change(self, issue_id: str, step_id: str, decide: Any) -> tuple[Task, str]:
        """Apply a rule under optimistic locking; return the task and what the winning attempt changed."""
        outcome: list[rules.Change] = []

        def attempt(current: Task | None) -> Task | None:
            outcome[:] = [decide(current)]
            return outcome[0].task

        task = self._tasks.change(issue_id, step_id, attempt)
        return task, outcome[0].change

    def _holder_for(self, issue: Issue, issue_type: IssueType, step: Step, customer: Customer) -> Holder:
        if step.kind == types.WAIT_FOR_CUSTOMER:
            return Holder(CUSTOMER, customer.id)
        assert step.assignee is not None
        spec = issue_type.field(step.assignee.name) if step.assignee.kind == "field" else None
        options = {o.value: o.attribute(step.assignee.attribute) or "" for o in spec.options} if spec else {}
        return step.assignee.resolve(issue.fields, options)

    def _announce_opening(self, issue: Issue, step: Step, task: Task) -> None:
        self._issues.update(issue.id, current_step=step.id)
        if step.kind == types.WAIT_FOR_CUSTOMER:
            self._event(issue, "waiting_for_customer", f"{step.name}: waiting for the customer's reply", task)
            return
        self._event(issue, "task_opened", f"{step.name}: assigned to {task.assigned_to.describe()}", task)
        self._notify_holder(issue, task, task.assigned_to, f"New task {issue.reference}: {step.name}")

    def _wait(self, issue: Issue, message: dict[str, Any]) -> None:
        """The workflow waits (again); if it got here by a timer, a checkpoint has been reached."""
        issue_type = self._issue_type(issue)
        step = issue_type.step(str(message.get("step")))
        index = int(message.get("checkpoint", 0))
        point = step.checkpoints()[index]
        level = point.level

        def decide(current: Task | None) -> rules.Change:
            if current is None:
                raise UnknownMessage(f"step {step.id} of {issue.id} was never opened")
            return rules.reach(
                current,
                checkpoint=index,
                token=message["token"],
                holder=level.reassign.key if level and level.reassign else None,
                level=level.number if level else None,
                breached=point.kind == types.BREACH,
                due_at=deadlines.act_by(step, list(current.schedule), index),
            )

        task, change = self._change(issue.id, step.id, decide)
        if change == rules.REACHED:
            self._act_on_checkpoint(issue, issue_type, step, point, task)
        if task.needs_delivery:
            self._deliver(task)

    def _move_on(self, issue: Issue, message: dict[str, Any]) -> None:
        """The last checkpoint moves the process past the task: an escalation's branch or auto-close."""
        issue_type = self._issue_type(issue)
        step = issue_type.step(str(message.get("step")))
        index = int(message.get("checkpoint", 0))
        point = step.checkpoints()[index]
        if point.kind == types.AUTO_CLOSE:
            reason = "closed: the customer did not reply"
        else:
            reason = f"escalation moved the process on to {point.branch}"

        def decide(current: Task | None) -> rules.Change:
            if current is None:
                raise UnknownMessage(f"step {step.id} of {issue.id} was never opened")
            return rules.close(current, checkpoint=index, reason=reason, now=self._clock())

        task, change = self._change(issue.id, step.id, decide)
        if change == rules.REACHED:
            self._act_on_checkpoint(issue, issue_type, step, point, task)
            kind = "auto_closed" if point.kind == types.AUTO_CLOSE else "moved_on"
            self._event(issue, kind, f"{step.name}: {reason}", task)

    def _act_on_checkpoint(
        self, issue: Issue, issue_type: IssueType, step: Step, point: Checkpoint, task: Task
    ) -> None:
        """What a checkpoint does, once: warn, record the breach, escalate, remind the customer."""
        due = f"{task.due_at:%Y-%m-%d %H:%M} UTC"
        if point.kind == types.WARNING:
            text = f"{step.name}: {point.percent}% of the time to the deadline has passed; due {due}"
            self._event(issue, "sla_warning", text, task, percent=point.percent)
            self._kpis.record(
                kpi_events.warned(
                    issue.id, issue.run, issue.type_id, issue.channel, step.id, point.index, self._clock()
                )
            )
            self._notify_holder(issue, task, task.assigned_to, f"Reminder {issue.reference}: {step.name} is due {due}")
        if point.kind == types.BREACH:
            self._event(issue, "deadline_breached", f"{step.name}: the deadline has passed", task)
            self._kpis.record(
                kpi_events.breached(issue.id, issue.run, issue.type_id, issue.channel, step.id, self._clock())
            )
        if point.kind == types.REMINDER:
            self._email_from_template(issue, issue_type, step, "reminder")
        level = point.level
        if level is None:
            return
        self._kpis.record(
            kpi_events.escalated(
                issue.id, issue.run, issue.type_id, issue.channel, step.id, level.number, self._clock()
            )
        )
        if level.reassign:
            text = f"{step.name}: escalated to {level.reassign.describe()} (level {level.number})"
            self._event(issue, "escalated", text, task, level=level.number)
            self._notify_holder(issue, task, level.reassign, f"Escalated to you {issue.reference}: {step.name}")
        elif level.notify or level.raise_priority:
            text = f"{step.name}: escalation level {level.number}: {level.describe()}"
            self._event(issue, "escalated", text, task, level=level.number)
        for holder in level.notify:
            subject = f"Escalation {issue.reference}: {step.name} is overdue"
            self._notify_holder(issue, task, holder, subject, with_link=False)
        if level.raise_priority:
            current = self._issues.get(issue.id)
            new_priority = raised(current.priority if current else issue.priority)
            self._issues.update(issue.id, priority=new_priority)
            self._event(issue, "priority_raised", f"priority raised to {new_priority}", task, priority=new_priority)

    def _notify_holder(self, issue: Issue, task: Task, holder: Holder, subject: str, with_link: bool = True) -> None:
        body = (
            f"{subject}\n\nIssue {issue.reference} ({issue.type_id}), step {task.step_name}.\n"
            f"Held by: {task.assigned_to.describe()}\nDue: {task.due_at:%Y-%m-%d %H:%M} UTC\nTask id: {task.id}\n"
        )
        if holder.kind == EMAIL and with_link and task.holder == holder.key:
            body += f"\nAnswer here (the link works once and expires in {LINK_LIFETIME.days} days):\n"
            body += f"{self.link_for(task)}\n"
        if holder.is_group:
            reached = self._notifications.notify_role(issue, holder.name, subject, body)
        else:
            address = holder.name if holder.kind == EMAIL else self._notifications.user_email(holder.name)
            reached = self._notifications.notify_addresses(issue, [address] if address else [], subject, body)
        if reached:
            self._event(issue, "assignees_notified", f"emailed {', '.join(reached)}", task, holder=holder.key)

    def link_for(self, task: Task) -> str:
        """The signed link an outside party uses to answer a task."""
        token = sign({"task": task.id, "holder": task.holder}, self._link_secret, self._clock() + LINK_LIFETIME)
        return f"{self._public_url}/t/{token}"

    def _acknowledge(self, issue: Issue) -> None:
        if issue.run > 1:
            return  # the customer was answered when the issue first came in; it only changed type
        issue_type = self._issue_type(issue)
        if issue_type.acknowledgement is not None:  # in the type's own words, e.g. to a customer who reported nothing
            self._email_from_template(issue, issue_type, issue_type.acknowledgement, ACKNOWLEDGEMENT)
            return
        customer = self._customer(issue)
        # An internal type's name and field labels are written for our team: the customer reads neither.
        shown = issue_type.fields if issue_type.public else ()
        name = issue_type.customer_name
        lines = [f"Reference: {issue.reference}"] + ([f"Type: {name}"] if name else [])
        lines += [f"{spec.label}: {spec.display(issue.fields[spec.id])}" for spec in shown if spec.id in issue.fields]
        body = (
            f"Dear {customer.name or 'customer'},\n\nWe have received your report and will keep you "
            "informed by email.\n\n"
            + "\n".join(lines)
            + "\n\nPlease quote the reference if you contact us about it.\n"
            + (f"Follow your issue here: {self._status_link(issue.id)}\n" if self._status_link else "")
            + "\nCaseflow customer service\n"
        )
        subject = f"We have received your report {issue.reference}" + (f": {name}" if name else "")
        if issue.channel == EMAIL_CHANNEL:
            subject = f"Re: {self._email_subject(issue)} [{issue.reference}]"
        self._notifications.email_customer(issue, customer, subject, body, ACKNOWLEDGEMENT)

    def _email_subject(self, issue: Issue) -> str:
        """The subject of the customer's email that opened the issue, for the reply to it."""
        if issue.fields.get("subject"):
            return str(issue.fields["subject"])
        opened = next(iter(self._issues.timeline(issue.id)), None)
        email = opened.data.get("email", {}) if opened else {}
        return subject_without_prefixes(str(email.get("subject") or "")) or "your message"

    def _email_customer(self, issue: Issue, step_id: str) -> None:
        issue_type = self._issue_type(issue)
        step = issue_type.step(step_id)
        self._email_from_template(issue, issue_type, step, step.id)

    def _email_from_template(self, issue: Issue, issue_type: IssueType, step: Step, kind: str) -> None:
        """The step's email to the customer; one whose template fails is put on the timeline instead,
        and the workflow goes on."""
        customer = self._customer(issue)
        context = self._template_context(issue, issue_type, customer)
        try:
            subject, body = render(step.subject, context).strip(), render(step.body, context)
        except TemplateFailed as exc:
            self._event(
                issue, "email_failed", f"{step.name}: the email to the customer was not sent", None, reason=str(exc)
            )
            return
        self._notifications.email_customer(issue, customer, subject, body, kind)

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
            "customer": {"name": customer.name, "email": customer.email, "segment": customer.segment},
            "fields": issue.fields,
            "shown": {
                spec.id: spec.display(issue.fields[spec.id]) for spec in issue_type.fields if spec.id in issue.fields
            },
            "results": results,
        }

    def _resolve(self, issue: Issue) -> None:
        """Resolve the issue; its first resolution is the one resolution time and FCR count."""
        if issue.status == RESOLVED:
            return
        now = self._clock()
        if issue.first_resolved_at is None:
            contacts = 1 + sum(1 for e in self._issues.timeline(issue.id) if e.kind == "customer_message")
            self._issues.update(
                issue.id,
                status=RESOLVED,
                resolved_at=now,
                current_step="",
                first_resolved_at=now,
                resolved_with_one_contact=contacts == 1,
            )
            self._event(issue, "issue_resolved", "the issue is resolved")
            self._kpis.record(
                kpi_events.resolved(issue.id, issue.type_id, issue.channel, issue.created_at, now, contacts)
            )
        else:
            self._issues.update(issue.id, status=RESOLVED, resolved_at=now, current_step="")
            self._event(issue, "issue_resolved", "the issue is resolved again")
        if self._on_resolved is not None:
            self._on_resolved(issue)

    def reconcile_due(self, now: datetime | None = None) -> dict[str, int]:
        """The SLA sweep: catch up on every checkpoint a timer should have acted on by now.

        Tasks come from the due index; a checkpoint is taken from its timer once it is
        SWEEP_GRACE overdue. A task that fails is logged and counted, and the sweep goes on (the
        next sweep tries it again). Returns how many tasks were examined and what was done.
        """
        cutoff = (now or self._clock()) - SWEEP_GRACE
        counts = {"examined": 0, **_sweep_counts(), "failed": 0}
        for task in self._tasks.due(cutoff):
            counts["examined"] += 1
            try:
                done = self.reconcile(task, cutoff)
            except Exception:
                log.exception("the SLA sweep failed on task %s", task.id)
                counts["failed"] += 1
                continue
            for key, value in done.items():
                counts[key] += value
        return counts

    def reconcile(self, task: Task, now: datetime) -> dict[str, int]:
        """Reach each checkpoint of `task` due at `now` and not yet reached, in order, and act on it once.

        What each does is what its timer would do (`_act_on_checkpoint`), and the timeline says the
        sweep did it. The task keeps the token the workflow waits on, so the timer's message, when
        it comes, only refreshes it. Checkpoints that move the workflow on are left to its timer.
        """
        counts = _sweep_counts()
        current = self._tasks.get(task.issue_id, task.step)  # the due index may lag behind the task
        issue = self._issues.get(task.issue_id) if current else None
        if current is None or issue is None:
            return counts
        issue_type = self._issue_type(issue)
        step = issue_type.step(current.step)
        due = deadlines.due_checkpoints(current, step, now)
        counts["left_to_workflow"] = len(due.workflow)
        for point in due.sweep:
            reached, change = self._change(issue.id, step.id, lambda fresh, p=point: _reach_missed(step, p, fresh))
            if change != rules.REACHED:
                continue
            missed = deadlines.describe_checkpoint(point)
            text = f"{step.name}: the SLA sweep acted on {missed}, which its timer had not"
            self._event(issue, "sla_swept", text, reached, actor=SLA_SWEEP, by=SLA_SWEEP, checkpoint=point.index)
            self._act_on_checkpoint(issue, issue_type, step, point, reached)
            counts["warnings"] += point.kind == types.WARNING
            counts["breaches"] += point.kind == types.BREACH
            counts["escalations"] += point.level is not None
            counts["reminders"] += point.kind == types.REMINDER
        return counts

    # The holders' side

    def queue(self, agent: Agent) -> list[dict[str, Any]]:
        """The open tasks of every role and team the agent is in, and their own, soonest due first."""
        agent.require_any_role()
        return [task_view(t) for t in self._tasks.open_for_holders(agent.holder_keys())]

    def complete(self, task_id: str, fields: Any, agent: Agent) -> dict[str, Any]:
        """Record the agent's answer to a task and resume the workflow with it."""
        issue, task = self._task(task_id)
        agent.require_holder(task.holder)
        return self._record_completion(issue, task, fields, agent.username, lambda t: agent.require_holder(t.holder))

    def form_by_link(self, token: str) -> dict[str, Any]:
        """What an outside party's link opens: the task, its step's form, and the issue's facts."""
        issue, task, step = self._linked_task(token)
        issue_type = self._issue_type(issue)
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

        return self._record_completion(issue, task, fields, task.assigned_to.name, still_theirs)

    def _linked_task(self, token: str) -> tuple[Issue, Task, Step]:
        payload = verify(token, self._link_secret, self._clock())
        issue, task = self._task(str(payload.get("task", "")))
        if task.holder != payload.get("holder"):
            raise Conflict("this task has been passed to someone else; the link no longer works")
        if task.status == rules.COMPLETED:
            raise Conflict("this link has already been used: the task was completed")
        if task.status != rules.OPEN:
            raise Conflict(f"this task is closed ({task.closed_reason}); the link no longer works")
        return issue, task, self._issue_type(issue).step(task.step)

    def record_customer_message(self, issue_id: str, text: Any, channel: Any, agent: Agent) -> dict[str, Any]:
        """An agent records what the customer told them, e.g. on the phone."""
        agent.require_any_role()
        channel = channel or "phone"
        if channel not in CONTACT_CHANNELS:
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

    def retire(self, issue: Issue, reason: str) -> list[str]:
        """Close the open tasks of a workflow that was stopped, and archive all of its tasks."""
        now = self._clock()
        closed = []
        for task in self._tasks.for_issue(issue.id):
            if task.status == rules.OPEN:
                self._change(
                    issue.id,
                    task.step,
                    lambda current: rules.close(current, checkpoint=current.checkpoint, reason=reason, now=now),
                )
                closed.append(task.step)
        self._tasks.archive(issue.id, issue.run)
        return closed

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
        self._record_completion(issue, waiting, {CUSTOMER_REPLY_FIELD: reply}, actor, lambda _: None)
        return waiting.step

    def _task(self, task_id: str) -> tuple[Issue, Task]:
        issue_id, step_id = rules.parse_task_id(task_id)
        task = self._tasks.get(issue_id, step_id) if step_id else None
        issue = self._issues.get(issue_id) if task else None
        if task is None or issue is None:
            raise NotFound(f"no task {task_id}")
        return issue, task

    def _record_completion(
        self, issue: Issue, task: Task, fields: Any, by: str, check: Callable[[Task], None]
    ) -> dict[str, Any]:
        if task.status == rules.COMPLETED:
            raise Conflict(f"task {task.id} was already completed by {task.completed_by}")
        step = self._issue_type(issue).step(task.step)
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
            self._event(issue, "customer_replied", f"{step.name}: the customer replied", done)
        else:
            on_time = "" if now <= done.due_at else " (after the deadline)"
            self._event(issue, "task_completed", f"{step.name}: completed by {by}{on_time}", done, actor=by)
            in_time = now <= done.due_at if step.deadline else None
            self._kpis.record(
                kpi_events.task_completed(issue.id, issue.run, issue.type_id, issue.channel, step.id, now, in_time)
            )
        if done.needs_delivery:
            self._deliver(done)
        return task_view(done)

    def _deliver(self, task: Task) -> None:
        """Hand the completion to the workflow; a stale token waits for the next checkpoint's token."""
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
        self, issue: Issue, kind: str, text: str, task: Task | None = None, actor: str = "caseflow", **data: Any
    ) -> None:
        details = {**(task_view(task) if task else {}), **data}
        self._issues.add_event(issue, TimelineEvent(self._clock(), kind, text, actor=actor, data=details))


def _sweep_counts() -> dict[str, int]:
    return {"warnings": 0, "breaches": 0, "escalations": 0, "reminders": 0, "left_to_workflow": 0}


def _reach_missed(step: Step, point: Checkpoint, current: Task | None) -> rules.Change:
    """What the sweep's reaching `point` changes: what the timer's would, except the token."""
    if current is None:
        raise NotFound(f"step {step.id} was never opened")
    level = point.level
    return rules.reach_missed(
        current,
        checkpoint=point.index,
        holder=level.reassign.key if level and level.reassign else None,
        level=level.number if level else None,
        breached=point.kind == types.BREACH,
        due_at=deadlines.act_by(step, list(current.schedule), point.index),
    )


def _moment(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))
