"""One pass through every Chalice function, each with its own services as on AWS, for the permission check.

`tests/infra/test_permissions.py` checks every AWS call the session made against the role of the
function that made it. Most tests share one process's services among all functions, so what a
Lambda process reads once (the link secret, a queue's URL) is recorded only for the function that
read it first; here each function reads what it needs itself (the customer's status page, for
one, verifies its link with the API's own copy of the secret). The pass also takes the two paths
that failed on a real account: a task held by a named user (rude-staff at Leeds Briggate: sam,
looked up in Cognito) and an agent changing an issue's type (its execution stopped).
"""

from __future__ import annotations

from typing import Any

from chalicelib import bootstrap
from chalicelib.local.aws_calls import AwsCallRecorder, one_process_per_function
from tests.integration.test_access_by_role import rude_staff_with_a_photo


def tour(stack: Any) -> str:
    """Every function once at least, each on services of its own; the issue's id."""
    from app import app

    with one_process_per_function(AwsCallRecorder(app)):
        stack.client.lambda_.invoke("publish_issue_types", {})
        issue, task, _ = rude_staff_with_a_photo(stack, "every-function@example.com")
        shown = stack.get(f"/agent/tasks/{task['id']}", stack.token("sam"))
        assert shown.status_code == 200, shown.body
        link = bootstrap.services().status_links.link_for(issue["id"])
        status = stack.client.http.get(link[link.index("/s/") :])
        assert status.status_code == 200, "the customer's status page checks its link's signature"
        moved = stack.post(f"/agent/issues/{issue['id']}/type", {"type": "general-enquiry"}, stack.token("sue"))
        assert moved.status_code == 200 and moved.json_body["moved"] is True, moved.body
        stack.pump_until(lambda: stack.task_for("alice", issue["id"]), what="the new process's first task")
        queued = stack.post("/admin/classifier/training", {}, stack.token("ada"))
        assert queued.status_code == 202, queued.body
        scheduled = stack.client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
        stack.client.lambda_.invoke("hourly_ops", scheduled)
        stack.client.lambda_.invoke("nightly_retraining", scheduled)  # steps aside for the queued run: one training
        stack.run_jobs()
    return issue["id"]


def test_every_function_does_its_part_of_a_rude_staff_report_moved_to_another_type(stack):
    issue = stack.issue(tour(stack))
    assert issue["type"] == "general-enquiry"
    kinds = [event["kind"] for event in issue["timeline"]]
    assert "customer_message" in kinds and "type_changed" in kinds
