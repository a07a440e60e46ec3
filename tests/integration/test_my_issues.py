"""A customer's "My issues" on moto: the link by email, the list, a second use refused, an unknown
address answered alike, the rate limit, and bad links."""

from __future__ import annotations

import itertools
import re
from urllib.parse import urlencode

import pytest
from chalice.local import LambdaEventConverter

from chalicelib.bootstrap import services
from tests.integration.conftest import sent_emails

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_ADDRESSES = itertools.count(1)


@pytest.fixture(autouse=True)
def own_client_address(monkeypatch):
    """Each test asks from a client address of its own, so its requests count against its own limit."""
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", f"203.0.113.{next(_ADDRESSES)}")


def text(response) -> str:
    return response.body.decode() if isinstance(response.body, bytes) else response.body


class Browser:
    """Keeps the form cookie and sends a page's form back with its CSRF token, as a browser would."""

    def __init__(self, stack):
        self.stack = stack
        self.cookie = ""

    def get(self, path: str):
        headers = {"Cookie": f"caseflow_form={self.cookie}"} if self.cookie else {}
        response = self.stack.client.http.get(path, headers=headers)
        found = re.search(
            r"caseflow_form=([^;]+)", {k.lower(): v for k, v in response.headers.items()}.get("set-cookie", "")
        )
        if found:
            self.cookie = found.group(1)
        return response

    def submit(self, shown, action: str, fields: dict[str, str]):
        token = re.search(r'name="csrf-token" value="([^"]+)"', text(shown)).group(1)
        headers = {**FORM, "Cookie": f"caseflow_form={self.cookie}"}
        return self.stack.client.http.post(action, headers=headers, body=urlencode({**fields, "csrf-token": token}))

    def ask_for_link(self, email: str):
        return self.submit(self.get("/my-issues"), "/my-issues", {"email": email})


def open_enquiry(stack, email: str, subject: str) -> dict:
    opened = stack.open_issue("general-enquiry", {"subject": subject, "message": f"About {subject}."}, email)
    assert opened.status_code == 201, opened.body
    return opened.json_body


def my_issues_path(email: str) -> str:
    mails = [m for m in sent_emails(email) if m["subject"] == "Your issues with us"]
    assert len(mails) == 1, mails
    return re.search(r"https?://[^/\s]+(/my-issues/\S+)", mails[0]["body"]).group(1)


def test_a_customer_gets_a_single_use_link_listing_both_their_issues(stack):
    email = "two.issues@example.com"
    first = open_enquiry(stack, email, "Gift card")
    second = open_enquiry(stack, email, "Opening hours")
    stack.pump_until(lambda: stack.task_for("alice", first["id"], "answer"), what="the first answer task")
    stack.pump_until(lambda: stack.task_for("alice", second["id"], "answer"), what="the second answer task")
    browser = Browser(stack)

    form = browser.get("/my-issues")
    assert form.status_code == 200
    assert '<html lang="en">' in text(form) and '<label for="email">' in text(form)
    asked = browser.submit(form, "/my-issues", {"email": email.upper()})
    assert asked.status_code == 200 and "If we have issues for" in text(asked)
    mail = [m for m in sent_emails(email) if m["subject"] == "Your issues with us"]
    assert mail and mail[0]["auto_submitted"] == "auto-replied"
    path = my_issues_path(email)

    shown = browser.get(path)
    assert shown.status_code == 200 and "Show my issues" in text(shown)
    assert browser.get(path).status_code == 200, "looking at the link (as a mail scanner does) uses nothing up"
    listed = browser.submit(shown, path, {})
    html = text(listed)
    assert listed.status_code == 200, html
    assert html.index(second["reference"]) < html.index(first["reference"]), "newest first"
    status_paths = re.findall(r'<a href="https?://[^/"]+(/s/[^"]+)">(CF-[0-9A-Z]{5})</a>', html)
    assert {reference for _, reference in status_paths} == {first["reference"], second["reference"]}
    assert "Our team is answering your question" in html and "We expect to be done by" in html
    assert html.count("General enquiry, reported") == 2
    for status_path, reference in status_paths:
        status = stack.client.http.get(status_path)
        assert status.status_code == 200 and reference in text(status)
        assert 'href="/my-issues"' in text(status), "the status page leads to the list"

    again = browser.submit(shown, path, {})
    assert again.status_code == 410
    assert "This link was already used" in text(again) and 'action="/my-issues"' in text(again)
    looked = browser.get(path)
    assert looked.status_code == 410 and "already used" in text(looked)
    timeline = stack.issue(first["id"])["timeline"]
    assert not any("my-issues" in str(e) for e in timeline), "the link is on no issue's timeline"


def test_an_unknown_address_gets_the_same_answer_and_no_email(stack):
    known_email = "known.customer@example.com"
    open_enquiry(stack, known_email, "Refund")
    browser = Browser(stack)
    known = browser.ask_for_link(known_email)
    unknown = browser.ask_for_link("nobody.here@example.com")
    assert known.status_code == unknown.status_code == 200
    assert text(known).replace("known.customer", "X") == text(unknown).replace("nobody.here", "X")
    assert my_issues_path(known_email)
    assert sent_emails("nobody.here@example.com") == []


def test_a_form_post_from_another_site_and_a_malformed_address_are_refused(stack):
    forged = stack.client.http.post("/my-issues", headers=FORM, body=urlencode({"email": "a@example.com"}))
    assert forged.status_code == 403
    bad = Browser(stack).ask_for_link("not an address")
    assert bad.status_code == 400 and 'aria-invalid="true"' in text(bad) and 'value="not an address"' in text(bad)


def test_asking_too_often_is_answered_429_with_when_to_retry(stack):
    browser = Browser(stack)
    for _ in range(services().config.form_rate_per_email):
        assert browser.ask_for_link("flood@example.com").status_code == 200
    limited = browser.ask_for_link("Flood@example.com")
    assert limited.status_code == 429
    assert 0 < int(limited.headers["Retry-After"]) <= services().config.form_rate_window_minutes * 60
    assert "Too many requests for now" in text(limited) and "Please try again after" in text(limited)
    assert browser.ask_for_link("someone.else@example.com").status_code == 200, "another address is not held back"


def test_a_tampered_or_foreign_link_gets_a_page_offering_a_new_one(stack):
    email = "tamper@example.com"
    opened = open_enquiry(stack, email, "Delivery")
    browser = Browser(stack)
    browser.ask_for_link(email)
    path = my_issues_path(email)
    tampered = browser.get(path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb"))
    assert tampered.status_code == 404 and "This link does not work" in text(tampered)
    assert 'action="/my-issues"' in text(tampered)
    status_token = services().status_links.link_for(opened["id"]).rpartition("/s/")[2]
    assert browser.get(f"/my-issues/{status_token}").status_code == 404, "a status link is not a list link"
    token = path.rpartition("/")[2]
    for other in ("/s/", "/survey/", "/t/"):
        assert stack.client.http.get(f"{other}{token}").status_code == 404, f"a list link opened {other}"
    assert browser.get(path).status_code == 200, "the genuine link still works"
