"""Who may see an issue (decision 0025).

An issue is visible to those its process names and those who held its tasks: every role, team
and person the issue type's steps name (assignees, field-assignee fallbacks, escalation levels'
reassignments and notifications), every holder of one of its tasks, past or present, archived
runs included; and, whatever the type, supervisors and admins, and first-line agents on a triage
issue. A role or team key counts for each of its members. Everyone else is told the issue does
not exist: seeing it is the precondition of every act on it.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.domain.agents import ADMIN_ROLE, AGENT_ROLE, SUPERVISOR_ROLE, Agent
from chalicelib.domain.issue_types import IssueType
from chalicelib.domain.tasks import Task

#: Roles that see every issue.
SEE_EVERY_ISSUE = frozenset({SUPERVISOR_ROLE, ADMIN_ROLE})


def named_holders(issue_type: IssueType) -> frozenset[str]:
    """The holder keys (`role:hr`, `team:x`, `user:sam`) the type's process names anywhere."""
    return frozenset(holder.key for step in issue_type.all_steps() for holder in step.holders())


def task_holders(tasks: Iterable[Task]) -> frozenset[str]:
    """Everyone who holds or held one of these tasks."""
    return frozenset(key for task in tasks for key in (task.holder, *task.past_holders))


def may_see(agent: Agent, named: Iterable[str], held: Iterable[str], *, triage: bool = False) -> bool:
    """Whether `agent` may see an issue whose process names `named` and whose tasks were `held` by
    those keys; `triage`: the issue waits for a first-line agent to choose its type."""
    if agent.roles & SEE_EVERY_ISSUE or (triage and AGENT_ROLE in agent.roles):
        return True
    mine = set(agent.holder_keys())
    return not mine.isdisjoint(named) or not mine.isdisjoint(held)
