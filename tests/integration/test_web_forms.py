"""Customers' web forms on moto: the catalogue, a form, errors, the guards, and the confirmation."""

from __future__ import annotations

import itertools
import re
import time
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import urlencode

import pytest
from chalice.local import LambdaEventConverter

from chalicelib.adapters.dynamodb.rate_limits import RateLimitRepository
from chalicelib.bootstrap import services
from chalicelib.services.web_forms import IDEMPOTENCY_PREFIX
from chalicelib.web_tokens.csrf import COOKIE as CSRF_COOKIE

RUDE = {
    "store": "york-coney-street",
    "incident_date": "2026-11-01",
    "what_happened": "The cashier shouted at me when I asked for a receipt.",
}
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Browser:
    """What a browser keeps between pages: the form cookie, and the last form's hidden fields."""

    def __init__(self, stack):
        self.stack = stack
        self.cookie = ""

    def get(self, path: str):
        headers = {"Cookie": f"{CSRF_COOKIE}={self.cookie}"} if self.cookie else {}
        response = self.stack.client.http.get(path, headers=headers)
        set_cookie = response.headers.get("Set-Cookie") or response.headers.get("set-cookie")
        if set_cookie:
            self.cookie = set_cookie.split(";")[0].split("=", 1)[1]
        return response

    def open_form(self, type_id: str) -> dict[str, str]:
        """The form's hidden fields, as a browser would send them back."""
        response = self.get(f"/report/{type_id}")
        assert response.status_code == 200, response.body
        return hidden_fields(response.body.decode())

    def post(self, type_id: str, fields: dict[str, str | list[str]], cookie: str | None = None):
        headers = dict(_FORM)
        cookie = self.cookie if cookie is None else cookie
        if cookie:
            headers["Cookie"] = f"{CSRF_COOKIE}={cookie}"
        body = urlencode(fields, doseq=True)
        return self.stack.client.http.post(f"/report/{type_id}", headers=headers, body=body)


def hidden_fields(html: str) -> dict[str, str]:
    return {
        name: unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
    }


def reference_in(html: str) -> str:
    match = re.search(r'<p class="reference">(CF-[0-9A-Z]{5})</p>', html)
    assert match, html
    return match.group(1)


def issue_id_for(stack, reference: str) -> str:
    response = stack.get(f"/agent/issues/by-reference/{reference}", stack.token("sue"))  # she sees every issue
    assert response.status_code == 200, response.body
    return response.json_body["id"]


_ADDRESSES = itertools.count(1)


@pytest.fixture
def browser(stack, monkeypatch):
    """A browser at an address of its own, so each test's posts count against their own rate limit."""
    number = next(_ADDRESSES)
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", f"198.51.100.{number}")
    return Browser(stack)


def test_the_catalogue_lists_public_types_with_links_to_their_forms(stack, browser):
    response = browser.get("/")
    assert response.status_code == 200
    html = response.body.decode()
    assert '<a href="/report/rude-staff">Rude behaviour by an employee</a>' in html
    assert "Tell us about an employee who treated you badly in one of our stores." in html
    assert "/report/triage" not in html and "/report/service-recovery" not in html  # not public


def test_a_form_and_the_stylesheet_carry_strict_security_headers(stack, browser):
    response = browser.get("/report/rude-staff")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy and "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    set_cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
    html = response.body.decode()
    href = re.search(r'<link rel="stylesheet" href="([^"]+)">', html).group(1)
    css = stack.client.http.get(href)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert "immutable" in css.headers["Cache-Control"] and b"#0b4f8a" in css.body
    for field in ("store", "incident_date", "what_happened", "employee_name", "customer-email"):
        assert f'name="{field}"' in html


def test_unknown_and_internal_types_have_no_form(stack, browser):
    for type_id in ("broken-toaster", "triage"):
        response = browser.get(f"/report/{type_id}")
        assert response.status_code == 404
        assert "We can&#39;t find that form" in response.body.decode()


def test_a_missing_answer_comes_back_beside_its_field_with_everything_kept(stack, browser):
    hidden = browser.open_form("rude-staff")
    response = browser.post(
        "rude-staff",
        {**hidden, "store": "leeds-briggate", "incident_date": "2026-11-01", "customer-email": "kept@example.com"},
    )
    assert response.status_code == 400
    html = response.body.decode()
    assert 'role="alert"' in html and '<a href="#what_happened">What happened is required.</a>' in html
    assert '<p class="error" id="what_happened-error">' in html
    textarea = re.search(r"<textarea [^>]*>", html).group(0)
    assert 'aria-invalid="true"' in textarea and 'aria-describedby="what_happened-error"' in textarea
    assert 'value="leeds-briggate" checked' in html and 'value="2026-11-01"' in html
    assert 'value="kept@example.com"' in html
    assert hidden_fields(html)["submission-id"] == hidden["submission-id"]  # still the same report


def test_a_post_without_the_form_cookie_is_refused_with_a_way_back(stack, browser):
    hidden = browser.open_form("rude-staff")
    fields = {**hidden, **RUDE, "customer-email": "csrf@example.com"}
    for cookie in ("forged-cookie-value-123456", ""):
        response = browser.post("rude-staff", fields, cookie=cookie or "-")
        assert response.status_code == 403
        html = response.body.decode()
        assert "Please reload the form" in html and 'href="/report/rude-staff"' in html
    # a token made for another form doesn't fit this one
    other = browser.open_form("late-delivery")
    assert browser.post("rude-staff", {**fields, "csrf-token": other["csrf-token"]}).status_code == 403


def test_the_honeypot_answers_like_a_confirmation_but_opens_nothing(stack, browser):
    hidden = browser.open_form("rude-staff")
    response = browser.post(
        "rude-staff", {**hidden, **RUDE, "customer-email": "bot@example.com", "website-address": "http://spam.example"}
    )
    assert response.status_code == 200
    reference = reference_in(response.body.decode())
    found = stack.get(f"/agent/issues/by-reference/{reference}", stack.token("sue"))  # who would see any issue
    assert found.status_code == 404
    key = IDEMPOTENCY_PREFIX + hidden["submission-id"]
    from chalicelib.adapters.dynamodb.models import IdempotencyItem

    assert IdempotencyItem.count(f"IDEMPOTENCY#{key}") == 0


def test_a_report_is_confirmed_with_its_reference_steps_and_status_link_once(stack, browser):
    hidden = browser.open_form("rude-staff")
    fields = {**hidden, **RUDE, "customer-email": "web.form@example.com", "customer-name": "Wendy Web"}
    started = time.perf_counter()
    response = browser.post("rude-staff", fields)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.body
    html = response.body.decode()
    reference = reference_in(html)
    assert "The store&#39;s management is looking into what happened" in html
    assert "Usually within 5 working hours" in html
    assert "Our people team is deciding what we will do" in html
    assert "store-manager" not in html and "hr" not in re.findall(r"\b\w+\b", html)
    status_link = re.search(r'<a href="([^"]+/s/[^"]+)">', html).group(1)
    assert status_link.startswith(services().config.public_url)
    issue_id = issue_id_for(stack, reference)
    issue = stack.issue(issue_id)
    assert issue["reference"] == reference and issue["channel"] == "web"
    assert issue["fields"]["store"] == "york-coney-street"
    assert services().status_links.issue_in(status_link.rsplit("/", 1)[1]) == issue_id

    again = browser.post("rude-staff", fields)  # the back button, a refresh, a double click
    assert again.status_code == 200 and reference_in(again.body.decode()) == reference
    history = stack.issue(issue_id)["customer_history"]
    assert history == []  # still one issue for this customer
    print(f"form POST to a confirmation: {elapsed * 1000:.0f} ms")

    edited = browser.post("rude-staff", {**fields, "what_happened": "Something else entirely, edited later."})
    assert edited.status_code == 409 and "already sent" in edited.body.decode()


def test_too_many_reports_for_one_email_get_a_429_saying_when_to_retry(stack, browser):
    limit = services().config.form_rate_per_email
    email = "many.reports@example.com"
    for _ in range(limit):  # each a new form, each with a missing answer: nothing is opened
        hidden = browser.open_form("general-enquiry")
        response = browser.post("general-enquiry", {**hidden, "subject": "Hello", "customer-email": email})
        assert response.status_code == 400
        # the same form sent again (after fixing it) does not count twice
        assert browser.post("general-enquiry", {**hidden, "customer-email": email}).status_code == 400
    hidden = browser.open_form("general-enquiry")
    response = browser.post(
        "general-enquiry", {**hidden, "subject": "Hello", "message": "One more", "customer-email": email.upper()}
    )
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= services().config.form_rate_window_minutes * 60
    html = response.body.decode()
    assert "Too many reports for now" in html and "Please try again after" in html and " UTC (in about " in html
    other = browser.post(
        "general-enquiry", {**hidden, "subject": "Hi", "message": "Someone else", "customer-email": "other@example.com"}
    )
    assert other.status_code == 200  # another customer is not held back


def test_too_many_posts_from_one_address_get_a_429(stack, browser):
    hidden = browser.open_form("demo-quick")
    for _ in range(services().config.form_rate_per_address):
        assert browser.post("demo-quick", hidden).status_code == 400  # nothing filled in
    response = browser.post("demo-quick", {**hidden, "summary": "Now filled in", "customer-email": "a@example.com"})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert 'href="/report/demo-quick"' in response.body.decode()


def test_the_rate_limiter_counts_atomically_per_key_and_window(stack):
    limiter = RateLimitRepository()
    expires = datetime.now(UTC) + timedelta(minutes=5)
    key = f"test-address#{time.time_ns()}"
    assert [limiter.hit(key, 3, expires) for _ in range(5)] == [True, True, True, False, False]
    assert limiter.hit(f"{key}-next-window", 3, expires)
    units = f"test-email#{time.time_ns()}"
    assert [limiter.hit(units, 2, expires, u) for u in ("a", "b", "a", "c", "b")] == [True, True, True, False, True]
