"""Reopening resolved issues, on fakes of the ports: the issue opens again as its next run, once,
however many reopenings race."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.services.reopenings import REOPEN_WINDOW
from chalicelib.workflows import compiler
from tests.unit.wiring import World, world

REPORT = {
    "type": "general-enquiry",
    "customer": {"email": "ada@example.com", "name": "Ada"},
    "fields": {"subject": "Opening hours", "message": "Are you open on Sunday?"},
}


def _resolved(w: World):
    issue = w.services.intake.open_issue(REPORT).issue
    w.workflow_says(issue.id, compiler.KIND_OPEN, step="answer")
    w.clock.advance(timedelta(hours=1))
    w.workflow_says(issue.id, compiler.KIND_RESOLVE)
    return w.issues.get(issue.id)


def test_an_agent_reopens_a_resolved_issue_and_its_process_runs_again_as_the_next_run():
    w = world()
    issue = _resolved(w)
    w.clock.advance(timedelta(hours=2))

    answer = w.services.reopenings.reopen_by_agent(issue.id, {"reason": "customer called back"}, w.agent("sam"))
    assert answer == {"issue_id": issue.id, "reference": issue.reference, "status": "open", "run": 2}

    reopened = w.issues.get(issue.id)
    assert (reopened.status, reopened.run, reopened.reopenings) == ("open", 2, 1)
    assert reopened.first_resolved_at == issue.first_resolved_at, "resolution time counts from the first"
    assert w.engine.started_names() == [issue.id, f"{issue.id}-2"]
    assert reopened.execution_arn.endswith(f":{issue.id}-2")
    [event] = w.issues.events(issue.id, "issue_reopened")
    assert (event.text, event.actor, event.data) == ("customer called back", "sam", {"run": 2, "reopenings": 1})
    assert w.tasks.for_issue(issue.id) == [] and (issue.id, 1, "answer") in w.tasks.archived
    assert "reopened" in [e.kind for e in w.kpi_records.journal(w.clock())]


def test_an_open_issue_cannot_be_reopened():
    w = world()
    issue = w.services.intake.open_issue(REPORT).issue
    with pytest.raises(Conflict, match="not resolved"):
        w.services.reopenings.reopen_by_agent(issue.id, {}, w.agent("sam"))
    assert w.issues.get(issue.id).run == 1 and len(w.engine.starts) == 1


def test_two_reopenings_of_the_same_resolved_issue_reopen_it_once():
    w = world()
    issue = _resolved(w)  # both replies were read while the issue was resolved

    first = w.services.reopenings.reopen(issue, "the customer wrote", "ada@example.com")
    second = w.services.reopenings.reopen(issue, "the customer wrote again", "ada@example.com")

    assert first is not None and second is None
    stored = w.issues.get(issue.id)
    assert (stored.run, stored.reopenings) == (2, 1)
    assert w.engine.started_names().count(f"{issue.id}-2") == 1
    assert len(w.issues.events(issue.id, "issue_reopened")) == 1


def test_a_reopening_that_loses_the_race_to_another_writer_still_reopens_once():
    w = world()
    issue = _resolved(w)
    # Someone else saves the issue between our read and our write: our write is stale, and the
    # reopening is decided again on the issue as it now is (still resolved, so it reopens).
    w.issues.interfere(lambda: w.issues.save(w.issues.get(issue.id).raise_priority()))

    reopened = w.services.reopenings.reopen(issue, "the customer wrote", "ada@example.com")
    assert reopened is not None
    stored = w.issues.get(issue.id)
    assert (stored.status, stored.run, stored.priority) == ("open", 2, "high")


def test_a_customer_message_reopens_only_within_the_window_after_resolution():
    w = world()
    issue = _resolved(w)
    assert w.services.reopenings.may_reopen(issue)
    w.clock.advance(REOPEN_WINDOW + timedelta(minutes=1))
    assert not w.services.reopenings.may_reopen(issue)
