"""Human tasks in the single table, changed only under optimistic locking (two actors race on them)."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from pynamodb.exceptions import PutError

from chalicelib.adapters.dynamodb import schema
from chalicelib.adapters.dynamodb.access import LOCK_RETRIES, get_or_none, issue_pk
from chalicelib.adapters.dynamodb.models import TaskItem
from chalicelib.domain import tasks as task_rules
from chalicelib.domain.errors import Conflict
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

    def archive(self, issue_id: str, run: int) -> None:
        """Move the issue's tasks out of the way of the next workflow (which may reuse step ids)."""
        for item in TaskItem.query(issue_pk(issue_id), TaskItem.sk.startswith(schema.TASK_KEY)):
            copy = self._item(self._task(item))
            copy.sk = f"{schema.ARCHIVED_TASK_KEY}{run}#{item.step}"
            copy.gsi1pk = copy.gsi1sk = None
            copy.gsi3pk = copy.gsi3sk = None
            copy.save()
            item.delete()

    def open_for_holders(self, holders: Iterable[str]) -> list[Task]:
        found: list[Task] = []
        for holder in sorted(set(holders)):
            found.extend(self._task(i) for i in TaskItem.queue.query(f"{schema.QUEUE_KEY}{holder}"))
        return sorted(found, key=lambda t: t.due_at)

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
            gsi1sk=task.due_at.isoformat() if is_open else None,
            moves_on=task.moves_on,
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
        )


def _due_shard(task_id: str) -> int:
    """A stable shard of the due index for a task (Python's `hash` differs between processes)."""
    return zlib.crc32(task_id.encode()) % schema.DUE_SHARDS


def _index_moment(moment: datetime) -> str:
    """A moment as a sort key: UTC, fixed width, so that strings sort as the moments do."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
