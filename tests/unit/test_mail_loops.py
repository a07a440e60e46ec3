"""Loop and bounce protection without AWS: which mail may be answered, what each message is, the cap."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.mail import loops
from chalicelib.mail.loops import AutomaticMailLimit, automatic_reply_blocker, kind_of
from chalicelib.mail.messages import parse_email

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
OWN = {"support@caseflow.test"}


def is_own(address: str) -> bool:
    return address in OWN


def message(*headers: str, sender: str = "ivy@example.com", body: str = "Hello") -> bytes:
    lines = [f"From: {sender}", "To: support@caseflow.test", "Subject: Hi", "Message-ID: <m1@example.com>", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


@pytest.mark.parametrize(
    ("headers", "sender", "reason"),
    [
        (["Auto-Submitted: auto-replied"], "ivy@example.com", "Auto-Submitted: auto-replied"),
        (["Auto-Submitted: auto-generated"], "ivy@example.com", "Auto-Submitted: auto-generated"),
        (["Precedence: bulk"], "ivy@example.com", "Precedence: bulk"),
        (["Precedence: junk"], "ivy@example.com", "Precedence: junk"),
        (["X-Auto-Response-Suppress: OOF, AutoReply"], "ivy@example.com", "X-Auto-Response-Suppress is set"),
        (["X-Loop: helpdesk@example.org"], "ivy@example.com", "X-Loop is set"),
        (["Return-Path: <>"], "ivy@example.com", "null return path"),
        ([], "MAILER-DAEMON@mx.example.com", "sent by mailer-daemon@mx.example.com"),
        ([], "postmaster@example.com", "sent by postmaster@example.com"),
        ([], "support@caseflow.test", "sent from one of our own addresses"),
        (["List-Id: <news.example.com>"], "ivy@example.com", "sent by a mailing list"),
    ],
)
def test_no_automatic_reply_to_automatic_or_looping_mail(headers, sender, reason):
    assert automatic_reply_blocker(parse_email(message(*headers, sender=sender)), is_own) == reason


def test_a_person_writing_normally_may_get_an_acknowledgement():
    assert automatic_reply_blocker(parse_email(message("Auto-Submitted: no")), is_own) is None
    assert kind_of(parse_email(message("Auto-Submitted: no")), is_own) == loops.PERSONAL


@pytest.mark.parametrize(
    ("headers", "sender", "kind"),
    [
        (["Auto-Submitted: auto-replied"], "ivy@example.com", loops.AUTOMATIC),
        (["X-Autoreply: yes"], "ivy@example.com", loops.AUTOMATIC),
        (["Precedence: auto_reply"], "ivy@example.com", loops.AUTOMATIC),
        (["Precedence: bulk"], "ivy@example.com", loops.PERSONAL),
        ([], "postmaster@example.com", loops.BOUNCE),
        ([], "support@caseflow.test", loops.OWN),
    ],
)
def test_what_a_message_is(headers, sender, kind):
    assert kind_of(parse_email(message(*headers, sender=sender)), is_own) == kind


def test_the_corpus_bounce_and_out_of_office_are_recognised():
    kinds = {path.stem: kind_of(parse_email(path.read_bytes()), is_own) for path in CORPUS.glob("*.eml")
             if path.stem.startswith(("bounce", "auto", "ooo", "out-of-office"))}
    assert loops.BOUNCE in kinds.values() and loops.AUTOMATIC in kinds.values(), kinds


def test_a_delayed_delivery_report_is_news_not_a_bounce():
    report = (
        b"From: MAILER-DAEMON@mx.example.com\r\nTo: support@caseflow.test\r\nSubject: Delayed Mail\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nStill trying.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        b"Final-Recipient: rfc822; slow@example.com\r\nAction: delayed\r\nStatus: 4.4.1\r\n\r\n--b--\r\n"
    )
    assert kind_of(parse_email(report), is_own) == loops.REPORT


def test_the_cap_allows_up_to_its_limit_in_the_window():
    limit = AutomaticMailLimit(limit=3)
    assert [limit.allows(sent) for sent in range(5)] == [True, True, True, False, False]
    assert AutomaticMailLimit().limit == 10 and AutomaticMailLimit().window.total_seconds() == 24 * 3600
