"""Both seeded processes, end to end through their state machines, as agents would drive them."""

from datetime import date

from tests.integration.conftest import sent_emails

TODAY = date.today().isoformat()


def test_rude_staff_runs_from_report_to_resolution(stack):
    opened = stack.open_issue(
        "rude-staff",
        {"store": "manchester-arndale", "incident_date": TODAY, "what_happened": "The cashier shouted at me."},
        "Rude.Report@Example.com",
    )
    assert opened.status_code == 201, opened.body
    issue_id, reference = opened.json_body["id"], opened.json_body["reference"]
    assert reference.startswith("CF-") and opened.json_body["status"] == "open"

    task = stack.pump_until(lambda: stack.task_for("sam", issue_id), what="the store manager's task")
    assert task["step"] == "manager_opinion" and task["role"] == "store-manager"
    assert stack.task_for("hana", issue_id) is None
    assert any(reference in m["subject"] for m in sent_emails("sam@agents.caseflow.test"))
    acknowledgement = sent_emails("rude.report@example.com")[0]
    assert reference in acknowledgement["subject"] and acknowledgement["auto_submitted"] == "auto-replied"

    missing = stack.post(f"/agent/tasks/{task['id']}/complete", {"fields": {}}, stack.token("sam"))
    assert missing.status_code == 400
    assert missing.json_body["errors"] == [{"field": "fields.manager_opinion", "message": "is required"}]

    done = stack.post(
        f"/agent/tasks/{task['id']}/complete",
        {"fields": {"manager_opinion": "I spoke to the cashier."}},
        stack.token("sam"),
    )
    assert done.status_code == 200, done.body
    assert done.json_body["status"] == "completed" and done.json_body["completed_by"] == "sam"
    again = stack.post(
        f"/agent/tasks/{task['id']}/complete", {"fields": {"manager_opinion": "Twice"}}, stack.token("sam")
    )
    assert again.status_code == 409

    hr_task = stack.pump_until(lambda: stack.task_for("hana", issue_id), what="the HR task")
    wrong_role = stack.post(
        f"/agent/tasks/{hr_task['id']}/complete", {"fields": {"decision": "apology"}}, stack.token("sam")
    )
    assert wrong_role.status_code == 403
    bad_choice = stack.post(
        f"/agent/tasks/{hr_task['id']}/complete", {"fields": {"decision": "fire"}}, stack.token("hana")
    )
    assert bad_choice.status_code == 400
    assert bad_choice.json_body["errors"][0]["field"] == "fields.decision"
    decided = stack.post(
        f"/agent/tasks/{hr_task['id']}/complete",
        {"fields": {"decision": "apology", "notes": "The employee will apologise in writing."}},
        stack.token("hana"),
    )
    assert decided.status_code == 200, decided.body

    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="resolution")
    outcome = [m for m in sent_emails("rude.report@example.com") if "our decision" in m["subject"]]
    assert len(outcome) == 1
    assert "Our decision: Formal apology." in outcome[0]["body"]
    assert "The employee will apologise in writing." in outcome[0]["body"]
    assert "Manchester Arndale" in outcome[0]["body"]

    issue = stack.issue(issue_id)
    kinds = [e["kind"] for e in issue["timeline"]]
    assert kinds[0] == "issue_opened" and kinds[-2:] == ["issue_resolved", "email_sent"]
    assert issue["timeline"][-1]["data"]["message"] == "survey"
    assert kinds.count("task_completed") == 2 and "escalated" not in kinds
    assert issue["customer"]["email"] == "rude.report@example.com"
    assert [t["status"] for t in issue["tasks"]] == ["completed", "completed"]
    assert stack.execution_status(issue_id) == "SUCCEEDED"
    assert stack.tasks("sam") == [] or all(t["issue_id"] != issue_id for t in stack.tasks("sam"))


def test_late_delivery_tells_the_customer_the_new_date(stack):
    opened = stack.open_issue(
        "late-delivery",
        {"order_number": "AB123456", "promised_date": "2026-11-20", "what_happened": "Nothing came."},
        "late.parcel@example.com",
    )
    assert opened.status_code == 201, opened.body
    issue_id = opened.json_body["id"]
    task = stack.pump_until(lambda: stack.task_for("lee", issue_id), what="the courier desk's task")
    done = stack.post(
        f"/agent/tasks/{task['id']}/complete",
        {"fields": {"new_delivery_date": "2026-11-27", "compensation": "voucher"}},
        stack.token("lee"),
    )
    assert done.status_code == 200, done.body
    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="resolution")
    outcome = [m for m in sent_emails("late.parcel@example.com") if "new delivery date" in m["subject"]]
    assert len(outcome) == 1
    assert "AB123456" in outcome[0]["subject"]
    assert "it will now arrive on 2026-11-27" in outcome[0]["body"]
    assert "Compensation: A voucher." in outcome[0]["body"]


def test_customer_history_spans_their_issues(stack):
    email = "returning@example.com"
    first = stack.open_issue("late-delivery", {"order_number": "CD123456", "promised_date": "2026-11-01"}, email)
    second = stack.open_issue("late-delivery", {"order_number": "EF123456", "promised_date": "2026-11-02"}, email)
    assert first.status_code == second.status_code == 201
    issue = stack.issue(second.json_body["id"])
    assert issue["customer"]["id"] == stack.issue(first.json_body["id"])["customer"]["id"]
    assert {e["issue_id"] for e in issue["customer_history"]} == {first.json_body["id"]}
