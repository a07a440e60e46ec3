"""The embedded stack as a user meets it: `python -m chalicelib.local` on free ports, driven over HTTP
and SMTP by the harness (`harness.Embedded`).

One stack serves the module: it takes a few seconds to start.
"""

from __future__ import annotations

import re
import smtplib
import socket
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from harness import Embedded

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def running():
    embedded = Embedded()
    try:
        with embedded:
            print(f"embedded stack started in {embedded.started_in:.1f} s")
            yield embedded
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", embedded.aws_port)) != 0, "the moto server outlived Ctrl-C"
        assert embedded.exit_code == 0, embedded.log_text()[-3000:]
    finally:
        embedded.cleanup()


def test_a_newcomer_files_a_report_and_two_agents_resolve_it(running):
    demo = running.open_issue("demo-quick", {"summary": "Watch me"}, "watcher@example.com", name=None)
    assert demo.status_code == 201, demo.text
    fields = {
        "store": "leeds-briggate",
        "incident_date": date.today().isoformat(),
        "what_happened": "The cashier laughed at my question.",
    }
    opened = running.open_issue("rude-staff", fields, "newcomer@example.com", "Nia", **{"Idempotency-Key": "e2e-1"})
    assert opened.status_code == 201, opened.text
    issue_id, reference = opened.json()["id"], opened.json()["reference"]

    task = running.wait_for_task("sam", issue_id, timeout=20)
    running.complete("sam", task, {"manager_opinion": "The cashier apologises."})

    hr_task = running.wait_for_task("hana", issue_id, timeout=20)
    running.complete("hana", hr_task, {"decision": "coaching", "notes": "Coaching is booked."})

    def outcome():
        return next((m for m in running.outbox_messages() if m["subject"].endswith("our decision")), None)

    message = running.wait_for(outcome, 20, "the outcome email")
    assert message["to"] == "newcomer@example.com" and reference in message["subject"]
    text = Path(message["path"]).read_text()
    assert "Coaching for the employee" in text and "Coaching is booked." in text
    running.wait_for(lambda: running.issue(issue_id, "hana")["status"] == "resolved", 20, "resolution")

    # demo-quick's first deadline (20 s) passes while the rest happened: the task moves up.
    demo_id = demo.json()["id"]
    escalated = running.wait_for(lambda: running.task_for("sam", demo_id), 40, "demo-quick's escalation")
    assert escalated["escalation_level"] == 1 and escalated["role"] == "store-manager"
    running.wait_for(
        lambda: any(
            m["subject"].startswith("Escalated to you") and m["to"] == "sam@agents.caseflow.test"
            for m in running.outbox_messages()
        ),
        10,
        "the escalation email to sam",
    )


ADMIN_DEFINED = {
    "id": "window-repair",
    "name": "Broken shop window",
    "description": "Defined by an admin through the API while the stack runs.",
    "fields": [{"id": "shop", "type": "text", "required": True}],
    "steps": [
        {
            "id": "board_up",
            "name": "Board up the window",
            "role": "logistics",
            "calendar": "always-open",
            "deadline": "PT6S",
            "warnings": [50],
            "fields": [{"id": "done_by", "type": "text", "required": True}],
            "escalation": [
                {"after": "PT0S", "reassign": "logistics-lead"},
                {"after": "PT4S", "notify": ["regional-manager"], "raise_priority": True},
            ],
        }
    ],
    "calendars": {"always-open": {"timezone": "Europe/London", "hours": {"mon-sun": "00:00-24:00"}}},
}


def test_an_admin_defines_a_type_and_watches_its_warning_and_escalations(running):
    ada = running.token("ada")
    dry_run = running.post("/admin/issue-types/validate", ADMIN_DEFINED, ada)
    assert dry_run.status_code == 200, dry_run.text
    created = running.put(f"/admin/issue-types/{ADMIN_DEFINED['id']}", ADMIN_DEFINED, ada)
    assert created.status_code == 201 and created.json()["version"] == 1, created.text

    opened = running.open_issue("window-repair", {"shop": "Leeds"}, "shop@example.com", name=None)
    assert opened.status_code == 201, opened.text
    issue_id = opened.json()["id"]

    def timeline():
        return running.issue(issue_id, "ada")["timeline"]

    running.wait_for(lambda: sum(e["kind"] == "escalated" for e in timeline()) == 2, 40, "two escalation levels")
    events = timeline()
    opening = next(e for e in events if e["kind"] == "task_opened")
    warning_at, deadline_at, level_2_at = (datetime.fromisoformat(m) for m in opening["data"]["checkpoints"])
    happened = {
        "warning": next(e for e in events if e["kind"] == "sla_warning"),
        "level 1": [e for e in events if e["kind"] == "escalated"][0],
        "level 2": [e for e in events if e["kind"] == "escalated"][1],
    }
    planned = {"warning": warning_at, "level 1": deadline_at, "level 2": level_2_at}
    for name, event in happened.items():
        at = datetime.fromisoformat(event["at"])
        # Timers never fire early; the margin only catches a checkpoint that fired at a wrong time.
        assert planned[name] <= at < planned[name] + timedelta(seconds=5), (name, planned[name], at)
    assert "logistics-lead" in happened["level 1"]["text"] and "regional-manager" in happened["level 2"]["text"]
    assert running.issue(issue_id, "ada")["priority"] == "high"


def test_a_customer_mails_support_gets_the_acknowledgement_and_their_reply_lands_on_the_issue(running):
    """Real SMTP to the embedded stack, as any mail program sends it; auto-replies and bounces get no answer."""
    question = EmailMessage()
    question["From"] = "Mira Kent <mira@example.com>"
    question["To"] = "support@caseflow.test"
    question["Subject"] = "Where is my loyalty card?"
    question["Message-ID"] = "<question-1@example.com>"
    question.set_content("I signed up three weeks ago and nothing has arrived.")
    running.send_mail(question)

    def to_mira():
        return [m for m in running.outbox_messages() if m["to"] == "mira@example.com"]

    [listed] = running.wait_for(to_mira, 20, "the acknowledgement")
    ack = message_from_bytes(Path(listed["path"]).read_bytes(), policy=policy.default)
    assert ack["In-Reply-To"] == "<question-1@example.com>" and ack["Auto-Submitted"] == "auto-replied"
    reference = re.search(r"CF-[0-9A-Z]{5}", ack["Subject"]).group(0)
    found = running.get(f"/agent/issues/by-reference/{reference}", running.token("sue"))
    assert found.status_code == 200 and found.json()["channel"] == "email", found.text
    issue_id = found.json()["id"]

    reply = EmailMessage()
    reply["From"] = "mira@example.com"
    reply["To"] = ack["Reply-To"]
    reply["Subject"] = f"Re: {ack['Subject']}"
    reply["Message-ID"] = "<reply-1@example.com>"
    reply["In-Reply-To"] = ack["Message-ID"]
    reply.set_content("My member number is 4417.\n\nOn Monday, Caseflow wrote:\n> We have received your report")
    running.send_mail(reply)
    out_of_office = EmailMessage()
    out_of_office["From"] = "mira@example.com"
    out_of_office["To"] = ack["Reply-To"]
    out_of_office["Subject"] = "Automatic reply: away until Monday"
    out_of_office["Auto-Submitted"] = "auto-replied"
    out_of_office["In-Reply-To"] = ack["Message-ID"]
    out_of_office.set_content("I am away.")
    running.send_mail(out_of_office)
    running.send_mail(BOUNCE.format(message_id=ack["Message-ID"]).encode(), "")

    def timeline():
        return running.issue(issue_id)["timeline"]

    running.wait_for(
        lambda: {"customer_message", "automatic_message", "delivery_failed"} <= {e["kind"] for e in timeline()},
        20,
        "the reply, the auto-reply and the bounce on the issue",
    )
    assert [e["text"] for e in timeline() if e["kind"] == "customer_message"] == ["My member number is 4417."]
    running.drain()
    running.wait_idle(issue_id)  # whatever the three messages set off has happened by now
    assert len(to_mira()) == 1, "an auto-reply or a bounce was answered"


BOUNCE = """\
From: MAILER-DAEMON@mx.example.com
To: support@caseflow.test
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-e2e@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

Delivery to mira@example.com failed.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; mira@example.com
Action: failed
Status: 5.2.2

--b1
Content-Type: text/rfc822-headers

Message-ID: {message_id}

--b1--
"""


def test_the_relay_refuses_mail_for_other_addresses(running):
    with smtplib.SMTP("127.0.0.1", running.smtp_port, timeout=10) as smtp:
        try:
            smtp.sendmail("mira@example.com", ["sales@caseflow.test"], b"Subject: wrong\r\n\r\nhi")
        except smtplib.SMTPRecipientsRefused as refused:
            assert refused.recipients["sales@caseflow.test"][0] == 550
        else:
            raise AssertionError("mail for another address was accepted")


LATE_PARCEL = "My parcel still has not arrived. Tracking has said 'out for delivery' for six days now."


def test_free_text_is_routed_by_the_classifier_and_a_correction_feeds_the_next_training(running):
    ada = running.token("ada")

    def status():
        return running.json_of(running.get("/admin/classifier", ada))

    first = running.wait_for(lambda: status()["current"], 90, "the first model (trained at start-up)")

    def report(text: str, email: str) -> dict:
        body = {"customer": {"email": email}, "text": text}
        response = running.post("/issues", body)
        assert response.status_code == 201, response.text
        return response.json()

    late = report(LATE_PARCEL, "late.parcel@example.com")
    assert late["type"] == "late-delivery"
    running.wait_for(lambda: running.task_for("lee", late["id"]), 20, "the logistics task, opened without a person")

    vague = report("Hi, I have a question about something, please call me back.", "vague.e2e@example.com")
    assert vague["type"] == "triage"
    running.wait_for(lambda: running.task_for("alice", vague["id"]), 20, "the triage task")
    moved = running.post(f"/agent/issues/{vague['id']}/type", {"type": "general-enquiry"}, running.token("alice"))
    assert moved.status_code == 200 and moved.json()["learned"] == "corrected", moved.text

    asked = running.post("/admin/classifier/training", token=ada)
    assert asked.status_code == 202
    latest = running.wait_for(
        lambda: next((t for t in status()["trainings"] if t["version"] != first["version"]), None),
        90,
        "the training run an admin asked for",
    )
    assert latest["metrics"]["from_agents"] >= 1


def test_hostile_requests_and_mail_get_answers_and_the_stack_carries_on(running):
    """The fuzz suite's corpus over real HTTP and SMTP: every request answered below 500 in time."""
    from tests.integration.test_fuzz import RAW_BODIES

    ada = running.sign_in("ada")
    answered = 0
    for method, path in [
        ("POST", "/issues"),
        ("POST", "/auth/login"),
        ("POST", "/admin/issue-types/validate"),
        ("POST", "/agent/issues/none/customer-messages"),
        ("POST", "/report/general-enquiry"),
        ("POST", "/s/x%ED%A0%80y"),
        ("GET", "/t/abc.%C3%A9%ED%A0%80"),
        ("GET", "/survey/abc.%FF"),
    ]:
        for raw in RAW_BODIES:
            headers = {**ada, "Content-Type": "application/json"}
            response = running.request(method, path, raw, headers=headers)
            assert response.status_code < 500, (method, path, raw[:40], response.text[:300])
            answered += 1
    hostile = EmailMessage()
    hostile["From"] = "Zoë <hostile.e2e@example.com>"
    hostile["To"] = "support@caseflow.test"
    hostile["Subject"] = "Help\u202e 😀"
    hostile.set_content("NUL\x00 and ESC\x1b and a line\r\nbreak 😀")
    running.send_mail(hostile)
    running.wait_for(
        lambda: any(m["to"] == "hostile.e2e@example.com" for m in running.outbox_messages()), 30, "the acknowledgement"
    )
    print(f"{answered} hostile requests answered, none with a 5xx")
    normal = running.get("/issue-types")
    assert normal.status_code == 200


def test_after_all_of_this_nothing_is_dead_lettered_and_the_log_has_no_traceback(running):
    """Run last: whatever the module's traffic did, no message was given up on, nothing crashed."""
    sqs = running.sqs
    for url in [u for u in sqs.list_queues().get("QueueUrls", []) if u.endswith("-dlq")]:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0", f"{url} holds dead letters"
    assert "Traceback" not in running.log_text(), running.log_text()[-5000:]
