"""Low-level table access shared by the repositories: reads by key, transactions, timeline items."""

from __future__ import annotations

import threading
from typing import Any, TypeVar

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib import settings
from chalicelib.adapters.dynamodb import schema
from chalicelib.adapters.dynamodb.models import EventItem
from chalicelib.domain.issues import Issue, TimelineEvent, new_id
from chalicelib.services.ports import DuplicateKey

M = TypeVar("M", bound=Model)
EVENT = "EVENT#"
#: Attempts at a write under optimistic locking: a lost race reads again and retries, up to this many times.
LOCK_RETRIES = 8


def issue_pk(issue_id: str) -> str:
    return f"{schema.ISSUE_KEY}{issue_id}"


def get_or_none(model: type[M], pk: str, sk: str, consistent_read: bool = False) -> M | None:
    try:
        return model.get(pk, sk, consistent_read=consistent_read)
    except DoesNotExist:
        return None


_local = threading.local()


def connection() -> Connection:
    """This thread's connection for transactions: creating one costs a botocore client (~50 ms)."""
    config = settings.get()
    key = (config.region, config.endpoint_url)
    if getattr(_local, "key", None) != key:
        _local.connection, _local.key = Connection(region=config.region, host=config.endpoint_url), key
    return _local.connection


def transact(items: list[tuple[Model, Any]]) -> None:
    """Save the items at once, each under its condition (or none); DuplicateKey if a condition failed."""
    try:
        with TransactWrite(connection=connection()) as transaction:
            for item, condition in items:
                transaction.save(item, condition=condition)
    except TransactWriteError as exc:
        reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
        if "ConditionalCheckFailed" in reasons:
            raise DuplicateKey(reasons) from exc
        raise


def event_item(issue: Issue, event: TimelineEvent) -> EventItem:
    """A timeline event, also in the customer's history (gsi2) across issues and channels."""
    event_id = new_id()
    return EventItem(
        issue_pk(issue.id),
        f"{EVENT}{event_id}",
        at=event.at,
        kind=event.kind,
        text=event.text,
        actor=event.actor,
        data=event.data,
        issue_id=issue.id,
        gsi2pk=f"{schema.CUSTOMER_KEY}{issue.customer_id}",
        gsi2sk=event_id,
    )
