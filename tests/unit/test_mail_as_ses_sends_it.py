"""Outbound mail as SES really behaves: it refuses unverified recipients in its sandbox, throttles
a fast sender, and replaces the Message-ID it is given. The adapter's reading of SES's answers (a
stubbed client), and what the services make of them (fakes of the ports, wired by the real
composition root): the timeline, the metric, the workflow going on, and a reply that names SES's
Message-ID threading into its issue."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.adapters.ses import SesMailer
from chalicelib.domain import measurements
from chalicelib.services.inbound_email import THREADED, InboundNotice
from chalicelib.services.notifications import BUSY_DELAYS, EMAIL_DELAYED
from chalicelib.services.ports import MailServiceBusy, UnsendableEmail
from chalicelib.workflows import compiler
from tests.unit.wiring import World, world

SANDBOX_REFUSAL = (
    "Email address is not verified. The following identities failed the check in region EU-WEST-1: ada@example.com"
)


def _mailer(region: str) -> tuple[SesMailer, Stubber]:
    client = boto3.client("ses", region_name=region)
    return SesMailer("caseflow@caseflow.test", client), Stubber(client)


@pytest.mark.parametrize(
    ("region", "domain"), [("eu-west-1", "eu-west-1.amazonses.com"), ("us-east-1", "email.amazonses.com")]
)
def test_the_message_sent_carries_the_message_id_ses_gave_it(region: str, domain: str) -> None:
    mailer, stubber = _mailer(region)
    ses_id = "0102019a1b2c3d4e-5f6a7b8c-9d0e-1f2a-3b4c-5d6e7f8a9b0c-000000"
    stubber.add_response("send_raw_email", {"MessageId": ses_id})
    with stubber:
        sent = mailer.send(["ada@example.com"], "Hello", "Body", {"Message-ID": "<cf.ours@caseflow.test>"})
    assert sent["Message-ID"] == f"<{ses_id}@{domain}>"
    assert len(sent.get_all("Message-ID")) == 1


@pytest.mark.parametrize(
    ("code", "message", "status", "refused_as"),
    [
        ("MessageRejected", SANDBOX_REFUSAL, 400, UnsendableEmail),
        ("MailFromDomainNotVerifiedException", "MAIL FROM domain is not verified", 400, UnsendableEmail),
        ("ConfigurationSetDoesNotExist", "Configuration set <x> does not exist.", 400, UnsendableEmail),
        ("AccountSendingPausedException", "Account sending paused.", 400, UnsendableEmail),
        ("Throttling", "Daily message quota exceeded.", 400, UnsendableEmail),
        ("Throttling", "Maximum sending rate exceeded.", 400, MailServiceBusy),
        ("ServiceUnavailable", "Service unavailable", 503, MailServiceBusy),
        ("InternalFailure", "Internal failure", 500, MailServiceBusy),
    ],
)
def test_a_refusal_is_unsendable_for_good_or_busy_for_now_and_says_why(
    code: str, message: str, status: int, refused_as: type[Exception]
) -> None:
    mailer, stubber = _mailer("eu-west-1")
    stubber.add_client_error(
        "send_raw_email", service_error_code=code, service_message=message, http_status_code=status
    )
    with stubber, pytest.raises(refused_as) as refused:
        mailer.send(["ada@example.com"], "Hello", "Body")
    assert code in str(refused.value) and message in str(refused.value)


# What the services make of it

ENQUIRY = {
    "type": "general-enquiry",
    "customer": {"email": "ada@example.com", "name": "Ada"},
    "fields": {"subject": "Opening hours", "message": "Are you open on Sunday?"},
}


def _reply(w: World, ses_id: str, in_reply_to: str, text: str) -> InboundNotice:
    """A reply to the plain support address, naming only the message it answers (no reference)."""
    to = w.config.support_address
    raw = (
        f"From: Ada <ada@example.com>\r\nTo: {to}\r\nSubject: Re: About your message\r\n"
        f"Message-ID: <{ses_id}@mail.example.com>\r\nIn-Reply-To: {in_reply_to}\r\n"
        f"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    ).encode()
    w.store.write(f"inbound/{ses_id}", raw, "message/rfc822")
    return InboundNotice(ses_id, f"inbound/{ses_id}", (to,), w.clock())


def test_a_reply_naming_the_message_id_ses_gave_the_acknowledgement_threads_into_its_issue() -> None:
    w = world()
    w.mailer.ses_region = "eu-west-1"
    first = w.services.intake.open_issue(ENQUIRY).issue
    second = w.services.intake.open_issue(ENQUIRY).issue
    for issue in (first, second):
        w.workflow_says(issue.id, compiler.KIND_ACKNOWLEDGE, step="acknowledge")
    [_, second_ack] = w.mailer.to("ada@example.com")
    rewritten = str(second_ack.message["Message-ID"])
    assert rewritten.endswith("@eu-west-1.amazonses.com>")

    [sent] = w.issues.events(second.id, "email_sent")
    assert f"<{sent.data['message_id']}>" == rewritten, "the timeline names the id the customer sees"
    received = w.services.inbound_email.receive(_reply(w, "reply-1", rewritten, "It is about Sunday."))

    assert (received.outcome, received.issue_id) == (THREADED, second.id)
    assert [e.text for e in w.issues.events(second.id, "customer_message")] == ["It is about Sunday."]
    assert w.issues.events(first.id, "customer_message") == []


def test_the_next_email_in_the_thread_answers_the_id_ses_gave_the_last_one() -> None:
    w = world()
    w.mailer.ses_region = "eu-west-1"
    issue = w.services.intake.open_issue(ENQUIRY).issue
    w.workflow_says(issue.id, compiler.KIND_ACKNOWLEDGE, step="acknowledge")
    w.services.replies.reply(issue.id, "Yes, from 10 to 4.", w.agent("sam"))

    ack, reply = w.mailer.to("ada@example.com")
    assert reply.message["In-Reply-To"] == ack.message["Message-ID"]


def test_an_acknowledgement_ses_refuses_is_on_the_timeline_and_counted_and_the_workflow_goes_on() -> None:
    w = world()
    issue = w.services.intake.open_issue(ENQUIRY).issue
    w.mailer.refuse.add("ada@example.com")

    w.workflow_says(issue.id, compiler.KIND_ACKNOWLEDGE, step="acknowledge")

    [failed] = w.issues.events(issue.id, "email_failed")
    assert failed.data["to"] == "ada@example.com" and failed.data["message"] == "acknowledgement"
    assert "refused" in failed.data["reason"]
    assert w.metrics.names().count(measurements.EMAILS_FAILED) == 1
    assert w.engine.successes == [("token-1", {})]


def test_a_workflow_email_ses_is_too_busy_for_is_tried_again_on_redelivery_then_recorded_as_failed() -> None:
    w = world()
    issue = w.services.intake.open_issue(ENQUIRY).issue
    w.mailer.busy = True

    token = None
    for _ in range(BUSY_DELAYS):
        with pytest.raises(MailServiceBusy):
            token = w.workflow_says(issue.id, compiler.KIND_ACKNOWLEDGE, token, step="acknowledge")
        token = token or "token-1"
    assert len(w.issues.events(issue.id, EMAIL_DELAYED)) == BUSY_DELAYS
    assert w.issues.events(issue.id, "email_failed") == [] and w.engine.successes == []

    w.workflow_says(issue.id, compiler.KIND_ACKNOWLEDGE, token, step="acknowledge")
    [failed] = w.issues.events(issue.id, "email_failed")
    assert "Maximum sending rate exceeded" in failed.data["reason"]
    assert w.engine.successes == [(token, {})], "the workflow goes on before the message would dead-letter"
    assert measurements.EMAILS_FAILED in w.metrics.names()


def test_a_busy_ses_that_recovers_sends_the_email_on_redelivery_once() -> None:
    w = world()
    issue = w.services.intake.open_issue(ENQUIRY).issue
    w.mailer.busy = True
    with pytest.raises(MailServiceBusy):
        w.workflow_says(issue.id, compiler.KIND_ACKNOWLEDGE, "token-1", step="acknowledge")

    w.mailer.busy = False
    w.workflow_says(issue.id, compiler.KIND_ACKNOWLEDGE, "token-1", step="acknowledge")
    w.workflow_says(issue.id, compiler.KIND_ACKNOWLEDGE, "token-1", step="acknowledge")

    assert len(w.mailer.to("ada@example.com")) == 1
    assert len(w.issues.events(issue.id, "email_sent")) == 1 and w.issues.events(issue.id, "email_failed") == []


def test_an_agents_reply_ses_is_too_busy_for_is_failed_at_once_so_the_agent_can_send_it_again() -> None:
    w = world()
    issue = w.services.intake.open_issue(ENQUIRY).issue
    w.mailer.busy = True

    answer = w.services.replies.reply(issue.id, "Yes, from 10 to 4.", w.agent("sam"))

    assert not answer["sent"]
    [failed] = w.issues.events(issue.id, "email_failed")
    assert failed.data["message"] == "agent_reply" and "Throttling" in failed.data["reason"]
