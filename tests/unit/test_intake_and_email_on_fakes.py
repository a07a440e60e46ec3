"""Intake's refusals and the customer's emails, on fakes of the ports wired by the real composition
root: a report of a type the customer may not choose, a returning customer whatever the case of
their address, and a reply by email to a resolved issue, delivered as often as SES likes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.errors import ValidationFailed
from chalicelib.services.inbound_email import REOPENED, THREADED, InboundNotice
from chalicelib.services.reopenings import REOPEN_WINDOW
from chalicelib.workflows import compiler
from tests.unit.wiring import World, world

ENQUIRY = {
    "type": "general-enquiry",
    "customer": {"email": "ada@example.com", "name": "Ada"},
    "fields": {"subject": "Opening hours", "message": "Are you open on Sunday?"},
}


@pytest.mark.parametrize("type_id", ["no-such-type", "triage", "service-recovery", "", None])
def test_a_report_of_a_type_the_customer_may_not_choose_is_refused_naming_the_type_field(type_id):
    w = world()
    with pytest.raises(ValidationFailed) as refused:
        w.services.intake.open_issue({**ENQUIRY, "type": type_id})

    [error] = refused.value.errors
    assert error.field == "type"
    if type_id:
        known = error.message.partition("known types: ")[2].split(", ")
        assert "general-enquiry" in known and "triage" not in known and "service-recovery" not in known
    assert w.issues.issues == {} and w.engine.starts == [] and w.issues.customers == {}


def test_a_customer_is_found_by_their_address_whatever_its_case():
    w = world()
    first = w.services.intake.open_issue({**ENQUIRY, "customer": {"email": "Ada.Lovelace@Example.COM"}}).issue
    second = w.services.intake.open_issue({**ENQUIRY, "customer": {"email": "ada.lovelace@example.com"}}).issue

    assert first.customer_id == second.customer_id
    [customer] = w.issues.customers.values()
    assert customer.email == "ada.lovelace@example.com"
    assert w.engine.started_names() == [first.id, second.id]
    history = w.issues.customer_history(customer.id)
    assert {e["issue_id"] for e in history if e["kind"] == "issue_opened"} == {first.id, second.id}


# A customer's reply by email


def _resolved(w: World):
    issue = w.services.intake.open_issue(ENQUIRY).issue
    w.clock.advance(timedelta(hours=1))
    w.workflow_says(issue.id, compiler.KIND_RESOLVE)
    return w.issues.get(issue.id)


def _email(w: World, issue, ses_id: str, text: str) -> InboundNotice:
    """The customer's reply to support+<reference>@, stored by SES as it would be."""
    to = w.config.support_address.replace("@", f"+{issue.reference}@")
    raw = (
        f"From: Ada <ada@example.com>\r\nTo: {to}\r\nSubject: Re: Opening hours [{issue.reference}]\r\n"
        f"Message-ID: <{ses_id}@mail.example.com>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    ).encode()
    w.store.write(f"inbound/{ses_id}", raw, "message/rfc822")
    return InboundNotice(ses_id, f"inbound/{ses_id}", (to,), w.clock())


def test_a_customers_email_to_a_resolved_issue_reopens_it_once_however_often_it_is_delivered():
    w = world()
    issue = _resolved(w)
    w.clock.advance(timedelta(hours=2))
    reply = _email(w, issue, "ses-1", "It is still closed on Sunday.")

    first = w.services.inbound_email.receive(reply)
    again = w.services.inbound_email.receive(reply)

    assert (first.outcome, first.reference) == (REOPENED, issue.reference)
    assert again.issue_id == issue.id
    reopened = w.issues.get(issue.id)
    assert (reopened.status, reopened.run, reopened.reopenings) == ("open", 2, 1)
    assert len(w.issues.events(issue.id, "issue_reopened")) == 1
    assert [e.text for e in w.issues.events(issue.id, "customer_message")] == ["It is still closed on Sunday."]
    assert w.engine.started_names() == [issue.id, f"{issue.id}-2"]
    assert len(w.issues.issues) == 1, "no follow-up issue is opened"


def test_a_second_email_to_the_reopened_issue_is_threaded_and_reopens_nothing():
    w = world()
    issue = _resolved(w)
    w.services.inbound_email.receive(_email(w, issue, "ses-1", "It is still closed."))
    later = w.services.inbound_email.receive(_email(w, issue, "ses-2", "Also on Saturday."))

    assert later.outcome == THREADED
    assert w.issues.get(issue.id).run == 2 and len(w.issues.events(issue.id, "issue_reopened")) == 1
    assert len(w.engine.starts) == 2


def test_an_email_long_after_resolution_opens_a_follow_up_instead_of_reopening():
    w = world()
    issue = _resolved(w)
    w.clock.advance(REOPEN_WINDOW + timedelta(hours=1))

    received = w.services.inbound_email.receive(_email(w, issue, "ses-1", "Me again, weeks later."))

    assert received.issue_id != issue.id
    assert w.issues.get(issue.id).status == "resolved" and w.issues.events(issue.id, "issue_reopened") == []
    [follow_up] = w.issues.events(issue.id, "follow_up_opened")
    assert follow_up.data == {"follow_up": received.issue_id}
    assert w.issues.get(received.issue_id).customer_id == issue.customer_id
