"""Human tasks in the single table, changed only under optimistic locking (two actors race on them)."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import reduce

from pynamodb.exceptions import PutError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path

from chalicelib.adapters.dynamodb import schema
from chalicelib.adapters.dynamodb.access import LOCK_RETRIES, get_or_none, issue_pk
from chalicelib.adapters.dynamodb.models import TaskItem
from chalicelib.domain import queues
from chalicelib.domain import tasks as task_rules
from chalicelib.domain.errors import Conflict
from chalicelib.domain.queues import Count, Partition, QueueFilter, Slice
from chalicelib.domain.tasks import Task


class TaskRepository:
    """Human tasks, changed only under optimistic locking (two actors race on them)."""

    def get(self, issue_id: str, step: str) -> Task | None:
        item = get_or_none(TaskItem, issue_pk(issue_id), f"{schema.TASK_KEY}{step}", consistent_read=True)
        return self._task(item) if item else None

    def change(self, issue_id: str, step: str, decide: Callable[[Task | None], Task | None]) -> Task | None:
        """Read the task, let `decide` return its new state, and write it if nothing raced us.

        `decide` may raise a domain error, or return the task unchanged to write nothing. On a
        lost race it is called again with the fresh state.
        """
        for _ in range(LOCK_RETRIES):
            item = get_or_none(TaskItem, issue_pk(issue_id), f"{schema.TASK_KEY}{step}", consistent_read=True)
            current = self._task(item) if item else None
            wanted = decide(current)
            if wanted is None or wanted == current:
                return current
            new_item = self._item(wanted)
            if item is not None:
                new_item.version = item.version
            try:
                new_item.save()
            except PutError as exc:
                if exc.cause_response_code == "ConditionalCheckFailedException":
                    continue
                raise
            return wanted
        raise Conflict(f"task {issue_id}/{step} is changing too often; try again")

    def for_issue(self, issue_id: str) -> list[Task]:
        items = TaskItem.query(issue_pk(issue_id), TaskItem.sk.startswith(schema.TASK_KEY))
        return [self._task(i) for i in items]

    def for_issues(self, steps: Mapping[str, Iterable[str]]) -> dict[str, list[Task]]:
        keys = [(issue_pk(issue_id), f"{schema.TASK_KEY}{step}") for issue_id, ids in steps.items() for step in ids]
        found: dict[str, list[Task]] = {}
        for item in TaskItem.batch_get(keys):
            found.setdefault(item.issue_id, []).append(self._task(item))
        return {issue_id: sorted(tasks, key=lambda t: t.step) for issue_id, tasks in found.items()}

    def archive(self, issue_id: str, run: int) -> None:
        """Move the issue's tasks out of the way of the next workflow (which may reuse step ids)."""
        for item in TaskItem.query(issue_pk(issue_id), TaskItem.sk.startswith(schema.TASK_KEY)):
            copy = self._item(self._task(item))
            copy.sk = f"{schema.ARCHIVED_TASK_KEY}{run}#{item.step}"
            copy.gsi1pk = copy.gsi1sk = None
            copy.gsi2pk = copy.gsi2sk = None
            copy.gsi3pk = copy.gsi3sk = None
            copy.save()
            item.delete()

    def holders(self, issue_id: str) -> frozenset[str]:
        """One Query per kind of task item of the issue's partition (current, archived), each reading
        only the holders: never the timeline between them in the partition."""
        found: set[str] = set()
        for prefix in (schema.TASK_KEY, schema.ARCHIVED_TASK_KEY):
            for item in TaskItem.query(
                issue_pk(issue_id), TaskItem.sk.startswith(prefix), attributes_to_get=["holder", "past_holders"]
            ):
                found |= {item.holder, *(item.past_holders or ())}
        return frozenset(found)

    def queue_slice(self, partition: Partition, after: str | None, limit: int, narrowing: QueueFilter) -> Slice:
        """One Query: up to `limit` entries of the partition after position `after`, in position
        order; the filters are applied by DynamoDB to what it read (so a slice may hold fewer)."""
        index_name, hash_key, sort_key = _partition_keys(partition)
        start = None
        if after:
            issue_id, step = task_rules.parse_task_id(after.rpartition("#")[2])
            start = {
                schema.PARTITION_KEY: {"S": issue_pk(issue_id)},
                schema.SORT_KEY: {"S": f"{schema.TASK_KEY}{step}"},
                _hash_attribute(index_name): {"S": hash_key},
                sort_key: {"S": after},
            }
        page = TaskItem._get_connection().query(
            hash_key,
            range_key_condition=_below(sort_key, narrowing),
            filter_condition=_narrowing(narrowing),
            exclusive_start_key=start,
            index_name=index_name,
            limit=limit,
        )
        tasks = tuple((item[sort_key]["S"], self._task(TaskItem.from_raw_data(item))) for item in page.get("Items", []))
        last = page.get("LastEvaluatedKey")
        return Slice(tasks, last[sort_key]["S"] if last else None, int(page.get("ScannedCount", 0)))

    def queue_count(self, partition: Partition, narrowing: QueueFilter, cap: int) -> Count:
        """One Query with Select=COUNT reading at most `cap` entries: exact below it, else `cap+`."""
        index_name, hash_key, sort_key = _partition_keys(partition)
        page = TaskItem._get_connection().query(
            hash_key,
            range_key_condition=_below(sort_key, narrowing),
            filter_condition=_narrowing(narrowing),
            index_name=index_name,
            limit=cap,
            select="COUNT",
        )
        return Count(int(page.get("Count", 0)), "LastEvaluatedKey" in page)

    def due(self, before: datetime) -> list[Task]:
        """Open tasks whose next checkpoint the SLA sweep can act on falls at or before `before`.

        One Query per shard of the due index, soonest first within each; the index is eventually
        consistent, so callers re-read a task (under optimistic locking) before changing it.
        """
        until = _index_moment(before)
        found: list[Task] = []
        for shard in range(schema.DUE_SHARDS):
            found.extend(
                self._task(i) for i in TaskItem.due.query(f"{schema.DUE_KEY}{shard}", TaskItem.gsi3sk <= until)
            )
        return sorted(found, key=lambda t: t.next_sweep_at or before)

    @staticmethod
    def _item(task: Task) -> TaskItem:
        is_open = task.status == task_rules.OPEN
        claimed = is_open and bool(task.claimed_from)
        sweep_at = task.next_sweep_at
        return TaskItem(
            issue_pk(task.issue_id),
            f"{schema.TASK_KEY}{task.step}",
            task_id=task.id,
            issue_id=task.issue_id,
            step=task.step,
            status=task.status,
            holder=task.holder,
            checkpoint=task.checkpoint,
            level=task.level,
            schedule=[m.isoformat() for m in task.schedule],
            due_at=task.due_at,
            token=task.token,
            token_entered_at=task.token_entered_at,
            delivered_token=task.delivered_token,
            breached=task.breached,
            fields=task.fields,
            completed_by=task.completed_by,
            completed_at=task.completed_at,
            opened_at=task.opened_at,
            reference=task.reference,
            step_name=task.step_name,
            closed_reason=task.closed_reason,
            gsi1pk=f"{schema.QUEUE_KEY}{task.holder}" if is_open else None,
            gsi1sk=queues.position(task) if is_open else None,
            moves_on=task.moves_on,
            past_holders=list(task.past_holders),
            claimed_from=task.claimed_from,
            return_at=task.return_at,
            type_id=task.type_id,
            gsi2pk=f"{schema.CLAIMED_KEY}{task.claimed_from}" if claimed else None,
            gsi2sk=queues.position(task) if claimed else None,
            gsi3pk=f"{schema.DUE_KEY}{_due_shard(task.id)}" if sweep_at else None,
            gsi3sk=_index_moment(sweep_at) if sweep_at else None,
        )

    @staticmethod
    def _task(item: TaskItem) -> Task:
        return Task(
            id=item.task_id,
            issue_id=item.issue_id,
            step=item.step,
            status=item.status,
            holder=item.holder,
            checkpoint=int(item.checkpoint),
            level=int(item.level),
            schedule=tuple(datetime.fromisoformat(m) for m in item.schedule or []),
            due_at=item.due_at,
            token=item.token,
            token_entered_at=item.token_entered_at,
            delivered_token=item.delivered_token,
            breached=bool(item.breached),
            fields=item.fields,
            completed_by=item.completed_by,
            completed_at=item.completed_at,
            opened_at=item.opened_at,
            reference=item.reference,
            step_name=item.step_name,
            closed_reason=item.closed_reason,
            moves_on=bool(item.moves_on),
            past_holders=tuple(item.past_holders or ()),
            claimed_from=item.claimed_from or "",
            return_at=item.return_at,
            type_id=item.type_id or "",
        )


def _partition_keys(partition: Partition) -> tuple[str, str, str]:
    """(index name, hash key value, sort key attribute) of a queue partition."""
    if partition.kind == queues.CLAIMED:
        return schema.CUSTOMER_TIMELINE_INDEX, f"{schema.CLAIMED_KEY}{partition.key}", "gsi2sk"
    return schema.QUEUE_INDEX, f"{schema.QUEUE_KEY}{partition.key}", "gsi1sk"


def _hash_attribute(index_name: str) -> str:
    return schema.GLOBAL_SECONDARY_INDEXES[index_name][0]


def _below(sort_key: str, narrowing: QueueFilter) -> Condition | None:
    upper = narrowing.upper_position
    return Path(sort_key) < upper if upper else None


def _narrowing(narrowing: QueueFilter) -> Condition | None:
    conditions = []
    if narrowing.type_id:
        conditions.append(TaskItem.type_id == narrowing.type_id)
    if narrowing.step:
        conditions.append(TaskItem.step == narrowing.step)
    if narrowing.due_before:
        conditions.append(TaskItem.due_at < narrowing.due_before)
    return reduce(lambda left, right: left & right, conditions) if conditions else None


def _due_shard(task_id: str) -> int:
    """A stable shard of the due index for a task (Python's `hash` differs between processes)."""
    return zlib.crc32(task_id.encode()) % schema.DUE_SHARDS


def _index_moment(moment: datetime) -> str:
    """A moment as a sort key: UTC, fixed width, so that strings sort as the moments do."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
