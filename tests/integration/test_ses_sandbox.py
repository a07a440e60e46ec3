"""A new account's SES is in the sandbox: it sends to verified addresses only and refuses the rest
with MessageRejected. The flows run with such an SES, and every issue still reaches resolution,
with each refused email on its timeline (`email_failed`, SES's reason) instead of a dead workflow.

moto checks only the sender, so its SES backend is made to refuse as SES does. It is patched on
moto's side rather than by a `before-call` hook on the clients: botocore copies the event handlers
into each client when it is made, and the stack's clients were made before this module ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from email.utils import parseaddr
from typing import Any
from unittest import mock

import pytest
from moto.ses.exceptions import MessageRejectedError
from moto.ses.models import SESBackend

from harness.environment import REGION
from tests.integration.conftest import sent_emails
from tests.integration.test_email_channel import email

#: The only recipient this sandbox lets through: a store manager who verified their address.
VERIFIED = {"sam@agents.caseflow.test"}


@pytest.fixture
def sandbox() -> Iterator[list[str]]:
    """SES refusing every unverified recipient, as a sandboxed account does; yields the refused."""
    send = SESBackend.send_raw_email
    refused: list[str] = []

    def sandboxed(self: SESBackend, source: str, destinations: list[str], raw_data: str) -> Any:
        unverified = [d for d in destinations if parseaddr(d)[1].lower() not in VERIFIED]
        if unverified:
            refused.extend(unverified)
            raise MessageRejectedError(
                "Email address is not verified. The following identities failed the check in region "
                f"{REGION.upper()}: {', '.join(unverified)}"
            )
        return send(self, source, destinations, raw_data)

    with mock.patch.object(SESBackend, "send_raw_email", sandboxed):
        yield refused


def _failed(issue: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in issue["timeline"] if e["kind"] == "email_failed"]


def test_a_web_report_whose_acknowledgement_is_refused_still_reaches_its_first_task(stack, sandbox):
    opened = stack.open_issue(
        "rude-staff",
        {
            "store": "manchester-arndale",
            "incident_date": date.today().isoformat(),
            "what_happened": "The cashier shouted at me.",
        },
        "sandboxed.web@example.com",
    )
    assert opened.status_code == 201, opened.body
    issue_id = opened.json_body["id"]

    task = stack.pump_until(lambda: stack.task_for("sam", issue_id), what="the store manager's task")
    assert task["step"] == "manager_opinion"
    [failed] = _failed(stack.issue(issue_id))
    assert failed["data"]["to"] == "sandboxed.web@example.com" and failed["data"]["message"] == "acknowledgement"
    assert "MessageRejected" in failed["data"]["reason"] and "not verified" in failed["data"]["reason"]
    assert "sandboxed.web@example.com" in sandbox
    assert any(opened.json_body["reference"] in m["subject"] for m in sent_emails("sam@agents.caseflow.test"))


def test_rude_staff_runs_to_resolution_when_no_customer_and_not_every_agent_can_be_mailed(stack, sandbox):
    opened = stack.open_issue(
        "rude-staff",
        {
            "store": "manchester-arndale",
            "incident_date": date.today().isoformat(),
            "what_happened": "The cashier was rude to me.",
        },
        "sandboxed.rude@example.com",
    )
    issue_id = opened.json_body["id"]
    task = stack.pump_until(lambda: stack.task_for("sam", issue_id), what="the store manager's task")
    stack.complete("sam", task, {"manager_opinion": "I spoke to the cashier."})
    hr_task = stack.pump_until(lambda: stack.task_for("hana", issue_id), what="the HR task, its email refused")
    stack.complete("hana", hr_task, {"decision": "apology", "notes": "A written apology."})

    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="resolution")
    assert stack.execution_status(issue_id) == "SUCCEEDED"
    issue = stack.issue(issue_id)
    refused_to = {e["data"]["to"] for e in _failed(issue)}
    assert {"sandboxed.rude@example.com", "hana@agents.caseflow.test"} <= refused_to
    assert not [e for e in issue["timeline"] if e["kind"] == "email_sent"], "the customer was never reached"
    assert sent_emails("sandboxed.rude@example.com") == []


def test_an_emailed_report_is_filed_and_its_refused_acknowledgement_recorded(stack, sandbox):
    raw, _ = email("sandboxed.mail@example.com", "Gift card balance", "How do I check it?")
    received = stack.deliver_email(raw)
    assert received["outcome"] == "opened", received
    issue_id = received["issue_id"]

    stack.pump_until(lambda: _failed(stack.issue(issue_id)), what="the refused acknowledgement")
    [failed] = _failed(stack.issue(issue_id))
    assert failed["data"]["message"] == "acknowledgement" and "not verified" in failed["data"]["reason"]
    assert stack.issue(issue_id)["status"] == "open"


def test_a_billing_dispute_waits_for_and_hears_a_customer_its_emails_never_reached(stack, sandbox):
    fields = {"invoice_number": "INV-400400", "amount_disputed": 40, "reason": "double_charge"}
    opened = stack.open_issue("billing-dispute", fields, "sandboxed.billing@example.com")
    issue_id = opened.json_body["id"]
    review = {"finding": "upheld", "refund_amount": 40, "explanation": "Charged twice on 3 March."}
    stack.complete("bella", stack.pump_until(lambda: stack.task_for("bella", issue_id), what="the review"), review)
    stack.pump_until(
        lambda: "waiting_for_customer" in [e["kind"] for e in stack.issue(issue_id)["timeline"]],
        what="the wait for the customer's reply",
    )
    # The customer never got the question, but rang: the agent records what they said.
    said = stack.post(
        f"/agent/issues/{issue_id}/customer-messages",
        {"text": "Yes, refund it.", "channel": "phone"},
        stack.token("bella"),
    )
    assert said.status_code == 201, said.body
    second = stack.pump_until(lambda: stack.task_for("fiona", issue_id), what="the second review")
    stack.complete("fiona", second, {"outcome": "Refunded GBP 40."})

    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="resolution")
    assert stack.execution_status(issue_id) == "SUCCEEDED"
    failed = _failed(stack.issue(issue_id))
    # The staff's task emails were refused as well: only sam verified an address.
    assert {"sandboxed.billing@example.com", "bella@agents.caseflow.test"} <= {e["data"]["to"] for e in failed}
    to_customer = {e["data"].get("message") for e in failed if e["data"]["to"] == "sandboxed.billing@example.com"}
    assert {"acknowledgement"} < to_customer, "the step emails to the customer were refused too"
    assert sent_emails("sandboxed.billing@example.com") == []
