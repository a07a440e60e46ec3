"""Emails to customers and to the members of a role, each recorded on the issue's timeline."""

from __future__ import annotations

from chalicelib.domain.issues import Customer, Issue, TimelineEvent
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.ports import Directory, IssueRepository, Mailer

#: RFC 3834: marks our automatic mail so that other systems don't answer it.
AUTOMATIC_HEADERS = {"Auto-Submitted": "auto-replied"}


class NotificationService:
    def __init__(self, issues: IssueRepository, mailer: Mailer, directory: Directory, clock: Clock = utc_now):
        self._issues = issues
        self._mailer = mailer
        self._directory = directory
        self._clock = clock

    def email_customer(self, issue: Issue, customer: Customer, subject: str, body: str, kind: str) -> None:
        """Send `body` to the customer; `kind` names the message on the timeline (e.g. outcome)."""
        self._mailer.send([customer.email], subject, body, dict(AUTOMATIC_HEADERS))
        self._issues.add_event(
            issue,
            TimelineEvent(
                self._clock(),
                "email_sent",
                subject,
                actor="caseflow",
                data={"to": customer.email, "message": kind, "body": body},
            ),
        )

    def notify_role(self, issue: Issue, role: str, subject: str, body: str) -> list[str]:
        """Email every member of `role` (or team); returns the addresses reached."""
        return self.notify_addresses(issue, self._directory.role_member_emails(role), subject, body)

    def notify_addresses(self, issue: Issue, addresses: list[str], subject: str, body: str) -> list[str]:
        for address in addresses:
            self._mailer.send([address], subject, body, dict(AUTOMATIC_HEADERS))
        return addresses

    def user_email(self, username: str) -> str | None:
        return self._directory.user_email(username)
