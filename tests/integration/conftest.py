"""Integration tests: Caseflow's real code on moto in-process, with Step Functions executing.

One moto session serves the whole package: provisioning it takes a few seconds, and every test
uses its own customers and issues, so they don't see each other's data. The stack and its driving
(`stack.pump_until`, `drain`, `run_jobs`, `wait_idle`, ...) are the harness's (`harness.in_process`).
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from chalicelib import settings
from chalicelib.adapters.dynamodb.models import bind
from chalicelib.adapters.dynamodb.schema import create_table_request
from harness import InProcess, in_process, sent_emails, sent_messages

__all__ = ["FAST_TYPE", "sent_emails", "sent_messages"]  # what the tests import from here

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


@pytest.fixture(scope="package")
def stack() -> Iterator[InProcess]:
    with in_process(FAST_TYPE) as running:
        yield running


@pytest.fixture(scope="module")
def table() -> Iterator[None]:
    """The single table alone on moto, bound for the adapters: for the ports' contract tests, which
    hold a fake and its adapter to the same assertions without the rest of the stack."""
    config = settings.get()
    with mock_aws():
        bind(config.table_name, config.region, config.endpoint_url)
        try:
            boto3.client("dynamodb").create_table(**create_table_request(config.table_name))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
        yield
