"""Agents' replies and Caseflow's emails, on fakes of the ports: what the customer gets, and what the
timeline says when an email could not go out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.services.records import ThreadEntry
from tests.unit.wiring import World, world

REPORT = {
    "type": "general-enquiry",
    "customer": {"email": "ada@example.com", "name": "Ada"},
    "fields": {"subject": "Opening hours", "message": "Are you open on Sunday?"},
}


def _opened(w: World):
    return w.services.intake.open_issue(REPORT).issue


def test_an_agents_reply_is_emailed_in_the_issues_thread_and_put_on_the_timeline():
    w = world()
    issue = _opened(w)
    answer = w.services.replies.reply(issue.id, "Yes, from 10 to 4.", w.agent("sam"))

    assert answer["sent"] and answer["to"] == "ada@example.com"
    [sent] = w.mailer.to("ada@example.com")
    assert sent.subject == f"Re: Opening hours [{issue.reference}]"
    assert sent.body == "Yes, from 10 to 4.\n"
    assert sent.message["Reply-To"] == f"support+{issue.reference}@caseflow.test"
    assert sent.message["Auto-Submitted"] is None, "an agent's reply is not automatic mail"
    [event] = w.issues.events(issue.id, "email_sent")
    assert (event.actor, event.data["message"], event.data["body"]) == ("sam", "agent_reply", "Yes, from 10 to 4.\n")
    [entry] = w.mail.thread(issue.id)
    assert entry.direction == "out" and sent.message["Message-ID"] == f"<{entry.message_id}>"


def test_a_reply_answers_the_customers_latest_message():
    w = world()
    issue = _opened(w)
    w.mail.add_to_thread(issue.id, ThreadEntry("first@mail.example", "in", w.clock(), "ada@example.com"))
    w.clock.advance(timedelta(minutes=5))
    w.mail.add_to_thread(issue.id, ThreadEntry("second@mail.example", "in", w.clock(), "ada@example.com"))

    w.services.replies.reply(issue.id, "Thanks, noted.", w.agent("sam"))
    [sent] = w.mailer.sent
    assert sent.message["In-Reply-To"] == "<second@mail.example>"
    assert sent.message["References"] == "<first@mail.example> <second@mail.example>"


def test_no_reply_goes_to_a_bouncing_address():
    w = world()
    issue = _opened(w)
    w.mail.mark_bouncing("ada@example.com", w.clock(), "550 mailbox unavailable")

    with pytest.raises(Conflict, match="bounces"):
        w.services.replies.reply(issue.id, "Hello?", w.agent("sam"))
    assert w.mailer.sent == [] and w.issues.events(issue.id, "email_sent") == []


def test_an_automatic_email_to_a_bouncing_address_is_suppressed_and_the_timeline_says_why():
    w = world()
    issue = _opened(w)
    customer = w.issues.customer(issue.customer_id)
    w.mail.mark_bouncing(customer.email, w.clock(), "550 mailbox unavailable")

    assert not w.notifications.email_customer(issue, customer, "Hello", "Body", "reminder")
    [suppressed] = w.issues.events(issue.id, "email_suppressed")
    assert "bounces" in suppressed.data["reason"] and w.mailer.sent == []


def test_an_email_the_mailer_cannot_send_is_recorded_as_failed_and_the_process_carries_on():
    w = world()
    issue = _opened(w)
    customer = w.issues.customer(issue.customer_id)
    w.mailer.refuse.add(customer.email)

    notifications = w.notifications
    assert notifications.email_customer(issue, customer, "Your answer", "Yes.", "agent_reply", automatic=False) is False
    [failed] = w.issues.events(issue.id, "email_failed")
    assert failed.text == f"not sent: Your answer [{issue.reference}]" and "refused" in failed.data["reason"]
    assert w.mail.thread(issue.id) == [] and w.issues.events(issue.id, "email_sent") == []


def test_automatic_emails_stop_at_the_cap_per_address():
    w = world()
    issue = _opened(w)
    customer = w.issues.customer(issue.customer_id)
    notifications = w.notifications
    limit = w.config.automatic_mail_limit

    sent = [
        notifications.email_customer(issue, customer, f"Reminder {n}", "Body", "reminder") for n in range(limit + 2)
    ]
    assert sent == [True] * limit + [False, False]
    assert len(w.mailer.to(customer.email)) == limit
    assert len(w.issues.events(issue.id, "email_suppressed")) == 2


def test_a_role_is_emailed_at_each_members_address_and_an_unsendable_one_is_on_the_timeline():
    w = world()
    issue = _opened(w)
    w.directory.add("sam", "sam@caseflow.test", "hr")
    w.directory.add("kim", "kim@caseflow.test", "hr")
    w.directory.add("lee", "lee@caseflow.test", "finance")
    w.mailer.refuse.add("kim@caseflow.test")

    reached = w.notifications.notify_role(issue, "hr", "New task", "Please look")
    assert reached == ["sam@caseflow.test"]
    assert [m.to for m in w.mailer.sent] == [["sam@caseflow.test"]]
    [failed] = w.issues.events(issue.id, "email_failed")
    assert failed.data["to"] == "kim@caseflow.test"
