"""The customer's status page and the satisfaction survey, on moto."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlencode

import boto3

from chalicelib import settings
from chalicelib.adapters.dynamodb.mail import MailRepository
from tests.integration.conftest import sent_emails

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def link_in(body: str, prefix: str) -> str:
    """The path of the first link to `prefix` (e.g. /s/) in an email body."""
    return re.search(rf"https?://[^/\s]+({prefix}[^\s]+)", body).group(1)


def open_enquiry(stack, email: str) -> dict:
    fields = {"subject": "Gift card", "message": "How do I use my gift card online?"}
    opened = stack.open_issue("general-enquiry", fields, email)
    assert opened.status_code == 201, opened.body
    return opened.json_body


def resolve(stack, issue_id: str) -> None:
    task = stack.pump_until(lambda: stack.task_for("alice", issue_id, "answer"), what="the answer task")
    done = stack.post(
        f"/agent/tasks/{task['id']}/complete",
        {"fields": {"answer": "Enter the code at checkout.", "needs_follow_up": False}},
        stack.token("alice"),
    )
    assert done.status_code == 200, done.body
    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="resolution")


def page_text(response) -> str:
    return response.body.decode() if isinstance(response.body, bytes) else response.body


def send_form(stack, path: str, fields: dict[str, str], shown=None):
    """Post a page's form as a browser would: with the form cookie and the page's CSRF token."""
    shown = shown or stack.client.http.get(path)
    set_cookie = {k.lower(): v for k, v in shown.headers.items()}["set-cookie"]
    cookie = re.search(r"caseflow_form=([^;]+)", set_cookie).group(1)
    token = re.search(r'name="csrf-token" value="([^"]+)"', page_text(shown)).group(1)
    headers = {**FORM, "Cookie": f"caseflow_form={cookie}"}
    return stack.client.http.post(path, headers=headers, body=urlencode({**fields, "csrf-token": token}))


def test_the_status_page_shows_where_the_issue_is_in_the_customers_words_and_takes_a_reply(stack):
    opened = open_enquiry(stack, "status@example.com")
    stack.pump_until(lambda: stack.task_for("alice", opened["id"], "answer"), what="the answer task")
    ack = sent_emails("status@example.com")[0]
    status_path = link_in(ack["body"], "/s/")

    shown = stack.client.http.get(status_path)
    text = page_text(shown)
    assert shown.status_code == 200 and opened["reference"] in text
    assert "How do I use my gift card online?" in text and "We have received your report" in text
    assert "Answer the customer" not in text and "role" not in text, "internal names leak to the customer"
    assert "We expect to be done by" in text

    forged = stack.client.http.post(status_path, headers=FORM, body=urlencode({"message": "From another site"}))
    assert forged.status_code == 403
    reply = send_form(stack, status_path, {"message": "Also: can I split it?"})
    assert reply.status_code == 200 and "Also: can I split it?" in page_text(reply)
    timeline = stack.issue(opened["id"])["timeline"]
    assert any(e["kind"] == "customer_message" and e["data"]["channel"] == "web" for e in timeline)
    empty = send_form(stack, status_path, {"message": " "})
    assert empty.status_code == 400 and 'aria-invalid="true"' in page_text(empty)


def test_a_bad_status_link_offers_a_new_one_without_telling_who_exists(stack):
    bad = stack.client.http.get("/s/not-a-real-token")
    assert bad.status_code == 404 and "Get a new link" in page_text(bad)
    opened = open_enquiry(stack, "lost.link@example.com")
    stack.pump_until(lambda: sent_emails("lost.link@example.com"), what="the acknowledgement")
    known = send_form(stack, "/s", {"email": "lost.link@example.com"}, bad)
    unknown = send_form(stack, "/s", {"email": "nobody@example.com"}, bad)
    assert known.status_code == unknown.status_code == 200
    assert page_text(known).replace("lost.link", "X") == page_text(unknown).replace("nobody", "X")
    new_link = sent_emails("lost.link@example.com")[-1]
    assert opened["reference"] in new_link["subject"] and "/s/" in new_link["body"]


def test_a_detractor_opens_one_service_recovery_issue_for_a_supervisor(stack):
    opened = open_enquiry(stack, "unhappy@example.com")
    resolve(stack, opened["id"])
    survey = stack.pump_until(
        lambda: next((m for m in sent_emails("unhappy@example.com") if m["subject"].startswith("How did we do")), None),
        what="the survey email",
    )
    assert survey["auto_submitted"] == "auto-replied"
    nps_links = re.findall(r"^\s+(\d+): https?://[^/\s]+(/survey/\S+)$", survey["body"], re.MULTILINE)
    assert [int(score) for score, _ in nps_links] == [1, 2, 3, 4, 5, *range(1, 8), *range(0, 11)]
    nps_links = nps_links[5 + 7 :]
    nps_three = nps_links[3][1]

    first = stack.client.http.get(nps_three)
    assert first.status_code == 200 and "3" in page_text(first)
    assert stack.client.http.get(nps_three).status_code == 200
    timeline = stack.issue(opened["id"])["timeline"]
    assert [e["text"] for e in timeline if e["kind"] == "survey_answered"] == ["NPS 3"]
    recovery_id = next(e["data"]["recovery"] for e in timeline if e["kind"] == "recovery_opened")
    task = stack.pump_until(lambda: stack.task_for("sue", recovery_id), what="sue's call-back task")
    assert task["step"] == "call_back"
    recovery = stack.issue(recovery_id, "sue")
    assert recovery["fields"]["original_reference"] == opened["reference"] and recovery["fields"]["score"] == "NPS 3"

    comment = send_form(stack, nps_three, {"comment": "Nobody called me."}, first)
    assert comment.status_code == 200
    assert any(e["text"] == "Nobody called me." for e in stack.issue(recovery_id, "sue")["timeline"])

    changed = stack.client.http.get(nps_links[9][1])
    assert changed.status_code == 200
    answers = [e["text"] for e in stack.issue(opened["id"])["timeline"] if e["kind"] == "survey_answered"]
    assert answers == ["NPS 3", "NPS 9 (was 3)"]
    stack.client.http.get(nps_links[1][1])
    recoveries = [e for e in stack.issue(opened["id"])["timeline"] if e["kind"] == "recovery_opened"]
    assert len(recoveries) == 1, "a second unhappy answer opened a second recovery issue"


def test_surveys_never_go_to_a_bouncing_address(stack):
    opened = open_enquiry(stack, "bouncing.survey@example.com")
    stack.pump_until(lambda: sent_emails("bouncing.survey@example.com"), what="the acknowledgement")
    MailRepository().mark_bouncing("bouncing.survey@example.com", datetime.now(UTC), "5.1.1 (a bounce, recorded)")
    resolve(stack, opened["id"])
    stack.pump()
    subjects = [m["subject"] for m in sent_emails("bouncing.survey@example.com")]
    assert not any(s.startswith("How did we do") for s in subjects)
    suppressed = [e for e in stack.issue(opened["id"])["timeline"] if e["kind"] == "email_suppressed"]
    assert suppressed and "bounces" in suppressed[-1]["data"]["reason"]


def test_a_customer_adds_photos_straight_to_s3_and_the_agent_gets_a_link(stack):
    fields = {
        "order_number": "AB123456",
        "product": "Desk lamp",
        "damage": "The shade arrived cracked in two places.",
        "wanted": "replacement",
    }
    opened = stack.open_issue("damaged-product", fields, "photos.web@example.com").json_body
    ack = stack.pump_until(lambda: sent_emails("photos.web@example.com"), what="the acknowledgement")[0]
    status_path = link_in(ack["body"], "/s/")
    shown = page_text(stack.client.http.get(status_path))
    assert "Photos of the damage" in shown and 'enctype="multipart/form-data"' in shown
    key = re.search(r'name="key" value="([^"]+)"', shown).group(1)
    assert key.startswith(f"uploads/{opened['id']}/")
    assert re.search(r'name="success_action_redirect" value="[^"]+/uploaded"', shown)

    s3 = boto3.client("s3")
    bucket = settings.get().mail_bucket
    s3.put_object(Bucket=bucket, Key=key, Body=b"\xff\xd8\xff\xe0" + b"0" * 5000)  # what the browser's POST stores
    back = stack.client.http.get(f"{status_path}/uploaded?bucket={bucket}&key={key}")
    assert back.status_code == 200 and "we have your file" in page_text(back)
    issue = stack.issue(opened["id"])
    [added] = [e for e in issue["timeline"] if e["kind"] == "attachment_added"]
    attachment = added["data"]["attachments"][0]
    assert attachment["content_type"] == "image/jpeg" and attachment["size"] == 5004
    link = stack.get(f"/agent/issues/{opened['id']}/attachments?key={attachment['key']}", stack.token("remy"))
    assert link.status_code == 200 and "Signature" in link.json_body["url"]

    second = re.search(r'name="key" value="([^"]+)"', page_text(stack.client.http.get(status_path))).group(1)
    s3.put_object(Bucket=bucket, Key=second, Body=b"#!/bin/sh\necho not a photo\n")
    refused = stack.client.http.get(f"{status_path}/uploaded?bucket={bucket}&key={second}")
    assert refused.status_code == 400 and "not accepted" in page_text(refused)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=second), "a refused file was kept"
    foreign = stack.client.http.get(f"{status_path}/uploaded?bucket={bucket}&key=uploads/SOMEONE-ELSE/x")
    assert foreign.status_code == 400
