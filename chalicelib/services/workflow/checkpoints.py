"""A timed step's checkpoints: warnings, the breach, escalation levels and the customer's reminders.

A checkpoint is reached by the workflow's timer (its next wait's message) or, when a timer was
missed, by the hourly SLA sweep (`reconcile_due`); either way the task records it under optimistic
locking, so what it does (`act`) happens once.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from chalicelib.domain import deadlines, kpi_events
from chalicelib.domain import issue_types as types
from chalicelib.domain import tasks as rules
from chalicelib.domain.errors import NotFound
from chalicelib.domain.issue_types import Checkpoint, IssueType, Step
from chalicelib.domain.issues import Issue
from chalicelib.domain.tasks import Task
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.kpi_recorder import KpiRecorder
from chalicelib.services.ports import IssueRepository, TaskRepository
from chalicelib.services.workflow.claims import Claims
from chalicelib.services.workflow.customer_emails import CustomerEmails
from chalicelib.services.workflow.holder_notifications import HolderNotifications
from chalicelib.services.workflow.lookups import issue_type_of
from chalicelib.services.workflow.messages import UnknownMessage, Wait
from chalicelib.services.workflow.task_changes import change
from chalicelib.services.workflow.task_timeline import TaskTimeline

#: How overdue a checkpoint must be before the SLA sweep takes it from its timer.
SWEEP_GRACE = timedelta(minutes=5)
#: Who did it, in the timeline, when the SLA sweep reached a checkpoint.
SLA_SWEEP = "sla_sweep"
#: The longest a timer's message is held before its checkpoint acts: timers are whole seconds
#: rounded down (`deadlines.timers`), so a timer fires less than a second before its moment. A
#: message earlier than that did not come from rounding, and is not held.
MAX_HOLD = timedelta(seconds=1)

log = logging.getLogger(__name__)


class Checkpoints:
    def __init__(
        self,
        *,
        issues: IssueRepository,
        tasks: TaskRepository,
        issue_types: IssueTypeService,
        timeline: TaskTimeline,
        holders: HolderNotifications,
        emails: CustomerEmails,
        kpis: KpiRecorder | None = None,
        clock: Clock = utc_now,
        claims: Claims | None = None,
    ):
        self._claims = claims
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._timeline = timeline
        self._holders = holders
        self._emails = emails
        self._kpis = kpis or KpiRecorder()
        self._clock = clock

    def hold_until_due(self, issue_id: str, step_id: str, checkpoint: int) -> float:
        """Hold a timer's message until its checkpoint's moment if the timer fired before it; the
        seconds held.

        Step Functions counts whole seconds. A timer rounded up would fire up to a second late,
        and the message's delivery would come on top. So `deadlines.timers` rounds down, and the
        message waits out the rest here. A checkpoint then acts a fraction of a second after its
        moment, never before it."""
        if checkpoint < 1:
            return 0.0  # not a timer's message: nothing to read
        task = self._tasks.get(issue_id, step_id)
        if task is None or checkpoint > len(task.schedule):
            return 0.0
        early = task.schedule[checkpoint - 1] - self._clock()
        if not timedelta(0) < early <= MAX_HOLD:
            return 0.0
        time.sleep(early.total_seconds())
        return early.total_seconds()

    def wait(self, issue: Issue, message: Wait) -> Task:
        """The workflow waits (again); if it got here by a timer, a checkpoint has been reached.
        Returns the task, which holds the new token.

        When a later timer's message is handled before an earlier one's (handled side by side),
        the breaches and escalation levels it passed act first, in order; warnings and reminders it
        passed are overtaken and stay unsent. The earlier message then changes nothing."""
        issue_type = issue_type_of(self._types, issue)
        step = issue_type.step(message.step)
        points = step.checkpoints()
        point = points[message.checkpoint]
        level = point.level
        reached_before = {"checkpoint": 0}

        def decide(current: Task | None) -> rules.Change:
            if current is None:
                raise UnknownMessage(f"step {step.id} of {issue.id} was never opened")
            reached_before["checkpoint"] = current.checkpoint
            return rules.reach(
                current,
                checkpoint=message.checkpoint,
                token=message.token,
                holder=level.reassign.key if level and level.reassign else None,
                level=level.number if level else None,
                breached=point.kind == types.BREACH,
                due_at=deadlines.act_by(step, list(current.schedule), message.checkpoint),
                entered_at=message.entered_at,
            )

        reached = change(self._tasks, issue.id, step.id, decide)
        if reached.change == rules.REACHED:
            for passed in points[reached_before["checkpoint"] + 1 : message.checkpoint]:
                if passed.kind == types.BREACH or passed.level is not None:
                    self.act(issue, issue_type, step, passed, reached.task)
            self.act(issue, issue_type, step, point, reached.task)
        return reached.task

    def act(self, issue: Issue, issue_type: IssueType, step: Step, point: Checkpoint, task: Task) -> None:
        """What a checkpoint does, once: warn, record the breach, escalate, remind the customer."""
        due = f"{task.due_at:%Y-%m-%d %H:%M} UTC"
        if point.kind == types.WARNING:
            text = f"{step.name}: {point.percent}% of the time to the deadline has passed; due {due}"
            self._timeline.note(issue, "sla_warning", text, task, percent=point.percent)
            self._kpis.record(
                kpi_events.warned(
                    issue.id, issue.run, issue.type_id, issue.channel, step.id, point.index, self._clock()
                )
            )
            self._holders.notify(issue, task, task.assigned_to, f"Reminder {issue.reference}: {step.name} is due {due}")
        if point.kind == types.BREACH:
            self._timeline.note(issue, "deadline_breached", f"{step.name}: the deadline has passed", task)
            self._kpis.record(
                kpi_events.breached(issue.id, issue.run, issue.type_id, issue.channel, step.id, self._clock())
            )
        if point.kind == types.REMINDER:
            self._emails.email_from_template(issue, issue_type, step, "reminder")
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
            self._timeline.note(issue, "escalated", text, task, level=level.number)
            self._holders.notify(issue, task, level.reassign, f"Escalated to you {issue.reference}: {step.name}")
        elif level.notify or level.raise_priority:
            text = f"{step.name}: escalation level {level.number}: {level.describe()}"
            self._timeline.note(issue, "escalated", text, task, level=level.number)
        for holder in level.notify:
            subject = f"Escalation {issue.reference}: {step.name} is overdue"
            self._holders.notify(issue, task, holder, subject, with_link=False)
        if level.raise_priority:
            new_priority = self._issues.change(issue, lambda current: current.raise_priority()).priority
            self._timeline.note(
                issue, "priority_raised", f"priority raised to {new_priority}", task, priority=new_priority
            )

    # The SLA sweep

    def reconcile_due(self, now: datetime | None = None) -> dict[str, int]:
        """The SLA sweep: catch up on every checkpoint a timer should have acted on by now.

        Tasks come from the due index; a checkpoint is taken from its timer once it is
        SWEEP_GRACE overdue, and an untouched claim whose `return_after` has passed goes back to
        its queue (so a return comes within the sweep's period after its moment). A task that
        fails is logged and counted, and the sweep goes on (the next sweep tries it again).
        Returns how many tasks were examined and what was done.
        """
        cutoff = (now or self._clock()) - SWEEP_GRACE
        counts = {"examined": 0, **_sweep_counts(), "failed": 0}
        for task in self._tasks.due(cutoff):
            counts["examined"] += 1
            try:
                done = self.reconcile(task, cutoff)
                if self._claims and task.return_at and task.return_at <= cutoff:
                    done["returned"] = int(self._claims.return_if_untouched(task, cutoff))
            except Exception:
                log.exception("the SLA sweep failed on task %s", task.id)
                counts["failed"] += 1
                continue
            for key, value in done.items():
                counts[key] += value
        return counts

    def reconcile(self, task: Task, now: datetime) -> dict[str, int]:
        """Reach each checkpoint of `task` due at `now` and not yet reached, in order, and act on it once.

        What each does is what its timer would do (`act`), and the timeline says the sweep did it.
        The task keeps the token the workflow waits on, so the timer's message, when it comes,
        only refreshes it. Checkpoints that move the workflow on are left to its timer.
        """
        counts = _sweep_counts()
        current = self._tasks.get(task.issue_id, task.step)  # the due index may lag behind the task
        issue = self._issues.get(task.issue_id) if current else None
        if current is None or issue is None:
            return counts
        issue_type = issue_type_of(self._types, issue)
        step = issue_type.step(current.step)
        due = deadlines.due_checkpoints(current, step, now)
        counts["left_to_workflow"] = len(due.workflow)
        for point in due.sweep:
            reached = change(self._tasks, issue.id, step.id, lambda fresh, p=point: _reach_missed(step, p, fresh))
            if reached.change != rules.REACHED:
                continue
            missed = deadlines.describe_checkpoint(point)
            text = f"{step.name}: the SLA sweep acted on {missed}, which its timer had not"
            self._timeline.note(
                issue, "sla_swept", text, reached.task, actor=SLA_SWEEP, by=SLA_SWEEP, checkpoint=point.index
            )
            self.act(issue, issue_type, step, point, reached.task)
            counts["warnings"] += point.kind == types.WARNING
            counts["breaches"] += point.kind == types.BREACH
            counts["escalations"] += point.level is not None
            counts["reminders"] += point.kind == types.REMINDER
        return counts


def _sweep_counts() -> dict[str, int]:
    return {"warnings": 0, "breaches": 0, "escalations": 0, "reminders": 0, "left_to_workflow": 0, "returned": 0}


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
