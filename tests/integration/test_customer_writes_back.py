"""Customers writing back reach a person, on moto: an email reply, a status-page message, a photo and
a reply that reopens a resolved issue each email the task's holder with the customer's words and
mark the task "customer replied"; the customer is told of a reopening; task emails say it in words,
in the holder's time zone and UTC, and link to the task (decision 0030)."""

from __future__ import annotations

import re
from datetime import datetime

import boto3

from chalicelib import settings
from chalicelib.domain.local_times import in_words
from chalicelib.local.provision import DEMO_TIME_ZONES
from tests.integration.conftest import sent_emails
from tests.integration.test_email_channel import email, open_by_email, resolved_by_email
from tests.integration.test_status_and_surveys import link_in, page_text, send_form

ALICE = "alice@agents.caseflow.test"


def told(stack, address: str, reference: str, what: str = "Customer replied") -> list[dict[str, str]]:
    """The emails to `address` about the issue `reference` whose subject starts with `what`."""
    stack.pump()
    return [m for m in sent_emails(address) if m["subject"].startswith(f"{what} {reference}")]


def task_shown(stack, username: str, task_id: str) -> dict:
    response = stack.get(f"/agent/tasks/{task_id}", stack.token(username))
    assert response.status_code == 200, response.body
    return response.json_body


def test_an_email_reply_emails_the_holder_once_and_marks_the_task(stack):
    received, _ = open_by_email(stack, "writes.back@example.com")
    task = stack.pump_until(lambda: stack.task_for("alice", received["issue_id"], "answer"), what="the answer task")
    assert task["customer_replied_at"] is None

    raw, _ = email(
        "writes.back@example.com", f"Re: Gift card balance [{received['reference']}]", "I found the card number."
    )
    assert stack.deliver_email(raw, ses_id="ses-writes-back-1")["outcome"] == "threaded"
    assert stack.deliver_email(raw, ses_id="ses-writes-back-1")["outcome"] == "threaded"  # SES again

    [alert] = told(stack, ALICE, received["reference"])
    assert "  > I found the card number." in alert["body"]
    assert f"/desk/tasks/{task['id']}" in alert["body"]
    assert stack.task_for("alice", received["issue_id"], "answer")["customer_replied_at"] is not None
    assert task_shown(stack, "alice", task["id"])["customer_replied_at"] is not None

    answered = stack.post(
        f"/agent/issues/{received['issue_id']}/replies", {"body": "Thank you, it is topped up."}, stack.token("alice")
    )
    assert answered.status_code == 201, answered.body
    assert task_shown(stack, "alice", task["id"])["customer_replied_at"] is None, "the customer was answered"


def test_a_status_page_message_emails_the_holder_and_marks_the_task(stack):
    fields = {"subject": "Parking", "message": "Is there parking at the Leeds store?"}
    opened = stack.open_issue("general-enquiry", fields, "status.writes@example.com").json_body
    task = stack.pump_until(lambda: stack.task_for("alice", opened["id"], "answer"), what="the answer task")
    status_path = link_in(sent_emails("status.writes@example.com")[0]["body"], "/s/")

    sent = send_form(stack, status_path, {"message": "I mean for a van."})
    assert sent.status_code == 200

    [alert] = told(stack, ALICE, opened["reference"])
    assert "  > I mean for a van." in alert["body"] and f"/desk/tasks/{task['id']}" in alert["body"]
    assert stack.task_for("alice", opened["id"], "answer")["customer_replied_at"] is not None


def test_a_photo_from_the_status_page_emails_the_holder_and_marks_the_task(stack):
    fields = {"order_number": "AB123457", "product": "Kettle", "damage": "The lid is cracked.", "wanted": "refund"}
    opened = stack.open_issue("damaged-product", fields, "photo.writes@example.com").json_body
    task = stack.pump_until(lambda: stack.task_for("remy", opened["id"]), what="the returns task")
    status_path = link_in(sent_emails("photo.writes@example.com")[0]["body"], "/s/")
    key = re.search(r'name="key" value="([^"]+)"', page_text(stack.client.http.get(status_path))).group(1)
    bucket = settings.get().mail_bucket
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=b"\xff\xd8\xff\xe0" + b"0" * 2000)

    assert stack.client.http.get(f"{status_path}/uploaded?bucket={bucket}&key={key}").status_code == 200
    assert stack.client.http.get(f"{status_path}/uploaded?bucket={bucket}&key={key}").status_code == 200  # reload

    [alert] = told(stack, "remy@agents.caseflow.test", opened["reference"])
    assert f"(added a file: {opened['reference']}-1.jpeg)" in alert["body"]
    assert stack.task_for("remy", opened["id"])["customer_replied_at"] is not None
    assert task["customer_replied_at"] is None


def test_a_reply_that_reopens_the_issue_tells_the_customer_and_the_first_role_and_marks_the_new_task(stack):
    received = resolved_by_email(stack, "reopens.writes@example.com")
    reference, issue_id = received["reference"], received["issue_id"]
    raw, _ = email("reopens.writes@example.com", f"Re: Gift card balance [{reference}]", "It still says zero.")

    assert stack.deliver_email(raw)["outcome"] == "reopened"

    [reopened] = [m for m in sent_emails("reopens.writes@example.com") if "is open again" in m["subject"]]
    assert f"We have reopened your issue {reference} because you wrote to us again" in reopened["body"]
    assert "/s/" in reopened["body"] and "role" not in reopened["body"]
    [alert] = told(stack, ALICE, reference)
    assert "  > It still says zero." in alert["body"] and f"/desk/issues/{reference}" in alert["body"]
    task = stack.pump_until(lambda: stack.task_for("alice", issue_id, "answer"), what="the second run's task")
    assert task["customer_replied_at"] is not None


def test_an_agent_reopening_emails_the_customer_once_in_the_thread(stack):
    received = resolved_by_email(stack, "agent.reopens@example.com")
    reopened = stack.post(
        f"/agent/issues/{received['issue_id']}/reopen", {"reason": "wrong answer, my mistake"}, stack.token("alice")
    )
    assert reopened.status_code == 200, reopened.body

    [notice] = [m for m in sent_emails("agent.reopens@example.com") if "is open again" in m["subject"]]
    assert f"We have reopened your issue {received['reference']}" in notice["body"]
    assert "my mistake" not in notice["body"], "the agent's reason is internal"


def test_a_task_email_gives_the_customers_words_the_forms_labels_local_and_utc_deadline_and_the_link(stack):
    fields = {
        "store": "leeds-briggate",
        "incident_date": "2026-03-01",
        "what_happened": "The cashier shouted at me at the till.",
    }
    opened = stack.open_issue("rude-staff", fields, "rude.writes@example.com").json_body
    opinion = stack.pump_until(lambda: stack.task_for("sam", opened["id"]), what="the store manager's task")
    stack.complete("sam", opinion, {"manager_opinion": "He apologised to me afterwards."})
    decision = stack.pump_until(lambda: stack.task_for("hana", opened["id"], "hr_decision"), what="HR's task")

    [new_task] = told(stack, "hana@agents.caseflow.test", opened["reference"], "New task")
    body = new_task["body"]
    assert "  What happened: The cashier shouted at me at the till." in body
    assert "  Store: Leeds Briggate" in body, "the option's label, not its code"
    assert "  - Decision (required; one of: No action, Formal apology" in body
    assert "Your account of the incident: He apologised to me afterwards." in body
    due = datetime.fromisoformat(decision["due_at"])
    assert DEMO_TIME_ZONES["hana"] == "Europe/Istanbul"
    assert f"Due: {in_words(due, 'Europe/Istanbul')}" in body and "UTC)" in body
    assert f"{settings.get().workspace_url}/desk/tasks/{decision['id']}" in body

    me = stack.get("/agent/me", stack.token("hana")).json_body
    assert (me["time_zone"], me["email"]) == ("Europe/Istanbul", "hana@agents.caseflow.test"), "from the id token"
    shown = task_shown(stack, "hana", decision["id"])
    assert shown["due"]["time_zone"] == "Europe/Istanbul" and shown["due"]["local"].endswith("+03:00")
    assert datetime.fromisoformat(shown["due"]["local"]) == due and shown["due_at"] == decision["due_at"]
