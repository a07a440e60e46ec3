"""Loop and bounce protection: which inbound mail may get an automatic answer, and how much
automatic mail one address may get.

Two helpdesks (or a helpdesk and an out-of-office responder) that answer each other's automatic
mail write to each other forever. The rules follow RFC 3834 and what the large mail systems set:
automatic mail is never answered automatically, delivery reports never open issues, and every
address has a cap on automatic mail as the last line of defence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from chalicelib.mail.messages import InboundEmail

#: A person wrote it: it may open an issue, resume a step and get an acknowledgement.
PERSONAL = "personal"
#: An out-of-office or other auto-reply: recorded on its issue, never opens one or resumes a step.
AUTOMATIC = "automatic"
#: A delivery failure: no issue; the failed addresses are marked as bouncing.
BOUNCE = "bounce"
#: Another delivery or read report (delayed, delivered, displayed): kept, nothing else.
REPORT = "report"
#: Mail from one of Caseflow's own addresses: a loop in the making.
OWN = "own"

_SYSTEM_SENDERS = {"mailer-daemon", "postmaster"}
_AUTOMATIC_PRECEDENCE = {"bulk", "list", "junk", "auto_reply"}
#: Delivery status actions that are news, not failures (RFC 3464).
_NOT_FAILED_ACTIONS = {"delayed", "delivered", "relayed", "expanded"}


def _header(email: InboundEmail, name: str) -> str:
    return (email.headers.get(name) or "").strip()


def _is_system_sender(email: InboundEmail) -> bool:
    return email.sender.partition("@")[0] in _SYSTEM_SENDERS


def automatic_reply_blocker(email: InboundEmail, is_own: Callable[[str], bool]) -> str | None:
    """Why this message must get no automatic answer, or None when it may get one."""
    auto_submitted = _header(email, "auto-submitted")
    precedence = _header(email, "precedence").lower()
    checks = (
        (auto_submitted and auto_submitted.lower() != "no", f"Auto-Submitted: {auto_submitted}"),
        (precedence in _AUTOMATIC_PRECEDENCE, f"Precedence: {precedence}"),
        (bool(_header(email, "x-auto-response-suppress")), "X-Auto-Response-Suppress is set"),
        (bool(_header(email, "x-loop")), "X-Loop is set"),
        (bool(_header(email, "x-autoreply") or _header(email, "x-autorespond")), "marked as an auto-reply"),
        (bool(_header(email, "list-id")), "sent by a mailing list"),
        (email.return_path == "", "null return path"),
        (_is_system_sender(email), f"sent by {email.sender}"),
        (not email.sender, "no sender"),
        (bool(email.sender) and is_own(email.sender), "sent from one of our own addresses"),
        (email.content_type == "multipart/report", "a delivery or read report"),
    )
    return next((reason for blocked, reason in checks if blocked), None)


def kind_of(email: InboundEmail, is_own: Callable[[str], bool]) -> str:
    """What an inbound message is, for deciding whether it may open an issue."""
    if email.sender and is_own(email.sender):
        return OWN
    if email.report is not None:
        if email.report.failed_recipients:
            return BOUNCE
        if email.report.action in _NOT_FAILED_ACTIONS or not _is_system_sender(email):
            return REPORT
        return BOUNCE
    if email.content_type == "multipart/report":
        return REPORT
    if _is_system_sender(email):
        return BOUNCE
    auto_submitted = _header(email, "auto-submitted").lower()
    if (
        (auto_submitted and auto_submitted != "no")
        or _header(email, "x-autoreply")
        or _header(email, "x-autorespond")
        or _header(email, "precedence").lower() == "auto_reply"
    ):
        return AUTOMATIC
    return PERSONAL


@dataclass(frozen=True)
class AutomaticMailLimit:
    """At most `limit` automatic emails to one address per `window` (e.g. 10 in 24 hours)."""

    limit: int = 10
    window: timedelta = timedelta(hours=24)

    def allows(self, sent_in_window: int) -> bool:
        return sent_in_window < self.limit
