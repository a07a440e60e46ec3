"""Who works a group's task: a member claims it, releases it, a lead reassigns it (decision 0026).

A task held by a role or a team waits in that group's queue until one of its members claims it:
it is then theirs (`user:<them>`), remembered as claimed from the group, so that a release gives
it back there, as does the step's `return_after` when the claim goes untouched that long (once).
A lead (a group the task's group escalates to, by the published types' escalation ladders) or a
supervisor or admin may hand it to a member or to another role or team. Whoever held it before
stays among its past holders, so they still see the issue. These rules decide from the stored
task; the repository applies them under optimistic locking, so of two claims at once one wins
and the other finds the task taken (Conflict).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from chalicelib.domain.agents import ADMIN_ROLE, SUPERVISOR_ROLE, Agent
from chalicelib.domain.assignees import CUSTOMER, EMAIL, USER, Holder
from chalicelib.domain.errors import Conflict, Forbidden, NotFound
from chalicelib.domain.issue_types import HUMAN_TASK, IssueType, Step
from chalicelib.domain.tasks import OPEN, Task, with_past_holder

#: Roles that may reassign any task, whatever the escalation ladders say.
OVERSEEING_ROLES = (SUPERVISOR_ROLE, ADMIN_ROLE)
#: What an agent may do with an open task (`actions`).
COMPLETE, CLAIM, RELEASE, REASSIGN = "complete", "claim", "release", "reassign"


def claim(current: Task | None, agent: Agent, return_at: datetime | None) -> Task:
    """A member of the holding role or team takes the task; it leaves the group's queue."""
    task = _open(current)
    holder = task.assigned_to
    _claimable(holder)
    if holder.kind == USER:
        whose = "you hold it already" if holder.name == agent.username else f"{holder.name} claimed it first"
        raise Conflict(f"task {task.id} is not in a queue any more: {whose}")
    if not agent.holds(task.holder):
        raise Forbidden(f"task {task.id} is in the queue of {holder.kind} {holder.name!r}, which you are not in")
    return replace(
        task,
        holder=_person(agent.username),
        claimed_from=task.holder,
        past_holders=with_past_holder(task),
        return_at=return_at,
    )


def release(current: Task | None, agent: Agent) -> Task:
    """The person who claimed the task gives it back to the role or team they claimed it from."""
    task = _open(current)
    if task.holder != _person(agent.username):
        holder = task.assigned_to
        if holder.kind == USER:
            raise Forbidden(f"task {task.id} is held by {holder.name}; only they can release it")
        raise Conflict(f"task {task.id} is not claimed: it is in the queue of {holder.describe()}")
    if not task.claimed_from:
        raise Conflict(f"task {task.id} was given to you by its process: there is no queue to release it to")
    return _returned(task)


def return_untouched(current: Task | None, now: datetime) -> Task | None:
    """An untouched claim whose `return_at` has come goes back to its queue, once; anything
    else (released, completed, touched since: a later `return_at`) is left as it is."""
    if current is None or current.status != OPEN or not current.claimed_from or current.return_at is None:
        return current
    if current.return_at > now:
        return current
    return _returned(current)


def touched(current: Task | None, return_at: datetime) -> Task | None:
    """The holder worked on the issue: their claim returns later (never earlier)."""
    if current is None or current.return_at is None or return_at <= current.return_at:
        return current
    return replace(current, return_at=return_at)


def reassign(current: Task | None, to: Holder, return_at: datetime | None) -> Task:
    """A lead hands the task to a person (it stays claimed from its group, so they may release
    it) or to another role or team (whose queue it joins)."""
    task = _open(current)
    if task.assigned_to.kind == CUSTOMER:
        raise Conflict(f"task {task.id} waits for the customer's reply; nobody can take it over")
    if to.key == task.holder:
        raise Conflict(f"task {task.id} is held by {to.describe()} already")
    group = task_group(task)
    person = to.kind == USER
    return replace(
        task,
        holder=to.key,
        claimed_from=(group or "") if person else "",
        past_holders=with_past_holder(task),
        return_at=return_at if person and group else None,
    )


def task_group(task: Task) -> str | None:
    """The role or team whose work the task is: its holder, or the group it was claimed from."""
    if task.claimed_from:
        return task.claimed_from
    return task.holder if task.assigned_to.is_group else None


def escalations(issue_types: Iterable[IssueType]) -> dict[str, set[str]]:
    """Group key -> the group keys it escalates to, by every step's ladder: the step's assignee
    group (or a field assignee's fallback group), then each level's `reassign`; a group on the
    ladder escalates to every group reassigned to after it."""
    found: dict[str, set[str]] = {}
    for issue_type in issue_types:
        for step in issue_type.all_steps():
            ladder = [h.key for h in _assignee_groups(step)]
            for level in step.escalation:
                if level.reassign is None:
                    continue
                for below in ladder:
                    if level.reassign.is_group and below != level.reassign.key:
                        found.setdefault(below, set()).add(level.reassign.key)
                if level.reassign.is_group:
                    ladder.append(level.reassign.key)
    return found


def led_groups(agent: Agent, ladders: Mapping[str, set[str]]) -> list[str]:
    """The groups whose work the agent leads: those that escalate to a group they are in."""
    mine = set(agent.holder_keys())
    return sorted(group for group, leads in ladders.items() if leads & mine)


def lead_keys(task: Task, step: Step, ladders: Mapping[str, set[str]]) -> set[str]:
    """Who leads this task: the groups its group escalates to; for a task a step gives a person
    directly, the groups its step reassigns to."""
    group = task_group(task)
    if group:
        return set(ladders.get(group, set()))
    return {level.reassign.key for level in step.escalation if level.reassign and level.reassign.is_group}


def leads(agent: Agent, leads: set[str]) -> bool:
    """Whether the agent may reassign a task whose leads are `leads`: one of them, a supervisor or an admin."""
    return any(role in agent.roles for role in OVERSEEING_ROLES) or bool(leads & set(agent.holder_keys()))


def require_lead(agent: Agent, task: Task, leads_of_task: set[str]) -> None:
    if leads(agent, leads_of_task):
        return
    group = Holder.from_key(task_group(task) or task.holder)
    raise Forbidden(f"only a lead of {group.describe()}, a supervisor or an admin may reassign task {task.id}")


def may_claim(agent: Agent, holder: Holder) -> bool:
    """Whether the agent may claim a task held so: one of their role's or team's."""
    return holder.is_group and agent.holds(holder.key)


def actions(agent: Agent, task: Task, step: Step, leads_of_task: set[str]) -> frozenset[str]:
    """What the agent may do with an open task: `complete` it (its step's holder), `claim` it from
    their role or team, `release` their claim, `reassign` it (a lead). A closed task allows nothing."""
    if task.status != OPEN:
        return frozenset()
    holder = task.assigned_to
    allowed = set()
    if agent.holds(task.holder) and step.kind == HUMAN_TASK:
        allowed.add(COMPLETE)
    if may_claim(agent, holder):
        allowed.add(CLAIM)
    if holder.key == _person(agent.username) and task.claimed_from:
        allowed.add(RELEASE)
    if holder.kind not in (EMAIL, CUSTOMER) and leads(agent, leads_of_task):
        allowed.add(REASSIGN)
    return frozenset(allowed)


def _open(current: Task | None) -> Task:
    if current is None:
        raise NotFound("no such task")
    if current.status != OPEN:
        raise Conflict(f"task {current.id} is {current.status}")
    return current


def _claimable(holder: Holder) -> None:
    if holder.kind == EMAIL:
        raise Conflict("this task is with an outside party, who answers through their link; it cannot be claimed")
    if holder.kind == CUSTOMER:
        raise Conflict("this step waits for the customer's reply; it cannot be claimed")


def _returned(task: Task) -> Task:
    return replace(task, holder=task.claimed_from, claimed_from="", return_at=None, past_holders=with_past_holder(task))


def _person(username: str) -> str:
    return Holder(USER, username).key


def _assignee_groups(step: Step) -> list[Holder]:
    assignee = step.assignee
    if assignee is None:
        return []
    return [h for h in (assignee.direct(), assignee.otherwise) if h and h.is_group]
