"""Caseflow on moto in this process, with Step Functions executing: the integration tests' stack,
the demo test's and the in-process benchmarks'.

`provisioned()` is moto with Caseflow's resources (what `make run` provisions) named in the
environment; `in_process()` adds the seeded issue types and the app behind Chalice's test client,
driven by an `InProcess`, which delivers the task and jobs queues by hand as Lambda's event sources
would. `sent_messages`/`sent_emails` read what (moto's) SES was asked to send.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from unittest import mock

import requests

from harness.driver import Driver
from harness.environment import REGION, fake_aws


def _jwks_through_moto(client: Any) -> Any:
    """The pool's JWKS: PyJWKClient downloads with urllib, which in-process moto does not answer."""
    response = requests.get(client.uri, timeout=5)  # moto answers requests (and botocore)
    response.raise_for_status()
    return response.json()


@contextmanager
def provisioned(demo_agents: dict[str, str] | None = None) -> Iterator[Any]:
    """moto in this process (Step Functions executing) with what `make run` provisions, the user
    pool's ids in the environment and the settings and services read afresh; yields `Provisioned`."""
    import jwt
    from moto import mock_aws

    from chalicelib import bootstrap, settings
    from chalicelib.local import moto_patches
    from chalicelib.local.provision import DEMO_AGENTS, provision

    moto_patches.apply()
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        mock.patch.object(jwt.PyJWKClient, "fetch_data", _jwks_through_moto),
    ):
        resources = provision(settings.from_environ(os.environ), DEMO_AGENTS if demo_agents is None else demo_agents)
        os.environ[settings.USER_POOL_ID] = resources.user_pool_id
        os.environ[settings.USER_POOL_CLIENT_ID] = resources.user_pool_client_id
        settings.get.cache_clear()
        bootstrap.services.cache_clear()
        try:
            yield resources
        finally:
            settings.get.cache_clear()
            bootstrap.services.cache_clear()


class InProcess(Driver):
    """The app behind Chalice's test client on moto in this process. Nothing delivers the queues
    but `pump` (the task queue) and `run_jobs` (the jobs queue), which the waits call."""

    def __init__(self, client: Any, resources: Any, services: Any):
        import boto3

        super().__init__()
        self.client = client
        self.resources = resources
        self.services = services
        self.queue_url = resources.task_queue_url
        self.jobs_queue_url = resources.jobs_queue_url
        self.sqs = boto3.client("sqs")
        self.sfn = boto3.client("stepfunctions")

    def _send(self, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
        return self.client.http.request(method, path, headers=headers, body=b"" if body is None else self.raw(body))

    @staticmethod
    def json_of(response: Any) -> Any:
        return response.json_body

    @staticmethod
    def text_of(response: Any) -> str:
        body = response.body
        return body.decode(errors="replace") if isinstance(body, bytes) else str(body)

    # The integration tests' name for `wait_for`: here every wait delivers the task queue.
    pump_until = Driver.wait_for

    # Event sources

    def pump(self) -> int:
        """Deliver the task queue's messages to the SQS handler, as Lambda's event source would."""
        from chalicelib import settings

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

    def waiting_jobs(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.jobs_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def run_jobs(self) -> int:
        """Deliver the jobs queue's messages to the jobs function, as Lambda's event source would; a job
        that fails is left on the queue (visible again at once) and its error raised."""
        from chalicelib import settings

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
        from chalicelib import settings
        from chalicelib.local.smtp import LOCAL_VERDICTS, receive

        config = settings.get()
        event = receive(raw, config.mail_bucket, recipients or [config.support_address], "sender@example.com", ses_id)
        event["Records"][0]["ses"]["receipt"].update(
            {f"{name}Verdict": {"status": status} for name, status in {**LOCAL_VERDICTS, **verdicts}.items()}
        )
        return self.client.lambda_.invoke("on_inbound_email", event).payload["results"][0]

    # The outbox

    @staticmethod
    def outbox(to: str) -> list[EmailMessage]:
        return sent_messages(to)


@contextmanager
def in_process(*issue_types: dict[str, Any], stage: str | None = None) -> Iterator[InProcess]:
    """Provision moto with the demo agents, publish the seeded types (dev-only ones too) and
    `issue_types`, serve the app in this process. With a `stage`, for a command of its own, the
    environment is made fake for it first and the functions' logs are kept to warnings (tests set
    up theirs in tests/conftest.py)."""
    if stage is not None:
        fake_aws(stage)
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from chalice.test import Client

    from chalicelib import bootstrap

    with provisioned() as resources:
        services = bootstrap.services()
        services.issue_types.publish_seeds(dev_seeds=True)
        for definition in issue_types:
            services.issue_types.publish(definition)
        from app import app

        with Client(app, stage_name="dev") as client:
            yield InProcess(client, resources, services)


def sent_messages(to: str) -> list[EmailMessage]:
    """What SES (moto) was asked to send to an address, as parsed messages, oldest first, and as the
    recipient gets them: SES replaces the Message-ID it is given with its own (moto does not)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from chalicelib.adapters.ses import ses_domain

    found = []
    for message in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages:
        raw = getattr(message, "raw_data", None)
        if raw is None or to not in getattr(message, "destinations", []):
            continue
        parsed = message_from_bytes(raw.encode() if isinstance(raw, str) else raw, policy=policy.default)
        del parsed["Message-ID"]
        parsed["Message-ID"] = f"<{message.id}@{ses_domain(REGION)}>"
        found.append(parsed)
    return found


def sent_emails(to: str) -> list[dict[str, str]]:
    """What SES (moto) was asked to send to an address: subject and body."""
    return [
        {
            "subject": str(parsed["Subject"]),
            "body": parsed.get_body(("plain",)).get_content(),
            "auto_submitted": str(parsed["Auto-Submitted"]),
        }
        for parsed in sent_messages(to)
    ]
