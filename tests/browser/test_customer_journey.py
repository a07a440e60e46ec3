"""A customer's whole journey in a real browser: the rude-staff form with a mistake, the confirmation,
the status page, and after resolution an unhappy NPS answer that gives a supervisor a call-back task."""

from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path

from playwright.sync_api import Page

from harness import Embedded
from tests.browser.conftest import record, screenshot, scroll_width

WHAT_HAPPENED = "The cashier laughed at my question and walked away."


def complete(stack: Embedded, username: str, issue_id: str, fields: dict) -> None:
    """Complete the agent's task on the issue once it has opened."""
    stack.complete(username, stack.wait_for_task(username, issue_id, timeout=30), fields)


def survey_link(stack: Embedded, email: str, question_line: str, score: int) -> str:
    """The one-click link for a score, read from the survey email in the outbox."""
    for message in stack.outbox(email):
        if str(message["Subject"]).startswith("How did we do"):
            body = message.get_body(("plain",)).get_content()
            section = body.split(question_line, 1)[1]
            return re.search(rf"^\s+{score}: (\S+)$", section, re.MULTILINE).group(1)
    return ""


def fill_report(page: Page, email: str, what_happened: str) -> None:
    page.check("input[name=store][value=leeds-briggate]")
    page.fill("#incident_date", date.today().isoformat())
    page.fill("#what_happened", what_happened)
    page.fill("#customer-email", email)
    page.fill("#customer-name", "Nia Browser")


def test_a_customer_reports_follows_and_rates_their_issue(stack: Embedded, mobile_page: Page, desktop_page: Page):
    email = "nia.browser@example.com"
    page = mobile_page
    started = time.monotonic()
    page.goto(stack.url("/"))
    page.get_by_role("link", name=re.compile("Rude behaviour")).click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Rude behaviour")
    screenshot(page, "report-form-360")
    assert scroll_width(page) <= 360

    fill_report(page, email, "")
    page.get_by_role("button", name="Send report").click()
    summary = page.locator(".error-summary")
    assert summary.is_visible() and "What happened" in summary.inner_text()
    assert page.get_attribute("#what_happened", "aria-invalid") == "true"
    described = page.get_attribute("#what_happened", "aria-describedby")
    assert "required" in page.locator(f"#{described.split()[-1]}").inner_text()
    assert page.input_value("#customer-email") == email, "what the customer typed was lost"
    assert page.is_checked("input[name=store][value=leeds-briggate]")
    screenshot(page, "report-form-error-360")

    page.fill("#what_happened", WHAT_HAPPENED)
    page.get_by_role("button", name="Send report").click()
    reference = re.search(r"CF-[0-9A-Z]{5}", page.locator(".reference").inner_text()).group(0)
    assert "The store's management is looking into what happened" in page.content()
    screenshot(page, "confirmation-360")
    record("report to confirmation in the browser", time.monotonic() - started)

    page.get_by_role("link", name=re.compile("where your report stands")).click()
    current = page.locator("#current-step")
    stack.wait_for(
        lambda: (page.reload() or True) and current.count() and current.inner_text(), 30, "the current step"
    )
    assert current.inner_text() == "The store's management is looking into what happened"
    assert WHAT_HAPPENED in page.content() and "store-manager" not in page.content()
    screenshot(page, "status-360")
    desktop_page.goto(page.url)
    screenshot(desktop_page, "status-1280")

    issue = stack.json_of(stack.get(f"/agent/issues/by-reference/{reference}", stack.token("sue")))
    complete(stack, "sam", issue["id"], {"manager_opinion": "The cashier apologises."})
    complete(stack, "hana", issue["id"], {"decision": "coaching", "notes": "Coaching is booked."})
    nps_three = stack.wait_for(
        lambda: survey_link(stack, email, "How likely are you to recommend us", 3), 30, "the survey email"
    )
    page.goto(survey_link(stack, email, "How easy was it to get your issue resolved", 6))
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you"
    answered = stack.issue(issue["id"], "sue")["timeline"]
    assert any(e["kind"] == "survey_answered" and "CES 6" in e["text"] for e in answered), "the effort answer"
    page.goto(nps_three)
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you"
    page.fill("#comment", "Nobody apologised to me in person.")
    page.get_by_role("button", name="Send comment").click()
    assert "Thank you for your comment" in page.content()
    screenshot(page, "survey-360")

    def call_back() -> dict | None:
        return next((t for t in stack.tasks("sue") if t["step"] == "call_back"), None)

    recovery = stack.wait_for(call_back, 30, "sue's call-back task")
    assert recovery["step"] == "call_back"


def test_the_form_at_desktop_width(stack: Embedded, desktop_page: Page):
    desktop_page.goto(stack.url("/report/rude-staff"))
    assert desktop_page.locator("label[for=what_happened]").is_visible()
    screenshot(desktop_page, "report-form-1280")


def test_a_customer_uploads_a_photo_straight_to_s3(stack: Embedded, mobile_page: Page, tmp_path: Path):
    """The browser posts the file to (moto) S3 with the presigned form; S3 sends it back to the status page."""
    fields = {
        "order_number": "AB123456",
        "product": "Desk lamp",
        "damage": "The shade arrived cracked in two places.",
        "wanted": "replacement",
    }
    body = {"type": "damaged-product", "customer": {"email": "lamp.browser@example.com"}, "fields": fields}
    opened = stack.json_of(stack.post("/issues", body))
    status_url = stack.wait_for(lambda: status_link(stack, "lamp.browser@example.com"), 30, "the acknowledgement")
    photo = tmp_path / "lamp.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(4000))
    page = mobile_page
    page.goto(status_url)
    page.set_input_files("#file", str(photo))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(r"/uploaded\?"))
    assert "Thank you, we have your file." in page.content()
    screenshot(page, "status-upload-360")
    timeline = stack.issue(opened["id"], "remy")["timeline"]
    [added] = [e for e in timeline if e["kind"] == "attachment_added"]
    assert added["data"]["attachments"][0]["content_type"] == "image/jpeg"


def status_link(stack: Embedded, email: str) -> str:
    for message in stack.outbox(email):
        found = re.search(r"(http\S+/s/\S+)", message.get_body(("plain",)).get_content())
        if found:
            return found.group(1)
    return ""
