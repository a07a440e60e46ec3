"""An agent's task queues: mine, available, a lead's team, or (no scope) mine and available.

Each scope reads a few queue partitions (`domain.queues`): one bounded Query per partition per
page, merged in checkpoint order behind an opaque cursor; the page's issues come in one
BatchGetItem, their tasks (for the earlier answers) in another, by step. The first page also
counts each scope, one Select=COUNT Query per partition reading at most `COUNT_CAP` entries.
No Scan, and nothing unbounded (decision 0026).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.domain import claims
from chalicelib.domain import queues as q
from chalicelib.domain.agents import Agent
from chalicelib.domain.assignees import USER
from chalicelib.domain.queues import Count, Partition, QueueFilter, QueueRequest
from chalicelib.domain.tasks import Task
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.ports import IssueRepository, IssueSearchIndex, TaskRepository
from chalicelib.services.workflow.lookups import issue_type_of
from chalicelib.services.workflow.task_views import holder_view, task_view


class Queues:
    def __init__(
        self,
        *,
        issues: IssueRepository,
        tasks: TaskRepository,
        issue_types: IssueTypeService,
        customers: IssueSearchIndex | None = None,
        clock: Clock = utc_now,
    ):
        #: Reads the page's customers in one batch, so that each entry names its customer.
        self._customers = customers
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._clock = clock

    def page(self, agent: Agent, params: Mapping[str, str]) -> dict[str, Any]:
        """One page of the scope's open tasks, soonest checkpoint first, each as its holder sees it;
        `next_cursor` continues (null: the end); `counts` of every scope come with the first page."""
        agent.require_any_role()
        request = QueueRequest.parse(params, self._clock())
        counting = request.cursor is None
        # The escalation ladders (one Query of the catalogue) matter only to a lead's view.
        needed = request.scope == q.TEAM or counting
        ladders = claims.escalations(self._types.list_current()) if needed else {}
        partitions = partitions_of(agent, request.scope, ladders)
        fingerprint = request.fingerprint()
        starts = q.decode_cursor(request.cursor, fingerprint, [p.name for p in partitions])
        slices = {
            p.name: self._tasks.queue_slice(p, starts.get(p.name), request.limit, request.filter)
            for p in partitions
            if starts.get(p.name) != q.DONE
        }
        page = q.merge(starts, slices, request.limit)
        return {
            "scope": request.scope,
            "tasks": self._views(page.tasks, agent),
            "next_cursor": q.encode_cursor(fingerprint, page.positions) if page.positions else None,
            "counts": self._counts(agent, ladders, request.filter) if counting else None,
        }

    def _views(self, tasks: list[Task], agent: Agent) -> list[dict[str, Any]]:
        issues = self._issues.get_many(t.issue_id for t in tasks)
        types = {issue_id: issue_type_of(self._types, issue) for issue_id, issue in issues.items()}
        issue_tasks = self._tasks.for_issues({i: [s.id for s in t.all_steps()] for i, t in types.items()})
        wanted = sorted({issue.customer_id for issue in issues.values()})
        customers = self._customers.customers(wanted) if self._customers and wanted else {}
        shown = []
        for task in tasks:
            issue = issues.get(task.issue_id)
            if issue is None:
                shown.append(task_view(task))
                continue
            view = holder_view(issue, types[issue.id], task, issue_tasks.get(issue.id, []), agent.time_zone)
            customer = customers.get(issue.customer_id)
            shown.append({**view, "customer": {"name": customer.name, "email": customer.email} if customer else None})
        return shown

    def _counts(self, agent: Agent, ladders: Mapping[str, set[str]], narrowing: QueueFilter) -> dict[str, Any]:
        counts = {}
        for scope in q.SCOPES:
            total = Count(0)
            for partition in partitions_of(agent, scope, ladders):
                total += self._tasks.queue_count(partition, narrowing, q.COUNT_CAP)
            counts[scope] = total
        return q.view_counts(counts)


def partitions_of(agent: Agent, scope: str, ladders: Mapping[str, set[str]]) -> list[Partition]:
    """The queue partitions a scope reads for this agent."""
    mine = [Partition(q.HELD, f"{USER}:{agent.username}")]
    available = [Partition(q.HELD, key) for key in agent.holder_keys() if not key.startswith(f"{USER}:")]
    if scope == q.MINE:
        return mine
    if scope == q.AVAILABLE:
        return available
    if scope == q.TEAM:
        led = claims.led_groups(agent, ladders)
        return [Partition(kind, group) for group in led for kind in (q.HELD, q.CLAIMED)]
    return mine + available
