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


def test_without_a_server_discover_says_where_nothing_answers(monkeypatch):
    from harness import free_port

    endpoint = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(NoStack, match=f"nothing answers at {endpoint}"):
        discover(settings.get())
