"""Task queues as agents read them: a scope, filters, pages in checkpoint order, and counts.

A scope reads several queue partitions (one per holder key, or the tasks claimed from a group);
each is sorted by a task's queue position: its next checkpoint (warning, deadline, escalation),
or its due time once none is left, then its id. A page reads at most `limit` tasks from each
partition after where the last page stopped there, and merges them: only tasks up to the lowest
position every unfinished partition has read to can be placed, so pages come in one order and
each task comes once. The cursor carries each partition's position (decision 0026).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain import paging
from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.tasks import Task

#: Held by the agent themself.
MINE = "mine"
#: Unclaimed work of the agent's roles and teams.
AVAILABLE = "available"
#: The open tasks of the groups that escalate to the agent's own (claimed or not): a lead's view.
TEAM = "team"
SCOPES = (MINE, AVAILABLE, TEAM)
#: No scope: the agent's own tasks and their groups' unclaimed ones (mine and available).
QUEUE = "queue"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
#: A count reads at most this many index entries per partition; beyond it the count says "500+".
COUNT_CAP = 500
#: Two kinds of partition: a holder's queue (gsi1) and the tasks claimed from a group (gsi2).
HELD = "held"
CLAIMED = "claimed"
#: `<moment>#<issue id>-<step id>`, as `position` writes it.
_POSITION = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00#[0-9A-Za-z]+-[a-z][a-z0-9_]*$")
_PARAMS = {"scope", "type", "step", "overdue", "due_before", "limit", "cursor"}


def position(task: Task) -> str:
    """The task's place in its queue partitions: `<queue moment, UTC, fixed width>#<task id>`."""
    return f"{moment_key(task.queue_at)}#{task.id}"


def moment_key(moment: datetime) -> str:
    """A moment as a sort key: UTC, fixed width, so that strings sort as the moments do."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Partition:
    """One sorted run of open tasks: `held` by a holder key, or `claimed` from a group key."""

    kind: str
    key: str

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.key}"


@dataclass(frozen=True)
class QueueFilter:
    """What an agent narrows a queue to; `due_before` is exclusive (overdue: due before now)."""

    type_id: str = ""
    step: str = ""
    due_before: datetime | None = None

    @property
    def upper_position(self) -> str | None:
        """Every matching task's position is below this (a task's queue moment is never later
        than its due time), so a Query need not read past it."""
        return moment_key(self.due_before) if self.due_before else None

    def matches(self, task: Task) -> bool:
        return (
            (not self.type_id or task.type_id == self.type_id)
            and (not self.step or task.step == self.step)
            and (self.due_before is None or task.due_at < self.due_before)
        )


@dataclass(frozen=True)
class QueueRequest:
    scope: str
    filter: QueueFilter
    limit: int
    cursor: str | None

    @classmethod
    def parse(cls, params: Mapping[str, str], now: datetime) -> QueueRequest:
        """From a request's query parameters; ValidationFailed lists every problem."""
        errors = [FieldError(key, "unknown parameter") for key in sorted(set(params) - _PARAMS)]
        scope = params.get("scope") or QUEUE
        if scope not in (*SCOPES, QUEUE):
            errors.append(FieldError("scope", f"must be one of {', '.join(SCOPES)}"))
        overdue = params.get("overdue", "")
        if overdue not in ("", "true", "false"):
            errors.append(FieldError("overdue", "must be true or false"))
        due_before = _moment(params.get("due_before", ""), errors)
        if overdue == "true":
            due_before = min(now, due_before) if due_before else now
        limit = paging.page_limit(params.get("limit", ""), errors, DEFAULT_LIMIT, MAX_LIMIT)
        if errors:
            raise ValidationFailed(errors)
        found = QueueFilter(params.get("type", ""), params.get("step", ""), due_before)
        return cls(scope, found, limit, params.get("cursor") or None)

    def fingerprint(self) -> str:
        """The request but its cursor, in short: a cursor works only with the request it came from."""
        due = self.filter.due_before.isoformat() if self.filter.due_before else ""
        text = "|".join((self.scope, self.filter.type_id, self.filter.step, due, str(self.limit)))
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Slice:
    """What one partition's Query returned: matching tasks with their positions, in order, and
    the position it read up to (filtered-out entries included); None when nothing is left."""

    tasks: tuple[tuple[str, Task], ...]
    read_to: str | None
    #: Index entries read (matching or not): what the slice cost.
    read: int = 0


#: A partition not yet started has no entry in a cursor's positions; a finished one maps to this.
DONE = ""


@dataclass(frozen=True)
class Page:
    tasks: list[Task]
    #: Each partition's position after this page (DONE: finished); None: the walk is over.
    positions: dict[str, str] | None


def merge(starts: Mapping[str, str], slices: Mapping[str, Slice], limit: int) -> Page:
    """One page from each partition's slice (read after `starts[name]`; a partition DONE in
    `starts` is not read again): the first `limit` tasks in position order that no unread entry of
    another partition can precede."""
    reading = [s.read_to for s in slices.values() if s.read_to is not None]
    frontier = min(reading) if reading else None
    candidates = sorted(
        (pos, name, task)
        for name, piece in slices.items()
        for pos, task in piece.tasks
        if frontier is None or pos <= frontier
    )[:limit]
    taken: dict[str, str] = {}
    for pos, name, _ in candidates:
        taken[name] = pos
    positions = {name: DONE for name, start in starts.items() if start == DONE and name not in slices}
    for name, piece in slices.items():
        placed = sum(1 for _, n, _ in candidates if n == name)
        if placed < len(piece.tasks):
            # Some of what it read waits for a later page: continue after the last one placed.
            after = taken.get(name, starts.get(name))
            if after:
                positions[name] = after
        else:
            positions[name] = piece.read_to if piece.read_to is not None else DONE
    finished = all(positions.get(name) == DONE for name in (*slices, *positions))
    return Page([task for _, _, task in candidates], None if finished else positions)


def encode_cursor(fingerprint: str, positions: Mapping[str, str]) -> str:
    return paging.encode_cursor({"f": fingerprint, "p": dict(positions)})


def decode_cursor(cursor: str | None, fingerprint: str, partitions: Sequence[str]) -> dict[str, str]:
    """Each partition's position in the cursor (absent: from the start); ValidationFailed for a
    cursor that is not one of ours, or that came with other scope, filters or limit."""
    if not cursor:
        return {}
    data = paging.decode_cursor(cursor)
    if data is None or not isinstance(data.get("p"), dict):
        raise ValidationFailed([FieldError("cursor", "is not a cursor this API gave out")])
    if data.get("f") != fingerprint:
        raise ValidationFailed([FieldError("cursor", "belongs to another scope, filter or limit; start again")])
    positions = data["p"]
    if not all(isinstance(v, str) and (v == DONE or _POSITION.match(v)) for v in positions.values()):
        raise ValidationFailed([FieldError("cursor", "is not a cursor this API gave out")])
    return {name: positions[name] for name in partitions if name in positions}


@dataclass(frozen=True)
class Count:
    """How many tasks a scope holds: exact, or at least `number` when a partition had more to read."""

    number: int
    more: bool = False

    def __add__(self, other: Count) -> Count:
        return Count(self.number + other.number, self.more or other.more)

    def shown(self) -> int | str:
        return f"{self.number}+" if self.more else self.number


def _moment(value: str, errors: list[FieldError]) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors.append(FieldError("due_before", "must be an ISO 8601 date-time, e.g. 2026-12-06T17:00:00Z"))
        return None
    if moment.tzinfo is None:
        errors.append(FieldError("due_before", "needs a time zone, e.g. 2026-12-06T17:00:00Z"))
        return None
    return moment


def view_counts(counts: Mapping[str, Count]) -> dict[str, Any]:
    return {scope: count.shown() for scope, count in counts.items()}
