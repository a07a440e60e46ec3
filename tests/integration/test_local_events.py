"""Each local event source hands the app's real handlers the events AWS would: the schedules (hourly
ops, nightly training), the queue pumps (task queue, jobs) and the SMTP relay (SES inbound)."""

from __future__ import annotations

import json
import smtplib
import threading
from datetime import UTC, datetime
from email.message import EmailMessage

import boto3
import pytest

from app import app
from chalicelib import settings
from chalicelib.events.inbound_email import on_inbound_email
from chalicelib.events.task_queue import on_task_message
from chalicelib.local.pump import QueuePump, Schedule, next_run, schedules
from chalicelib.local.smtp import InboundMailRelay
from chalicelib.mail.threading import SupportAddress
from harness import free_port

TODAY = datetime.now(UTC).date().isoformat()


def local_schedule(name: str) -> Schedule:
    """The schedule `make run` starts for a scheduled function of the app."""
    return next(s for s in schedules(app, "dev", "us-east-1", threading.Event()) if s.rule_name.endswith(name))


def enquiry_kpis(stack) -> dict:
    response = stack.get(f"/ops/kpis?from={TODAY}&to={TODAY}&type=general-enquiry", stack.token("omar"))
    assert response.status_code == 200, response.body
    return response.json_body


def test_every_scheduled_function_of_the_app_gets_a_local_schedule_named_like_its_rule():
    assert {(s.rule_name, s.expression) for s in schedules(app, "dev", "us-east-1", threading.Event())} == {
        ("caseflow-dev-hourly_ops", "rate(1 hour)"),
        ("caseflow-dev-nightly_retraining", "cron(0 3 * * ? *)"),
    }


def test_local_schedules_fire_when_eventbridge_would():
    at = datetime(2026, 3, 14, 2, 59, 59, tzinfo=UTC)
    assert next_run("rate(1 hour)", at) == datetime(2026, 3, 14, 3, tzinfo=UTC)
    assert next_run("rate(1 hour)", datetime(2026, 3, 14, 3, tzinfo=UTC)) == datetime(2026, 3, 14, 4, tzinfo=UTC)
    assert next_run("cron(0 3 * * ? *)", at) == datetime(2026, 3, 14, 3, tzinfo=UTC)
    assert next_run("cron(0 3 * * ? *)", datetime(2026, 3, 14, 3, tzinfo=UTC)) == datetime(2026, 3, 15, 3, tzinfo=UTC)
    with pytest.raises(ValueError, match="every day"):
        next_run("cron(0 3 ? * MON *)", at)


def test_the_local_hourly_schedule_runs_the_ops_handler_and_the_dashboard_shows_its_work(stack):
    stack.post("/admin/ops/hourly", {}, stack.token("ada"))
    before = enquiry_kpis(stack)
    fields = {"subject": "Opening hours", "message": "Open on Sunday?"}
    assert stack.open_issue("general-enquiry", fields, "local-hourly@example.com").status_code == 201
    fired_at = datetime.now(UTC)

    local_schedule("hourly_ops").fire(fired_at)

    after = enquiry_kpis(stack)
    assert after["totals"]["contacts"] == before["totals"]["contacts"] + 1, "the roll-up ran"
    assert after["backlog"]["count"] == before["backlog"]["count"] + 1, "the backlog snapshot ran"


def test_the_local_nightly_schedule_runs_the_training_handler(stack):
    def trainings() -> list[dict]:
        response = stack.get("/admin/classifier", stack.token("ada"))
        assert response.status_code == 200, response.body
        return response.json_body["trainings"]

    stack.run_jobs()  # a run queued earlier would hold the one training slot
    before = {training["version"] for training in trainings()}
    local_schedule("nightly_retraining").fire(datetime.now(UTC))
    assert {training["version"] for training in trainings()} - before, "no new training was listed"


def test_the_task_queue_pump_hands_workflow_messages_to_the_task_handler(stack):
    fields = {"subject": "Gift card", "message": "Balance?"}
    issue_id = stack.open_issue("general-enquiry", fields, "local-pump@example.com").json_body["id"]
    pump = QueuePump(stack.queue_url, on_task_message, "us-east-1", wait_seconds=0, function_name="on_task_message")
    found = None
    for _ in range(200):
        pump.pump_once()
        if found := stack.task_for("alice", issue_id, "answer"):
            break
    assert found, "the workflow's first task never opened"


def test_queue_messages_reach_handlers_in_lambdas_record_format(stack):
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="local-events-format")["QueueUrl"]
    sqs.send_message(
        QueueUrl=queue,
        MessageBody='{"kind": "retrain"}',
        MessageAttributes={"origin": {"DataType": "String", "StringValue": "admin"}},
    )
    seen = []
    QueuePump(queue, lambda event, context: seen.append((event, context)), "us-east-1", 0, None, "on_job").pump_once()
    [(event, context)] = seen
    [record] = event["Records"]
    assert record["messageAttributes"] == {
        "origin": {"stringValue": "admin", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    }
    assert record["eventSourceARN"].endswith(":local-events-format") and record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert context.function_name == "on_job" and context.get_remaining_time_in_millis() > 0


def test_mail_the_smtp_relay_accepts_is_filed_by_the_inbound_handler(stack):
    config = settings.get()
    filed = []
    port = free_port()
    relay = InboundMailRelay(
        port,
        SupportAddress(config.support_address),
        config.mail_bucket,
        lambda event, context: filed.append(on_inbound_email(event, context)),
        boto3.client("sqs").create_queue(QueueName="local-events-inbound-dlq")["QueueUrl"],
    )
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "mia@example.com", config.support_address, "Lost parcel"
    message.set_content("Where is my parcel?")
    relay.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.send_message(message)
    finally:
        relay.stop()  # waits for the handler's invocation
    [result] = filed
    assert result["results"][0]["outcome"] == "opened", result
    issue = stack.issue(result["results"][0]["issue_id"])
    assert issue["customer"]["email"] == "mia@example.com" and issue["channel"] == "email"
    assert json.dumps(issue["fields"]).count("Where is my parcel?") == 1
