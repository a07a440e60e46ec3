"""The workflow's side of every step: what each of the state machine's messages asks of us.

The workflow sends a message to the task queue whenever it needs us and waits on the message's
token (`messages`). Automatic steps are done at once (the acknowledgement, a step's email, the
resolution); a timed step's task is opened with its checkpoints computed on the step's business
calendar, each later wait may have reached a checkpoint (`checkpoints`), and the last checkpoint
may move the process past the task. A completion waiting for a token is delivered with it
(`completions`).
"""

from __future__ import annotations

from chalicelib.domain import deadlines, kpi_events
from chalicelib.domain import issue_types as types
from chalicelib.domain import tasks as rules
from chalicelib.domain.assignees import CUSTOMER, Holder
from chalicelib.domain.issue_types import IssueType, Step
from chalicelib.domain.issues import RESOLVED, Customer, Issue, TimelineEvent, TransitionRefused
from chalicelib.domain.tasks import Task
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.kpi_recorder import KpiRecorder
from chalicelib.services.ports import IssueRepository, TaskRepository, WorkflowEngine
from chalicelib.services.similar_issues import SimilarIssues
from chalicelib.services.surveys import SurveyService
from chalicelib.services.workflow.checkpoints import Checkpoints
from chalicelib.services.workflow.completions import Completions
from chalicelib.services.workflow.customer_emails import CustomerEmails
from chalicelib.services.workflow.holder_notifications import HolderNotifications
from chalicelib.services.workflow.lookups import customer_of, issue_type_of
from chalicelib.services.workflow.messages import (
    Acknowledge,
    EmailCustomer,
    MoveOn,
    OpenStep,
    Resolve,
    UnknownMessage,
    Wait,
    WorkflowMessage,
)
from chalicelib.services.workflow.task_changes import change
from chalicelib.services.workflow.task_timeline import TaskTimeline


class Stepping:
    def __init__(
        self,
        *,
        issues: IssueRepository,
        tasks: TaskRepository,
        issue_types: IssueTypeService,
        engine: WorkflowEngine,
        timeline: TaskTimeline,
        holders: HolderNotifications,
        emails: CustomerEmails,
        checkpoints: Checkpoints,
        completions: Completions,
        surveys: SurveyService | None = None,
        kpis: KpiRecorder | None = None,
        clock: Clock = utc_now,
        similar: SimilarIssues | None = None,
    ):
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._engine = engine
        self._timeline = timeline
        self._holders = holders
        self._emails = emails
        self._checkpoints = checkpoints
        self._completions = completions
        #: The satisfaction survey, sent when an issue is resolved.
        self._surveys = surveys
        self._kpis = kpis or KpiRecorder()
        self._clock = clock
        #: Keeps each resolved issue's vector, for agents' similar resolved issues (decision 0043).
        self._similar = similar

    def handle(self, message: WorkflowMessage) -> None:
        """Act on one task queue message. Safe to run twice for the same message."""
        issue = self._issues.get(message.issue_id)
        if issue is None:
            raise UnknownMessage(f"no issue {message.issue_id!r}")
        if message.execution and issue.execution_arn and message.execution != issue.execution_arn:
            return  # from a workflow stopped when the issue changed type
        match message:
            case OpenStep():
                self._engine.send_success(message.token, self._open(issue, message))
            case Wait():
                self._checkpoints.hold_until_due(issue.id, message.step, message.checkpoint)
                task = self._checkpoints.wait(issue, message)
                if task.needs_delivery:
                    self._completions.deliver(issue, task)
            case MoveOn():
                self._checkpoints.hold_until_due(issue.id, message.step, message.checkpoint)
                self._move_on(issue, message)
                self._engine.send_success(message.token, {})
            case Acknowledge():
                self._emails.acknowledge(issue, once=message.token)
                self._engine.send_success(message.token, {})
            case EmailCustomer():
                self._emails.email_step(issue, message.step, once=message.token)
                self._engine.send_success(message.token, {})
            case Resolve():
                self._resolve(issue)
                self._engine.send_success(message.token, {})

    def _open(self, issue: Issue, message: OpenStep) -> dict[str, int]:
        """Open the step's task and answer with its timers, computed on the step's calendar."""
        issue_type = issue_type_of(self._types, issue)
        step = issue_type.step(message.step)
        customer = customer_of(self._issues, issue)
        now = self._clock()
        # The step opened when the workflow entered it, and never later than now (clocks differ).
        opened_at = min(message.entered_at, now) if message.entered_at else now
        segment = message.segment or customer.segment
        moments = deadlines.checkpoint_moments(step, issue_type.calendar(step.calendar), opened_at, segment)
        holder = self._holder_for(issue, issue_type, step, customer)
        opened = change(
            self._tasks,
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
                type_id=issue.type_id,
            ),
        )
        if opened.change == rules.OPENED:
            self._announce_opening(issue, step, opened.task)
            if step.kind == types.WAIT_FOR_CUSTOMER and (early := self._unanswered_reply(issue.id)):
                self._completions.resume_waiting_step(issue, early.text, early.actor, step.id)
            if step.kind != types.WAIT_FOR_CUSTOMER:
                self._kpis.record(
                    kpi_events.task_opened(issue.id, issue.run, issue.type_id, issue.channel, step.id, opened_at)
                )
        return deadlines.timers(list(opened.task.schedule), self._clock())

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

    @staticmethod
    def _holder_for(issue: Issue, issue_type: IssueType, step: Step, customer: Customer) -> Holder:
        if step.kind == types.WAIT_FOR_CUSTOMER:
            return Holder(CUSTOMER, customer.id)
        holder = issue_type.holder_of(step, issue.fields)
        assert holder is not None
        return holder

    def _announce_opening(self, issue: Issue, step: Step, task: Task) -> None:
        self._issues.change(issue, lambda current: current.enter_step(step.id))
        if step.kind == types.WAIT_FOR_CUSTOMER:
            self._timeline.note(issue, "waiting_for_customer", f"{step.name}: waiting for the customer's reply", task)
            return
        self._timeline.note(issue, "task_opened", f"{step.name}: assigned to {task.assigned_to.describe()}", task)
        self._holders.notify(issue, task, task.assigned_to, f"New task {issue.reference}: {step.name}")

    def _move_on(self, issue: Issue, message: MoveOn) -> None:
        """The last checkpoint moves the process past the task: an escalation's branch or auto-close."""
        issue_type = issue_type_of(self._types, issue)
        step = issue_type.step(message.step)
        point = step.checkpoints()[message.checkpoint]
        if point.kind == types.AUTO_CLOSE:
            reason = "closed: the customer did not reply"
        else:
            reason = f"escalation moved the process on to {point.branch}"

        def decide(current: Task | None) -> rules.Change:
            if current is None:
                raise UnknownMessage(f"step {step.id} of {issue.id} was never opened")
            return rules.close(current, checkpoint=message.checkpoint, reason=reason, now=self._clock())

        closed = change(self._tasks, issue.id, step.id, decide)
        if closed.change == rules.REACHED:
            self._checkpoints.act(issue, issue_type, step, point, closed.task)
            kind = "auto_closed" if point.kind == types.AUTO_CLOSE else "moved_on"
            self._timeline.note(issue, kind, f"{step.name}: {reason}", closed.task)

    def _resolve(self, issue: Issue) -> None:
        """Resolve the issue; its first resolution is the one resolution time and FCR count."""
        if issue.status == RESOLVED:
            return
        now = self._clock()
        first = issue.first_resolved_at is None
        contacts = 1 + sum(1 for e in self._issues.timeline(issue.id) if e.kind == "customer_message") if first else 0
        try:
            resolved = self._issues.change(issue, lambda current: current.resolve(now, one_contact=contacts == 1))
        except TransitionRefused:
            return  # resolved meanwhile: this message was delivered twice
        if self._similar is not None:
            self._similar.remember(resolved)
        if first:
            self._timeline.note(issue, "issue_resolved", "the issue is resolved")
            self._kpis.record(
                kpi_events.resolved(issue.id, issue.type_id, issue.channel, issue.created_at, now, contacts)
            )
        else:
            self._timeline.note(issue, "issue_resolved", "the issue is resolved again")
        if self._surveys is not None:
            self._surveys.send(issue)

    def retire(self, issue: Issue, reason: str) -> list[str]:
        """Close the open tasks of a workflow that was stopped, and archive all of its tasks."""
        now = self._clock()
        closed = []
        for task in self._tasks.for_issue(issue.id):
            if task.status == rules.OPEN:
                change(
                    self._tasks,
                    issue.id,
                    task.step,
                    lambda current: rules.close(current, checkpoint=current.checkpoint, reason=reason, now=now),
                )
                closed.append(task.step)
        self._tasks.archive(issue.id, issue.run)
        return closed
