"""Issues, their customers and timelines in the single table, by key only.

An issue is written whole, under optimistic locking: `save` puts the item on condition that it is
still at the version it was read at, and `change` applies a domain transition and saves it, reading
the issue again and re-applying the transition when another write came first (decision 0021).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.adapters.dynamodb import schema
from chalicelib.adapters.dynamodb.access import EVENT, LOCK_RETRIES, event_item, get_or_none, issue_pk, transact
from chalicelib.adapters.dynamodb.mail import inbound_items
from chalicelib.adapters.dynamodb.models import (
    CustomerEmailItem,
    CustomerItem,
    EventItem,
    IdempotencyItem,
    IssueItem,
    ReferenceItem,
)
from chalicelib.adapters.dynamodb.search_entries import index_issue, opened_index_keys, reindex
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.issues import RESOLVED, Customer, Issue, StaleIssue, TimelineEvent
from chalicelib.domain.kpi_rollups import OpenIssue
from chalicelib.services.records import NewIssue

IDEMPOTENCY_TTL = timedelta(days=1)


class IssueRepository:
    """Issues, their customers and timelines."""

    def customer_by_email(self, email: str) -> Customer | None:
        link = get_or_none(CustomerEmailItem, f"{schema.EMAIL_KEY}{email}", schema.EMAIL_SK)
        if link is None:
            return None
        return self.customer(link.customer_id)

    def customer(self, customer_id: str) -> Customer | None:
        item = get_or_none(CustomerItem, f"{schema.CUSTOMER_KEY}{customer_id}", schema.CUSTOMER_SK)
        if item is None:
            return None
        return Customer(customer_id, item.email, item.name, item.segment, item.language or "", item.time_zone or "")

    def set_customer_segment(self, customer_id: str, segment: str) -> None:
        item = CustomerItem.get(f"{schema.CUSTOMER_KEY}{customer_id}", schema.CUSTOMER_SK)
        item.update(actions=[CustomerItem.segment.set(segment)])

    def set_customer_locale(self, customer_id: str, language: str = "", time_zone: str = "") -> None:
        """Remember the customer's language and/or time zone (an empty one is left as it is)."""
        actions = []
        if language:
            actions.append(CustomerItem.language.set(language))
        if time_zone:
            actions.append(CustomerItem.time_zone.set(time_zone))
        if actions:
            item = CustomerItem.get(f"{schema.CUSTOMER_KEY}{customer_id}", schema.CUSTOMER_SK)
            item.update(actions=actions)

    def create(self, new: NewIssue) -> None:
        """Write the issue, its reference, first event, customer, idempotency key and, for an email,
        its receipt and thread entry at once.

        Raises DuplicateKey when any of the unique keys is taken; nothing is written then.
        """
        issue, customer = new.issue, new.customer
        reference = ReferenceItem(f"{schema.REFERENCE_KEY}{issue.reference}", schema.REFERENCE_SK, issue_id=issue.id)
        items: list[tuple[Any, Any]] = [
            (_item(issue), IssueItem.pk.does_not_exist()),
            (reference, ReferenceItem.pk.does_not_exist()),
            (event_item(issue, new.first_event), None),
        ]
        if new.customer_is_new:
            customer_item = CustomerItem(
                f"{schema.CUSTOMER_KEY}{customer.id}",
                schema.CUSTOMER_SK,
                email=customer.email,
                name=customer.name,
                segment=customer.segment,
                created_at=issue.created_at,
                language=customer.language,
                time_zone=customer.time_zone,
            )
            items.append((customer_item, CustomerItem.pk.does_not_exist()))
            address_item = CustomerEmailItem(
                f"{schema.EMAIL_KEY}{customer.email}", schema.EMAIL_SK, customer_id=customer.id
            )
            items.append((address_item, CustomerEmailItem.pk.does_not_exist()))
        if new.idempotency_key:
            idempotency_item = IdempotencyItem(
                f"{schema.IDEMPOTENCY_KEY}{new.idempotency_key}",
                schema.IDEMPOTENCY_SK,
                issue_id=issue.id,
                request_hash=new.request_hash,
                expires_at=int((issue.created_at + IDEMPOTENCY_TTL).timestamp()),
            )
            items.append((idempotency_item, IdempotencyItem.pk.does_not_exist()))
        if new.inbound is not None:
            items += inbound_items(issue, new.inbound, issue.created_at)
        transact(items)
        index_issue(issue, customer.name)

    def idempotent_request(self, key: str) -> tuple[str, str] | None:
        """The (issue id, request hash) recorded for an idempotency key, if any."""
        item = get_or_none(
            IdempotencyItem, f"{schema.IDEMPOTENCY_KEY}{key}", schema.IDEMPOTENCY_SK, consistent_read=True
        )
        return (item.issue_id, item.request_hash) if item else None

    def get(self, issue_id: str) -> Issue | None:
        return _read(issue_id)

    def get_many(self, issue_ids: Iterable[str]) -> dict[str, Issue]:
        keys = [(issue_pk(i), schema.ISSUE_SK) for i in dict.fromkeys(issue_ids)]
        return {issue.id: issue for issue in (_issue(item) for item in IssueItem.batch_get(keys))}

    def issue_id_by_reference(self, reference: str) -> str | None:
        link = get_or_none(ReferenceItem, f"{schema.REFERENCE_KEY}{reference.upper()}", schema.REFERENCE_SK)
        return link.issue_id if link else None

    def save(self, issue: Issue) -> Issue:
        """Write the issue whole, on condition that it is stored still at the version it was read at
        (`issue.version`; 0 for an item written before issues had versions). Returns the issue at its
        new version. StaleIssue, nothing written, when another write came first or there is no such
        issue (`create` writes a new one)."""
        item = _item(issue)
        if issue.version:
            item.version = issue.version  # else none: the put is conditional on the item having none
        try:
            item.save(condition=IssueItem.pk.exists())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise StaleIssue(f"issue {issue.reference} was changed meanwhile; try again") from exc
            raise
        return replace(issue, version=int(item.version))

    def change(self, issue: Issue, transition: Callable[[Issue], Issue]) -> Issue:
        """Save `transition(issue)`, and return the issue saved; nothing is written if the transition
        changes nothing. When another write came first, read the issue again and apply the transition
        to it as it now is: it may then refuse (its TransitionRefused propagates). Conflict after
        LOCK_RETRIES lost races; NotFound when there is no such issue."""
        current: Issue | None = issue
        for _ in range(LOCK_RETRIES):
            if current is None:
                raise NotFound(f"no issue {issue.id}")
            wanted = transition(current)
            if wanted == current:
                return current
            try:
                saved = self.save(wanted)
            except StaleIssue:
                current = _read(issue.id)  # not self.get: the issue as it is now, whatever `get` answers
            else:
                reindex(current, saved)
                return saved
        raise Conflict(f"issue {issue.reference} is changing too often; try again")

    def open_issues(self, type_id: str) -> list[OpenIssue]:
        """The type's issues open now, oldest first (the backlog), through the open-issues index;
        only the three attributes the backlog needs cross the wire."""
        found = IssueItem.open_issues.query(
            f"{schema.OPEN_ISSUES_KEY}{type_id}", attributes_to_get=list(schema.OPEN_ISSUE_ATTRIBUTES)
        )
        return [OpenIssue(i.type_id, i.channel, i.created_at) for i in found]

    def add_event(self, issue: Issue, event: TimelineEvent) -> None:
        event_item(issue, event).save()

    def timeline(self, issue_id: str) -> list[TimelineEvent]:
        items = EventItem.query(issue_pk(issue_id), EventItem.sk.startswith(EVENT))
        return [TimelineEvent(i.at, i.kind, i.text, i.actor, i.data or {}) for i in items]

    def customer_history(self, customer_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The customer's events across all issues and channels, newest first."""
        items = EventItem.customer_timeline.query(
            f"{schema.CUSTOMER_KEY}{customer_id}", scan_index_forward=False, limit=limit
        )
        return [
            {"issue_id": i.issue_id, **TimelineEvent(i.at, i.kind, i.text, i.actor, i.data or {}).as_dict()}
            for i in items
        ]


def _read(issue_id: str) -> Issue | None:
    item = get_or_none(IssueItem, issue_pk(issue_id), schema.ISSUE_SK, consistent_read=True)
    return _issue(item) if item else None


def _item(issue: Issue) -> IssueItem:
    """The issue's item, without its version (`save` sets it); in the backlog index while not resolved."""
    return IssueItem(
        issue_pk(issue.id),
        schema.ISSUE_SK,
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
        resolved_at=issue.resolved_at,
        auto_reply_blocked=issue.auto_reply_blocked,
        classification=issue.classification,
        run=issue.run,
        first_resolved_at=issue.first_resolved_at,
        reopenings=issue.reopenings,
        resolved_with_one_contact=issue.resolved_with_one_contact,
        customer_wrote_at=issue.customer_wrote_at,
        answered_at=issue.answered_at,
        **(
            dict(zip(schema.OPEN_ISSUES_INDEX_KEYS, _open_issue_key(issue.type_id, issue.created_at), strict=True))
            if issue.status != RESOLVED
            else {}
        ),
        **opened_index_keys(issue),
    )


def _issue(item: IssueItem) -> Issue:
    return Issue(
        id=item.pk.removeprefix(schema.ISSUE_KEY),
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
        customer_wrote_at=item.customer_wrote_at,
        answered_at=item.answered_at,
        version=int(item.version or 0),
    )


def _open_issue_key(type_id: str, created_at: datetime) -> tuple[str, str]:
    return f"{schema.OPEN_ISSUES_KEY}{type_id}", created_at.isoformat()
