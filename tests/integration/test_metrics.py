"""Domain events emit their CloudWatch metrics (EMF lines on stdout, as Lambda ships them), once."""

from __future__ import annotations

import json
import re

from tests.integration.conftest import sent_emails


def emf(captured: str) -> list[dict]:
    """The EMF blobs printed so far, as (name, dimensions, value)."""
    found = []
    for line in captured.splitlines():
        if line.startswith('{"_aws"'):
            blob = json.loads(line)
            [directive] = blob["_aws"]["CloudWatchMetrics"]
            [metric] = directive["Metrics"]
            dimensions = {name: blob[name] for name in directive["Dimensions"][0]}
            found.append((metric["Name"], dimensions, blob[metric["Name"]][0]))
    return found


def test_an_issues_life_emits_each_metric_once(stack, capsys):
    fields = {"subject": "Opening hours", "message": "When do you open on Sunday?"}
    issue_id = stack.open_issue("general-enquiry", fields, "metrics@example.com").json_body["id"]
    task = stack.pump_until(lambda: stack.task_for("alice", issue_id, "answer"), what="the answer task")
    stack.post(
        f"/agent/tasks/{task['id']}/complete",
        {"fields": {"answer": "From 10:00.", "needs_follow_up": False}},
        stack.token("alice"),
    )
    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="resolution")
    survey = next(m for m in sent_emails("metrics@example.com") if m["subject"].startswith("How did we do"))
    csat_five = re.search(r"^\s+5: https?://[^/\s]+(/survey/\S+)$", survey["body"], re.MULTILINE).group(1)
    stack.client.http.get(csat_five)
    stack.client.http.get(csat_five)

    emitted = emf(capsys.readouterr().out)
    kind = {"Type": "general-enquiry"}
    assert emitted.count(("IssuesOpened", {**kind, "Channel": "web"}, 1.0)) == 1
    assert emitted.count(("TaskOpened", kind, 1.0)) == 1
    assert emitted.count(("TaskCompleted", {**kind, "Step": "answer"}, 1.0)) == 1
    assert emitted.count(("SlaMet", {**kind, "Step": "answer"}, 1.0)) == 1
    assert emitted.count(("Csat", kind, 100.0)) == 1, "a second click counted twice"
    [first_response] = [v for name, d, v in emitted if name == "FirstResponseSeconds" and d == kind]
    [resolution] = [v for name, d, v in emitted if name == "ResolutionSeconds" and d == kind]
    assert 0 <= first_response <= resolution
