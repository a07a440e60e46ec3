"""The Customer Effort Score on moto: a click on the survey email's CES link is recorded once, counts
in the roll-ups and on ops' dashboard, and a 2 opens the service-recovery issue."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from chalicelib.reporting import formats
from tests.integration.conftest import sent_emails

TODAY = datetime.now(UTC).date().isoformat()
CES_LINE = "How easy was it to get your issue resolved? (1 = very difficult, 7 = very easy)"
LINK = re.compile(r"^\s+(\d+): https?://[^/\s]+(/survey/\S+)$", re.MULTILINE)


def resolved_enquiry(stack, email: str) -> str:
    fields = {"subject": "Gift card", "message": "How do I use my gift card online?"}
    issue_id = stack.open_issue("general-enquiry", fields, email).json_body["id"]
    task = stack.pump_until(lambda: stack.task_for("alice", issue_id, "answer"), what="the answer task")
    done = stack.post(
        f"/agent/tasks/{task['id']}/complete",
        {"fields": {"answer": "Enter the code at checkout.", "needs_follow_up": False}},
        stack.token("alice"),
    )
    assert done.status_code == 200, done.body
    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="resolution")
    return issue_id


def ces_links(stack, email: str) -> dict[int, str]:
    """The CES question's one-click links in the survey email, by score."""
    survey = stack.pump_until(
        lambda: next((m for m in sent_emails(email) if m["subject"].startswith("How did we do")), None),
        what="the survey email",
    )
    assert CES_LINE in survey["body"]
    section = survey["body"].split(CES_LINE, 1)[1].split("How likely", 1)[0]
    return {int(score): path for score, path in LINK.findall(section)}


def ces_totals(stack) -> dict:
    assert stack.post("/admin/ops/hourly", {}, stack.token("ada")).status_code == 200
    response = stack.get(f"/ops/kpis?from={TODAY}&to={TODAY}&type=general-enquiry", stack.token("omar"))
    assert response.status_code == 200, response.body
    return response.json_body["totals"]


def answered(stack, issue_id: str) -> list[str]:
    return [e["text"] for e in stack.issue(issue_id)["timeline"] if e["kind"] == "survey_answered"]


def test_a_ces_click_is_recorded_once_counts_in_the_figures_and_a_2_opens_service_recovery(stack):
    issue_id = resolved_enquiry(stack, "effort.hard@example.com")
    links = ces_links(stack, "effort.hard@example.com")
    assert sorted(links) == [1, 2, 3, 4, 5, 6, 7]
    before = ces_totals(stack)

    for _ in range(2):
        clicked = stack.client.http.get(links[2])
        body = clicked.body.decode() if isinstance(clicked.body, bytes) else clicked.body
        assert clicked.status_code == 200 and "We recorded your answer <strong>2</strong>" in body
    assert answered(stack, issue_id) == ["CES 2"], "a second click recorded twice"

    recoveries = [e for e in stack.issue(issue_id)["timeline"] if e["kind"] == "recovery_opened"]
    assert len(recoveries) == 1
    recovery_id = recoveries[0]["data"]["recovery"]
    task = stack.pump_until(lambda: stack.task_for("sue", recovery_id), what="sue's call-back task")
    assert task["step"] == "call_back"
    assert stack.issue(recovery_id, "sue")["fields"]["score"] == "CES 2"

    after = ces_totals(stack)
    assert after["ces_answers"] == before["ces_answers"] + 1
    easy_before = round((before["ces_percent"] or 0) * before["ces_answers"] / 100)
    assert round(after["ces_percent"] * after["ces_answers"] / 100) == easy_before, "a 2 counted as easy"
    sum_before = (before["ces_mean"] or 0) * before["ces_answers"]
    rounding = 0.05 * (before["ces_answers"] + after["ces_answers"])
    assert abs(after["ces_mean"] * after["ces_answers"] - (sum_before + 2)) <= rounding + 1e-9, (
        "the mean left out the 2"
    )

    page = stack.client.http.get(
        f"/ops/dashboard?from={TODAY}&to={TODAY}&type=general-enquiry",
        headers={"Authorization": f"Bearer {stack.token('omar')}"},
    )
    html = page.body.decode() if isinstance(page.body, bytes) else page.body
    assert page.status_code == 200
    tile = re.search(r'<li class="tile" data-kpi="ces">(.*?)</li>', html, re.S).group(1)
    assert f'<p class="tile-value">{formats.percent(after["ces_percent"])}</p>' in tile
    assert f"of {after['ces_answers']} answers" in tile


def test_an_easy_ces_within_the_week_replaces_the_first_and_opens_no_recovery(stack):
    issue_id = resolved_enquiry(stack, "effort.easy@example.com")
    links = ces_links(stack, "effort.easy@example.com")
    before = ces_totals(stack)

    assert stack.client.http.get(links[4]).status_code == 200
    assert stack.client.http.get(links[7]).status_code == 200

    assert answered(stack, issue_id) == ["CES 4", "CES 7 (was 4)"]
    assert not [e for e in stack.issue(issue_id)["timeline"] if e["kind"] == "recovery_opened"]
    after = ces_totals(stack)
    assert after["ces_answers"] == before["ces_answers"] + 1, "the replaced 4 still counts"
    easy_before = round((before["ces_percent"] or 0) * before["ces_answers"] / 100)
    assert round(after["ces_percent"] * after["ces_answers"] / 100) == easy_before + 1, "the 7 is not easy"
