"""The process engine on moto: ladders, branches, parallel steps, versions, customer waits, signed links."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from chalicelib import bootstrap
from chalicelib.web_tokens.signed_links import sign
from tests.integration.conftest import sent_emails


def define(stack, definition, expected=(200, 201)):
    response = stack.put(f"/admin/issue-types/{definition['id']}", definition, stack.token("ada"))
    assert response.status_code in expected, response.body
    return response


def kinds(stack, issue_id):
    return [e["kind"] for e in stack.issue(issue_id)["timeline"]]


LADDER = {
    "id": "ladder-test",
    "name": "A three-level ladder on one-second timers",
    "fields": [{"id": "summary", "type": "text", "required": True}],
    "steps": [
        {
            "id": "look",
            "name": "Look into it",
            "role": "store-manager",
            "deadline": "PT2S",
            "warnings": [50],
            "fields": [{"id": "finding", "type": "text", "required": True}],
            "escalation": [
                {"after": "PT0S", "reassign": "regional-manager"},
                {
                    "after": "PT1S",
                    "notify": ["hr-lead", {"email": "duty.manager@stores.example"}],
                    "raise_priority": True,
                },
                {"after": "PT2S", "reassign": {"user": "harry"}},
            ],
        }
    ],
}


def test_a_three_level_ladder_warns_escalates_notifies_and_reassigns_once_each(stack):
    define(stack, LADDER)
    opened = stack.open_issue("ladder-test", {"summary": "Nobody answers"}, "ladder@example.com")
    issue_id = opened.json_body["id"]
    stack.pump_until(lambda: stack.task_for("sam", issue_id), what="the first task")
    task = stack.pump_until(
        lambda: (t := stack.task_for("harry", issue_id)) and t["escalation_level"] == 3 and t, timeout=20, what="L3"
    )
    assert task["assignee"] == {"kind": "user", "name": "harry"} and task["breached"] is True
    stack.wait_idle(issue_id)  # the ladder's end: a repeated checkpoint would have come by now
    seen = kinds(stack, issue_id)
    assert seen.count("sla_warning") == 1
    assert seen.count("deadline_breached") == 1
    assert seen.count("escalated") == 3
    assert seen.count("priority_raised") == 1
    # In order: the warning before the breach, the breach with the first escalation, then levels 2 and 3.
    order = [k for k in seen if k in ("sla_warning", "deadline_breached", "escalated")]
    assert order[:2] == ["sla_warning", "deadline_breached"]
    issue = stack.issue(issue_id)
    assert issue["priority"] == "high"
    assert any("Escalated to you" in m["subject"] for m in sent_emails("rita@agents.caseflow.test"))
    assert any("is overdue" in m["subject"] for m in sent_emails("harry@agents.caseflow.test"))
    notified = sent_emails("duty.manager@stores.example")
    assert len(notified) == 1 and "/t/" not in notified[0]["body"]  # notified, not handed the task
    assert stack.task_for("rita", issue_id) is None

    stack.complete("harry", task, {"finding": "Done at last"})
    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="resolution")


BRANCHES = {
    "id": "branch-test",
    "name": "Branches on a field and on the customer's segment",
    "fields": [{"id": "amount", "type": "number", "required": True}],
    "steps": [
        {
            "id": "review",
            "role": "hr",
            "deadline": "PT1H",
            "fields": [{"id": "ok", "type": "yes_no", "required": True}],
        },
        {"id": "approve", "role": "finance", "deadline": "PT1H", "when": {"field": "amount", "greater_than": 100}},
        {"id": "vip_call", "role": "agent", "deadline": "PT1H", "when": {"customer": "segment", "equals": "vip"}},
        {"id": "refused", "kind": "resolve", "when": {"result": "review.ok", "equals": False}},
        {"id": "tell", "kind": "email_customer", "subject": "Done", "body": "Approved for {{ fields.amount }}"},
    ],
}


def run_branches(stack, email, amount, ok=True):
    issue_id = stack.open_issue("branch-test", {"amount": amount}, email).json_body["id"]
    task = stack.pump_until(lambda: stack.task_for("hana", issue_id), what="the review")
    stack.complete("hana", task, {"ok": ok})
    for username in ("fred", "alice"):
        found = stack.pump_until(
            lambda u=username: stack.task_for(u, issue_id) or stack.issue(issue_id)["status"] == "resolved",
            what=f"{username}'s task or resolution",
        )
        if isinstance(found, dict):
            stack.complete(username, found, {})
    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="resolution")
    return [t["step"] for t in stack.issue(issue_id)["tasks"]], sent_emails(email)


def test_branches_follow_field_values_and_customer_segments(stack):
    define(stack, BRANCHES)
    steps, emails = run_branches(stack, "small@example.com", 50)
    assert steps == ["review"] and any(m["subject"].startswith("Done [CF-") for m in emails)

    # A VIP with a large amount goes through every step.
    stack.open_issue("late-delivery", {"order_number": "VV123456", "promised_date": "2026-11-01"}, "vip@example.com")
    segment = stack.put("/admin/customers/vip@example.com/segment", {"segment": "vip"}, stack.token("ada"))
    assert segment.status_code == 200, segment.body
    steps, _ = run_branches(stack, "vip@example.com", 500)
    assert sorted(steps) == ["approve", "review", "vip_call"]

    steps, emails = run_branches(stack, "refused@example.com", 500, ok=False)
    assert "Done" not in [m["subject"] for m in emails]  # the resolve step ended the process early


PARALLEL = {
    "id": "parallel-test",
    "name": "Two reviews at once",
    "fields": [{"id": "summary", "type": "text", "required": True}],
    "steps": [
        {
            "id": "reviews",
            "kind": "parallel",
            "branches": [
                [{"id": "legal", "role": "hr", "deadline": "PT1H", "fields": [{"id": "risk", "type": "yes_no"}]}],
                [{"id": "comms", "role": "logistics", "deadline": "PT1H"}],
            ],
        },
        {"id": "lawyer_call", "role": "hr-lead", "deadline": "PT1H", "when": {"result": "legal.risk", "equals": True}},
    ],
}


def test_a_parallel_step_opens_both_tasks_and_waits_for_both(stack):
    define(stack, PARALLEL)
    issue_id = stack.open_issue("parallel-test", {"summary": "Press"}, "press@example.com").json_body["id"]
    legal = stack.pump_until(lambda: stack.task_for("hana", issue_id), what="the legal task")
    comms = stack.pump_until(lambda: stack.task_for("lee", issue_id), what="the comms task")
    stack.complete("hana", legal, {"risk": True})
    stack.wait_idle(issue_id)
    assert stack.task_for("harry", issue_id) is None  # still waiting for the other branch
    stack.complete("lee", comms, {})
    lawyer = stack.pump_until(lambda: stack.task_for("harry", issue_id), what="the step after both reviews")
    assert lawyer["step"] == "lawyer_call"
    stack.complete("harry", lawyer, {})
    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="resolution")


VERSIONED = {
    "id": "versioned-test",
    "name": "Version one",
    "fields": [{"id": "summary", "type": "text", "required": True}],
    "steps": [{"id": "check", "role": "hr", "deadline": "PT1H", "fields": [{"id": "v1", "type": "text"}]}],
}


def test_running_issues_finish_on_the_version_they_started_with(stack):
    define(stack, VERSIONED, expected=(201,))
    first = stack.open_issue("versioned-test", {"summary": "Old"}, "old@example.com").json_body
    assert first["type_version"] == 1
    old_task = stack.pump_until(lambda: stack.task_for("hana", first["id"]), what="v1's task")

    v2 = {**VERSIONED, "name": "Version two"}
    v2["steps"] = [{"id": "check", "role": "logistics", "deadline": "PT1H", "fields": [{"id": "v2", "type": "text"}]}]
    published = define(stack, v2).json_body
    assert (published["version"], published["published"]) == (2, True)
    assert define(stack, v2).json_body["published"] is False  # unchanged: nothing new
    second = stack.open_issue("versioned-test", {"summary": "New"}, "new@example.com").json_body
    assert second["type_version"] == 2
    assert stack.pump_until(lambda: stack.task_for("lee", second["id"]), what="v2's task")

    bad = stack.post(f"/agent/tasks/{old_task['id']}/complete", {"fields": {"v2": "x"}}, stack.token("hana"))
    assert bad.status_code == 400  # the old issue still has version 1's form
    stack.complete("hana", old_task, {"v1": "still v1"})
    stack.pump_until(lambda: stack.issue(first["id"])["status"] == "resolved", what="v1 resolution")
    assert stack.issue(first["id"])["type_version"] == 1
    versions = stack.get("/admin/issue-types/versioned-test/versions", stack.token("ada")).json_body["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["state_machine_arn"] != versions[1]["state_machine_arn"]


def test_the_admin_api_validates_before_publishing(stack):
    ada = stack.token("ada")
    assert stack.get("/admin/issue-types", stack.token("sam")).status_code == 403
    listed = stack.get("/admin/issue-types", ada).json_body["issue_types"]
    assert {"rude-staff", "service-outage", "general-enquiry"} <= {t["id"] for t in listed}
    definition = stack.get("/admin/issue-types/rude-staff", ada).json_body["definition"]
    assert definition["steps"][0]["id"] == "manager_opinion" and "uk-stores" in definition["calendars"]

    broken = {**VERSIONED, "id": "broken-test", "steps": [{**VERSIONED["steps"][0], "deadline": "soon"}]}
    broken["steps"][0]["escalation"] = [{"after": "later", "reassign": "hr-lead"}]
    dry_run = stack.post("/admin/issue-types/validate", broken, ada)
    assert dry_run.status_code == 400
    assert {e["field"] for e in dry_run.json_body["errors"]} == {"steps[0].deadline", "steps[0].escalation[0].after"}
    refused = define(stack, broken, expected=(400,))
    assert refused.json_body == dry_run.json_body
    assert stack.get("/admin/issue-types/broken-test", ada).status_code == 404
    valid = stack.post("/admin/issue-types/validate", VERSIONED, ada)
    assert valid.status_code == 200 and valid.json_body["valid"] is True


WAITING = {
    "id": "waiting-test",
    "name": "Ask the customer, remind, auto-close",
    "fields": [{"id": "summary", "type": "text", "required": True}],
    "steps": [
        {"id": "ask", "kind": "email_customer", "subject": "Question {{ issue.reference }}", "body": "Which size?"},
        {
            "id": "await_answer",
            "kind": "wait_for_customer",
            "remind_after": "PT1S",
            "close_after": "PT1S",
            "reminder": {"subject": "Still waiting {{ issue.reference }}", "body": "Which size, please?"},
        },
        {"id": "act", "role": "hr", "deadline": "PT1H", "when": {"result": "await_answer.reply", "is_set": True}},
    ],
}


def test_a_customer_reply_resumes_the_wait_and_silence_closes_the_issue(stack):
    define(stack, WAITING)
    answered = stack.open_issue("waiting-test", {"summary": "Shoes"}, "answers@example.com").json_body["id"]
    stack.pump_until(lambda: "waiting_for_customer" in kinds(stack, answered), what="the wait")
    reply = stack.post(
        f"/agent/issues/{answered}/customer-messages", {"text": "Size 42", "channel": "phone"}, stack.token("hana")
    )
    assert reply.status_code == 201 and reply.json_body == {"resumed_step": "await_answer"}
    task = stack.pump_until(lambda: stack.task_for("hana", answered), what="the step after the reply")
    stack.complete("hana", task, {})
    stack.pump_until(lambda: stack.issue(answered)["status"] == "resolved", what="resolution")

    silent = stack.open_issue("waiting-test", {"summary": "Hat"}, "silent@example.com").json_body["id"]
    stack.pump_until(lambda: stack.issue(silent)["status"] == "resolved", timeout=20, what="auto-close")
    subjects = [m["subject"].split()[0] for m in sent_emails("silent@example.com")]
    assert subjects == ["We", "Question", "Still", "How"], "acknowledgement, question, reminder, survey"
    assert "auto_closed" in kinds(stack, silent)
    assert stack.task_for("hana", silent) is None


def link_in(body: str) -> str:
    return re.search(r"http://localhost:\d+(/t/\S+)", body).group(1)


def post_form(stack, path, values):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return stack.client.http.post(path, headers=headers, body=urlencode(values))


def test_an_outside_party_answers_once_through_a_signed_link(stack):
    opened = stack.open_issue(
        "rude-staff",
        {"store": "york-coney-street", "incident_date": "2026-11-01", "what_happened": "Shouted at me in aisle 3"},
        "york.customer@example.com",
    ).json_body
    issue_id = opened["id"]

    def link_mail():
        mails = sent_emails("york.manager@stores.example")
        return [m for m in mails if opened["reference"] in m["subject"]]

    mail = stack.pump_until(link_mail, what="the manager's link")
    path = link_in(mail[0]["body"])

    form = stack.client.http.get(path)
    assert form.status_code == 200 and b'name="manager_opinion"' in form.body
    assert b"York Coney Street" in form.body and form.headers["X-Content-Type-Options"] == "nosniff"
    empty = post_form(stack, path, {"manager_opinion": ""})
    assert empty.status_code == 400 and b'aria-invalid="true"' in empty.body

    tampered = stack.client.http.get(path[:-3] + "abc")
    assert tampered.status_code == 404 and b"not valid" in tampered.body
    task_id = f"{issue_id}-manager_opinion"
    expired = sign(
        {"task": task_id, "holder": "email:york.manager@stores.example"},
        bootstrap.services().link_secret(),
        datetime.now(UTC) - timedelta(minutes=1),
    )
    assert stack.client.http.get(f"/t/{expired}").status_code == 410

    done = post_form(stack, path, {"manager_opinion": "The cashier was having a bad day; we talked."})
    assert done.status_code == 200 and b"Thank you" in done.body
    reused = post_form(stack, path, {"manager_opinion": "Again"})
    assert reused.status_code == 410 and b"already been used" in reused.body
    hr = stack.pump_until(lambda: stack.task_for("hana", issue_id), what="the HR step")
    opinion = next(t for t in stack.issue(issue_id)["tasks"] if t["step"] == "manager_opinion")
    assert opinion["completed_by"] == "york.manager@stores.example"
    assert hr["step"] == "hr_decision"
