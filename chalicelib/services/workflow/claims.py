"""Claiming, releasing and reassigning tasks, and an untouched claim's return (decision 0026).

The rules are `domain.claims`; each is applied under the task's optimistic locking, so of two
claims at once one wins and the other is refused (409). Each change goes on the issue's timeline
with who did it and why, and the new holder is emailed (a claimer is not: they asked for it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.domain import claims as rules
from chalicelib.domain import free_text
from chalicelib.domain.agents import Agent
from chalicelib.domain.assignees import DIRECT_KINDS, EMAIL, USER, Holder, parse_holder
from chalicelib.domain.errors import FieldError, NotFound, ValidationFailed
from chalicelib.domain.issue_types import IssueType, Step
from chalicelib.domain.issues import Issue, TimelineEvent
from chalicelib.domain.problems import DefinitionProblems
from chalicelib.domain.tasks import Task, parse_task_id
from chalicelib.services.access import IssueAccess
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.ports import AgentGroups, IssueRepository, TaskRepository
from chalicelib.services.workflow.holder_notifications import HolderNotifications
from chalicelib.services.workflow.lookups import issue_type_of
from chalicelib.services.workflow.task_timeline import TaskTimeline
from chalicelib.services.workflow.task_views import task_view

CLAIMED = "task_claimed"
RELEASED = "task_released"
REASSIGNED = "task_reassigned"
RETURNED = "task_returned"
#: Entries that start a person's hold on a task (the claim is its first touch).
_HOLD_STARTS = (CLAIMED, REASSIGNED)
REASON_LENGTH = 500

log = logging.getLogger(__name__)


class Claims:
    def __init__(
        self,
        *,
        issues: IssueRepository,
        tasks: TaskRepository,
        issue_types: IssueTypeService,
        timeline: TaskTimeline,
        holders: HolderNotifications,
        groups: AgentGroups,
        access: IssueAccess,
        clock: Clock = utc_now,
    ):
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._timeline = timeline
        self._holders = holders
        self._groups = groups
        self._access = access
        self._clock = clock

    def claim(self, task_id: str, agent: Agent) -> dict[str, Any]:
        """A member of the holding role or team takes the task: it becomes theirs alone."""
        issue, task, issue_type = self._visible(task_id, agent)
        step = issue_type.step(task.step)
        return_at = self._return_at(issue_type, step, self._clock())
        claimed = self._change(task, lambda current: rules.claim(current, agent, return_at))
        group = Holder.from_key(claimed.claimed_from)
        text = f"{step.name}: claimed by {agent.username} from {group.describe()}"
        self._timeline.note(issue, CLAIMED, text, claimed, actor=agent.username)
        return task_view(claimed)

    def release(self, task_id: str, agent: Agent) -> dict[str, Any]:
        """The claimer gives the task back to the queue it came from; the group is emailed."""
        issue, task, issue_type = self._visible(task_id, agent)
        step = issue_type.step(task.step)
        released = self._change(task, lambda current: rules.release(current, agent))
        group = released.assigned_to
        text = f"{step.name}: released by {agent.username}, back to {group.describe()}"
        self._timeline.note(issue, RELEASED, text, released, actor=agent.username)
        self._holders.notify(issue, released, group, f"Back in your queue {issue.reference}: {step.name}")
        return task_view(released)

    def reassign(self, task_id: str, body: Any, agent: Agent) -> dict[str, Any]:
        """A lead (a group the task's group escalates to), a supervisor or an admin hands the task to
        a member of its group or to another role or team, saying why; the new holder is emailed."""
        issue, task, issue_type = self._visible(task_id, agent)
        step = issue_type.step(task.step)
        to, reason = _reassignment(body)
        rules.require_lead(agent, task, rules.lead_keys(task, step, self._ladders()))
        self._require_staffed(to, rules.task_group(task))
        return_at = self._return_at(issue_type, step, self._clock())
        previous: list[Holder] = []

        def decide(current: Task | None) -> Task:
            moved = rules.reassign(current, to, return_at)
            previous[:] = [Holder.from_key(current.holder)] if current else []
            return moved

        moved = self._change(task, decide)
        text = f"{step.name}: reassigned by {agent.username} from {previous[0].describe()} to {to.describe()}: {reason}"
        self._timeline.note(issue, REASSIGNED, text, moved, actor=agent.username, reason=reason)
        self._holders.notify(issue, moved, to, f"Assigned to you {issue.reference}: {step.name}")
        return task_view(moved)

    def return_if_untouched(self, task: Task, now: datetime) -> bool:
        """The SLA sweep found `task`'s return moment come: if its holder touched the issue since
        (anything they put on its timeline after their claim), the return moves later; otherwise
        the task goes back to its queue, once, on the timeline, and the group is emailed."""
        current = self._tasks.get(task.issue_id, task.step)
        issue = self._issues.get(task.issue_id) if current else None
        if current is None or issue is None or current.return_at is None or current.return_at > now:
            return False
        issue_type = issue_type_of(self._types, issue)
        step = issue_type.step(current.step)
        touched = _last_touch(self._issues.timeline(issue.id), current)
        if touched and step.return_after:
            later = self._return_at(issue_type, step, touched)
            if later and later > now:
                self._tasks.change(issue.id, current.step, lambda fresh: rules.touched(fresh, later))
                return False
        returned = self._tasks.change(issue.id, current.step, lambda fresh: rules.return_untouched(fresh, now))
        if returned is None or returned.holder == current.holder:
            return False
        group = returned.assigned_to
        person = current.assigned_to.name
        text = f"{step.name}: back to {group.describe()}: {person} had not touched it since claiming it"
        self._timeline.note(issue, RETURNED, text, returned, by="return_after")
        self._holders.notify(issue, returned, group, f"Back in your queue {issue.reference}: {step.name}")
        return True

    def _visible(self, task_id: str, agent: Agent) -> tuple[Issue, Task, IssueType]:
        """The task's issue (NotFound unless the agent may see it), the task, and the issue's type."""
        agent.require_any_role()
        issue_id, step_id = parse_task_id(task_id)
        issue = self._access.require_visible(agent, issue_id)
        task = self._tasks.get(issue_id, step_id) if step_id else None
        if task is None:
            raise NotFound(f"no task {task_id}")
        return issue, task, issue_type_of(self._types, issue)

    def _change(self, task: Task, decide: Callable[[Task | None], Task]) -> Task:
        changed = self._tasks.change(task.issue_id, task.step, decide)
        if changed is None:
            raise NotFound(f"no task {task.id}")
        return changed

    def _ladders(self) -> dict[str, set[str]]:
        return rules.escalations(self._types.list_current())

    def _return_at(self, issue_type: IssueType, step: Step, start: datetime) -> datetime | None:
        if step.return_after is None:
            return None
        try:
            return issue_type.calendar(step.calendar).add(start, step.return_after)
        except ValueError:
            log.warning("no opening on %s's calendar for a claim's return", step.id)
            return start + step.return_after

    def _require_staffed(self, to: Holder, group: str | None) -> None:
        """A person must be an enabled agent, and a member of the task's group when it has one;
        a role or team must exist."""
        if to.kind == USER:
            member = self._groups.agent(to.name)
            if member is None or not member.enabled:
                raise ValidationFailed([FieldError("to.user", f"there is no enabled agent {to.name!r}")])
            if group:
                members = self._groups.members(Holder.from_key(group).name) or []
                if to.name not in {m.username for m in members}:
                    message = f"{to.name} is not in {Holder.from_key(group).describe()}; reassign to a member, "
                    raise ValidationFailed([FieldError("to.user", message + "or to a role or team")])
        elif self._groups.group(to.name) is None:
            raise ValidationFailed([FieldError(f"to.{to.kind}", f"there is no {to.kind} {to.name!r}")])


def _reassignment(body: Any) -> tuple[Holder, str]:
    """`{"to": {"user"|"role"|"team": name}, "reason": "..."}`; ValidationFailed names each problem."""
    if not isinstance(body, dict):
        example = '{"to": {"user": "hana"}, "reason": "..."}'
        raise ValidationFailed([FieldError("body", f"must be a JSON object like {example}")])
    errors = [FieldError(str(key), "unknown key; give to and reason") for key in sorted(set(body) - {"to", "reason"})]
    problems = DefinitionProblems()
    raw = body.get("to")
    kinds = [k for k in DIRECT_KINDS if k != EMAIL]
    to = None
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in kinds:
        errors.append(FieldError("to", 'must be one of {"user": name}, {"role": name}, {"team": name}'))
    else:
        to = parse_holder(raw, "to", problems)
    errors += problems.errors
    reason = body.get("reason")
    if problem := free_text.problem(reason, REASON_LENGTH):
        errors.append(FieldError("reason", problem))
    elif not isinstance(reason, str) or not reason.strip():
        errors.append(FieldError("reason", "is required: say why, for the timeline"))
    if errors or to is None:
        raise ValidationFailed(errors)
    return to, reason.strip()


def _last_touch(timeline: list[TimelineEvent], task: Task) -> datetime | None:
    """When the task's holder last put something on the issue's timeline (a reply, a note, a
    customer message they recorded) after their hold began; None if never."""
    holder = task.assigned_to
    if holder.kind != USER:
        return None
    began = max(
        (e.at for e in timeline if e.kind in _HOLD_STARTS and _task_of(e) == task.id),
        default=None,
    )
    touches = [
        e.at
        for e in timeline
        if (e.actor == holder.name or e.actor.startswith(f"{holder.name} ("))
        and (began is None or e.at > began)
        and e.kind not in _HOLD_STARTS
    ]
    return max(touches, default=None)


def _task_of(event: TimelineEvent) -> str | None:
    task = event.data.get("task") if isinstance(event.data, dict) else None
    return task.get("task") if isinstance(task, dict) else None
