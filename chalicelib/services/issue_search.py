"""Searching issues for agents: by reference, customer, words, type, status, step, holder, channel
and opening date, newest first, one bounded page at a time (decision 0027).

A search reads one source, the most selective its criteria name (`domain.issue_search`), checks
the other criteria on the issues it fetched, and drops those the agent may not see. Each request
reads at most MAX_ITEMS_READ index entries and issues in at most MAX_QUERIES requests to the table,
and checks whether the agent may see at most MAX_VISIBILITY_CHECKS issues (each check may cost the
issue's task holders: `IssueAccess.visible`): when a search finds few matches among many issues,
the page comes back short with a cursor to continue, rather than reading on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.domain import paging
from chalicelib.domain.agents import Agent
from chalicelib.domain.errors import FieldError, NotFound, ValidationFailed
from chalicelib.domain.issue_search import (
    ALL,
    HOLDER,
    REFERENCE,
    TYPE,
    SearchCriteria,
    Source,
    driving_source,
    matches,
)
from chalicelib.domain.issues import Issue
from chalicelib.domain.queues import HELD, Partition, QueueFilter
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.ports import IssueRepository, IssueSearchIndex, TaskRepository

#: Index entries and issues one request may read, and requests to the table it may make.
MAX_ITEMS_READ = 500
MAX_QUERIES = 40
MAX_VISIBILITY_CHECKS = 60
#: The fewest entries asked of a source at once: fewer would cost a request for a handful.
MIN_QUERY_SIZE = 10
#: A holder's open tasks read for the `holder` criterion, and per Query of their queue.
MAX_HOLDER_TASKS = 1000
QUEUE_SLICE = 200
MAX_QUERY_SIZE = 100


class IssueVisibility(Protocol):
    def visible(self, agent: Agent, issue: Issue) -> bool: ...


@dataclass
class SearchPage:
    """One page of results and what reading it cost: requests to the table and items read
    (index entries, issues, customers; not the visibility checks')."""

    issues: list[dict[str, Any]]
    cursor: str | None
    queries: int = 0
    read: int = 0


@dataclass
class _Walk:
    """One request's progress: the issues found, and what it has read so far."""

    criteria: SearchCriteria
    agent: Agent
    customer_id: str = ""
    holding: frozenset[str] | None = None
    found: list[Issue] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    queries: int = 0
    read: int = 0
    checks: int = 0

    @property
    def full(self) -> bool:
        return len(self.found) >= self.criteria.limit

    @property
    def spent(self) -> bool:
        return self.read >= MAX_ITEMS_READ or self.queries >= MAX_QUERIES or self.checks >= MAX_VISIBILITY_CHECKS

    def affords(self, queries: int, size: int) -> bool:
        """Whether another round of `queries` reads of `size` entries stays within the request's share."""
        return not self.spent and self.read + queries * size <= MAX_ITEMS_READ and self.queries + queries <= MAX_QUERIES


class IssueSearch:
    """`GET /agent/issues`: the issues an agent may see that meet their criteria."""

    def __init__(
        self,
        index: IssueSearchIndex,
        issues: IssueRepository,
        tasks: TaskRepository,
        issue_types: IssueTypeService,
        access: IssueVisibility,
    ):
        self._index = index
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._access = access

    def search(self, agent: Agent, params: Mapping[str, str]) -> dict[str, Any]:
        page = self.page(agent, params)
        return {"issues": page.issues, "cursor": page.cursor}

    def page(self, agent: Agent, params: Mapping[str, str]) -> SearchPage:
        """One page of the search `params` (query parameters) asks for, from its `cursor` on."""
        agent.require_any_role()
        criteria = SearchCriteria.parse(params)
        start = _start(params.get("cursor", ""), criteria)
        walk = _Walk(criteria, agent)
        if criteria.email:
            customer = self._issues.customer_by_email(criteria.email)
            walk.queries, walk.read = walk.queries + 2, walk.read + 2
            if customer is None:
                return SearchPage([], None, walk.queries, walk.read)
            walk.customer_id = customer.id
            walk.names[customer.id] = customer.name
        if criteria.holder:
            walk.holding = frozenset(self._holding(walk))
        source = driving_source(criteria, walk.customer_id)
        if source.kind == REFERENCE:
            cursor = self._by_reference(walk)
        elif source.kind == HOLDER:
            cursor = self._by_holder(walk, start)
        else:
            sources = [source] if source.kind != ALL else self._every_type(walk)
            cursor = self._merge(walk, sources, start)
        return SearchPage(
            self._summaries(walk),
            _encode(cursor, criteria) if cursor else None,
            walk.queries,
            walk.read,
        )

    def _holding(self, walk: _Walk) -> list[str]:
        """The issues of the holder's open tasks: their queue partition, read up to MAX_HOLDER_TASKS
        entries (the soonest next checkpoints first) so that a huge queue costs a bounded read."""
        partition, after, found = Partition(HELD, walk.criteria.holder), None, []
        while len(found) < MAX_HOLDER_TASKS:
            piece = self._tasks.queue_slice(partition, after, QUEUE_SLICE, QueueFilter())
            walk.queries, walk.read = walk.queries + 1, walk.read + piece.read
            found += [task.issue_id for _, task in piece.tasks]
            if (after := piece.read_to) is None:
                break
        return found

    def _by_reference(self, walk: _Walk) -> None:
        issue_id = self._issues.issue_id_by_reference(walk.criteria.reference)
        walk.queries, walk.read = walk.queries + 1, walk.read + 1
        if issue_id:
            self._take(walk, [("", issue_id)], more=False)

    def _by_holder(self, walk: _Walk, start: str | None) -> str | None:
        """The holder's issues by id, newest first (ids are ULIDs, made as the issue opens)."""
        ids = sorted((i for i in walk.holding or () if start is None or i < start), reverse=True)
        return self._take(walk, [(i, i) for i in ids], more=False)

    def _every_type(self, walk: _Walk) -> list[Source]:
        walk.queries += 1
        return [Source(TYPE, t.id) for t in self._types.list_current()]

    def _merge(self, walk: _Walk, sources: list[Source], start: str | None) -> str | None:
        """Read the sources a piece at a time, all below one position: what each piece holds above
        the highest point any source stopped at comes before all that is still unread, so it can be
        taken in order; the next round reads on below that point."""
        criteria = walk.criteria
        upper = start or criteria.until
        size = max(-(-2 * criteria.limit // len(sources)), MIN_QUERY_SIZE) if sources else MIN_QUERY_SIZE
        while sources:
            pieces = [(s, self._index.entries(s, criteria.since, upper, size, criteria.narrowing)) for s in sources]
            walk.queries += len(pieces)
            walk.read += sum(piece.read for _, piece in pieces)
            boundary = max((piece.more for _, piece in pieces if piece.more), default=None)
            ready = sorted(
                (entry for _, piece in pieces for entry in piece.found if boundary is None or entry[0] >= boundary),
                reverse=True,
            )
            stopped = self._take(walk, ready, more=boundary is not None)
            if stopped or boundary is None:
                return stopped
            upper = boundary
            sources = [s for s, piece in pieces if piece.more or any(e[0] < boundary for e in piece.found)]
            size = min(size * 2, MAX_QUERY_SIZE)  # the criteria rule out much of what is read: read more at once
            if not walk.affords(len(sources), size):
                return boundary
        return None

    def _take(self, walk: _Walk, candidates: list[tuple[str, str]], *, more: bool) -> str | None:
        """Fetch the candidates (position, issue id) in order, keeping those that match, until the
        page is full or the request has read its share: then the position to continue below.
        `more`: whether the source holds more after these."""
        done = 0
        while done < len(candidates):
            if done and walk.spent:
                return candidates[done - 1][0]
            chunk = candidates[done : done + max(walk.criteria.limit - len(walk.found), 1)]
            fetched = {i.id: i for i in self._index.issues([issue_id for _, issue_id in chunk])}
            walk.queries, walk.read = walk.queries + 1, walk.read + len(fetched)
            if walk.criteria.name_words:
                self._learn_names(walk, list(fetched.values()))
            for at, issue_id in chunk:
                done += 1
                issue = fetched.get(issue_id)
                if issue is not None and self._wanted(walk, issue):
                    walk.found.append(issue)
                if walk.full or walk.checks >= MAX_VISIBILITY_CHECKS:
                    return at if (more or done < len(candidates)) else None
        return None

    def _wanted(self, walk: _Walk, issue: Issue) -> bool:
        found = matches(
            walk.criteria,
            issue,
            customer_id=walk.customer_id,
            customer_name=walk.names.get(issue.customer_id),
            holding=walk.holding,
        )
        if not found:
            return False
        walk.checks += 1
        return self._access.visible(walk.agent, issue)

    def _learn_names(self, walk: _Walk, issues: list[Issue]) -> None:
        unknown = sorted({i.customer_id for i in issues} - set(walk.names))
        if unknown:
            customers = self._index.customers(unknown)
            walk.queries, walk.read = walk.queries + 1, walk.read + len(customers)
            walk.names.update({c.id: c.name for c in customers.values()})

    def _summaries(self, walk: _Walk) -> list[dict[str, Any]]:
        self._learn_names(walk, walk.found)
        return [
            {
                "id": issue.id,
                "reference": issue.reference,
                "type": issue.type_id,
                "type_name": self._type_name(issue),
                "status": issue.status,
                "channel": issue.channel,
                "current_step": issue.current_step,
                "opened_at": issue.created_at.isoformat(),
                "customer_name": walk.names.get(issue.customer_id, ""),
            }
            for issue in walk.found
        ]

    def _type_name(self, issue: Issue) -> str:
        try:
            return self._types.version(issue.type_id, issue.type_version).issue_type.name
        except NotFound:
            return issue.type_id


def _encode(at: str, criteria: SearchCriteria) -> str:
    return paging.encode_cursor({"at": at, "for": criteria.fingerprint()})


def _start(cursor: str, criteria: SearchCriteria) -> str | None:
    """The position a cursor continues below; ValidationFailed for one this search did not give."""
    if not cursor:
        return None
    decoded = paging.decode_cursor(cursor)
    if decoded is None or not isinstance(decoded.get("at"), str):
        raise ValidationFailed([FieldError("cursor", "is not a cursor a search gave; start without one")])
    if decoded.get("for") != criteria.fingerprint():
        raise ValidationFailed([FieldError("cursor", "belongs to a search with other criteria; start without one")])
    return decoded["at"]
