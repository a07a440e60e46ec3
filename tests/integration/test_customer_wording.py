"""What customers read is written for them: no internal type names, field labels written for our
team, step ids, role names or regular expressions in their emails, pages and error messages."""

from __future__ import annotations

import re

from chalicelib import bootstrap
from tests.integration.conftest import sent_emails
from tests.integration.test_status_and_surveys import open_enquiry, page_text, resolve

#: Words written for our team about the customer, never to them.
INTERNAL_WORDS = (
    "The issue the customer rated",
    "Their answer",
    "Their comment",
    "(no comment yet)",
    "Service recovery",
    "service-recovery",
    "Message to classify",
    "The customer's message",
    "triage",
)


def status_page(stack, issue_id: str) -> str:
    link = bootstrap.services().status_links.link_for(issue_id)
    shown = stack.client.http.get(link[link.index("/s/") :])
    assert shown.status_code == 200
    return page_text(shown)


def leaked(text: str) -> list[str]:
    return [word for word in INTERNAL_WORDS if word.lower() in text.lower()]


def test_an_unhappy_customer_is_answered_in_their_own_terms_while_the_supervisor_keeps_the_details(stack):
    opened = open_enquiry(stack, "let.down@example.com")
    resolve(stack, opened["id"])
    survey = stack.pump_until(
        lambda: next(
            (m for m in sent_emails("let.down@example.com") if m["subject"].startswith("How did we do")), None
        ),
        what="the survey email",
    )
    csat_two = re.search(r"^\s+2: https?://[^/\s]+(/survey/\S+)$", survey["body"], re.MULTILINE).group(1)
    assert stack.client.http.get(csat_two).status_code == 200
    timeline = stack.issue(opened["id"])["timeline"]
    recovery_id = next(e["data"]["recovery"] for e in timeline if e["kind"] == "recovery_opened")
    recovery = stack.issue(recovery_id, "sue")

    ack = stack.pump_until(
        lambda: next((m for m in sent_emails("let.down@example.com") if recovery["reference"] in m["subject"]), None),
        what="the acknowledgement of the service recovery",
    )
    text = f"{ack['subject']}\n{ack['body']}"
    assert leaked(text) == [], f"the customer read words meant for the supervisor:\n{text}"
    assert "CSAT" not in text
    assert "sorry" in text.lower() and opened["reference"] in text and "supervisor" in text

    page = status_page(stack, recovery_id)
    assert leaked(page) == [], "the status page shows the supervisor's details"
    assert "CSAT" not in page and "You reported" not in page, "the customer reported nothing: we opened it"
    assert "sorry" in page.lower()

    assert recovery["fields"] == {
        "original_reference": opened["reference"],
        "score": "CSAT 2",
        "comment": "(no comment yet)",
    }, "the supervisor still sees what the customer answered"
    assert stack.pump_until(lambda: stack.task_for("sue", recovery_id), what="sue's call-back task")


def test_a_message_routed_to_triage_is_acknowledged_without_our_internal_names(stack):
    words = "Something odd happened with my account and I would like someone to look at it."
    opened = stack.post("/issues", {"customer": {"email": "unsorted@example.com", "name": "Una"}, "text": words})
    assert opened.status_code == 201 and opened.json_body["type"] == "triage", opened.body
    ack = stack.pump_until(lambda: next(iter(sent_emails("unsorted@example.com")), None), what="the acknowledgement")
    text = f"{ack['subject']}\n{ack['body']}"
    assert leaked(text) == [], text
    assert opened.json_body["reference"] in text

    page = status_page(stack, opened.json_body["id"])
    assert leaked(page) == [], "the status page names the internal type or its labels"
    assert words in page, "the customer still sees what they wrote"

    reply = stack.post(
        f"/agent/issues/{opened.json_body['id']}/replies", {"body": "We are on it."}, stack.token("alice")
    )
    assert reply.status_code == 201, reply.body
    subject = sent_emails("unsorted@example.com")[-1]["subject"]
    assert leaked(subject) == [], f"an agent's reply is titled with the internal type: {subject}"


def test_a_phone_call_an_agent_wrote_down_is_not_shown_as_written_by_the_customer(stack):
    opened = open_enquiry(stack, "caller@example.com")
    recorded = stack.post(
        f"/agent/issues/{opened['id']}/customer-messages",
        {"text": "Rang to say the card code works now.", "channel": "phone"},
        stack.token("alice"),
    )
    assert recorded.status_code == 201, recorded.body
    page = status_page(stack, opened["id"])
    entry = page.split("Rang to say the card code works now.")[0].rsplit("<li", 1)[1]
    assert "You told us by phone" in entry and "You wrote" not in entry


def test_an_unknown_type_is_refused_naming_only_the_types_customers_may_choose(stack):
    public = {t["id"] for t in stack.get("/issue-types").json_body["issue_types"]}
    unknown = stack.open_issue("broken-toaster", {}, "chooser@example.com")
    assert unknown.status_code == 400
    [error] = unknown.json_body["errors"]
    named = set(re.findall(r"[a-z][a-z0-9-]+", error["message"].split("known types:")[1]))
    assert named == public
    assert "triage" not in error["message"] and "service-recovery" not in error["message"]

    internal_types = {
        "triage": {"message": "Let me in"},
        "service-recovery": {"original_reference": "CF-X", "score": "1"},
    }
    for internal, fields in internal_types.items():
        refused = stack.open_issue(internal, fields, "sneaky@example.com")
        assert refused.status_code == 400, f"a customer opened a {internal} issue"
        [error] = refused.json_body["errors"]
        assert error["field"] == "type" and "service-recovery" not in error["message"].split("known types:")[1]


def test_a_report_without_text_is_refused_in_words_for_the_person_writing_it(stack):
    empty = stack.post("/issues", {"customer": {"email": "blank@example.com"}, "text": "  "})
    assert empty.status_code == 400
    [error] = empty.json_body["errors"]
    assert error["field"] == "text" and "the customer" not in error["message"], error["message"]
