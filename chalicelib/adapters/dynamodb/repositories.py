"""DynamoDB repositories: the domain's objects in and out of the single table, by key only."""

from __future__ import annotations

import operator
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import reduce
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.adapters.dynamodb import schema
from chalicelib.adapters.dynamodb.access import EVENT, event_item, get_or_none, issue_pk, transact
from chalicelib.adapters.dynamodb.mail import inbound_items
from chalicelib.adapters.dynamodb.models import (
    CatalogItem,
    CustomerEmailItem,
    CustomerItem,
    EventItem,
    IdempotencyItem,
    IssueItem,
    IssueTypeVersionItem,
    ReferenceItem,
    TaskItem,
)
from chalicelib.domain import tasks as task_rules
from chalicelib.domain.errors import Conflict
from chalicelib.domain.issue_types import PublishedType
from chalicelib.domain.issues import RESOLVED, Customer, Issue, TimelineEvent
from chalicelib.domain.kpi_rollups import OpenIssue
from chalicelib.domain.tasks import Task
from chalicelib.services.ports import DuplicateKey, NewIssue

ISSUE = "ISSUE"
TASK = "TASK#"
#: Tasks of an issue's earlier workflow, before its type changed: `ARCHIVED#<run>#<step>`.
ARCHIVED = "ARCHIVED#"
CATALOG = "CATALOG"
#: The open-issues index's partition: `OPEN#<type>`.
OPEN = "OPEN#"
IDEMPOTENCY_TTL = timedelta(days=1)
_LOCK_RETRIES = 8


class IssueRepository:
    """Issues, their customers and timelines."""

    def customer_by_email(self, email: str) -> Customer | None:
        link = get_or_none(CustomerEmailItem, f"EMAIL#{email}", "EMAIL")
        if link is None:
            return None
        return self.customer(link.customer_id)

    def customer(self, customer_id: str) -> Customer | None:
        item = get_or_none(CustomerItem, f"CUSTOMER#{customer_id}", "CUSTOMER")
        return Customer(customer_id, item.email, item.name, item.segment) if item else None

    def set_customer_segment(self, customer_id: str, segment: str) -> None:
        item = CustomerItem.get(f"CUSTOMER#{customer_id}", "CUSTOMER")
        item.update(actions=[CustomerItem.segment.set(segment)])

    def create(self, new: NewIssue) -> None:
        """Write the issue, its reference, first event, customer, idempotency key and, for an email,
        its receipt and thread entry at once.

        Raises DuplicateKey when any of the unique keys is taken; nothing is written then.
        """
        issue, customer = new.issue, new.customer
        items: list[tuple[Any, Any]] = [
            (self._issue_item(issue), IssueItem.pk.does_not_exist()),
            (ReferenceItem(f"REF#{issue.reference}", "REF", issue_id=issue.id), ReferenceItem.pk.does_not_exist()),
            (event_item(issue, new.first_event), None),
        ]
        if new.customer_is_new:
            customer_item = CustomerItem(
                f"CUSTOMER#{customer.id}",
                "CUSTOMER",
                email=customer.email,
                name=customer.name,
                segment=customer.segment,
                created_at=issue.created_at,
            )
            items.append((customer_item, CustomerItem.pk.does_not_exist()))
            address_item = CustomerEmailItem(f"EMAIL#{customer.email}", "EMAIL", customer_id=customer.id)
            items.append((address_item, CustomerEmailItem.pk.does_not_exist()))
        if new.idempotency_key:
            idempotency_item = IdempotencyItem(
                f"IDEMPOTENCY#{new.idempotency_key}",
                "IDEMPOTENCY",
                issue_id=issue.id,
                request_hash=new.request_hash,
                expires_at=int((issue.created_at + IDEMPOTENCY_TTL).timestamp()),
            )
            items.append((idempotency_item, IdempotencyItem.pk.does_not_exist()))
        if new.inbound is not None:
            items += inbound_items(issue, new.inbound, issue.created_at)
        transact(items)

    def idempotent_request(self, key: str) -> tuple[str, str] | None:
        """The (issue id, request hash) recorded for an idempotency key, if any."""
        item = get_or_none(IdempotencyItem, f"IDEMPOTENCY#{key}", "IDEMPOTENCY", consistent_read=True)
        return (item.issue_id, item.request_hash) if item else None

    def get(self, issue_id: str) -> Issue | None:
        item = get_or_none(IssueItem, issue_pk(issue_id), ISSUE, consistent_read=True)
        return self._issue(item) if item else None

    def issue_id_by_reference(self, reference: str) -> str | None:
        link = get_or_none(ReferenceItem, f"REF#{reference.upper()}", "REF")
        return link.issue_id if link else None

    def update(self, issue_id: str, **changes: Any) -> None:
        item = IssueItem.get(issue_pk(issue_id), ISSUE, consistent_read=True)
        IssueItem.update(item, actions=_update_actions(item, changes))

    def update_if(self, issue_id: str, expected: Mapping[str, Any], **changes: Any) -> bool:
        """Apply `changes` only while the issue's attributes still have the `expected` values, as one
        conditional write; False, changing nothing, once they do not (a concurrent change came first)."""
        for _ in range(_LOCK_RETRIES):
            item = IssueItem.get(issue_pk(issue_id), ISSUE, consistent_read=True)
            if any(getattr(item, name) != value for name, value in expected.items()):
                return False
            condition = reduce(operator.and_, (getattr(IssueItem, name) == v for name, v in expected.items()))
            try:
                IssueItem.update(item, actions=_update_actions(item, changes), condition=condition)
            except UpdateError as exc:
                if exc.cause_response_code == "ConditionalCheckFailedException":
                    continue  # changed since the read (maybe in an attribute not expected): read again
                raise
            return True
        raise Conflict(f"issue {issue_id} is changing too often; try again")

    def open_issues(self, type_id: str) -> list[OpenIssue]:
        """The type's issues open now, oldest first (the backlog), through the open-issues index;
        only the three attributes the backlog needs cross the wire."""
        found = IssueItem.open_issues.query(f"{OPEN}{type_id}", attributes_to_get=list(schema.OPEN_ISSUE_ATTRIBUTES))
        return [OpenIssue(i.type_id, i.channel, i.created_at) for i in found]

    def add_event(self, issue: Issue, event: TimelineEvent) -> None:
        event_item(issue, event).save()

    def timeline(self, issue_id: str) -> list[TimelineEvent]:
        items = EventItem.query(issue_pk(issue_id), EventItem.sk.startswith(EVENT))
        return [TimelineEvent(i.at, i.kind, i.text, i.actor, i.data or {}) for i in items]

    def customer_history(self, customer_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The customer's events across all issues and channels, newest first."""
        items = EventItem.customer_timeline.query(f"CUSTOMER#{customer_id}", scan_index_forward=False, limit=limit)
        return [
            {"issue_id": i.issue_id, **TimelineEvent(i.at, i.kind, i.text, i.actor, i.data or {}).as_dict()}
            for i in items
        ]

    @staticmethod
    def _issue_item(issue: Issue) -> IssueItem:
        return IssueItem(
            issue_pk(issue.id),
            ISSUE,
            reference=issue.reference,
            type_id=issue.type_id,
            type_version=issue.type_version,
            status=issue.status,
            channel=issue.channel,
            customer_id=issue.customer_id,
            fields=issue.fields,
            created_at=issue.created_at,
            execution_arn=issue.execution_arn,
            current_step=issue.current_step,
            priority=issue.priority,
            auto_reply_blocked=issue.auto_reply_blocked,
            classification=issue.classification,
            run=issue.run,
            first_resolved_at=issue.first_resolved_at,
            reopenings=issue.reopenings,
            resolved_with_one_contact=issue.resolved_with_one_contact,
            **(
                dict(zip(("gsi4pk", "gsi4sk"), _open_issue_key(issue.type_id, issue.created_at), strict=True))
                if issue.status != RESOLVED
                else {}
            ),
        )

    @staticmethod
    def _issue(item: IssueItem) -> Issue:
        return Issue(
            id=item.pk.removeprefix("ISSUE#"),
            reference=item.reference,
            type_id=item.type_id,
            type_version=int(item.type_version),
            status=item.status,
            channel=item.channel,
            customer_id=item.customer_id,
            fields=item.fields or {},
            created_at=item.created_at,
            execution_arn=item.execution_arn,
            current_step=item.current_step,
            priority=item.priority,
            resolved_at=item.resolved_at,
            auto_reply_blocked=item.auto_reply_blocked,
            classification=item.classification,
            run=int(item.run or 1),
            first_resolved_at=item.first_resolved_at,
            reopenings=int(item.reopenings or 0),
            resolved_with_one_contact=item.resolved_with_one_contact,
        )


def _open_issue_key(type_id: str, created_at: datetime) -> tuple[str, str]:
    return f"{OPEN}{type_id}", created_at.isoformat()


def _update_actions(item: IssueItem, changes: Mapping[str, Any]) -> list[Any]:
    """The changes as update actions; a change of status or type moves the issue in the backlog index."""
    actions = [getattr(IssueItem, name).set(value) for name, value in changes.items()]
    if "status" in changes or "type_id" in changes:
        status = changes.get("status", item.status)
        if status == RESOLVED:
            actions += [IssueItem.gsi4pk.remove(), IssueItem.gsi4sk.remove()]
        else:
            key = _open_issue_key(changes.get("type_id", item.type_id), item.created_at)
            actions += [IssueItem.gsi4pk.set(key[0]), IssueItem.gsi4sk.set(key[1])]
    return actions


class TaskRepository:
    """Human tasks, changed only under optimistic locking (two actors race on them)."""

    def get(self, issue_id: str, step: str) -> Task | None:
        item = get_or_none(TaskItem, issue_pk(issue_id), f"{TASK}{step}", consistent_read=True)
        return self._task(item) if item else None

    def change(self, issue_id: str, step: str, decide: Callable[[Task | None], Task | None]) -> Task | None:
        """Read the task, let `decide` return its new state, and write it if nothing raced us.

        `decide` may raise a domain error, or return the task unchanged to write nothing. On a
        lost race it is called again with the fresh state.
        """
        for _ in range(_LOCK_RETRIES):
            item = get_or_none(TaskItem, issue_pk(issue_id), f"{TASK}{step}", consistent_read=True)
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
        return [self._task(i) for i in TaskItem.query(issue_pk(issue_id), TaskItem.sk.startswith(TASK))]

    def archive(self, issue_id: str, run: int) -> None:
        """Move the issue's tasks out of the way of the next workflow (which may reuse step ids)."""
        for item in TaskItem.query(issue_pk(issue_id), TaskItem.sk.startswith(TASK)):
            copy = self._item(self._task(item))
            copy.sk = f"{ARCHIVED}{run}#{item.step}"
            copy.gsi1pk = copy.gsi1sk = None
            copy.gsi3pk = copy.gsi3sk = None
            copy.save()
            item.delete()

    def open_for_holders(self, holders: Iterable[str]) -> list[Task]:
        found: list[Task] = []
        for holder in sorted(set(holders)):
            found.extend(self._task(i) for i in TaskItem.queue.query(f"QUEUE#{holder}"))
        return sorted(found, key=lambda t: t.due_at)

    def due(self, before: datetime) -> list[Task]:
        """Open tasks whose next checkpoint the SLA sweep can act on falls at or before `before`.

        One Query per shard of the due index, soonest first within each; the index is eventually
        consistent, so callers re-read a task (under optimistic locking) before changing it.
        """
        until = _index_moment(before)
        found: list[Task] = []
        for shard in range(schema.DUE_SHARDS):
            found.extend(self._task(i) for i in TaskItem.due.query(f"DUE#{shard}", TaskItem.gsi3sk <= until))
        return sorted(found, key=lambda t: t.next_sweep_at or before)

    @staticmethod
    def _item(task: Task) -> TaskItem:
        is_open = task.status == task_rules.OPEN
        sweep_at = task.next_sweep_at
        return TaskItem(
            issue_pk(task.issue_id),
            f"{TASK}{task.step}",
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
            gsi1pk=f"QUEUE#{task.holder}" if is_open else None,
            gsi1sk=task.due_at.isoformat() if is_open else None,
            moves_on=task.moves_on,
            gsi3pk=f"DUE#{_due_shard(task.id)}" if sweep_at else None,
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


class IssueTypeRepository:
    """Published issue type versions and the catalogue of current ones."""

    def current(self, type_id: str) -> PublishedType | None:
        item = get_or_none(CatalogItem, CATALOG, f"ISSUETYPE#{type_id}")
        return self._published(item) if item else None

    def all_current(self) -> list[PublishedType]:
        return [self._published(i) for i in CatalogItem.query(CATALOG)]

    def version(self, type_id: str, version: int) -> PublishedType | None:
        item = get_or_none(IssueTypeVersionItem, f"ISSUETYPE#{type_id}", f"VERSION#{version:06d}")
        return self._published(item) if item else None

    def versions(self, type_id: str) -> list[tuple[PublishedType, datetime]]:
        """Every published version of a type, oldest first, with when it was published."""
        items = IssueTypeVersionItem.query(f"ISSUETYPE#{type_id}", IssueTypeVersionItem.sk.startswith("VERSION#"))
        return [(self._published(i), i.published_at) for i in items]

    def save_version(self, published: PublishedType, now: datetime) -> None:
        """Record a new version and make it current; DuplicateKey if that version exists."""
        catalog = get_or_none(CatalogItem, CATALOG, f"ISSUETYPE#{published.type_id}", consistent_read=True)
        try:
            IssueTypeVersionItem(
                f"ISSUETYPE#{published.type_id}",
                f"VERSION#{published.version:06d}",
                type_id=published.type_id,
                type_version=published.version,
                definition=published.definition,
                state_machine_arn=published.state_machine_arn,
                published_at=now,
            ).save(condition=IssueTypeVersionItem.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise DuplicateKey(["ConditionalCheckFailed"]) from exc
            raise
        item = catalog or CatalogItem(CATALOG, f"ISSUETYPE#{published.type_id}")
        item.type_id = published.type_id
        item.type_version = published.version
        item.definition = published.definition
        item.state_machine_arn = published.state_machine_arn
        try:
            item.save()
        except (PutError, UpdateError) as exc:
            raise Conflict(f"issue type {published.type_id} was published concurrently") from exc

    @staticmethod
    def _published(item: CatalogItem | IssueTypeVersionItem) -> PublishedType:
        return PublishedType(item.type_id, int(item.type_version), item.definition, item.state_machine_arn)
