"""The email channel on moto: SES's inbound event, threading, loops and bounces, agent replies."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import boto3

from chalicelib import settings
from chalicelib.adapters.ses import UNFOLDED
from tests.integration.conftest import sent_messages

SUPPORT = "support@caseflow.test"
#: A delivery status notification (RFC 3464) for the acknowledgement sent to gone@example.com.
BOUNCE = """\
From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: support@caseflow.test
Subject: Undelivered Mail Returned to Sender
Return-Path: <>
Message-ID: <bounce-1@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

Your message could not be delivered to gone@example.com.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; gone@example.com
Action: failed
Status: 5.1.1

--b1
Content-Type: text/rfc822-headers

Message-ID: {message_id}
Subject: {subject}

--b1--
"""
CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"


def email(
    sender: str,
    subject: str,
    body: str,
    *,
    to: str = SUPPORT,
    in_reply_to: str | None = None,
    message_id: str | None = None,
    **headers: str,
) -> tuple[bytes, str]:
    message = EmailMessage(policy=UNFOLDED)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="example.com")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes(), message["Message-ID"]


def timeline_kinds(stack, issue_id: str) -> list[str]:
    return [event["kind"] for event in stack.issue(issue_id)["timeline"]]


def acknowledgement_for(stack, address: str) -> EmailMessage:
    return stack.pump_until(lambda: next(iter(sent_messages(address)), None), what=f"the acknowledgement to {address}")


def open_by_email(stack, sender: str, subject: str = "Gift card balance", body: str = "How do I check it?"):
    raw, message_id = email(sender, subject, body)
    received = stack.deliver_email(raw)
    assert received["outcome"] == "opened", received
    return received, message_id


def test_a_new_email_opens_an_issue_and_the_acknowledgement_asks_for_replies_on_its_thread(stack):
    received, message_id = open_by_email(stack, "Nora Quinn <Nora.Quinn@Example.com>")
    issue = stack.issue(received["issue_id"])
    assert issue["type"] == "general-enquiry" and issue["channel"] == "email"
    assert issue["customer"]["email"] == "nora.quinn@example.com" and issue["customer"]["name"] == "Nora Quinn"
    assert issue["fields"] == {"subject": "Gift card balance", "message": "How do I check it?"}
    opened = issue["timeline"][0]
    assert opened["kind"] == "issue_opened" and opened["data"]["email"]["message_id"] == message_id.strip("<>")

    ack = acknowledgement_for(stack, "nora.quinn@example.com")
    assert received["reference"] in ack["Subject"] and ack["Subject"].startswith("Re: Gift card balance")
    assert ack["Reply-To"] == f"support+{received['reference']}@caseflow.test"
    assert ack["In-Reply-To"] == message_id and ack["Auto-Submitted"] == "auto-replied"
    # SES replaces our Message-ID with its own: the timeline names the one the customer's reply will.
    [sent] = [e for e in stack.issue(received["issue_id"])["timeline"] if e["kind"] == "email_sent"]
    assert ack["Message-ID"] == f"<{sent['data']['message_id']}>" and ack["Message-ID"].endswith(".amazonses.com>")


def test_replies_thread_by_address_by_headers_and_by_subject_only_for_the_customer(stack):
    received, _ = open_by_email(stack, "ivy@example.com")
    issue_id, reference = received["issue_id"], received["reference"]
    ack = acknowledgement_for(stack, "ivy@example.com")

    by_address, _ = email("ivy@example.com", "Re: whatever", "First follow-up", to=ack["Reply-To"])
    by_headers, _ = email("ivy@example.com", "Re: Gift card balance", "Second follow-up", in_reply_to=ack["Message-ID"])
    by_subject, _ = email("ivy@example.com", f"AW: SV: question {reference}", "Third follow-up")
    for raw, layer in ((by_address, "address"), (by_headers, "headers"), (by_subject, "subject")):
        assert stack.deliver_email(raw)["issue_id"] == issue_id, layer
    texts = [e["text"] for e in stack.issue(issue_id)["timeline"] if e["kind"] == "customer_message"]
    assert texts == ["First follow-up", "Second follow-up", "Third follow-up"]

    spoofed, _ = email("mallory@example.org", f"Re: {reference}", "Let me in")
    stranger = stack.deliver_email(spoofed)
    assert stranger["outcome"] == "opened" and stranger["issue_id"] != issue_id
    forged, _ = email("ivy@example.com", f"Re: {reference}", "Forged sender")
    unverified = stack.deliver_email(forged, dmarc="FAIL")
    assert unverified["outcome"] == "opened" and unverified["issue_id"] != issue_id
    fake_id = f"<cf.{issue_id.lower()}.0011223344.aaaaaaaaaaaaaaaaaaaa@caseflow.test>"
    invented, _ = email("mallory@example.org", "Hello", "Invented Message-ID", in_reply_to=fake_id)
    assert stack.deliver_email(invented)["issue_id"] != issue_id


def test_the_same_message_delivered_twice_is_filed_once(stack):
    raw, _ = email("twice@example.com", "Delivered twice", "Only once please")
    first = stack.deliver_email(raw, ses_id="ses-twice-1")
    again = stack.deliver_email(raw, ses_id="ses-twice-1")
    copy = stack.deliver_email(raw, ses_id="ses-twice-2")
    assert first["outcome"] == "opened" and again["outcome"] == copy["outcome"] == "duplicate"
    assert again["issue_id"] == copy["issue_id"] == first["issue_id"]
    acknowledgement_for(stack, "twice@example.com")

    reply, _ = email("twice@example.com", f"Re: {first['reference']}", "One reply")
    assert stack.deliver_email(reply, ses_id="ses-twice-3")["outcome"] == "threaded"
    assert stack.deliver_email(reply, ses_id="ses-twice-3")["outcome"] == "threaded"
    assert stack.deliver_email(reply, ses_id="ses-twice-4")["outcome"] == "threaded"
    assert timeline_kinds(stack, first["issue_id"]).count("customer_message") == 1
    assert len(sent_messages("twice@example.com")) == 1


def test_an_agent_reply_is_emailed_in_the_thread_and_the_customers_answer_resumes_the_waiting_step(stack):
    received, _ = open_by_email(stack, "omid@example.com", "Opening hours", "When do you open on Sunday?")
    issue_id = received["issue_id"]
    ack = acknowledgement_for(stack, "omid@example.com")

    reply = stack.post(f"/agent/issues/{issue_id}/replies", {"body": "Which store do you mean?"}, stack.token("alice"))
    assert reply.status_code == 201, reply.body
    sent = sent_messages("omid@example.com")[-1]
    assert sent["Subject"] == f"Re: Opening hours [{received['reference']}]"
    assert sent["Auto-Submitted"] is None and sent.get_content().startswith("Which store do you mean?")
    assert sent["Reply-To"] == ack["Reply-To"]
    empty = stack.post(f"/agent/issues/{issue_id}/replies", {"body": "  "}, stack.token("alice"))
    assert empty.status_code == 400 and empty.json_body["errors"][0]["field"] == "body"

    task = stack.pump_until(lambda: stack.task_for("alice", issue_id, "answer"), what="the answer task")
    done = stack.post(
        f"/agent/tasks/{task['id']}/complete",
        {"fields": {"answer": "Please tell us the store.", "needs_follow_up": True}},
        stack.token("alice"),
    )
    assert done.status_code == 200, done.body
    stack.pump_until(
        lambda: any(t["step"] == "await_reply" for t in stack.issue(issue_id)["tasks"]), what="the wait for a reply"
    )
    answer_mail = sent_messages("omid@example.com")[-1]
    customer_answer, _ = email(
        "omid@example.com",
        f"Re: {answer_mail['Subject']}",
        "Leeds Briggate, thanks!\n\n> Please tell us the store.",
        in_reply_to=answer_mail["Message-ID"],
    )
    assert stack.deliver_email(customer_answer)["outcome"] == "threaded"
    follow_up = stack.pump_until(lambda: stack.task_for("alice", issue_id, "follow_up"), what="the follow-up task")
    assert follow_up["status"] == "open"
    waited = next(t for t in stack.issue(issue_id)["tasks"] if t["step"] == "await_reply")
    assert waited["status"] == "completed" and waited["fields"] == {"reply": "Leeds Briggate, thanks!"}


def test_an_out_of_office_reply_is_recorded_and_answered_by_nothing(stack):
    received, _ = open_by_email(stack, "away@example.com")
    ack = acknowledgement_for(stack, "away@example.com")
    raw, _ = email(
        "away@example.com",
        "Automatic reply: Gift card balance",
        "I am out of the office until Monday.",
        in_reply_to=ack["Message-ID"],
        Auto_Submitted="auto-replied",
    )
    assert stack.deliver_email(raw)["outcome"] == "automatic"
    stack.pump()
    assert "automatic_message" in timeline_kinds(stack, received["issue_id"])
    assert len(sent_messages("away@example.com")) == 1

    stray, _ = email("robot@example.org", "Out of office", "Away", X_Autoreply="yes")
    kept = stack.deliver_email(stray)
    assert kept["outcome"] == "quarantined" and "automatic reply" in kept["reason"]


def test_mail_that_must_not_be_answered_opens_an_issue_without_an_acknowledgement(stack):
    raw, _ = email("newsletter@example.net", "Our spring offers", "Buy now", Precedence="bulk")
    received = stack.deliver_email(raw)
    assert received["outcome"] == "opened"
    stack.pump_until(
        lambda: "email_suppressed" in timeline_kinds(stack, received["issue_id"]), what="the suppressed acknowledgement"
    )
    assert sent_messages("newsletter@example.net") == []


def test_a_bounce_opens_nothing_marks_the_address_and_stops_mail_to_it(stack):
    received, _ = open_by_email(stack, "gone@example.com")
    ack = acknowledgement_for(stack, "gone@example.com")
    bounce = BOUNCE.format(message_id=ack["Message-ID"], subject=ack["Subject"]).encode()
    kept = stack.deliver_email(bounce)
    assert kept["outcome"] == "bounce" and kept["issue_id"] == received["issue_id"]
    assert "delivery_failed" in timeline_kinds(stack, received["issue_id"])

    reply = stack.post(f"/agent/issues/{received['issue_id']}/replies", {"body": "Hello?"}, stack.token("alice"))
    assert reply.status_code == 409 and "bounces" in reply.json_body["message"]
    assert len(sent_messages("gone@example.com")) == 1


def test_unreadable_spam_stray_and_looping_mail_is_quarantined_and_listed_for_admins(stack):
    spam, _ = email("spammer@example.biz", "You won", "Click here")
    looped, _ = email(SUPPORT, "Re: We have received your report", "Our own mail came back")
    stray, _ = email("someone@example.com", "Hello", "Wrong address", to="sales@caseflow.test")
    outcomes = [
        stack.deliver_email(b"", ses_id="ses-empty-message"),
        stack.deliver_email(spam, spam="FAIL"),
        stack.deliver_email(looped),
        stack.deliver_email(stray, recipients=["sales@caseflow.test"]),
    ]
    assert [o["outcome"] for o in outcomes] == ["quarantined"] * 4
    assert "unparseable" in outcomes[0]["reason"] and "spam" in outcomes[1]["reason"]

    listed = stack.get("/admin/quarantine", stack.token("ada"))
    assert listed.status_code == 200
    reasons = {m["ses_id"]: m for m in listed.json_body["messages"]}
    assert reasons["ses-empty-message"]["raw_key"] == "inbound/ses-empty-message"
    assert stack.get("/admin/quarantine", stack.token("alice")).status_code == 403
    kept = boto3.client("s3").get_object(Bucket=settings.get().mail_bucket, Key="inbound/ses-empty-message")
    assert kept["Body"].read() == b""


def test_attachments_are_kept_in_s3_and_agents_get_a_short_lived_link(stack):
    message = EmailMessage()
    message["From"] = "photos@example.com"
    message["To"] = SUPPORT
    message["Subject"] = "Broken lamp"
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content("See the photo.")
    message.add_attachment(b"\x89PNG\r\n\x1a\n" + b"0" * 2000, maintype="image", subtype="png", filename="lamp (1).png")
    received = stack.deliver_email(message.as_bytes())
    attachment = stack.issue(received["issue_id"])["timeline"][0]["data"]["email"]["attachments"][0]
    assert attachment["name"] == "lamp (1).png" and attachment["content_type"] == "image/png"
    assert attachment["size"] == 2008

    link = stack.get(f"/agent/issues/{received['issue_id']}/attachments?key={attachment['key']}", stack.token("alice"))
    assert link.status_code == 200 and link.json_body["expires_in"] == 300 and "Signature" in link.json_body["url"]
    other = stack.get(f"/agent/issues/{received['issue_id']}/attachments?key=inbound/x", stack.token("alice"))
    assert other.status_code == 404


def resolved_by_email(stack, address: str) -> dict:
    """An issue opened by email and answered at once, so that it is resolved."""
    received, _ = open_by_email(stack, address)
    issue_id = received["issue_id"]
    task = stack.pump_until(lambda: stack.task_for("alice", issue_id, "answer"), what="the answer task")
    stack.post(
        f"/agent/tasks/{task['id']}/complete",
        {"fields": {"answer": "Online, under My account.", "needs_follow_up": False}},
        stack.token("alice"),
    )
    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="resolution")
    return received


def test_a_reply_to_a_resolved_issue_opens_a_follow_up_linked_to_it(stack):
    received = resolved_by_email(stack, "later@example.com")
    issue_id = received["issue_id"]
    from chalicelib.adapters.dynamodb.issues import IssueRepository

    repository = IssueRepository()
    stored = repository.get(issue_id)
    repository.save(replace(stored, resolved_at=datetime.now(UTC) - timedelta(days=8)))
    raw, _ = email("later@example.com", f"Re: Gift card balance [{received['reference']}]", "It does not work")
    follow_up = stack.deliver_email(raw)
    assert follow_up["outcome"] == "opened" and follow_up["issue_id"] != issue_id
    assert stack.issue(follow_up["issue_id"])["timeline"][0]["data"]["email"]["follows"] == received["reference"]
    assert "follow_up_opened" in timeline_kinds(stack, issue_id)


def test_a_reply_within_a_week_of_resolution_reopens_the_issue(stack):
    received = resolved_by_email(stack, "again@example.com")
    issue_id = received["issue_id"]
    raw, _ = email("again@example.com", f"Re: Gift card balance [{received['reference']}]", "Still broken")
    reply = stack.deliver_email(raw)
    assert reply["outcome"] == "reopened" and reply["issue_id"] == issue_id
    assert stack.deliver_email(raw, ses_id=None)["issue_id"] == issue_id
    assert timeline_kinds(stack, issue_id).count("issue_reopened") == 1
    stack.pump_until(lambda: stack.task_for("alice", issue_id, "answer"), what="the answer task of the second run")


def test_automatic_mail_to_one_address_is_capped(stack):
    address = "busy@example.com"
    for n in range(11):
        raw, _ = email(address, f"Question number {n}", "Another one")
        assert stack.deliver_email(raw)["outcome"] == "opened"
    stack.pump_until(lambda: len(sent_messages(address)) >= 10, what="ten acknowledgements")
    stack.pump()
    stack.pump()
    assert len(sent_messages(address)) == 10


def test_every_message_of_the_corpus_is_filed_and_none_is_lost(stack):
    outcomes = {}
    for path in sorted(CORPUS.glob("*.eml")):
        received = stack.deliver_email(path.read_bytes(), ses_id=f"corpus-{path.stem}")
        outcomes[path.stem] = received["outcome"]
    assert outcomes and set(outcomes.values()) <= {"opened", "threaded", "quarantined", "bounce", "automatic", "report"}
    kept = {m["ses_id"] for m in stack.get("/admin/quarantine", stack.token("ada")).json_body["messages"]}
    for name, outcome in outcomes.items():
        if outcome in ("quarantined",):
            assert f"corpus-{name}" in kept, name
