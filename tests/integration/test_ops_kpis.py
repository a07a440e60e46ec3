"""Ops' KPIs on moto: events journalled, rolled up hourly (idempotently), read as JSON and CSV; reopening."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

from tests.integration.conftest import sent_emails

TODAY = datetime.now(UTC).date().isoformat()


def answer_enquiry(stack, email: str, follow_up: bool = False) -> str:
    fields = {"subject": "Opening hours", "message": "When do you open on Sunday?"}
    issue_id = stack.open_issue("general-enquiry", fields, email).json_body["id"]
    task = stack.pump_until(lambda: stack.task_for("alice", issue_id, "answer"), what="the answer task")
    response = stack.post(
        f"/agent/tasks/{task['id']}/complete",
        {"fields": {"answer": "From 10:00.", "needs_follow_up": follow_up}},
        stack.token("alice"),
    )
    assert response.status_code == 200, response.body
    return issue_id


def run_hourly(stack, **window) -> dict:
    response = stack.post("/admin/ops/hourly", window, stack.token("ada"))
    assert response.status_code == 200, response.body
    return response.json_body


def kpis(stack, query: str = "", username: str = "omar"):
    return stack.get(f"/ops/kpis?from={TODAY}&to={TODAY}{query}", stack.token(username))


def net_promoters(totals: dict) -> float:
    return round((totals["nps"] or 0) * totals["nps_answers"] / 100)


def test_the_hourly_roll_up_counts_each_event_once_however_often_it_runs(stack):
    run_hourly(stack)
    baseline = kpis(stack, "&type=general-enquiry").json_body["totals"]
    issue_id = answer_enquiry(stack, "ops-once@example.com")
    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="resolution")
    survey = next(m for m in sent_emails("ops-once@example.com") if m["subject"].startswith("How did we do"))
    nps = dict(re.findall(r"^\s+(\d+): https?://[^/\s]+(/survey/\S+)$", survey["body"].split("recommend")[1], re.M))
    stack.client.http.get(nps["3"])
    stack.client.http.get(nps["9"])  # changed within the window: replaces the 3

    first = run_hourly(stack)
    assert first["roll_up"]["events"] >= 6
    before = kpis(stack, "&type=general-enquiry").json_body
    run_hourly(stack)
    run_hourly(stack)
    after = kpis(stack, "&type=general-enquiry").json_body

    unchanging = ("totals", "by_type", "sla_by_step", "rows")
    assert {k: after[k] for k in unchanging} == {k: before[k] for k in unchanging}
    totals = after["totals"]
    assert totals["contacts"] == baseline["contacts"] + 1
    assert totals["resolved"] == baseline["resolved"] + 1
    assert totals["tasks_completed"] == baseline["tasks_completed"] + 1
    assert totals["nps_answers"] == baseline["nps_answers"] + 1, "the replaced 3 still counts"
    assert net_promoters(totals) == net_promoters(baseline) + 1, "the 9 is not a promoter"
    assert sum(after["days"][0]["contacts_by_channel"].values()) == totals["contacts"]
    recovery = kpis(stack, "&type=service-recovery").json_body
    assert recovery["backlog"]["count"] >= 1, "the detractor's service-recovery issue is open"
    assert recovery["days"][0]["contacts_by_channel"].get("survey", 0) >= 1


def test_a_late_event_is_picked_up_by_the_next_run_without_counting_the_rest_twice(stack):
    run_hourly(stack)
    early = kpis(stack, "&type=general-enquiry").json_body["totals"]["contacts"]
    answer_enquiry(stack, "ops-late@example.com", follow_up=True)
    run_hourly(stack)
    run_hourly(stack)
    later = kpis(stack, "&type=general-enquiry").json_body
    assert later["totals"]["contacts"] == early + 1
    assert later["backlog"]["count"] >= 1, "the issue waiting for the customer is open"


def test_kpis_as_csv_have_a_row_per_day_type_and_channel(stack):
    answer_enquiry(stack, "ops-csv@example.com")
    run_hourly(stack)
    response = stack.client.http.get(
        f"/ops/kpis?from={TODAY}&to={TODAY}",
        headers={"Authorization": f"Bearer {stack.token('omar')}", "Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    [row] = [r for r in rows if r["type"] == "general-enquiry" and r["channel"] == "web"]
    assert row["date"] == TODAY and int(row["contacts"]) >= 1
    assert "escalations_level_1" in row


def test_kpis_need_the_ops_role_and_name_bad_fields(stack):
    assert kpis(stack, username="alice").status_code == 403
    assert stack.get(f"/ops/kpis?from={TODAY}&to={TODAY}").status_code == 401
    bad = stack.get("/ops/kpis?from=yesterday&channel=fax&type=nope", stack.token("omar"))
    assert bad.status_code == 400
    named = {e["field"] for e in bad.json_body["errors"]}
    assert named == {"from", "channel", "type"}
    reversed_range = stack.get("/ops/kpis?from=2026-11-10&to=2026-11-01", stack.token("omar"))
    assert reversed_range.status_code == 400 and reversed_range.json_body["errors"][0]["field"] == "from"
    assert stack.post("/admin/ops/hourly", {}, stack.token("omar")).status_code == 403
    hours = stack.post("/admin/ops/hourly", {"from": "2026-11-01T00:00Z"}, stack.token("ada"))
    assert hours.status_code == 400 and hours.json_body["errors"][0]["field"] == "to"


def test_a_reopened_issue_runs_its_process_again_and_counts_in_the_reopen_rate(stack):
    issue_id = answer_enquiry(stack, "ops-reopen@example.com")
    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="resolution")
    open_again = stack.post(
        f"/agent/issues/{issue_id}/reopen", {"reason": "customer called back"}, stack.token("alice")
    )
    assert open_again.status_code == 200, open_again.body
    assert open_again.json_body["run"] == 2
    assert stack.post(f"/agent/issues/{issue_id}/reopen", {}, stack.token("alice")).status_code == 409

    task = stack.pump_until(lambda: stack.task_for("alice", issue_id, "answer"), what="the answer task again")
    stack.post(
        f"/agent/tasks/{task['id']}/complete",
        {"fields": {"answer": "Sundays 10 to 16.", "needs_follow_up": False}},
        stack.token("alice"),
    )
    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="the second resolution")
    kinds = [e["kind"] for e in stack.issue(issue_id)["timeline"]]
    assert kinds.count("issue_reopened") == 1 and kinds.count("issue_resolved") == 2
    acknowledgements = [m for m in sent_emails("ops-reopen@example.com") if "received your report" in m["subject"]]
    assert len(acknowledgements) == 1

    run_hourly(
        stack, **{"from": (datetime.now(UTC) - timedelta(hours=1)).isoformat(), "to": datetime.now(UTC).isoformat()}
    )
    mine = kpis(stack, "&type=general-enquiry").json_body["totals"]
    assert mine["reopen_rate_percent"] > 0


def test_the_backlog_index_holds_only_what_the_backlog_reads(stack):
    import boto3

    from chalicelib import settings
    from chalicelib.adapters.dynamodb import schema
    from chalicelib.adapters.dynamodb.issues import IssueRepository

    def open_enquiries() -> list:
        return IssueRepository().open_issues("general-enquiry")

    before = len(open_enquiries())
    fields = {"subject": "Opening hours", "message": "When do you open on Sunday?"}
    issue = stack.open_issue("general-enquiry", fields, "ops-backlog@example.com").json_body
    opened = open_enquiries()
    assert len(opened) == before + 1
    assert (opened[-1].channel, opened[-1].created_at) == ("web", IssueRepository().get(issue["id"]).created_at)

    raw = boto3.client("dynamodb").query(
        TableName=settings.get().table_name,
        IndexName=schema.OPEN_ISSUES_INDEX,
        KeyConditionExpression="gsi4pk = :type",
        ExpressionAttributeValues={":type": {"S": "OPEN#general-enquiry"}},
    )["Items"]
    keys = {schema.PARTITION_KEY, schema.SORT_KEY, *schema.OPEN_ISSUES_INDEX_KEYS}
    assert {name for item in raw for name in item} == keys | set(schema.OPEN_ISSUE_ATTRIBUTES)

    answer_enquiry(stack, "ops-backlog-2@example.com")
    stack.pump_until(lambda: len(open_enquiries()) == before + 1, what="the answered enquiry leaving the backlog")
