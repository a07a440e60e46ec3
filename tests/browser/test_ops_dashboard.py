"""The ops dashboard in a real browser, over real activity: issues opened on the web, worked by the demo
agents (one escalated twice past a one-second deadline), resolved and rated by their customers (a
detractor opens a service-recovery issue on the survey channel), rolled up by the hourly schedule run
by an admin; then omar signs in and every chart is drawn with data."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import requests
from playwright.sync_api import Page

from chalicelib.local.provision import DEMO_PASSWORD
from harness import Embedded
from tests.browser.conftest import record, screenshot
from tests.browser.test_customer_journey import complete, survey_link

CSAT_LINE = "How satisfied are you"
NPS_LINE = "How likely are you to recommend us"
CES_LINE = "How easy was it to get your issue resolved"
CHARTS = ("contacts", "resolution", "sla", "satisfaction", "escalations")
#: A private type whose one-second deadline passes at once: the task escalates to level 1, then 2.
FAST = {
    "id": "ops-dashboard-fast",
    "name": "Fast deadlines (ops dashboard test)",
    "public": True,
    "fields": [{"id": "summary", "type": "text", "required": True}],
    "steps": [
        {
            "id": "check",
            "name": "Check",
            "role": "agent",
            "deadline": "PT1S",
            "fields": [{"id": "finding", "type": "text", "required": True}],
            "escalation": [
                {"after": "PT0S", "reassign": "store-manager"},
                {"after": "PT1S", "notify": ["regional-manager"]},
            ],
        },
        {
            "id": "tell_customer",
            "kind": "email_customer",
            "subject": "Checked {{ issue.reference }}",
            "body": "Finding: {{ results.check.finding }}",
        },
    ],
}


def open_issue(stack: Embedded, type_id: str, fields: dict, email: str) -> str:
    response = stack.open_issue(type_id, fields, email, "Ops Browser")
    assert response.status_code == 201, response.text
    return response.json()["id"]


def rate(stack: Embedded, email: str, csat: int, nps: int, ces: int) -> None:
    """Click the survey email's links, as the customer would."""
    for line, score in ((CSAT_LINE, csat), (NPS_LINE, nps), (CES_LINE, ces)):
        link = stack.wait_for(lambda line=line, score=score: survey_link(stack, email, line, score), 30, "the survey")
        assert requests.get(link, timeout=10).status_code == 200


def make_activity(stack: Embedded) -> None:
    published = stack.put(f"/admin/issue-types/{FAST['id']}", FAST, stack.token("ada"))
    assert published.status_code in (200, 201), published.text

    enquiries = {}
    for n, email in enumerate(("ops.happy@example.com", "ops.unhappy@example.com", "ops.waiting@example.com")):
        fields = {"subject": f"Question {n}", "message": "When do you open on Sunday?"}
        enquiries[email] = open_issue(stack, "general-enquiry", fields, email)
    slow = open_issue(stack, FAST["id"], {"summary": "Nobody looked in time"}, "ops.slow@example.com")

    for email in ("ops.happy@example.com", "ops.unhappy@example.com"):
        complete(stack, "alice", enquiries[email], {"answer": "From 10:00 to 16:00.", "needs_follow_up": False})
    stack.wait_for(
        lambda: sum(e["kind"] == "escalated" for e in stack.issue(slow, "sam")["timeline"]) >= 2, 30, "two escalations"
    )
    complete(stack, "sam", slow, {"finding": "Checked late."})
    for issue_id in (*(enquiries[e] for e in ("ops.happy@example.com", "ops.unhappy@example.com")), slow):
        stack.wait_for(lambda issue_id=issue_id: stack.issue(issue_id)["status"] == "resolved", 30, "resolution")

    rate(stack, "ops.happy@example.com", csat=5, nps=9, ces=7)
    rate(stack, "ops.unhappy@example.com", csat=2, nps=3, ces=3)
    rate(stack, "ops.slow@example.com", csat=4, nps=7, ces=5)

    def recovery_opened() -> bool:
        calls = [stack.issue(t["issue_id"], "sue") for t in stack.tasks("sue") if t["step"] == "call_back"]
        return any(found["customer"]["email"] == "ops.unhappy@example.com" for found in calls)

    stack.wait_for(recovery_opened, 30, "the service-recovery issue of the detractor")
    hourly = stack.post("/admin/ops/hourly", {}, stack.token("ada"))
    assert hourly.status_code == 200, hourly.text
    assert hourly.json()["roll_up"]["events"] > 0


def test_omar_sees_every_chart_drawn_from_real_activity(stack: Embedded, desktop_page: Page):
    started = time.monotonic()
    make_activity(stack)
    record("ops activity and hourly roll-up", time.monotonic() - started)

    page = desktop_page
    started = time.monotonic()
    page.goto(stack.url("/ops/dashboard"))
    assert page.url.endswith("/desk/sign-in?next=/ops/dashboard")
    page.fill("#username", "omar")
    page.fill("#password", DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/ops/dashboard")
    record("ops sign-in to dashboard", time.monotonic() - started)

    assert page.get_by_role("heading", level=1).inner_text() == "Ops dashboard"
    for chart in CHARTS:
        svg = page.locator(f"svg#chart-{chart}")
        assert svg.get_attribute("data-state") == "data", f"{chart}: {svg.locator('desc').text_content()}"
        box = svg.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 100, chart
    contacts = page.locator("svg#chart-contacts desc").text_content()
    assert "web" in contacts and "survey" in contacts
    assert page.locator("svg#chart-escalations").get_by_text("Level 2", exact=True).count() == 1
    assert page.locator('[data-kpi="csat"] .tile-value').inner_text() != "–"
    assert page.locator('[data-kpi="nps"] .tile-value').inner_text() != "–"
    # The effort question's answers: 2 of the 3 customers found it easy (5 to 7).
    assert page.locator('[data-kpi="ces"] .tile-value').inner_text() != "–"
    assert page.locator('[data-kpi="backlog"] .tile-value').inner_text() not in ("–", "0")

    week_ago = (datetime.now(UTC).date() - timedelta(days=6)).isoformat()
    page.fill("#filter-from", week_ago)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**/ops/dashboard?from={week_ago}*")
    assert page.locator("svg#chart-contacts").get_attribute("data-state") == "data"
    screenshot(page, "ops-dashboard")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/desk/sign-in")
    page.goto(stack.url("/ops/dashboard"))
    assert page.url.endswith("/desk/sign-in?next=/ops/dashboard")
