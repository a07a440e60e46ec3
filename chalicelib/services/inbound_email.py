"""Inbound email: from the raw message SES stored in S3 to an interaction on the right issue.

Each message is received exactly once: its receipt (keyed by SES's message id and by its
Message-ID) is written in the same transaction as its effect, so a second delivery changes
nothing, and a delivery interrupted half-way is finished by the retry. Nothing is ever dropped:
what opens no issue is kept in S3 and listed as quarantined, and what fails for a passing reason
(a throttled table) raises, so that Lambda retries it and then keeps it in the dead-letter queue.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.agents import ADMIN_ROLE, Agent
from chalicelib.domain.issues import RESOLVED, Issue, TimelineEvent
from chalicelib.mail import loops
from chalicelib.mail.messages import Attachment, InboundEmail, UnparseableEmail, parse_email
from chalicelib.mail.threading import (
    MessageIds,
    SupportAddress,
    find_thread,
    normalise_message_id,
    subject_without_prefixes,
)
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.customer_replies import CustomerReplies
from chalicelib.services.intake import EmailOpening, IntakeService
from chalicelib.services.notifications import IN
from chalicelib.services.ports import DuplicateKey, IssueRepository, MailRepository, ObjectStore
from chalicelib.services.records import InboundRecord, QuarantinedMail, Receipt, ThreadEntry
from chalicelib.services.reopenings import ReopeningService
from chalicelib.services.workflow.completions import Completions

log = logging.getLogger(__name__)

OPENED = "opened"
THREADED = "threaded"
#: A customer wrote soon after resolution: the message reopens the issue.
REOPENED = "reopened"
QUARANTINED = "quarantined"
BOUNCE = "bounce"
REPORT = "report"
AUTOMATIC = "automatic"
DUPLICATE = "duplicate"
#: A timeline item must fit in a DynamoDB item (400 KB); the raw message in S3 keeps everything.
MAX_STORED_TEXT = 60_000
#: Where attachments of inbound mail go in the bucket: `attachments/<SES message id>/<n>-<name>`.
ATTACHMENTS = "attachments/"
_VERIFICATION_VERDICTS = ("spf", "dkim", "dmarc")
_SCAN_VERDICTS = ("spam", "virus")
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
QUARANTINE_LISTING = 100


@dataclass(frozen=True)
class InboundNotice:
    """One message SES received: its id, where the raw bytes are, and SES's verdicts."""

    ses_id: str
    raw_key: str
    recipients: tuple[str, ...]
    received_at: datetime
    #: spam, virus, spf, dkim, dmarc -> PASS, FAIL, GRAY or PROCESSING_FAILED.
    verdicts: Mapping[str, str] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        """False when SPF, DKIM or DMARC failed: the sender may be forged."""
        return not any(self.verdicts.get(name, "").upper() == "FAIL" for name in _VERIFICATION_VERDICTS)

    @property
    def scan_failure(self) -> str:
        failed = [name for name in _SCAN_VERDICTS if self.verdicts.get(name, "").upper() == "FAIL"]
        return f"SES {' and '.join(failed)} verdict FAIL" if failed else ""


@dataclass(frozen=True)
class Received:
    """What became of an inbound message."""

    outcome: str
    issue_id: str = ""
    reference: str = ""
    reason: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"outcome": self.outcome, "issue_id": self.issue_id, "reference": self.reference, "reason": self.reason}


class InboundEmailService:
    def __init__(
        self,
        issues: IssueRepository,
        mail: MailRepository,
        store: ObjectStore,
        intake: IntakeService,
        tasks: Completions,
        support: SupportAddress,
        message_ids: MessageIds,
        own_addresses: tuple[str, ...],
        clock: Clock = utc_now,
        reopenings: ReopeningService | None = None,
        replies: CustomerReplies | None = None,
    ):
        self._reopenings = reopenings
        #: Tells the issue's holders that the customer wrote back.
        self._replies = replies
        self._issues = issues
        self._mail = mail
        self._store = store
        self._intake = intake
        self._tasks = tasks
        self._support = support
        self._message_ids = message_ids
        self._own = {a.lower() for a in own_addresses}
        self._clock = clock

    def receive(self, notice: InboundNotice) -> Received:
        """File one inbound message: on its issue, as a new issue, as a bounce, or in quarantine."""
        earlier = self._mail.receipt(notice.ses_id, None)
        if earlier is not None:
            return self._finish(earlier)
        raw = self._store.read(notice.raw_key)
        try:
            email = parse_email(raw)
        except UnparseableEmail as exc:
            return self._quarantine(notice, None, f"unparseable: {exc}")
        except Exception as exc:  # a parser bug must not lose the message: keep it for a person
            log.exception("parsing %s failed", notice.raw_key)
            return self._quarantine(notice, None, f"unparseable ({type(exc).__name__}): {exc}")
        earlier = self._mail.receipt_by_message_id(_message_id(email)) if email.message_id else None
        if earlier is not None:
            return self._finish(earlier)
        if notice.scan_failure:
            return self._quarantine(notice, email, notice.scan_failure)
        if not any(self._support.is_ours(address) for address in notice.recipients):
            return self._quarantine(notice, email, f"not addressed to {self._support.address}")
        kind = loops.kind_of(email, self._is_own)
        if kind == loops.OWN:
            return self._quarantine(notice, email, "sent from one of our own addresses (a mail loop)")
        if kind == loops.BOUNCE:
            return self._bounce(notice, email)
        match = find_thread(
            email,
            notice.recipients,
            support=self._support,
            message_ids=self._message_ids,
            verified=notice.verified,
            lookup=_Lookup(self._issues, self._mail),
        )
        issue = self._issues.get(match.issue_id) if match else None
        if kind == loops.REPORT:
            if issue is None:
                return self._quarantine(notice, email, "a delivery or read report about no known issue")
            return self._file(notice, email, issue, REPORT, "delivery_report", f"delivery report: {email.subject}")
        if kind == loops.AUTOMATIC:
            if issue is None:
                return self._quarantine(notice, email, "an automatic reply that continues no issue")
            return self._file(notice, email, issue, AUTOMATIC, "automatic_message", f"automatic reply: {email.subject}")
        if issue is not None and issue.status != RESOLVED:
            return self._file(notice, email, issue, THREADED, "customer_message", email.new_text or email.text)
        if issue is not None and self._reopenings is not None and self._reopenings.may_reopen(issue):
            return self._file(notice, email, issue, REOPENED, "customer_message", email.new_text or email.text)
        return self._open(notice, email, follows=issue)

    def quarantined(self, agent: Agent) -> list[dict[str, Any]]:
        """What admins review: mail kept in S3 that opened no issue, newest first."""
        agent.require_role(ADMIN_ROLE)
        return [q.as_dict() for q in self._mail.quarantined(QUARANTINE_LISTING)]

    # What a message becomes

    def _file(
        self, notice: InboundNotice, email: InboundEmail, issue: Issue, outcome: str, kind: str, text: str
    ) -> Received:
        """Add the message to its issue's timeline; a customer's message resumes a step waiting for it."""
        waiting = self._tasks.waiting_step(issue.id) if outcome == THREADED else None
        receipt = Receipt(notice.ses_id, _message_id(email), outcome, issue.id, waiting or "")
        event = TimelineEvent(
            self._clock(),
            kind,
            _clip(text.strip()) or "(no text)",
            actor=email.sender,
            data={"channel": "email", "email": self._details(notice, email)},
        )
        # Only a person's message is one the thread answers: never an auto-reply or a bounce.
        entry = self._entry(notice, email) if outcome in (THREADED, REOPENED) else None
        try:
            self._mail.file_on_issue(issue, event, InboundRecord(receipt, entry))
        except DuplicateKey:
            earlier = self._mail.receipt(notice.ses_id, receipt.message_id)
            if earlier is None:
                raise RuntimeError(f"message {notice.ses_id} collided with a concurrent delivery; retry") from None
            return self._finish(earlier)
        return self._finish(receipt, event.text, issue)

    def _open(self, notice: InboundNotice, email: InboundEmail, follows: Issue | None) -> Received:
        details = self._details(notice, email)
        if follows is not None:
            details["follows"] = follows.reference
        opening = EmailOpening(
            sender=email.sender,
            sender_name=email.sender_name,
            subject=subject_without_prefixes(email.subject),
            text=email.new_text or email.text,
            details=details,
            receipt=Receipt(notice.ses_id, _message_id(email), OPENED),
            entry=self._entry(notice, email),
            auto_reply_blocked=loops.automatic_reply_blocker(email, self._is_own) or "",
        )
        opened = self._intake.open_from_email(opening)
        if follows is not None and not opened.replayed:
            self._issues.add_event(
                follows,
                TimelineEvent(
                    self._clock(),
                    "follow_up_opened",
                    f"the customer wrote again after resolution: follow-up {opened.issue.reference}",
                    data={"follow_up": opened.issue.id},
                ),
            )
        outcome = DUPLICATE if opened.replayed else OPENED
        return Received(outcome, opened.issue.id, opened.issue.reference)

    def _bounce(self, notice: InboundNotice, email: InboundEmail) -> Received:
        """A delivery failure opens nothing: the failed addresses are marked, and the issue says so."""
        issue = self._bounced_issue(email)
        failed = list(email.report.failed_recipients) if email.report else []
        if not failed and issue is not None and (customer := self._issues.customer(issue.customer_id)):
            failed = [customer.email]
        if not failed:
            return self._quarantine(notice, email, "a delivery failure naming no address we know")
        detail = f"{email.report.status} {email.report.action}".strip() if email.report else email.subject
        for address in failed:
            self._mail.mark_bouncing(address, self._clock(), detail)
        log.info("bounce", extra={"addresses": failed, "raw_key": notice.raw_key})
        text = f"delivery to {', '.join(failed)} failed ({detail}); no more automatic mail goes there"
        if issue is not None:
            return self._file(notice, email, issue, BOUNCE, "delivery_failed", text)
        kept = self._quarantine(notice, email, f"bounce: {text}", outcome=BOUNCE)
        return Received(BOUNCE if kept.outcome != DUPLICATE else DUPLICATE, reason=text)

    def _bounced_issue(self, email: InboundEmail) -> Issue | None:
        reported = email.report.original_message_id if email.report else None
        ids = [reported, *email.embedded_message_ids, *email.in_reply_to, *email.references]
        for message_id in filter(None, ids):
            issue_id = self._message_ids.issue_in(message_id) or self._mail.issue_by_message_id(
                normalise_message_id(message_id)
            )
            if issue_id and (issue := self._issues.get(issue_id)):
                return issue
        return None

    def _quarantine(
        self, notice: InboundNotice, email: InboundEmail | None, reason: str, outcome: str = QUARANTINED
    ) -> Received:
        log.warning("quarantined %s: %s", notice.raw_key, reason, extra={"raw_key": notice.raw_key, "reason": reason})
        kept = QuarantinedMail(
            notice.ses_id,
            notice.received_at,
            reason,
            email.sender if email else "",
            email.subject if email else "",
            notice.raw_key,
        )
        try:
            self._mail.file_without_issue(Receipt(notice.ses_id, _message_id(email), outcome), kept)
        except DuplicateKey:
            return Received(DUPLICATE, reason=reason)
        return Received(outcome, reason=reason)

    def _finish(self, receipt: Receipt, reply: str | None = None, issue: Issue | None = None) -> Received:
        """Complete what a receipt's first delivery may not have: the workflow start, the resumed step."""
        if receipt.outcome == OPENED and receipt.issue_id:
            opened = self._intake.ensure_started(receipt.issue_id)
            return Received(DUPLICATE, receipt.issue_id, opened.issue.reference if opened else "")
        if issue is None and receipt.issue_id:
            issue = self._issues.get(receipt.issue_id)
        if issue is not None and receipt.outcome == REOPENED and self._reopenings is not None:
            current = self._issues.get(issue.id)
            if current is not None and current.status == RESOLVED:
                reason = "the customer wrote again after resolution"
                self._reopenings.reopen(current, reason, self._customer_actor(issue), customer_wrote=True)
        if issue is not None and receipt.waiting_step:
            reply = reply or self._reply_text(issue, receipt)
            self._tasks.resume_waiting_step(issue, reply, self._customer_actor(issue), receipt.waiting_step)
        if issue is not None and receipt.outcome in (THREADED, REOPENED) and self._replies is not None:
            words = reply or self._reply_text(issue, receipt)
            resumed = receipt.waiting_step or None
            self._replies.customer_wrote(issue.id, words, once=receipt.ses_id, resumed_step=resumed)
        return Received(receipt.outcome, receipt.issue_id, issue.reference if issue else "")

    # Helpers

    def _reply_text(self, issue: Issue, receipt: Receipt) -> str:
        for event in reversed(self._issues.timeline(issue.id)):
            if event.kind == "customer_message" and event.data.get("email", {}).get("ses_id") == receipt.ses_id:
                return event.text
        return "(reply by email)"

    def _customer_actor(self, issue: Issue) -> str:
        customer = self._issues.customer(issue.customer_id)
        return customer.email if customer else "customer"

    def _is_own(self, address: str) -> bool:
        return address.lower() in self._own or self._support.is_ours(address)

    def _entry(self, notice: InboundNotice, email: InboundEmail) -> ThreadEntry | None:
        if not email.message_id:
            return None
        cc = tuple(a for a in email.cc if not self._is_own(a))
        return ThreadEntry(email.message_id.strip().strip("<>"), IN, notice.received_at, email.sender, cc)

    def _details(self, notice: InboundNotice, email: InboundEmail) -> dict[str, Any]:
        """The message as agents see it on the timeline; attachments are stored in S3 first."""
        return {
            "ses_id": notice.ses_id,
            "from": email.sender,
            "from_name": email.sender_name,
            "to": list(email.to),
            "cc": list(email.cc),
            "subject": email.subject,
            "message_id": email.message_id,
            "verified": notice.verified,
            "html_only": email.html_only,
            "full_text": _clip(email.text),
            "raw_key": notice.raw_key,
            "attachments": [self._keep(notice, i, a) for i, a in enumerate(email.attachments, start=1)],
        }

    def _keep(self, notice: InboundNotice, index: int, attachment: Attachment) -> dict[str, Any]:
        name = _UNSAFE_FILENAME.sub("-", attachment.filename).strip("-.")[:100] or f"attachment-{index}"
        key = f"{ATTACHMENTS}{notice.ses_id}/{index}-{name}"
        self._store.write(key, attachment.content, attachment.content_type)
        return {
            "name": attachment.filename,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "key": key,
            "inline": attachment.inline,
        }


class _Lookup:
    """Threading's view of the stored issues and Message-IDs."""

    def __init__(self, issues: IssueRepository, mail: MailRepository):
        self._issues = issues
        self._mail = mail

    def issue_by_reference(self, reference: str) -> str | None:
        return self._issues.issue_id_by_reference(reference)

    def participants(self, issue_id: str) -> set[str]:
        issue = self._issues.get(issue_id)
        customer = self._issues.customer(issue.customer_id) if issue else None
        cc = {address for entry in self._mail.thread(issue_id) for address in entry.cc}
        return cc | ({customer.email} if customer else set())

    def issue_by_message_id(self, message_id: str) -> str | None:
        return self._mail.issue_by_message_id(message_id)

    def issue_exists(self, issue_id: str) -> bool:
        return self._issues.get(issue_id) is not None


def _message_id(email: InboundEmail | None) -> str | None:
    return normalise_message_id(email.message_id) if email and email.message_id else None


def _clip(text: str) -> str:
    if len(text) <= MAX_STORED_TEXT:
        return text
    return text[:MAX_STORED_TEXT] + "\n[… cut here; the raw message keeps all of it]"
