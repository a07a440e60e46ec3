"""A task tells its holder everything: what the step asks, what the customer said (in labels, not
codes) and what earlier steps answered; and nobody else learns that it exists."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import Forbidden, NotFound, ValidationFailed
from chalicelib.workflows import compiler
from tests.unit.test_workflow_on_fakes import _rude_staff, _staffed


def _at_hr_decision(w):
    """A rude-staff issue at Leeds Briggate: sam gave his account, and HR's decision is open."""
    issue = w.services.intake.open_issue(_rude_staff("leeds-briggate")).issue
    w.workflow_says(issue.id, compiler.KIND_OPEN, step="manager_opinion")
    w.workflow_says(issue.id, compiler.KIND_WAIT, step="manager_opinion", checkpoint=0)
    opinion = w.tasks.get(issue.id, "manager_opinion")
    w.services.completions.complete(opinion.id, {"manager_opinion": "The cashier was rude."}, w.agent("sam"))
    w.workflow_says(issue.id, compiler.KIND_OPEN, step="hr_decision")
    w.workflow_says(issue.id, compiler.KIND_WAIT, step="hr_decision", checkpoint=0)
    return issue, w.tasks.get(issue.id, "hr_decision")


def test_the_queue_shows_what_the_step_asks_with_option_labels_and_the_customers_words():
    w = _staffed()
    issue, task = _at_hr_decision(w)

    [entry] = w.services.queues.page(w.agent("hana", "hr"), {})["tasks"]
    assert entry["id"] == task.id
    decision, notes = entry["form"]["fields"]
    assert (decision["id"], decision["label"], decision["type"], decision["required"]) == (
        "decision",
        "Decision",
        "choice",
        True,
    )
    assert {"value": "apology", "label": "Formal apology"} in decision["options"]
    assert notes["label"] == "Notes for the customer"
    facts = {f["label"]: f["value"] for f in entry["issue"]["fields"]}
    assert facts["Store"] == "Leeds Briggate", "the option's label, not its code"
    assert facts["What happened"] == "Shouted at me."
    assert entry["issue"]["reference"] == issue.reference


def test_a_task_shows_what_the_earlier_steps_answered():
    w = _staffed()
    _, task = _at_hr_decision(w)

    shown = w.services.completions.task(task.id, w.agent("hana", "hr"))
    [earlier] = shown["earlier_answers"]
    assert (earlier["step_name"], earlier["completed_by"]) == ("Store manager's opinion", "sam")
    assert earlier["answers"] == [
        {"id": "manager_opinion", "label": "Your account of the incident", "value": "The cashier was rude."}
    ]
    assert shown["form"]["id"] == "hr_decision" and shown["due_at"] == task.due_at.isoformat()


def test_a_task_is_not_found_for_an_agent_who_may_not_see_its_issue():
    w = _staffed()
    _, task = _at_hr_decision(w)

    with pytest.raises(NotFound):
        w.services.completions.task(task.id, w.agent("lee", "logistics"))
    shown = w.services.completions.task(task.id, w.agent("sam"))  # he gave his account: he still sees it
    assert shown["id"] == task.id
    with pytest.raises(Forbidden):
        w.services.completions.complete(task.id, {"decision": "apology"}, w.agent("sam"))
    with pytest.raises(NotFound):
        w.services.completions.task(f"{task.issue_id}-no_such_step", w.agent("hana", "hr"))


def test_completing_validates_against_the_form_the_task_shows():
    w = _staffed()
    _, task = _at_hr_decision(w)
    form = w.services.completions.task(task.id, w.agent("hana", "hr"))["form"]
    values = {o["value"] for o in form["fields"][0]["options"]}

    with pytest.raises(ValidationFailed) as refused:
        w.services.completions.complete(task.id, {"decision": "sack them", "notes": "x"}, w.agent("hana", "hr"))
    assert [e.field for e in refused.value.errors] == ["fields.decision"]
    assert "apology" in values
    done = w.services.completions.complete(task.id, {"decision": "apology", "notes": "Sorry."}, w.agent("hana", "hr"))
    assert done["status"] == "completed"
