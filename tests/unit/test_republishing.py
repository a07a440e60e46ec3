"""Every published version's state machine is created again from its stored definition, under the
same name (so the same ARN): the embedded stack restarted on a kept state has its issue types'
data but a Step Functions that starts empty (decision 0038)."""

import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.services.issue_types import IssueTypeService
from tests.fakes import FakeIssueTypeRepository, FakeWorkflowEngine

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/caseflow-tasks"

ADMIN_TYPE = {
    "id": "window-repair",
    "name": "Broken shop window",
    "fields": [{"id": "shop", "type": "text", "required": True}],
    "steps": [{"id": "board_up", "name": "Board up", "role": "logistics", "deadline": "PT6H"}],
}


def test_seeded_and_admin_published_versions_get_their_state_machines_back():
    repository, engine = FakeIssueTypeRepository(), FakeWorkflowEngine()
    service = IssueTypeService(repository, engine, lambda: QUEUE, "caseflow")
    seeded = service.publish_seeds()
    first = service.publish(ADMIN_TYPE)
    second = service.publish({**ADMIN_TYPE, "name": "Broken shop window or door"})
    before = dict(engine.state_machines)
    engine.state_machines.clear()

    restarted = IssueTypeService(repository, engine, lambda: QUEUE, "caseflow")
    republished = restarted.republish_versions()

    assert {(p.type_id, p.version) for p in republished} == {
        *((p.type_id, p.version) for p in seeded),
        (first.type_id, 1),
        (second.type_id, 2),
    }
    assert engine.state_machines == before
    assert restarted.publish_seeds() == seeded


def test_a_state_machine_that_comes_back_under_another_arn_is_a_conflict():
    repository, engine = FakeIssueTypeRepository(), FakeWorkflowEngine()
    IssueTypeService(repository, engine, lambda: QUEUE, "caseflow").publish(ADMIN_TYPE)

    with pytest.raises(Conflict, match="window-repair v1"):
        IssueTypeService(repository, engine, lambda: QUEUE, "other-prefix").republish_versions()
