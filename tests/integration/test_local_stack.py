"""Commands that work on the running embedded stack from another process (`make demo-data`) find
its resources by name, and say so plainly when there is no stack."""

import os

import pytest
from moto import mock_aws

from chalicelib import settings
from chalicelib.local.provision import NoStack, discover


def test_discover_finds_the_user_pool_and_queues_that_provisioning_made(stack):
    found = discover(settings.get())

    assert found.user_pool_id == os.environ[settings.USER_POOL_ID]
    assert found.user_pool_client_id == os.environ[settings.USER_POOL_CLIENT_ID]
    assert found.task_queue_url == stack.queue_url
    assert found.dead_letter_queue_url.endswith("-dlq")


def test_without_a_provisioned_stack_discover_says_what_is_missing(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")  # a region nothing was provisioned in
    with mock_aws(), pytest.raises(NoStack, match="no user pool 'caseflow-agents'"):
        discover(settings.get())
