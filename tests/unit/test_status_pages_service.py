"""The customer's status page, on fakes of the ports: what they see of their issue, and what they can
do there (reply, upload a photo, ask for a new link)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.errors import ValidationFailed
from chalicelib.web_tokens.signed_links import LinkInvalid
from chalicelib.workflows import compiler
from tests.unit.wiring import World, world

ENQUIRY = {
    "type": "general-enquiry",
    "customer": {"email": "ada@example.com", "name": "Ada"},
    "fields": {"subject": "Opening hours", "message": "Are you open on Sunday?"},
}
DAMAGE = {
    "type": "damaged-product",
    "customer": {"email": "ada@example.com", "name": "Ada"},
    "fields": {"order_number": "AB123456", "product": "Kettle", "damage": "The lid is cracked.", "wanted": "refund"},
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100


def _token(w: World, issue_id: str) -> str:
    return w.services.status_links.link_for(issue_id).rpartition("/s/")[2]


def test_the_page_shows_the_step_the_report_and_our_emails_but_nothing_internal():
    w = world()
    issue = w.services.intake.open_issue(ENQUIRY).issue
    w.workflow_says(issue.id, compiler.KIND_OPEN, step="answer")
    w.clock.advance(timedelta(minutes=30))
    w.services.replies.reply(issue.id, "We are open from 10 to 4.", w.agent("sam"))

    page = w.services.status_pages.view(_token(w, issue.id))
    assert (page["reference"], page["status"], page["resolved"]) == (issue.reference, "open", False)
    assert page["current_step"] == "Our team is answering your question"
    assert page["waiting_for_customer"] is False
    assert page["expected_by"] > w.tasks.get(issue.id, "answer").due_at, "the later timed steps count too"
    # In the customer's words: what they told us, where their issue went, that we wrote (they have the email).
    assert [(e["who"], e["title"], e["text"]) for e in page["timeline"]] == [
        ("you", "You reported the issue", page["timeline"][0]["text"]),
        ("us", "Our team is answering your question", ""),
        ("us", "We wrote to you", f"Re: Opening hours [{issue.reference}]"),
    ]
    assert "Are you open on Sunday?" in page["timeline"][0]["text"]
    shown = repr(page["timeline"])
    assert "We are open from 10 to 4." not in shown, "an email is not repeated whole"
    assert "sam" not in shown and "assigned" not in shown, "who holds the task is internal"


def test_a_reply_on_the_page_resumes_the_step_waiting_for_the_customer():
    w = world()
    issue = w.services.intake.open_issue(ENQUIRY).issue
    w.workflow_says(issue.id, compiler.KIND_OPEN, step="await_reply")
    token = w.workflow_says(issue.id, compiler.KIND_WAIT, step="await_reply", checkpoint=0)
    page = w.services.status_pages.view(_token(w, issue.id))
    assert page["waiting_for_customer"] and page["current_step"] == "Waiting for your reply"

    answer = w.services.status_pages.reply(_token(w, issue.id), "It is order AB123456.")
    assert answer == {"resumed_step": "await_reply"}
    assert w.tasks.get(issue.id, "await_reply").status == "completed"
    [(resumed, output)] = [s for s in w.engine.successes if s[0] == token]
    # The execution carries only what a Choice reads (decision 0036); the reply itself stays on the task.
    assert "It is order AB123456." not in str(output)
    assert w.tasks.get(issue.id, "await_reply").fields["reply"] == "It is order AB123456."
    [message] = w.issues.events(issue.id, "customer_message")
    assert (message.text, message.actor, message.data["channel"]) == ("It is order AB123456.", "ada@example.com", "web")


def test_a_photo_uploaded_from_the_page_is_added_and_a_file_that_is_no_image_is_refused_and_deleted():
    w = world()
    issue = w.services.intake.open_issue(DAMAGE).issue
    token = _token(w, issue.id)
    upload = w.services.status_pages.view(token)["upload"]
    assert upload["label"] == "Photos of the damage"

    photo = upload["fields"]["key"]
    w.store.write(photo, PNG, "image/png")
    assert w.services.status_pages.record_upload(token, photo) == {"key": photo, "recorded": True}
    assert w.services.status_pages.record_upload(token, photo) == {"key": photo, "recorded": False}
    [added] = w.issues.events(issue.id, "attachment_added")
    assert added.data["attachments"][0]["content_type"] == "image/png"

    script = w.services.status_pages.view(token)["upload"]["fields"]["key"]
    w.store.write(script, b"#!/bin/sh\nrm -rf /\n", "image/png")  # the browser's claim is not believed
    with pytest.raises(ValidationFailed, match="not accepted"):
        w.services.status_pages.record_upload(token, script)
    assert w.store.head(script, 8) is None and w.store.head(photo, 8) is not None


def test_a_forged_or_foreign_link_shows_nothing():
    w = world()
    issue = w.services.intake.open_issue(ENQUIRY).issue
    with pytest.raises(LinkInvalid):
        w.services.status_pages.view(_token(w, issue.id)[:-2] + "xx")
    survey_link = w.services.surveys.link(issue.id, "csat", 5).rpartition("/survey/")[2]
    with pytest.raises(LinkInvalid):
        w.services.status_pages.view(survey_link)


def test_asking_for_a_new_link_emails_the_latest_issues_link_and_says_nothing_to_strangers():
    w = world()
    w.services.intake.open_issue(ENQUIRY)
    w.clock.advance(timedelta(days=1))
    latest = w.services.intake.open_issue(DAMAGE).issue

    w.services.status_pages.send_new_link("ADA@example.com")
    w.services.status_pages.send_new_link("stranger@example.com")
    [sent] = w.mailer.sent
    assert sent.to == ["ada@example.com"] and latest.reference in sent.subject
    link = next(line for line in sent.body.splitlines() if "/s/" in line)
    assert w.services.status_pages.view(link.rpartition("/s/")[2])["reference"] == latest.reference
