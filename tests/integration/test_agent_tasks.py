"""The agents' API shows a task to its holder with everything the step asks, through HTTP on moto."""

from __future__ import annotations


def test_the_holder_reads_the_task_with_its_form_and_nobody_else_finds_it(stack):
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

    for outsider in ("lee", "hana"):
        refused = stack.get(f"/agent/tasks/{task['id']}", stack.token(outsider))
        assert refused.status_code == 404, outsider
    assert stack.get(f"/agent/tasks/{issue_id}-nope", stack.token("sam")).status_code == 404
    assert stack.get(f"/agent/tasks/{task['id']}").status_code == 401
