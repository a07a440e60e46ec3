"""Classifying customers' own words, and asking for training runs, on fakes of the ports.

One quick model is trained for the module (a few seconds, on the seed examples) and copied into
each test's bucket and classifier records.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.domain.errors import Forbidden
from chalicelib.services.records import TRAINING_MAX_DURATION, ModelRecord
from tests.unit.wiring import World, world

CUSTOMER = {"email": "ada@example.com", "name": "Ada"}
LATE = "My parcel never arrived, it is two weeks late and tracking has not moved."


@pytest.fixture(scope="module")
def trained() -> tuple[ModelRecord, bytes]:
    w = world()
    result = w.services.classifier_training.retrain("for the tests")
    assert result["promoted"]
    record = w.classifier_records.current
    return record, w.store.read(record.key)


def _with_model(trained: tuple[ModelRecord, bytes], threshold: float) -> World:
    w = world()
    record, blob = trained
    w.store.write(record.key, blob, "application/octet-stream")
    w.classifier_records.record_training(replace(record, threshold=threshold))
    return w


def test_a_report_in_the_customers_words_the_classifier_is_sure_of_starts_that_types_process(trained):
    w = _with_model(trained, threshold=0.5)
    opened = w.services.intake.open_issue({"customer": CUSTOMER, "text": LATE})

    issue = w.issues.get(opened.issue.id)
    assert issue.type_id == "late-delivery"
    assert issue.classification["routed"] == "auto" and issue.classification["label"] == "late-delivery"
    assert w.engine.started_names() == [issue.id]
    assert issue.execution_arn.startswith(
        w.issue_type_records.current("late-delivery").state_machine_arn.replace(":stateMachine:", ":execution:")
    )
    assert "classified" in [e.kind for e in w.kpi_records.journal(issue.created_at)]


def test_a_report_the_classifier_is_unsure_of_goes_to_triage_with_its_suggestions(trained):
    w = _with_model(trained, threshold=1.01)  # no verdict is ever sure enough
    opened = w.services.intake.open_issue({"customer": CUSTOMER, "text": LATE})

    issue = w.issues.get(opened.issue.id)
    assert issue.type_id == "triage" and issue.classification["routed"] == "triage"
    assert issue.classification["suggestions"][0]["type"] == "late-delivery"


def test_until_a_model_is_trained_reports_in_the_customers_words_go_to_triage():
    w = world()
    opened = w.services.intake.open_issue({"customer": CUSTOMER, "text": LATE})
    assert w.issues.get(opened.issue.id).type_id == "triage"
    assert w.issues.get(opened.issue.id).classification is None


def test_asking_for_training_while_a_run_is_queued_names_that_run_and_queues_no_other():
    w = world()
    admin = w.agent("root", "admin")
    first = w.services.classification.request_training(admin)
    again = w.services.classification.request_training(admin)

    assert first["queued"] and not again["queued"]
    assert again["run"]["id"] == first["run"]["id"]
    assert [job["run_id"] for job in w.jobs.submitted] == [first["run"]["id"]]
    assert w.services.classification.status(admin)["training"]["id"] == first["run"]["id"]


def test_only_an_admin_may_ask_for_training():
    w = world()
    with pytest.raises(Forbidden):
        w.services.classification.request_training(w.agent("sam", "agent"))
    assert w.jobs.submitted == []


def test_a_run_whose_job_could_not_be_queued_does_not_hold_the_slot():
    w = world()
    admin = w.agent("root", "admin")
    w.jobs.failing = True
    with pytest.raises(ConnectionError):
        w.services.classification.request_training(admin)
    assert w.classifier_records.training_run(w.clock()) is None

    w.jobs.failing = False
    assert w.services.classification.request_training(admin)["queued"]


def test_a_run_that_never_ended_stops_holding_the_slot_after_the_longest_training():
    w = world()
    admin = w.agent("root", "admin")
    lost = w.services.classification.request_training(admin)["run"]["id"]
    w.clock.advance(TRAINING_MAX_DURATION + timedelta(minutes=1))

    fresh = w.services.classification.request_training(admin)
    assert fresh["queued"] and fresh["run"]["id"] != lost
    assert len(w.jobs.submitted) == 2


def test_agents_decisions_are_kept_as_examples_one_per_issue():
    w = world()
    classification = w.services.classification
    assert classification.learn("issue-1", LATE, "late-delivery", "late-delivery") == "confirmed"
    assert classification.learn("issue-1", LATE, "damaged-product", "late-delivery") == "corrected"
    assert w.classifier_records.examples() == [(LATE, "damaged-product")]
    assert classification.status(w.agent("root", "admin"))["examples_from_agents"] == 1
