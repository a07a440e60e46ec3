"""Hostile but valid input (control characters, CR/LF, bidi marks, NUL, emoji, surrogates, NaN, huge
text), per channel: refused with a 400 naming the field, or carried through the whole workflow to
resolution, every email included. Nothing accepted may stall."""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from chalicelib.adapters.ses import UNFOLDED
from chalicelib.domain import free_text
from tests.integration.conftest import sent_messages
from tests.integration.test_web_forms import browser, issue_id_for, reference_in  # noqa: F401 (a fixture)


@pytest.fixture(autouse=True)
def _leaves_no_workflow_message(stack):
    yield
    stack.drain()


HOSTILE_SUBJECT = "Refund?\r\nBcc: victim@example.com \u202eevil\u202c 😀"
HOSTILE_MESSAGE = "NUL\x00 here, a bell\x07, RTL \u202eabc\u202c, emoji 😀 and\r\na second line\u2028third"
HOSTILE_NAME = "Zoë\x00 \u202eQ\u202c"


def _open_enquiry(stack, email: str, **fields: str):
    body = {
        "type": "general-enquiry",
        "customer": {"email": email, "name": HOSTILE_NAME},
        "fields": {"subject": HOSTILE_SUBJECT, "message": HOSTILE_MESSAGE, **fields},
    }
    return stack.post("/issues", body)


def _answer(stack, issue_id: str, step: str, fields: dict) -> None:
    task = stack.pump_until(lambda: stack.task_for("alice", issue_id, step), what=f"the {step} task")
    response = stack.post(f"/agent/tasks/{task['id']}/complete", {"fields": fields}, stack.token("alice"))
    assert response.status_code == 200, response.body


def _resolved(stack, issue_id: str) -> dict:
    return stack.pump_until(
        lambda: (issue := stack.issue(issue_id))["status"] == "resolved" and issue, what="the resolution"
    )


def _well_formed(message: EmailMessage) -> None:
    """One line per header, no header smuggled in, and a body that reads."""
    assert message["Bcc"] is None
    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])
    assert "\x00" not in message.get_body(("plain",)).get_content()


def test_hostile_text_through_the_api_is_carried_to_resolution_with_every_email(stack):
    address = "hostile-api@example.com"
    opened = _open_enquiry(stack, address)
    assert opened.status_code == 201, opened.body
    issue_id = opened.json_body["id"]
    issue = stack.issue(issue_id)
    assert issue["fields"]["subject"] == "Refund? Bcc: victim@example.com \u202eevil\u202c 😀"
    assert issue["fields"]["message"] == "NUL here, a bell, RTL \u202eabc\u202c, emoji 😀 and\na second line\nthird"
    _answer(stack, issue_id, "answer", {"answer": "Here you are 😀 \u202e\x00", "needs_follow_up": False})
    _resolved(stack, issue_id)
    messages = sent_messages(address)  # the acknowledgement, the answer, the survey
    for message in messages:
        _well_formed(message)
    answer = next(m for m in messages if str(m["Subject"]).startswith("Re: Refund? Bcc"))
    assert "Here you are 😀" in answer.get_body(("plain",)).get_content()


def test_hostile_text_through_a_web_form_is_carried_to_resolution(stack, browser):  # noqa: F811
    hidden = browser.open_form("general-enquiry")
    address = "hostile-web@example.com"
    fields = {
        **hidden,
        "subject": HOSTILE_SUBJECT,
        "message": HOSTILE_MESSAGE,
        "customer-email": address,
        "customer-name": HOSTILE_NAME,
    }
    response = browser.post("general-enquiry", fields)
    assert response.status_code == 200, response.body
    issue_id = issue_id_for(stack, reference_in(response.body.decode()))
    assert "\x00" not in json.dumps(stack.issue(issue_id))
    _answer(stack, issue_id, "answer", {"answer": "Answered on the web.", "needs_follow_up": False})
    _resolved(stack, issue_id)
    for message in sent_messages(address):
        _well_formed(message)


def test_a_hostile_email_reply_resumes_the_workflow_and_it_runs_to_resolution(stack):
    address = "hostile-mail@example.com"
    issue_id = _open_enquiry(stack, address).json_body["id"]
    _answer(stack, issue_id, "answer", {"answer": "Which order?", "needs_follow_up": True})
    answer = stack.pump_until(lambda: len(sent_messages(address)) >= 2 and sent_messages(address)[-1], what="answer")
    reply = EmailMessage(policy=UNFOLDED)
    reply["From"] = f"Zoë <{address}>"
    reply["To"] = answer["Reply-To"]
    reply["Subject"] = "=?utf-8?q?Re=3A_order=0D=0ABcc=3A_victim=40example=2Ecom_=E2=80=AE?="
    reply["Message-ID"] = make_msgid(domain="example.com")
    reply["In-Reply-To"] = answer["Message-ID"]
    reply.set_content("Order 42\x00\x1b[31m red \u202e 😀\r\nthanks")
    received = stack.deliver_email(reply.as_bytes())
    assert received["issue_id"] == issue_id, received
    _answer(stack, issue_id, "follow_up", {"answer": "Order 42 is on its way."})
    _resolved(stack, issue_id)
    timeline = stack.issue(issue_id)["timeline"]
    words = next(e["text"] for e in timeline if e["kind"] == "customer_message")
    assert "Order 42" in words and "\x00" not in words and "\x1b" not in words
    for message in sent_messages(address):
        _well_formed(message)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"message": "\ud800"}, "fields.message"),
        ({"subject": "a \udfff b"}, "fields.subject"),
        ({"message": "x" * (free_text.MESSAGE_LENGTH + 1)}, "fields.message"),
    ],
)
def test_text_that_cannot_be_stored_or_emailed_is_refused_naming_its_field(stack, fields, named):
    response = _open_enquiry(stack, "refused@example.com", **fields)
    assert response.status_code == 400, response.body
    assert [e["field"] for e in response.json_body["errors"]] == [named]


@pytest.mark.parametrize(
    ("raw_amount", "named"), [("NaN", "fields.amount_disputed"), ("Infinity", "fields.amount_disputed")]
)
def test_an_amount_that_is_not_a_finite_number_is_refused(stack, raw_amount, named):
    fields = {"invoice_number": "INV-123456", "amount_disputed": raw_amount, "reason": "Charged twice for one order."}
    body = {"type": "billing-dispute", "customer": {"email": "nan@example.com"}, "fields": fields}
    as_text = stack.post("/issues", body)
    assert as_text.status_code == 400, as_text.body
    assert named in [e["field"] for e in as_text.json_body["errors"]]
    literal = json.dumps(body).replace(f'"{raw_amount}"', raw_amount)  # the bare NaN that Python's json writes
    as_literal = stack.post("/issues", literal)
    assert as_literal.status_code == 400, as_literal.body
    assert as_literal.json_body["errors"][0]["field"] == "body"


def test_a_megabyte_customer_message_and_a_surrogate_reply_are_refused_and_the_issue_goes_on(stack):
    issue_id = _open_enquiry(stack, "big@example.com").json_body["id"]
    token = stack.token("alice")
    huge = stack.post(f"/agent/issues/{issue_id}/customer-messages", {"text": "x" * 1_000_000}, token)
    assert huge.status_code == 400 and huge.json_body["errors"][0]["field"] == "text", huge.body
    lone = stack.post(f"/agent/issues/{issue_id}/replies", {"body": "hello \ud800"}, token)
    assert lone.status_code == 400 and lone.json_body["errors"][0]["field"] == "body", lone.body
    fine = stack.post(f"/agent/issues/{issue_id}/customer-messages", {"text": "x" * free_text.MESSAGE_LENGTH}, token)
    assert fine.status_code == 201, fine.body


BROKEN_TEMPLATE_TYPE = {
    "id": "broken-template",
    "name": "A type whose email template fails at run time",
    "fields": [{"id": "summary", "type": "text", "required": True}],
    "steps": [
        {"id": "tell", "kind": "email_customer", "subject": "About {{ issue.reference }}", "body": "{{ 1 // 0 }}"},
        {"id": "done", "kind": "resolve"},
    ],
}


def test_a_step_whose_email_cannot_be_built_is_put_on_the_timeline_and_the_workflow_goes_on(stack):
    published = stack.put("/admin/issue-types/broken-template", BROKEN_TEMPLATE_TYPE, stack.token("ada"))
    assert published.status_code in (200, 201), published.body
    opened = stack.open_issue("broken-template", {"summary": "Anything"}, "broken-template@example.com")
    assert opened.status_code == 201, opened.body
    issue = _resolved(stack, opened.json_body["id"])
    failed = [e for e in issue["timeline"] if e["kind"] == "email_failed"]
    assert len(failed) == 1 and "ZeroDivisionError" in failed[0]["data"]["reason"], issue["timeline"]


def test_an_email_the_mail_library_refuses_is_put_on_the_timeline_and_the_workflow_goes_on(stack, monkeypatch):
    """Whatever slips past the edge: the mailer's refusal is recorded, the issue still gets its task."""
    from chalicelib.adapters import ses

    real_build = ses.build_message

    def refusing(sender, to, subject, body, headers):
        if "refused-by-the-mail-library@example.com" in to:
            raise ValueError("Header values may not contain linefeed or carriage return characters")
        return real_build(sender, to, subject, body, headers)

    monkeypatch.setattr(ses, "build_message", refusing)
    opened = _open_enquiry(stack, "refused-by-the-mail-library@example.com")
    issue_id = opened.json_body["id"]
    stack.pump_until(lambda: stack.task_for("alice", issue_id, "answer"), what="the task after a refused email")
    failed = [e for e in stack.issue(issue_id)["timeline"] if e["kind"] == "email_failed"]
    assert len(failed) == 1 and "linefeed" in failed[0]["data"]["reason"], failed


def test_every_limit_is_a_400_naming_its_field_and_the_pages_carry_it(stack):
    ada = stack.token("ada")
    too_long_user = stack.post("/auth/login", {"username": "u" * 129, "password": "p"})
    assert too_long_user.status_code == 400 and too_long_user.json_body["errors"][0]["field"] == "username"
    huge_type = {"id": "huge", "name": "Huge", "description": "x" * 100_001, "steps": []}
    too_big = stack.post("/admin/issue-types/validate", huge_type, ada)
    assert too_big.status_code == 400 and too_big.json_body["errors"][0]["field"] == "body", too_big.body
    nobody = stack.put("/admin/customers/" + "a" * 5000 + "@example.com/segment", {"segment": "vip"}, ada)
    assert nobody.status_code == 404, nobody.body
    issue_id = _open_enquiry(stack, "limits@example.com").json_body["id"]
    from chalicelib.bootstrap import services

    token = services().status_links.link_for(issue_id).rsplit("/", 1)[-1]
    status_page = stack.get(f"/s/{token}").body.decode()
    assert f'maxlength="{free_text.MESSAGE_LENGTH}"' in status_page
    sign_in = stack.get("/desk/sign-in").body.decode()
    assert f'maxlength="{free_text.USERNAME_LENGTH}"' in sign_in
