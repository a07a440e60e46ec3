"""The seeded issue types: dev-only seeds (demo-quick's 20-second deadlines) stay off deployed stages."""

import pytest

from chalicelib.services.issue_types import IssueTypeService
from chalicelib.workflows.seeds import SEED_DIR, load_seed_definitions
from tests.fakes import FakeIssueTypeRepository, FakeWorkflowEngine
from tests.unit.wiring import world

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/caseflow-tasks"


def publisher(dev_seeds: bool) -> IssueTypeService:
    return IssueTypeService(
        FakeIssueTypeRepository(), FakeWorkflowEngine(), lambda: QUEUE, "caseflow", dev_seeds=dev_seeds
    )


def published_ids(service: IssueTypeService, **override: bool) -> set[str]:
    return {p.type_id for p in service.publish_seeds(**override)}


def test_a_deployed_stage_publishes_every_seed_but_the_dev_only_demo():
    ids = published_ids(publisher(dev_seeds=False))
    assert "demo-quick" not in ids
    assert {"billing-dispute", "rude-staff", "general-enquiry", "triage"} <= ids


def test_the_dev_stage_publishes_the_demo_too_and_a_stack_on_moto_may_ask_for_it():
    assert "demo-quick" in published_ids(publisher(dev_seeds=True))
    assert "demo-quick" in published_ids(publisher(dev_seeds=False), dev_seeds=True)


def test_services_built_for_a_stage_other_than_dev_leave_the_demo_out():
    w = world()  # the tests' stage is "test"
    assert w.services.config.stage != "dev"
    assert "demo-quick" not in {t.id for t in w.services.issue_types.list_current()}


def test_the_flag_is_the_seeds_and_never_reaches_the_stored_definition():
    service = publisher(dev_seeds=True)
    [demo] = [p for p in service.publish_seeds() if p.type_id == "demo-quick"]
    assert "dev_only" not in demo.definition
    assert "demo-quick" not in {d["id"] for d in load_seed_definitions(dev=False)}


def test_a_flag_that_is_not_true_or_false_is_refused_naming_its_file(tmp_path):
    (tmp_path / "odd.yaml").write_text(
        (SEED_DIR / "demo-quick.yaml").read_text().replace("dev_only: true", "dev_only: sometimes")
    )
    with pytest.raises(ValueError, match="odd.yaml: dev_only must be true or false"):
        load_seed_definitions(tmp_path)
