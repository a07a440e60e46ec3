"""Opening issues, on fakes of the ports: what a customer reporting on the web, and support, notice."""

from __future__ import annotations

import re

import pytest

from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.domain.issues import OPEN, REFERENCE_PREFIX
from tests.unit.wiring import world

REPORT = {
    "type": "general-enquiry",
    "customer": {"email": "Ada@Example.com ", "name": "Ada"},
    "fields": {"subject": "Opening hours", "message": "Are you open on Sunday?"},
}


def test_a_web_report_opens_an_issue_with_a_reference_and_starts_its_workflow():
    w = world()
    opened = w.services.intake.open_issue(REPORT)

    issue = w.issues.get(opened.issue.id)
    assert re.fullmatch(rf"{REFERENCE_PREFIX}[2-9A-Z]{{5}}", issue.reference)
    assert w.issues.issue_id_by_reference(issue.reference) == issue.id
    assert (issue.status, issue.type_id, issue.fields["subject"]) == (OPEN, "general-enquiry", "Opening hours")
    assert w.issues.customer(issue.customer_id).email == "ada@example.com"
    assert [e.kind for e in w.issues.timeline(issue.id)] == ["issue_opened"]
    assert w.engine.started_names() == [issue.id]
    assert w.engine.executions[issue.execution_arn].payload["issue_id"] == issue.id
    assert [e.kind for e in w.kpi_records.journal(issue.created_at)] == ["opened"]


def test_a_retried_report_with_the_same_idempotency_key_returns_the_same_issue():
    w = world()
    first = w.services.intake.open_issue(REPORT, idempotency_key="retry-1")
    again = w.services.intake.open_issue(REPORT, idempotency_key="retry-1")

    assert again.issue.id == first.issue.id and again.replayed and not first.replayed
    assert len(w.issues.issues) == 1
    assert len(w.engine.executions) == 1, "a retried start starts no second workflow"


def test_an_idempotency_key_reused_for_another_report_is_refused():
    w = world()
    w.services.intake.open_issue(REPORT, idempotency_key="retry-2")
    other = {**REPORT, "fields": {"subject": "Refund", "message": "Where is my refund?"}}
    with pytest.raises(Conflict):
        w.services.intake.open_issue(other, idempotency_key="retry-2")
    assert len(w.issues.issues) == 1


def test_a_returning_customer_is_the_same_customer_on_every_issue():
    w = world()
    first = w.services.intake.open_issue(REPORT)
    second = w.services.intake.open_issue({**REPORT, "customer": {"email": "ada@example.com"}})
    assert first.issue.customer_id == second.issue.customer_id
    assert len(w.issues.customers) == 1


def test_a_reference_taken_meanwhile_is_replaced_by_a_fresh_one(monkeypatch):
    w = world()
    taken = w.services.intake.open_issue(REPORT).issue.reference
    references = iter([taken, "CF-NEW22"])
    monkeypatch.setattr("chalicelib.services.intake.new_reference", lambda: next(references))

    opened = w.services.intake.open_issue({**REPORT, "customer": {"email": "grace@example.com"}})
    assert opened.issue.reference == "CF-NEW22"
    assert w.issues.issue_id_by_reference(taken) != opened.issue.id
    assert len(w.issues.issues) == 2 and len(w.issues.customers) == 2


def test_a_report_with_problems_names_each_and_stores_nothing():
    w = world()
    with pytest.raises(ValidationFailed) as refused:
        w.services.intake.open_issue({"type": "no-such-type", "customer": {"email": "not an address"}})
    assert {e.field for e in refused.value.errors} >= {"type", "customer.email"}
    assert w.issues.issues == {} and w.engine.starts == []
