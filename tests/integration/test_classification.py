"""The learning engine on moto: free text routed by the model or sent to triage, agents' corrections
moving issues and feeding the next training run."""

from __future__ import annotations

import pytest

from chalicelib import bootstrap
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


def test_bad_free_text_and_bad_types_get_a_400_naming_the_field(stack, trained):
    empty = free_text(stack, "bad@example.com", "   ")
    assert empty.status_code == 400 and empty.json_body["errors"][0]["field"] == "text"
    huge = free_text(stack, "bad@example.com", "parcel " * 5000)
    assert huge.status_code == 400 and huge.json_body["errors"][0]["field"] == "text"
    foreign = free_text(stack, "bad@example.com", "Mein Paket ist seit zwei Wochen nicht angekommen. 包裹没有到。")
    assert foreign.status_code == 201 and foreign.json_body["type"] in {"late-delivery", "triage"}
    issue_id = foreign.json_body["id"]
    wrong = (({"type": "nope"}, "no issue type"), ({"type": "triage"}, "cannot be chosen"), ({}, "required"))
    for body, message in wrong:
        response = stack.post(f"/agent/issues/{issue_id}/type", body, stack.token("alice"))
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
        stack.post(f"/agent/issues/{opened.json_body['id']}/type", {"type": "billing-dispute"}, stack.token("alice"))
    queued = stack.post("/admin/classifier/training", {}, stack.token("ada"))
    assert queued.status_code == 202
    record = bootstrap.services().classifier_training.retrain("after corrections")
    assert record["metrics"]["from_agents"] >= len(texts)
    status = stack.get("/admin/classifier", stack.token("ada")).json_body
    assert status["trainings"][0]["version"] == record["version"] and status["examples_from_agents"] >= len(texts)
    assert stack.get("/admin/classifier", stack.token("alice")).status_code == 403
