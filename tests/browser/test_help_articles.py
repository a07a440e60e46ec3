"""Help articles in a real browser: an admin's article is offered on a report form as the customer
types (JavaScript) and, without JavaScript, on the form's first send; "This answered my question"
files nothing, and after the hourly roll-up omar sees the deflection on the ops dashboard."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from playwright.sync_api import Browser, Page

from chalicelib.local.provision import DEMO_PASSWORD
from harness import Embedded
from tests.browser.conftest import DESKTOP, record, screenshot

TYPE = {
    "id": "help-browser-test",
    "name": "Parcel questions (browser test)",
    "public": True,
    "fields": [{"id": "summary", "type": "long_text", "required": True, "label": "What happened?"}],
    "steps": [
        {
            "id": "check",
            "name": "Check",
            "role": "agent",
            "deadline": "PT1H",
            "fields": [{"id": "finding", "type": "text", "required": True}],
        }
    ],
}
ARTICLE = {
    "slug": "late-parcel-refund-browser",
    "title": "Refund for a late parcel",
    "body": "If your parcel is more than five days late, we refund the delivery charge within ten days.",
    "languages": ["en"],
    "issue_types": [TYPE["id"]],
}
LATE = "My parcel is more than five days late. Will you refund the delivery charge?"


def publish(stack: Embedded) -> None:
    published = stack.put(f"/admin/issue-types/{TYPE['id']}", TYPE, stack.token("ada"))
    assert published.status_code in (200, 201), published.text
    written = stack.post("/admin/articles", ARTICLE, stack.token("ada"))
    assert written.status_code in (201, 409), written.text


def test_an_article_answers_a_report_as_it_is_typed_and_the_deflection_is_on_the_dashboard(
    stack: Embedded, desktop_page: Page, browser: Browser
):
    publish(stack)
    page = desktop_page
    started = time.monotonic()
    page.goto(stack.url(f"/report/{TYPE['id']}"))
    page.get_by_label("What happened?").fill(LATE)
    suggestion = page.locator("#article-suggestions").get_by_role("link", name=ARTICLE["title"])
    suggestion.wait_for()
    record("article offered while typing", time.monotonic() - started)
    screenshot(page, "report-form-article-offered")
    page.locator("#article-suggestions").get_by_role("button", name="This answered my question").click()
    page.wait_for_url(f"**/report/{TYPE['id']}/answered")
    assert page.get_by_role("heading", level=1).inner_text() == "Glad that helped"

    # Without JavaScript: the form's first send shows the article, nothing is filed.
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    try:
        plain = context.new_page()
        plain.goto(stack.url(f"/report/{TYPE['id']}"))
        plain.get_by_label("What happened?").fill(LATE)
        plain.get_by_label("Your email address").fill("help.browser@example.com")
        plain.get_by_role("button", name="Send report").click()
        plain.get_by_role("heading", name="Before you send: these articles may answer your question").wait_for()
        assert plain.get_by_role("button", name="Send my report anyway").count() == 1
        plain.get_by_role("button", name="This answered my question").first.click()
        assert plain.get_by_role("heading", level=1).inner_text() == "Glad that helped"
    finally:
        context.close()

    hourly = stack.post("/admin/ops/hourly", {}, stack.token("ada"))
    assert hourly.status_code == 200, hourly.text
    today = datetime.now(UTC).date().isoformat()
    page.goto(stack.url("/ops/dashboard"))
    page.fill("#username", "omar")
    page.fill("#password", DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/ops/dashboard")
    page.goto(stack.url(f"/ops/dashboard?from={today}&to={today}&type={TYPE['id']}"))
    assert int(page.locator('[data-kpi="deflections"] .tile-value').inner_text()) >= 2
    assert page.locator("table").get_by_role("rowheader", name=ARTICLE["slug"]).count() >= 1
    screenshot(page, "ops-dashboard-deflections")
