"""schemathesis over the OpenAPI document (`chalicelib/api/openapi`), against the app on moto in
this process, served on a local port by the local API server: every operation answers with a
status, media type, headers and body its document gives, and never with a server error.

A stack of its own (the harness's `in_process`), so that the roles, teams, types and runs that the
generated requests create are seen by no other test. Token routes get an admin's real token
(admins may call every one), and every other request of an operation has its path parameters
replaced by real ones (an issue, its task held by the admins, a team, a customer, signed links), so
that the answers of found things are checked too, not only the 404s of drawn ids. Hypothesis is
derandomized, so a run repeats; the number of requests is printed at the end (`pytest -s`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app import app
from chalicelib.api.openapi import document
from chalicelib.local.api_server import serve_api
from harness import in_process

#: Drawn requests per operation, on top of schemathesis's boundary values of each parameter.
EXAMPLES_PER_OPERATION = 25
REQUEST_SECONDS = 60
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SPEC = document.build(app)
#: Methods no route has are the HTTP server's to answer (the local one's 501, API Gateway's 403), not the app's.
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"unexpected-methods": []}}})
schema = schemathesis.openapi.from_dict(SPEC, config=CONFIG)


#: A type whose first step the admins hold, so that the admin's token finds a task of its own.
CONTRACT_TYPE = {
    "id": "contract-test",
    "name": "Contract test",
    "fields": [{"id": "summary", "type": "text", "required": True}],
    "steps": [
        {
            "id": "look",
            "name": "Look",
            "role": "admin",
            "deadline": "P1D",
            "fields": [{"id": "finding", "type": "text", "required": True}],
        }
    ],
}
TEAM = "contract-team"
CUSTOMER = "contract@example.com"


@dataclass
class Api:
    url: str
    token: str
    #: Real values of path parameters, by name; `token` by the path's first segment.
    real: dict[str, str]
    tokens: dict[str, str]

    def real_value(self, path: str, name: str) -> str | None:
        if name == "token":
            return self.tokens.get(path.split("/")[1])
        return self.real.get(name)


class Tally:
    """What was sent: statuses for the printed summary, and each operation's cases so far."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.cases: Counter[str] = Counter()


TALLY = Tally()


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with in_process(CONTRACT_TYPE) as stack:
        opened = stack.open_issue(CONTRACT_TYPE["id"], {"summary": "A contract test's issue"}, CUSTOMER).json_body
        task = stack.wait_for_task("ada", opened["id"])
        token = stack.token("ada")
        assert stack.post("/admin/teams", {"name": TEAM}, token).status_code == 201
        links = {
            "s": stack.services.status_links.link_for(opened["id"]),
            "survey": stack.services.surveys.link(opened["id"], "csat", 4),
        }
        server = serve_api(app, 0)
        try:
            yield Api(
                server.base_url,
                token,
                {
                    "issue_id": opened["id"],
                    "reference": opened["reference"],
                    "task_id": task["id"],
                    "type_id": CONTRACT_TYPE["id"],
                    "email": CUSTOMER,
                    "name": TEAM,
                    "username": "alice",
                },
                {segment: link.rsplit("/", 1)[-1] for segment, link in links.items()},
            )
            stack.drain()
        finally:
            server.stop()


def _with_real_values(case, api: Api) -> None:
    """Every other case of an operation: its path parameters replaced by real ones, where there are."""
    label = case.operation.label
    TALLY.cases[label] += 1
    if TALLY.cases[label] % 2:
        return
    for name in list(case.path_parameters or {}):
        if (value := api.real_value(case.operation.path, name)) is not None:
            case.path_parameters[name] = value


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_document_says(case, api):
    needs_token = bool(case.operation.definition.raw.get("security"))
    headers = {"Authorization": f"Bearer {api.token}"} if needs_token else {}
    _with_real_values(case, api)
    response = case.call(base_url=api.url, headers=headers, timeout=REQUEST_SECONDS)
    TALLY.statuses[response.status_code] += 1
    case.validate_response(response, checks=CHECKS)


def test_the_served_document_is_the_one_schemathesis_ran_over(api):
    served = requests.get(f"{api.url}/openapi.json", timeout=REQUEST_SECONDS)
    assert served.status_code == 200
    assert served.json() == SPEC
    sent = sum(TALLY.statuses.values())
    operations = sum(len(methods) for methods in SPEC["paths"].values())
    print(f"\nschemathesis sent {sent} requests over {operations} operations: {dict(sorted(TALLY.statuses.items()))}")
