"""Email bookkeeping in the single table: receipts, threads, quarantine, bounces and caps, by key only."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.models import Model
from ulid import ULID

from chalicelib.adapters.dynamodb.access import event_item, get_or_none, issue_pk, transact
from chalicelib.adapters.dynamodb.models import (
    AddressStatusItem,
    AutomaticMailItem,
    MessageIdItem,
    QuarantinedMailItem,
    ReceivedMailItem,
    ThreadEntryItem,
)
from chalicelib.domain.issues import Issue, TimelineEvent
from chalicelib.mail.threading import normalise_message_id
from chalicelib.services.records import InboundRecord, QuarantinedMail, Receipt, ThreadEntry

#: SES does not deliver a message again after this; a Message-ID seen again later is a new copy.
RECEIPT_LIFETIME = timedelta(days=30)
QUARANTINE = "QUARANTINE"
THREAD = "MAIL#"
AUTOMATIC = "AUTO#"
#: ULIDs start with 10 characters of time: a key range over them is a time range.
_ULID_TIME_CHARACTERS = 10


def _receipt_keys(ses_id: str, message_id: str | None) -> list[str]:
    keys = [f"RECEIVED#ses:{ses_id}"]
    if message_id:
        keys.append(f"RECEIVED#mid:{message_id}")
    return keys


def receipt_items(receipt: Receipt, at: datetime) -> list[tuple[Model, Any]]:
    """The receipt's items, each written only if absent: a second delivery fails the transaction."""
    return [
        (
            ReceivedMailItem(
                key,
                "RECEIVED",
                outcome=receipt.outcome,
                issue_id=receipt.issue_id,
                waiting_step=receipt.waiting_step,
                expires_at=int((at + RECEIPT_LIFETIME).timestamp()),
            ),
            ReceivedMailItem.pk.does_not_exist(),
        )
        for key in _receipt_keys(receipt.ses_id, receipt.message_id)
    ]


def thread_items(issue_id: str, entry: ThreadEntry) -> list[tuple[Model, Any]]:
    """The thread entry under the issue, and the Message-ID's lookup item."""
    return [
        (
            ThreadEntryItem(
                issue_pk(issue_id),
                f"{THREAD}{ULID.from_datetime(entry.at)}",
                message_id=entry.message_id,
                direction=entry.direction,
                sender=entry.sender,
                cc=list(entry.cc),
                at=entry.at,
            ),
            None,
        ),
        (
            MessageIdItem(
                f"MSGID#{normalise_message_id(entry.message_id)}", "MSGID", issue_id=issue_id, direction=entry.direction
            ),
            None,
        ),
    ]


def inbound_items(issue: Issue, inbound: InboundRecord, at: datetime) -> list[tuple[Model, Any]]:
    items = receipt_items(inbound.receipt, at)
    if inbound.entry is not None:
        items += thread_items(issue.id, inbound.entry)
    return items


class MailRepository:
    """Email bookkeeping: receipts (exactly once), threads, quarantine, bounces, automatic-mail caps."""

    def receipt(self, ses_id: str, message_id: str | None) -> Receipt | None:
        for key in _receipt_keys(ses_id, message_id):
            item = get_or_none(ReceivedMailItem, key, "RECEIVED", consistent_read=True)
            if item is not None:
                return Receipt(ses_id, message_id, item.outcome, item.issue_id, item.waiting_step)
        return None

    def receipt_by_message_id(self, message_id: str) -> Receipt | None:
        item = get_or_none(ReceivedMailItem, f"RECEIVED#mid:{message_id}", "RECEIVED", consistent_read=True)
        return Receipt("", message_id, item.outcome, item.issue_id, item.waiting_step) if item else None

    def file_on_issue(self, issue: Issue, event: TimelineEvent, inbound: InboundRecord) -> None:
        transact([(event_item(issue, event), None), *inbound_items(issue, inbound, event.at)])

    def file_without_issue(self, receipt: Receipt, quarantined: QuarantinedMail | None) -> None:
        at = quarantined.received_at if quarantined else datetime.now().astimezone()
        items = receipt_items(receipt, at)
        if quarantined is not None:
            item = QuarantinedMailItem(
                QUARANTINE,
                f"{quarantined.received_at.isoformat()}#{quarantined.ses_id}",
                ses_id=quarantined.ses_id,
                received_at=quarantined.received_at,
                reason=quarantined.reason[:1000],
                sender=quarantined.sender[:500],
                subject=quarantined.subject[:1000],
                raw_key=quarantined.raw_key,
            )
            items.append((item, None))
        transact(items)

    def issue_by_message_id(self, message_id: str) -> str | None:
        item = get_or_none(MessageIdItem, f"MSGID#{normalise_message_id(message_id)}", "MSGID")
        return item.issue_id if item else None

    def thread(self, issue_id: str) -> list[ThreadEntry]:
        return [
            ThreadEntry(i.message_id, i.direction, i.at, i.sender, tuple(i.cc or ()))
            for i in ThreadEntryItem.query(issue_pk(issue_id), ThreadEntryItem.sk.startswith(THREAD))
        ]

    def add_to_thread(self, issue_id: str, entry: ThreadEntry) -> None:
        for item, _ in thread_items(issue_id, entry):
            item.save()

    def quarantined(self, limit: int) -> list[QuarantinedMail]:
        items = QuarantinedMailItem.query(QUARANTINE, scan_index_forward=False, limit=limit)
        return [QuarantinedMail(i.ses_id, i.received_at, i.reason, i.sender, i.subject, i.raw_key) for i in items]

    def is_bouncing(self, address: str) -> bool:
        item = get_or_none(AddressStatusItem, f"ADDRESS#{address}", "STATUS")
        return bool(item and item.bouncing)

    def mark_bouncing(self, address: str, at: datetime, detail: str) -> None:
        AddressStatusItem(f"ADDRESS#{address}", "STATUS", bouncing=True, bounced_at=at, detail=detail[:1000]).save()

    def automatic_mail_count(self, address: str, since: datetime) -> int:
        start = f"{AUTOMATIC}{str(ULID.from_datetime(since))[:_ULID_TIME_CHARACTERS]}"
        return AutomaticMailItem.count(f"ADDRESS#{address}", AutomaticMailItem.sk.between(start, f"{AUTOMATIC}~"))

    def record_automatic_mail(self, address: str, at: datetime, keep_until: datetime) -> None:
        AutomaticMailItem(
            f"ADDRESS#{address}", f"{AUTOMATIC}{ULID.from_datetime(at)}", expires_at=int(keep_until.timestamp())
        ).save()
