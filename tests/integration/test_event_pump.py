"""The local event pump delivers like Lambda's SQS event source: failures retry, then dead-letter."""

import json

import boto3

from chalicelib.events.task_queue import on_task_message
from chalicelib.local.pump import QueuePump


def make_queue(name: str, max_receives: int) -> tuple[str, str]:
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})
    queue = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "0", "RedrivePolicy": redrive})
    return queue["QueueUrl"], dlq


def test_messages_reach_the_handler_in_lambda_event_format(stack):
    queue, _ = make_queue("pump-format", 3)
    boto3.client("sqs").send_message(QueueUrl=queue, MessageBody='{"hello": "world"}')
    seen = []
    pump = QueuePump(queue, lambda event, context: seen.append(event), "us-east-1", wait_seconds=0)
    assert pump.pump_once() == 1
    [record] = seen[0]["Records"]
    assert record["eventSource"] == "aws:sqs" and record["body"] == '{"hello": "world"}'
    assert record["eventSourceARN"].endswith(":pump-format")
    assert pump.pump_once() == 0  # handled messages are deleted


def test_a_message_the_app_cannot_handle_ends_in_the_dead_letter_queue(stack):
    queue, dlq = make_queue("pump-poison", 2)
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"kind": "task", "issue_id": "no-such-issue"}))
    pump = QueuePump(queue, on_task_message, "us-east-1", wait_seconds=0)
    handled = [pump.pump_once() for _ in range(4)]
    assert handled == [0, 0, 0, 0]
    kept = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["issue_id"] for m in kept] == ["no-such-issue"]


def write_event(event, context):
    """An isolated invocation's handler (run in a child process): writes what it was given."""
    import os
    from pathlib import Path

    Path(os.environ["PUMP_TEST_OUT"]).write_text(json.dumps({"event": event, "function": context.function_name}))


def test_an_isolated_pump_invokes_its_function_in_a_child_process(stack, tmp_path, monkeypatch):
    queue, _ = make_queue("pump-isolated", 3)
    boto3.client("sqs").send_message(QueueUrl=queue, MessageBody='{"kind": "retrain"}')
    out = tmp_path / "event.json"
    monkeypatch.setenv("PUMP_TEST_OUT", str(out))
    pump = QueuePump(queue, write_event, "us-east-1", wait_seconds=0, function_name="on_job", isolated=True)
    assert pump.pump_once() == 1
    seen = json.loads(out.read_text())
    assert seen["function"] == "on_job"
    assert [r["body"] for r in seen["event"]["Records"]] == ['{"kind": "retrain"}']
    assert pump.pump_once() == 0  # deleted once the child ended well


def test_every_invocation_at_once_finds_a_connection_in_the_shared_clients_pool(stack):
    """One client serves every invocation thread of the stack: with fewer pooled connections than
    invocations, urllib3 discards the extra ones and logs "Connection pool is full" at each."""
    from chalicelib.local.pump import CONCURRENCY

    queue, _ = make_queue("pump-pool", 3)
    QueuePump(queue, lambda event, context: None, "us-east-1", wait_seconds=0)
    assert boto3.client("stepfunctions").meta.config.max_pool_connections == CONCURRENCY
    assert boto3.client("ses").meta.config.max_pool_connections == CONCURRENCY
    from chalicelib.adapters.dynamodb.models import IssueItem

    assert IssueItem._get_connection().connection.client.meta.config.max_pool_connections >= CONCURRENCY
