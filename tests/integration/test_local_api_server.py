"""The local API server (`make run`'s) under a burst: every request answered, each with its own answer."""

from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from app import app
from bench.api_concurrency import burst
from chalicelib.local.api_server import serve_api
from chalicelib.local.provision import DEMO_AGENTS
from tests.integration.conftest import FAST_TYPE

BURST = 200


@pytest.fixture(scope="module")
def api(stack):
    server = serve_api(app, 0)
    yield server.base_url
    server.stop()


def test_a_burst_of_200_connections_is_answered_without_a_connection_error(api):
    outcomes = burst(api, "/issue-types", BURST)
    assert outcomes == Counter({"200": BURST}), outcomes


def test_concurrent_requests_each_get_the_answer_to_their_own_headers_and_body(stack, api):
    users = list(DEMO_AGENTS)[:8]
    tokens = {user: stack.token(user) for user in [*users, "ada"]}
    start = threading.Barrier(BURST)

    def me(i: int) -> tuple[str, str]:
        user = users[i % len(users)]
        start.wait()
        answer = requests.get(f"{api}/agent/me", headers={"Authorization": f"Bearer {tokens[user]}"}, timeout=120)
        return user, answer.json().get("username", answer.text)

    def validate(i: int) -> tuple[str, str]:
        """The body is read after the token is verified: another request's body would show in the answer."""
        definition = {**FAST_TYPE, "id": f"probe-{i}"}
        start.wait()
        answer = requests.post(
            f"{api}/admin/issue-types/validate",
            data=json.dumps(definition),
            headers={"Authorization": f"Bearer {tokens['ada']}", "Content-Type": "application/json"},
            timeout=120,
        )
        return f"probe-{i}", answer.json().get("id", answer.text)

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        answers = list(pool.map(lambda i: (me if i % 2 else validate)(i), range(BURST)))
    mixed_up = [(asked, got) for asked, got in answers if asked != got]
    assert not mixed_up, f"{len(mixed_up)} of {BURST} requests got another request's answer: {mixed_up[:3]}"


def test_the_server_stops_and_frees_its_port(stack):
    server = serve_api(app, 0)
    assert requests.get(f"{server.base_url}/issue-types", timeout=30).status_code == 200
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.base_url}/issue-types", timeout=30)
