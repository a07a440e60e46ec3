"""The learning engine on moto: free text routed by the model or sent to triage, agents' corrections
moving issues and feeding the next training run."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import bootstrap
from chalicelib.domain.agents import Agent
from tests.integration.conftest import sent_emails

LATE_PARCEL = "My parcel still has not arrived. Tracking has said 'out for delivery' for six days now."
VAGUE = "Hello, I have a question about something, can someone get back to me?"


@pytest.fixture(scope="module")
def trained(stack):
    """A model trained (quick tuning) on the shipped sample; removed afterwards, so that other tests
    see a stack without a model."""
    from chalicelib.adapters.dynamodb.models import ModelItem

    record = bootstrap.services().classifier_training.retrain("integration tests")
    assert record["promoted"] is True
    yield record
    ModelItem.get("CLASSIFIER", "CURRENT").delete()


def free_text(stack, email: str, text: str):
    return stack.post("/issues", {"customer": {"email": email, "name": "Free Text"}, "text": text})


def test_a_clear_late_parcel_starts_the_late_delivery_process_without_a_person(stack, trained):
    opened = free_text(stack, "parcel@example.com", LATE_PARCEL)
    assert opened.status_code == 201, opened.body
    assert opened.json_body["type"] == "late-delivery"
    issue = stack.issue(opened.json_body["id"])
    assert issue["classification"]["routed"] == "auto" and issue["classification"]["label"] == "late-delivery"
    assert issue["classification"]["confidence"] >= issue["classification"]["threshold"]
    assert LATE_PARCEL in issue["fields"].values()
    task = stack.pump_until(lambda: stack.task_for("lee", opened.json_body["id"]), what="the logistics task")
    assert task["role"] == "logistics"


def test_a_vague_text_goes_to_triage_with_three_suggestions_and_the_agent_moves_it(stack, trained):
    opened = free_text(stack, "vague@example.com", VAGUE)
    assert opened.status_code == 201 and opened.json_body["type"] == "triage"
    issue_id = opened.json_body["id"]
    triage = stack.pump_until(lambda: stack.task_for("alice", issue_id, "classify"), what="the triage task")
    suggestions = stack.issue(issue_id)["classification"]["suggestions"]
    assert len(suggestions) == 3 and all(0 <= s["confidence"] <= 1 for s in suggestions)
    assert [s["confidence"] for s in suggestions] == sorted((s["confidence"] for s in suggestions), reverse=True)
    assert triage["status"] == "open"

    moved = stack.post(f"/agent/issues/{issue_id}/type", {"type": "damaged-product"}, stack.token("alice"))
    assert moved.status_code == 200, moved.body
    assert moved.json_body["moved"] is True and moved.json_body["learned"] == "corrected"
    assert moved.json_body["closed_steps"] == ["classify"]
    after = stack.issue(issue_id)
    assert after["type"] == "damaged-product" and "type_changed" in [e["kind"] for e in after["timeline"]]
    assert VAGUE in after["fields"].values()
    stack.pump_until(lambda: stack.task_for("remy", issue_id), what="the returns task of the new process")
    assert stack.task_for("alice", issue_id, "classify") is None
    stack.pump()
    assert len(sent_emails("vague@example.com")) == 1, "the customer was acknowledged twice"


def test_an_agent_confirms_or_corrects_a_running_issue(stack, trained):
    opened = free_text(stack, "confirm@example.com", LATE_PARCEL)
    issue_id = opened.json_body["id"]
    stack.pump_until(lambda: stack.task_for("lee", issue_id), what="the logistics task")
    confirmed = stack.post(f"/agent/issues/{issue_id}/type", {"type": "late-delivery"}, stack.token("lee"))
    assert confirmed.json_body["moved"] is False and confirmed.json_body["learned"] == "confirmed"
    moved = stack.post(f"/agent/issues/{issue_id}/type", {"type": "billing-dispute"}, stack.token("lee"))
    assert moved.json_body["moved"] is True
    assert stack.issue(issue_id)["type"] == "billing-dispute"
    assert stack.task_for("lee", issue_id) is None
    # Billing's process names no logistics agent, but lee's role held the archived run's task.
    assert stack.issue(issue_id, "lee")["type"] == "billing-dispute"
    assert stack.get(f"/agent/issues/{issue_id}", stack.token("lena")).status_code == 404


def test_bad_free_text_and_bad_types_get_a_400_naming_the_field(stack, trained):
    empty = free_text(stack, "bad@example.com", "   ")
    assert empty.status_code == 400 and empty.json_body["errors"][0]["field"] == "text"
    huge = free_text(stack, "bad@example.com", "parcel " * 5000)
    assert huge.status_code == 400 and huge.json_body["errors"][0]["field"] == "text"
    foreign = free_text(stack, "bad@example.com", "Mein Paket ist seit zwei Wochen nicht angekommen. 包裹没有到。")
    assert foreign.status_code == 201 and foreign.json_body["type"] in {"late-delivery", "triage"}
    issue_id = foreign.json_body["id"]
    wrong = (({"type": "nope"}, "no issue type"), ({"type": "triage"}, "cannot be chosen"), ({}, "required"))
    for body, message in wrong:  # a supervisor sees the issue, whichever of the two types it has
        response = stack.post(f"/agent/issues/{issue_id}/type", body, stack.token("sue"))
        assert response.status_code == 400 and response.json_body["errors"][0]["field"] == "type"
        assert message in response.json_body["errors"][0]["message"]
    assert "triage" not in [t["id"] for t in stack.get("/issue-types").json_body["issue_types"]]


def test_agents_corrections_are_used_by_the_next_training_run(stack, trained):
    texts = [
        "The hamster chewed through the invoice and now I am billed twice",
        "Hamster ate my invoice, charged two times",
        "My hamster destroyed the bill and the charge appeared twice",
    ]
    for n, text in enumerate(texts):
        opened = free_text(stack, f"hamster{n}@example.com", text)
        stack.post(f"/agent/issues/{opened.json_body['id']}/type", {"type": "billing-dispute"}, stack.token("sue"))
    stack.run_jobs()
    queued = stack.post("/admin/classifier/training", {}, stack.token("ada"))
    assert queued.status_code == 202
    assert stack.run_jobs() == 1
    status = stack.get("/admin/classifier", stack.token("ada")).json_body
    assert status["trainings"][0]["metrics"]["run_id"] == queued.json_body["run"]["id"]
    assert status["trainings"][0]["metrics"]["from_agents"] >= len(texts)
    assert status["examples_from_agents"] >= len(texts)
    assert stack.get("/admin/classifier", stack.token("alice")).status_code == 403


# --- one training run at a time ------------------------------------------------------------------


def ask_for_training(stack) -> dict:
    answer = stack.post("/admin/classifier/training", {}, stack.token("ada"))
    assert answer.status_code == 202, answer.body
    return answer.json_body


def nightly_schedule(stack) -> None:
    event = stack.client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
    stack.client.lambda_.invoke("nightly_retraining", event)


def training_runs(stack) -> list[dict]:
    return stack.get("/admin/classifier", stack.token("ada")).json_body["trainings"]


@pytest.fixture()
def atomic_dynamodb(monkeypatch):
    """DynamoDB applies one write to an item at a time; moto in-process checks a condition and then
    writes without a lock, so threads could both pass it. Serialise moto's writes as DynamoDB does."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    for name in ("put_item", "update_item", "delete_item"):
        original = getattr(DynamoDBBackend, name)

        def locked(self, *args, _original=original, **kwargs):
            with lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


def test_asking_again_while_a_run_is_queued_answers_with_that_run_and_queues_nothing(stack, trained):
    stack.run_jobs()
    answers = [ask_for_training(stack) for _ in range(5)]
    nightly_schedule(stack)
    assert stack.waiting_jobs() == 1, "every request queued a training run of its own"
    first = answers[0]["run"]
    assert answers[0]["queued"] is True and not any(a["queued"] for a in answers[1:])
    assert {a["run"]["id"] for a in answers} == {first["id"]}
    assert {a["run"]["state"] for a in answers} == {"queued"}
    assert stack.get("/admin/classifier", stack.token("ada")).json_body["training"]["id"] == first["id"]

    before = len(training_runs(stack))
    assert stack.run_jobs() == 1
    runs = training_runs(stack)
    assert len(runs) == min(before + 1, 10) and runs[0]["metrics"]["run_id"] == first["id"]
    assert stack.get("/admin/classifier", stack.token("ada")).json_body["training"] is None

    after = ask_for_training(stack)
    assert after["queued"] is True and after["run"]["id"] != first["id"]
    assert stack.run_jobs() == 1


def test_asking_while_the_run_trains_answers_with_the_running_run(stack, trained, monkeypatch):
    from chalicelib.services.classifier_training import ClassifierTrainingService

    stack.run_jobs()
    queued = ask_for_training(stack)["run"]
    during: list[dict] = []
    train = ClassifierTrainingService.retrain

    def retrain_while_asked(self, *args, **kwargs):
        if not during:
            during.append(ask_for_training(stack))
            nightly_schedule(stack)
        return train(self, *args, **kwargs)

    monkeypatch.setattr(ClassifierTrainingService, "retrain", retrain_while_asked)
    before = training_runs(stack)[0]["version"]
    assert stack.run_jobs() == 1
    assert during[0]["queued"] is False
    assert during[0]["run"]["id"] == queued["id"] and during[0]["run"]["state"] == "running"
    assert stack.waiting_jobs() == 0
    runs = training_runs(stack)
    assert runs[1]["version"] == before, "the nightly schedule trained a second model during the run"


def test_simultaneous_requests_queue_one_run(stack, trained, atomic_dynamodb):
    stack.run_jobs()
    ada = Agent("ada", "ada@caseflow.test", frozenset({"admin"}))
    classification = bootstrap.services().classification
    start = threading.Barrier(8)

    def ask(_: int) -> dict:
        start.wait()
        return classification.request_training(ada)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(8)))
    assert stack.waiting_jobs() == 1
    assert len({a["run"]["id"] for a in answers}) == 1
    assert [a["queued"] for a in answers].count(True) == 1
    assert stack.run_jobs() == 1


def test_a_run_that_failed_frees_the_slot_and_its_retry_does_not_train_twice(stack, trained, monkeypatch):
    from chalicelib.services.classifier_training import ClassifierTrainingService

    stack.run_jobs()
    failed = ask_for_training(stack)["run"]

    def out_of_memory(self, *args, **kwargs):
        raise MemoryError("the training function ran out of memory")

    with monkeypatch.context() as patched:
        patched.setattr(ClassifierTrainingService, "retrain", out_of_memory)
        with pytest.raises(MemoryError):
            stack.run_jobs()
    again = ask_for_training(stack)
    assert again["queued"] is True and again["run"]["id"] != failed["id"]
    before = training_runs(stack)[0]["version"]
    assert stack.run_jobs() == 2  # the failed job's retry finds the slot taken and steps aside
    runs = training_runs(stack)
    assert runs[0]["metrics"]["run_id"] == again["run"]["id"] and runs[1]["version"] == before


def test_a_run_that_never_ended_stops_holding_the_slot_after_the_longest_training(stack, trained):
    from chalicelib.adapters.dynamodb.classifier import ClassifierRepository
    from chalicelib.services.classification import ClassificationService
    from chalicelib.services.records import TRAINING_MAX_DURATION

    class LostJobs:
        def submit(self, job: dict) -> None:
            """The job is gone: its function timed out without ending the run."""

    stack.run_jobs()
    then = datetime.now(UTC) - TRAINING_MAX_DURATION - timedelta(minutes=1)
    stale = ClassificationService(ClassifierRepository(), store=None, jobs=LostJobs(), clock=lambda: then)
    lost, queued = stale.queue_training("a run whose function was killed")
    assert queued is True
    fresh = ask_for_training(stack)
    assert fresh["queued"] is True and fresh["run"]["id"] != lost.id
    assert stack.run_jobs() == 1
