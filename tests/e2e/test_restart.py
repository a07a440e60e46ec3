"""`make run` stopped (Ctrl-C) and started again on the same state folder goes on where it stopped:
the issue filed before, the agents' tokens and passwords, the customer's status link, an admin's
issue type with its state machine, a message left in a dead-letter queue (decision 0038)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from harness import Embedded

pytestmark = pytest.mark.e2e

ADMIN_TYPE = {
    "id": "kept-over-restarts",
    "name": "Kept over restarts",
    "description": "Published by an admin before the restart.",
    "fields": [{"id": "what", "type": "text", "required": True}],
    "steps": [
        {
            "id": "look",
            "name": "Look",
            "role": "logistics",
            "deadline": "P1D",
            "fields": [{"id": "seen", "type": "text"}],
        },
    ],
}
RUDE_FIELDS = {"store": "leeds-briggate", "incident_date": "2026-12-01", "what_happened": "Before the restart."}


def _status_path(stack: Embedded, to: str) -> str:
    def link() -> str | None:
        for message in stack.outbox(to):
            body = message.get_body(("plain",))
            found = re.search(r"https?://[^/\s]+(/s/[A-Za-z0-9_.\-~]+)", body.get_content() if body else "")
            if found:
                return found.group(1)
        return None

    return stack.wait_for(link, 20, "the acknowledgement's status link")


def test_a_restarted_stack_keeps_its_issues_agents_links_types_and_queued_messages(tmp_path):
    state = tmp_path / "state"
    first = Embedded(state_dir=state)
    try:
        with first:
            sam = first.token("sam")
            ada = first.token("ada")
            published = first.put(f"/admin/issue-types/{ADMIN_TYPE['id']}", ADMIN_TYPE, ada)
            assert published.status_code == 201, published.text
            opened = first.open_issue("rude-staff", RUDE_FIELDS, "kept@example.com", "Kim")
            assert opened.status_code == 201, opened.text
            issue_id = opened.json()["id"]
            task = first.wait_for_task("sam", issue_id, timeout=20)
            status_path = _status_path(first, "kept@example.com")
            assert first.get(status_path).status_code == 200
            pools = first.aws("cognito-idp").list_user_pools(MaxResults=10)["UserPools"]
            dlq = first.sqs.get_queue_url(QueueName="caseflow-tasks-dlq")["QueueUrl"]
            first.sqs.send_message(QueueUrl=dlq, MessageBody="left for an operator")
            first.aws("s3").put_object(Bucket="caseflow-mail", Key="kept/raw.eml", Body=b"raw mail")
            before = first.issue(issue_id, "sam")
        assert first.exit_code == 0, first.log_text()[-3000:]
        assert (state / "aws.pickle").exists()

        second = Embedded(state_dir=state)
        try:
            with second:
                assert second.aws("cognito-idp").list_user_pools(MaxResults=10)["UserPools"] == pools
                kept = second.get(f"/agent/issues/{issue_id}", token=sam)
                assert kept.status_code == 200, kept.text
                assert kept.json()["reference"] == before["reference"]
                assert second.task_for("sam", issue_id)["id"] == task["id"]
                assert second.token("harry")
                assert second.get(status_path).status_code == 200
                dlq = second.sqs.get_queue_url(QueueName="caseflow-tasks-dlq")["QueueUrl"]
                left = second.sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1)["Messages"]
                assert [m["Body"] for m in left] == ["left for an operator"]
                raw = second.aws("s3").get_object(Bucket="caseflow-mail", Key="kept/raw.eml")["Body"].read()
                assert raw == b"raw mail"
                again = second.open_issue(ADMIN_TYPE["id"], {"what": "after the restart"}, "new@example.com")
                assert again.status_code == 201, again.text
                assert "restored from" in second.log_text()
        finally:
            second.cleanup()
    finally:
        first.cleanup()


DRILL_TYPE = {
    "id": "restart-drill",
    "name": "Restart drill",
    "description": "A step whose warning falls due while the stack is stopped.",
    "fields": [{"id": "summary", "type": "text", "required": True}],
    "steps": [
        {
            "id": "check",
            "name": "Check",
            "role": "agent",
            "calendar": "always-open",
            "deadline": "PT120S",
            "warnings": [10],
            "fields": [{"id": "finding", "type": "text", "required": True}],
        },
        {
            "id": "approve",
            "name": "Approve",
            "role": "hr",
            "calendar": "always-open",
            "deadline": "P1D",
            "fields": [{"id": "approved", "type": "yes_no", "required": True}],
        },
    ],
    "calendars": {"always-open": {"timezone": "Europe/London", "hours": {"mon-sun": "00:00-24:00"}}},
}
#: The warning at 10 % of 120 s: the first stack stops before it, the second starts after it.
WARNING_AFTER = timedelta(seconds=12)


def _acknowledgement(stack: Embedded, to: str) -> EmailMessage:
    return stack.wait_for(lambda: next(iter(stack.outbox(to)), None), 20, f"the acknowledgement to {to}")


def _timeline(stack: Embedded, issue_id: str) -> list[dict]:
    return stack.issue(issue_id, "ada")["timeline"]


def test_a_half_done_process_goes_on_after_ctrl_c_and_a_warning_due_meanwhile_fires_once(tmp_path):
    state = tmp_path / "state"
    first = Embedded(state_dir=state)
    try:
        with first:
            published = first.put(f"/admin/issue-types/{DRILL_TYPE['id']}", DRILL_TYPE, first.token("ada"))
            assert published.status_code == 201, published.text
            opened = first.open_issue(
                DRILL_TYPE["id"],
                {"summary": "Before Ctrl-C"},
                "drill@example.com",
                "Dee",
                **{"Idempotency-Key": "drill-1"},
            )
            assert opened.status_code == 201, opened.text
            issue_id = opened.json()["id"]
            task = first.wait_for_task("alice", issue_id, timeout=20)
            claimed = first.post(f"/agent/tasks/{task['id']}/claim", None, first.token("alice"))
            assert claimed.status_code == 200, claimed.text
            opened_at = datetime.fromisoformat(
                next(e for e in _timeline(first, issue_id) if e["kind"] == "task_opened")["at"]
            )

            question = EmailMessage()
            question["From"] = "mo@example.com"
            question["To"] = "support@caseflow.test"
            question["Subject"] = "My order never came"
            question["Message-ID"] = "<before-restart@example.com>"
            question.set_content("Order 5521 has not arrived.")
            first.send_mail(question)
            ack = _acknowledgement(first, "mo@example.com")
            status_path = _status_path(first, "drill@example.com")
            assert not [e for e in _timeline(first, issue_id) if e["kind"] == "sla_warning"], "warned before the stop"
        assert first.exit_code == 0, first.log_text()[-3000:]
        assert datetime.now(UTC) < opened_at + WARNING_AFTER, "the first stack stopped too late for this test"
        time.sleep(max(0.0, (opened_at + WARNING_AFTER - datetime.now(UTC)).total_seconds()))

        second = Embedded(state_dir=state)
        try:
            with second:
                assert re.search(r"found [1-9]\d* open issue\(s\) with [1-9]\d* open task\(s\)", second.log_text())
                kept = second.task_for("alice", issue_id)
                assert kept is not None and kept["id"] == task["id"], "alice's claimed task is in her queue"

                def warnings() -> list[dict]:
                    return [e for e in _timeline(second, issue_id) if e["kind"] == "sla_warning"]

                second.wait_for(warnings, 20, "the warning that fell due while the stack was stopped")
                assert any(e["kind"] == "workflow_resumed" for e in _timeline(second, issue_id))

                second.complete("alice", kept, {"finding": "Checked after the restart."})
                second.wait_for_task("hana", issue_id, "approve", timeout=20)
                assert len(warnings()) == 1, "the warning fired again"

                assert second.get(status_path).status_code == 200
                again = second.open_issue(
                    DRILL_TYPE["id"],
                    {"summary": "Before Ctrl-C"},
                    "drill@example.com",
                    "Dee",
                    **{"Idempotency-Key": "drill-1"},
                )
                assert again.json()["id"] == issue_id, "the retried report made a second issue"

                reference = re.search(r"CF-[0-9A-Z]{5}", ack["Subject"]).group(0)
                mailed = second.get(f"/agent/issues/by-reference/{reference}", second.token("sue")).json()["id"]
                reply = EmailMessage()
                reply["From"] = "mo@example.com"
                reply["To"] = ack["Reply-To"]
                reply["Subject"] = f"Re: {ack['Subject']}"
                reply["Message-ID"] = "<after-restart@example.com>"
                reply["In-Reply-To"] = ack["Message-ID"]
                reply.set_content("It is still not here.")
                second.send_mail(reply)
                second.wait_for(
                    lambda: any(e["kind"] == "customer_message" for e in _timeline(second, mailed)),
                    20,
                    "the reply on the issue it answers",
                )
                assert len(second.outbox("mo@example.com")) == 1, "the reply opened a new issue, acknowledged again"
            assert "Traceback" not in second.log_text(), second.log_text()[-3000:]
        finally:
            second.cleanup()
    finally:
        first.cleanup()
