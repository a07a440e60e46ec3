"""Integration tests: Caseflow's real code on moto in-process, with Step Functions executing.

One moto session serves the whole package: provisioning it takes a few seconds, and every test
uses its own customers and issues, so they don't see each other's data.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from chalice.test import Client
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from chalicelib import bootstrap, settings
from chalicelib.local.provision import DEMO_AGENTS, DEMO_PASSWORD, provision

#: A type whose deadlines pass in seconds, to watch escalations and breaches happen.
FAST_TYPE = {
    "id": "fast-test",
    "name": "Fast deadlines for tests",
    "fields": [{"id": "summary", "type": "text", "required": True}],
    "steps": [
        {
            "id": "check",
            "name": "Check",
            "role": "store-manager",
            "deadline": "PT1S",
            "fields": [{"id": "finding", "type": "text", "required": True}],
            "escalation": [{"after": "PT0S", "reassign": "regional-manager"}, {"after": "PT2S", "notify": ["hr-lead"]}],
        },
        {
            "id": "decide",
            "name": "Decide",
            "role": "hr",
            "deadline": "PT1H",
            "fields": [{"id": "ok", "type": "yes_no"}],
        },
        {
            "id": "tell_customer",
            "kind": "email_customer",
            "subject": "Done {{ issue.reference }}",
            "body": "Finding: {{ results.check.finding }}",
        },
    ],
}


class Stack:
    """The app, its AWS (moto) and a hand-cranked event pump."""

    def __init__(self, client: Client, queue_url: str):
        self.client = client
        self.queue_url = queue_url
        self._tokens: dict[str, str] = {}
        import boto3

        self.sqs = boto3.client("sqs")
        self.sfn = boto3.client("stepfunctions")

    # HTTP

    def post(self, path: str, body: Any, token: str | None = None, headers: dict[str, str] | None = None):
        return self._send("post", path, body, token, headers)

    def put(self, path: str, body: Any, token: str | None = None):
        return self._send("put", path, body, token, None)

    def _send(self, method: str, path: str, body: Any, token: str | None, headers: dict[str, str] | None):
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        raw = body if isinstance(body, str) else json.dumps(body)
        return getattr(self.client.http, method)(path, headers=all_headers, body=raw)

    def get(self, path: str, token: str | None = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.http.get(path, headers=headers)

    def token(self, username: str) -> str:
        if username not in self._tokens:
            response = self.post("/auth/login", {"username": username, "password": DEMO_PASSWORD})
            assert response.status_code == 200, response.body
            self._tokens[username] = response.json_body["id_token"]
        return self._tokens[username]

    def open_issue(self, type_id: str, fields: dict[str, Any], email: str, **headers: str):
        body = {"type": type_id, "customer": {"email": email, "name": "Test Customer"}, "fields": fields}
        return self.post("/issues", body, headers=headers)

    def tasks(self, username: str) -> list[dict[str, Any]]:
        response = self.get("/agent/tasks", self.token(username))
        assert response.status_code == 200, response.body
        return response.json_body["tasks"]

    def issue(self, issue_id: str, username: str = "alice") -> dict[str, Any]:
        response = self.get(f"/agent/issues/{issue_id}", self.token(username))
        assert response.status_code == 200, response.body
        return response.json_body

    # Events

    def pump(self) -> int:
        """Deliver the task queue's messages to the SQS handler, as Lambda's event source would."""
        handled = 0
        response = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        for message in response.get("Messages", []):
            event = self.client.events.generate_sqs_event(
                message_bodies=[message["Body"]], queue_name=settings.get().task_queue_name
            )
            self.client.lambda_.invoke("on_task_message", event)
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            handled += 1
        return handled

    def drain(self, quiet_rounds: int = 3) -> None:
        """Pump until the workflows stop asking, so that a test leaves nothing for the next one's pump."""
        quiet = 0
        while quiet < quiet_rounds:
            quiet = quiet + 1 if self.pump() == 0 else 0
            time.sleep(0.05)

    @property
    def jobs_queue_url(self) -> str:
        return self.sqs.get_queue_url(QueueName=settings.get().jobs_queue_name)["QueueUrl"]

    def waiting_jobs(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.jobs_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def run_jobs(self) -> int:
        """Deliver the jobs queue's messages to the jobs function, as Lambda's event source would; a job
        that fails is left on the queue (visible again at once) and its error raised."""
        handled = 0
        while True:
            response = self.sqs.receive_message(QueueUrl=self.jobs_queue_url, MaxNumberOfMessages=1)
            if not response.get("Messages"):
                return handled
            message = response["Messages"][0]
            event = self.client.events.generate_sqs_event([message["Body"]], settings.get().jobs_queue_name)
            try:
                self.client.lambda_.invoke("on_job", event)
            except Exception:
                self.sqs.change_message_visibility(
                    QueueUrl=self.jobs_queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
                raise
            self.sqs.delete_message(QueueUrl=self.jobs_queue_url, ReceiptHandle=message["ReceiptHandle"])
            handled += 1

    def deliver_email(
        self, raw: bytes, recipients: list[str] | None = None, ses_id: str | None = None, **verdicts: str
    ) -> dict[str, str]:
        """Do what SES inbound does: store the raw message in S3, then invoke the handler with the event."""
        from chalicelib.local.smtp import LOCAL_VERDICTS, receive

        config = settings.get()
        event = receive(raw, config.mail_bucket, recipients or [config.support_address], "sender@example.com", ses_id)
        event["Records"][0]["ses"]["receipt"].update(
            {f"{name}Verdict": {"status": status} for name, status in {**LOCAL_VERDICTS, **verdicts}.items()}
        )
        return self.client.lambda_.invoke("on_inbound_email", event).payload["results"][0]

    def pump_until(self, condition: Callable[[], Any], timeout: float = 15, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.05)

    def task_for(self, username: str, issue_id: str, step: str | None = None) -> dict[str, Any] | None:
        return next(
            (t for t in self.tasks(username) if t["issue_id"] == issue_id and (step is None or t["step"] == step)),
            None,
        )

    def execution_status(self, issue_id: str) -> str:
        executions = [
            e
            for m in self.sfn.list_state_machines()["stateMachines"]
            for e in self.sfn.list_executions(stateMachineArn=m["stateMachineArn"])["executions"]
            if e["name"] == issue_id
        ]
        assert len(executions) == 1, executions
        return executions[0]["status"]


def sent_messages(to: str) -> list[EmailMessage]:
    """What SES (moto) was asked to send to an address, as parsed messages, oldest first."""
    found = []
    for message in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages:
        raw = getattr(message, "raw_data", None)
        if raw is None or to not in getattr(message, "destinations", []):
            continue
        found.append(message_from_bytes(raw.encode() if isinstance(raw, str) else raw, policy=policy.default))
    return found


def sent_emails(to: str) -> list[dict[str, str]]:
    """What SES (moto) was asked to send to an address: subject and body."""
    found = []
    for parsed in sent_messages(to):
        found.append(
            {
                "subject": str(parsed["Subject"]),
                "body": parsed.get_body(("plain",)).get_content(),
                "auto_submitted": str(parsed["Auto-Submitted"]),
            }
        )
    return found


@pytest.fixture(scope="package")
def stack():
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        config = settings.from_environ(os.environ)
        resources = provision(config, DEMO_AGENTS)
        os.environ[settings.USER_POOL_ID] = resources.user_pool_id
        os.environ[settings.USER_POOL_CLIENT_ID] = resources.user_pool_client_id
        settings.get.cache_clear()
        bootstrap.services.cache_clear()
        services = bootstrap.services()
        services.issue_types.publish_seeds()
        services.issue_types.publish(FAST_TYPE)
        from app import app

        with Client(app, stage_name="dev") as client:
            yield Stack(client, resources.task_queue_url)
        bootstrap.services.cache_clear()
