"""The agents' API shows a task to its holder with everything the step asks, through HTTP on moto."""

from __future__ import annotations

from tests.integration.conftest import sent_emails


def test_the_holder_reads_the_task_with_its_form_and_only_those_who_see_the_issue_find_it(stack):
    opened = stack.open_issue("fast-test", {"summary": "The till was closed early"}, "form@example.com")
    issue_id = opened.json_body["id"]
    task = stack.wait_for_task("sam", issue_id, "check")

    shown = stack.get(f"/agent/tasks/{task['id']}", stack.token("sam"))
    assert shown.status_code == 200
    body = shown.json_body
    assert body["form"]["fields"] == [{"id": "finding", "label": "Finding", "type": "text", "required": True}]
    assert {"id": "summary", "label": "Summary", "value": "The till was closed early"} in body["issue"]["fields"]
    assert body["earlier_answers"] == []
    assert [t["form"]["id"] for t in stack.tasks("sam") if t["issue_id"] == issue_id] == ["check"]

    for outsider in ("lee", "alice"):  # the process names neither logistics nor first-line agents
        refused = stack.get(f"/agent/tasks/{task['id']}", stack.token(outsider))
        assert refused.status_code == 404, outsider
    # HR decides the next step: hana sees the issue and its task, but only its holder completes it.
    assert stack.get(f"/agent/tasks/{task['id']}", stack.token("hana")).json_body["id"] == task["id"]
    not_hers = stack.post(f"/agent/tasks/{task['id']}/complete", {"fields": {"finding": "x"}}, stack.token("hana"))
    assert not_hers.status_code == 403
    assert stack.get(f"/agent/tasks/{issue_id}-nope", stack.token("sam")).status_code == 404
    assert stack.get(f"/agent/tasks/{task['id']}").status_code == 401


def test_an_internal_note_is_on_the_agents_timeline_but_not_on_the_customers_page(stack):
    opened = stack.open_issue("fast-test", {"summary": "Wants a call back"}, "note@example.com")
    issue_id = opened.json_body["id"]

    text = "@hana FYI, VIP customer (@lee)"
    added = stack.post(f"/agent/issues/{issue_id}/notes", {"text": text}, stack.token("sam"))
    assert added.status_code == 201 and added.json_body["data"]["mentions"] == ["hana"]
    assert added.json_body["mentions_who_cannot_see_it"] == ["lee"], "logistics has no part in this process"
    notes = [e for e in stack.issue(issue_id)["timeline"] if e["kind"] == "internal_note"]
    assert [(n["actor"], n["text"]) for n in notes] == [("sam", text)]
    reference = opened.json_body["reference"]
    [mention] = [m for m in sent_emails("hana@agents.caseflow.test") if reference in m["subject"]]
    assert mention["subject"] == f"sam mentioned you on {reference}" and "VIP customer" in mention["body"]
    assert not any("VIP" in m["body"] for m in sent_emails("note@example.com")), "the customer never reads a note"
    assert not any(reference in m["subject"] for m in sent_emails("lee@agents.caseflow.test"))
    refused = stack.post(f"/agent/issues/{issue_id}/notes", {"text": ""}, stack.token("sam"))
    assert refused.status_code == 400 and refused.json_body["errors"][0]["field"] == "text"
