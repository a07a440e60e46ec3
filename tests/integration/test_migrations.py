"""Moving running issues to a new version of their type, at the step each stands on, exactly once."""

from __future__ import annotations

import copy

from chalicelib.adapters.dynamodb.issues import IssueRepository
from chalicelib.adapters.dynamodb.tasks import TaskRepository
from tests.integration.conftest import sent_emails

V1 = {
    "id": "migrating",
    "name": "A process that changes",
    "fields": [{"id": "summary", "type": "text", "required": True}],
    "steps": [
        {
            "id": "first_look",
            "name": "First look",
            "role": "store-manager",
            "deadline": "PT1H",
            "fields": [{"id": "finding", "type": "text", "required": True}],
        },
        {
            "id": "old_review",
            "name": "Old review",
            "role": "hr",
            "deadline": "PT1H",
            "fields": [{"id": "ok", "type": "yes_no", "required": True}],
        },
        {
            "id": "tell_customer",
            "kind": "email_customer",
            "subject": "Done {{ issue.reference }}",
            "body": "Finding: {{ results.first_look.finding }}",
        },
    ],
}


def version_2():
    """V1 without the old review, with a regional manager's look instead."""
    definition = copy.deepcopy(V1)
    definition["steps"][1] = {
        "id": "regional_look",
        "name": "Regional look",
        "role": "regional-manager",
        "deadline": "PT1H",
        "fields": [{"id": "note", "type": "text", "required": True}],
    }
    return definition


def migrate(stack, body, username="ada"):
    return stack.post("/admin/issue-types/migrating/migrations", body, stack.token(username))


def test_an_issue_moves_to_the_new_version_at_its_step_and_one_on_a_dropped_step_stays(stack):
    stack.services.issue_types.publish(V1)
    moving = stack.open_issue("migrating", {"summary": "Moves"}, "migrate-a@example.com").json_body
    staying = stack.open_issue("migrating", {"summary": "Stays"}, "migrate-b@example.com").json_body
    task = stack.wait_for_task("sam", moving["id"], "first_look")
    other = stack.wait_for_task("sam", staying["id"], "first_look")
    stack.complete("sam", other, {"finding": "Seen"})
    stack.wait_for_task("hana", staying["id"], "old_review")
    before = TaskRepository().get(moving["id"], "first_look")
    assert stack.services.issue_types.publish(version_2()).version == 2

    ids = [moving["id"], staying["id"]]
    answer = migrate(stack, {"from_version": 1, "to_version": 2, "issues": ids})

    assert answer.status_code == 200, answer.body
    assert answer.json_body["moved"] == [{"issue_id": moving["id"], "step": "first_look"}]
    [refused] = answer.json_body["refused"]
    assert refused["issue_id"] == staying["id"] and "old_review" in refused["reason"]
    issues = IssueRepository()
    assert issues.get(moving["id"]).type_version == 2 and issues.get(staying["id"]).type_version == 1
    [event] = [e for e in stack.issue(moving["id"])["timeline"] if e["kind"] == "migrated"]
    assert (event["data"]["from"], event["data"]["to"], event["data"]["step"]) == (1, 2, "first_look")

    again = migrate(stack, {"from_version": 1, "to_version": 2, "issues": ids})
    assert again.status_code == 200 and again.json_body["moved"] == []
    assert "version 2" in next(r["reason"] for r in again.json_body["refused"] if r["issue_id"] == moving["id"])
    assert [e["kind"] for e in stack.issue(moving["id"])["timeline"]].count("migrated") == 1

    # The task kept its holder and deadline; its completion goes to the new version's execution.
    after = stack.pump_until(
        lambda: (t := TaskRepository().get(moving["id"], "first_look")).token != before.token and t,
        what="the new execution's token",
    )
    assert (after.holder, after.due_at) == (before.holder, before.due_at)
    stack.complete("sam", task, {"finding": "Handled on v2"})
    regional = stack.wait_for_task("rita", moving["id"], "regional_look")
    stack.complete("rita", regional, {"note": "Fine"})
    stack.pump_until(lambda: stack.issue(moving["id"])["status"] == "resolved", what="the resolution")
    [done] = [m for m in sent_emails("migrate-a@example.com") if m["subject"] == f"Done {moving['reference']}"]
    assert "Handled on v2" in done["body"]
    execution = issues.get(moving["id"]).execution_arn
    assert ":migrating-v2:" in execution or "-migrating-v2:" in execution
    assert stack.sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"


def test_a_migration_names_what_is_wrong_and_is_for_admins(stack):
    bad = migrate(stack, {"from_version": "one", "to_version": 2, "issues": "all"})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json_body["errors"]} == {"from_version", "issues"}
    assert migrate(stack, {"from_version": 1, "to_version": 99}).status_code == 404
    assert (
        stack.post(
            "/admin/issue-types/nope/migrations", {"from_version": 1, "to_version": 2}, stack.token("ada")
        ).status_code
        == 404
    )
    assert migrate(stack, {"from_version": 1, "to_version": 2}, username="sam").status_code == 403
