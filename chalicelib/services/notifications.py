"""Emails to customers and to the members of a role, each recorded on the issue's timeline.

Every email to a customer is part of the issue's thread: it asks for replies at the issue's own
address (`support+<reference>@…`), carries a signed Message-ID and answers the customer's latest
message, so that their reply comes back to the same issue. Automatic emails are marked as such
(RFC 3834), are never sent to a bouncing address, and are capped per address.

An email that is not sent never stops the process: it is `email_failed` on the timeline, with the
reason, and an EmailsFailed metric (ops' alarm). SES being busy is tried again where the work is
redelivered (a workflow message, keyed `once`), a few times, before it counts as failed.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from chalicelib.domain import free_text, kpi_events, measurements
from chalicelib.domain.issues import Customer, Issue, TimelineEvent
from chalicelib.mail.loops import AutomaticMailLimit
from chalicelib.mail.threading import MessageIds, SupportAddress, normalise_message_id, with_reference
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.kpi_recorder import KpiRecorder
from chalicelib.services.ports import (
    Directory,
    IssueRepository,
    Mailer,
    MailRepository,
    MailServiceBusy,
    UnsendableEmail,
)
from chalicelib.services.records import ThreadEntry

#: RFC 3834 marks our automatic mail so that other systems don't answer it; Exchange reads the second.
AUTOMATIC_HEADERS = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
#: How many earlier Message-IDs of the thread go into References.
_REFERENCES_KEPT = 10
OUT = "out"
IN = "in"
#: The message kind of the acknowledgement, the one automatic reply to the customer's first message.
ACKNOWLEDGEMENT = "acknowledgement"
#: Emails that are not a response to the customer (docs/kpis.md, first response time).
NOT_A_RESPONSE = {ACKNOWLEDGEMENT, "reminder", "survey", "status_link", "reopened"}


#: The timeline entries an email to the customer ends in: sent, or why not.
EMAIL_OUTCOMES = ("email_sent", "email_suppressed", "email_failed")
#: SES was busy: the workflow message is redelivered and the email tried again (not an outcome).
EMAIL_DELAYED = "email_delayed"
#: How many times a workflow's email is put off while SES is busy, before it counts as failed:
#: fewer than the task queue's receives (5), so the message never goes to the dead-letter queue.
BUSY_DELAYS = 3


def once_key(token: str) -> str:
    """A short, stable key for one workflow message (its task token, which SQS redelivers unchanged)."""
    return hashlib.sha256(token.encode()).hexdigest()[:24]


class NotificationService:
    def __init__(
        self,
        issues: IssueRepository,
        mailer: Mailer,
        directory: Directory,
        mail: MailRepository,
        support: SupportAddress,
        message_ids: MessageIds,
        limit: AutomaticMailLimit | None = None,
        clock: Clock = utc_now,
        kpis: KpiRecorder | None = None,
    ):
        self._issues = issues
        self._mailer = mailer
        self._directory = directory
        self._mail = mail
        self._support = support
        self._message_ids = message_ids
        self._limit = limit or AutomaticMailLimit()
        self._clock = clock
        self._kpis = kpis or KpiRecorder()

    def already_emailed(self, issue: Issue, once: str) -> bool:
        """Whether an email to the customer keyed `once` was sent, suppressed or failed already."""
        return any(e.kind in EMAIL_OUTCOMES and e.data.get("once") == once for e in self._issues.timeline(issue.id))

    def email_customer(
        self,
        issue: Issue,
        customer: Customer,
        subject: str,
        body: str,
        kind: str,
        *,
        automatic: bool = True,
        actor: str = "caseflow",
        once: str | None = None,
    ) -> bool:
        """Send `body` to the customer in the issue's thread; `kind` names the message on the
        timeline (e.g. acknowledgement, agent_reply). Returns False, with the reason on the
        timeline, when the address bounces, an automatic email may not go out, or the email is not
        sent (SES refused it): the workflow carries on either way. `once` (from `once_key`) goes on
        the timeline entry, so that `already_emailed` knows a redelivered workflow message was
        answered; with `once`, SES being busy raises MailServiceBusy (`email_delayed` on the
        timeline) so that the message is redelivered, up to BUSY_DELAYS times."""
        address = customer.email
        subject = with_reference(free_text.normalise(subject, single_line=True), issue.reference)
        reason = self._why_not(issue, address, kind, automatic)
        data = {"to": address, "message": kind, "body": body, "automatic": automatic}
        if once:
            data["once"] = once
        if reason:
            suppressed = TimelineEvent(self._clock(), "email_suppressed", f"not sent: {subject}", actor, data)
            suppressed.data["reason"] = reason
            self._issues.add_event(issue, suppressed)
            return False
        message_id = self._message_ids.new(issue.id)
        headers = self._thread_headers(issue, message_id)
        if automatic:
            headers.update(AUTOMATIC_HEADERS)
        try:
            sent = self._mailer.send([address], subject, body, headers)
        except MailServiceBusy as exc:
            if once and self._delays(issue, once) < BUSY_DELAYS:
                delayed = TimelineEvent(self._clock(), EMAIL_DELAYED, f"to be sent again: {subject}", actor, data)
                delayed.data["reason"] = str(exc)
                self._issues.add_event(issue, delayed)
                raise
            self._failed(issue, subject, actor, data, exc)
            return False
        except UnsendableEmail as exc:
            self._failed(issue, subject, actor, data, exc)
            return False
        # SES gives the email its own Message-ID: the one the customer's reply will name.
        message_id = normalise_message_id(str(sent["Message-ID"]))
        now = self._clock()
        self._mail.add_to_thread(issue.id, ThreadEntry(message_id, OUT, now, self._mailer.sender))
        if automatic:
            self._mail.record_automatic_mail(address, now, now + self._limit.window)
        if kind not in NOT_A_RESPONSE and not self._responded_before(issue):
            self._kpis.record(kpi_events.first_response(issue.id, issue.type_id, issue.channel, issue.created_at, now))
        self._issues.add_event(
            issue, TimelineEvent(now, "email_sent", subject, actor, {**data, "message_id": message_id})
        )
        return True

    def _delays(self, issue: Issue, once: str) -> int:
        return sum(1 for e in self._issues.timeline(issue.id) if e.kind == EMAIL_DELAYED and e.data.get("once") == once)

    def _failed(self, issue: Issue, subject: str, actor: str, data: dict[str, Any], error: Exception) -> None:
        """The email on the timeline as not sent, with why, and counted for ops' alarm."""
        failed = TimelineEvent(self._clock(), "email_failed", f"not sent: {subject}", actor, dict(data))
        failed.data["reason"] = str(error)
        self._issues.add_event(issue, failed)
        self._kpis.measure(measurements.email_failed())

    def _responded_before(self, issue: Issue) -> bool:
        return any(
            e.kind == "email_sent" and e.data.get("message") not in NOT_A_RESPONSE
            for e in self._issues.timeline(issue.id)
        )

    def _why_not(self, issue: Issue, address: str, kind: str, automatic: bool) -> str:
        if self._mail.is_bouncing(address):
            return f"mail to {address} bounces"
        if not automatic:
            return ""
        if kind == ACKNOWLEDGEMENT and issue.auto_reply_blocked:
            return f"no automatic reply to this message: {issue.auto_reply_blocked}"
        sent = self._mail.automatic_mail_count(address, self._clock() - self._limit.window)
        if not self._limit.allows(sent):
            hours = self._limit.window / timedelta(hours=1)
            return f"{address} got {sent} automatic emails in {hours:g} hours (the limit is {self._limit.limit})"
        return ""

    def _thread_headers(self, issue: Issue, message_id: str) -> dict[str, str]:
        """Reply-To the issue's address; In-Reply-To the customer's latest message, or our latest."""
        thread = self._mail.thread(issue.id)
        headers = {"Message-ID": f"<{message_id}>", "Reply-To": self._support.for_issue(issue.reference)}
        received = [entry for entry in thread if entry.direction == IN]
        parent = received[-1] if received else (thread[-1] if thread else None)
        if parent is not None:
            headers["In-Reply-To"] = f"<{parent.message_id}>"
            headers["References"] = " ".join(f"<{e.message_id}>" for e in thread[-_REFERENCES_KEPT:])
        return headers

    def can_reach(self, address: str) -> bool:
        return not self._mail.is_bouncing(address)

    def notify_role(self, issue: Issue, role: str, subject: str, body: str) -> list[str]:
        """Email every member of `role` (or team); returns the addresses reached."""
        return self.notify_addresses(issue, self._directory.role_member_emails(role), subject, body)

    def notify_addresses(self, issue: Issue, addresses: list[str], subject: str, body: str) -> list[str]:
        """Email each address; one not sent is left out of the answer and put on the timeline. SES
        being busy is not retried here: a redelivery would mail the addresses reached again."""
        subject = free_text.normalise(subject, single_line=True)
        reached = []
        for address in addresses:
            try:
                self._mailer.send([address], subject, body, dict(AUTOMATIC_HEADERS))
            except (UnsendableEmail, MailServiceBusy) as exc:
                self._failed(issue, subject, "caseflow", {"to": address, "body": body}, exc)
                continue
            reached.append(address)
        return reached

    def user_email(self, username: str) -> str | None:
        return self._directory.user_email(username)
