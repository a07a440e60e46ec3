"""Deadlines are Step Functions timers: when one passes, the task moves up its escalation ladder."""

from tests.integration.conftest import sent_emails


def test_a_missed_deadline_reassigns_the_task_and_then_records_the_breach(stack):
    opened = stack.open_issue("fast-test", {"summary": "Nobody answers"}, "waiting@example.com")
    assert opened.status_code == 201, opened.body
    issue_id = opened.json_body["id"]

    first = stack.pump_until(lambda: stack.task_for("sam", issue_id), what="the first task")
    escalated = stack.pump_until(lambda: stack.task_for("rita", issue_id), timeout=10, what="the escalation")
    assert escalated["id"] == first["id"]
    assert escalated["role"] == "regional-manager" and escalated["escalation_level"] == 1
    assert escalated["due_at"] > first["due_at"]
    assert stack.task_for("sam", issue_id) is None
    assert any("Escalated to you" in m["subject"] for m in sent_emails("rita@agents.caseflow.test"))

    forbidden = stack.post(f"/agent/tasks/{first['id']}/complete", {"fields": {"finding": "x"}}, stack.token("sam"))
    assert forbidden.status_code == 403

    stack.pump_until(
        lambda: any(e["kind"] == "deadline_breached" for e in stack.issue(issue_id)["timeline"]),
        timeout=10,
        what="the breach",
    )
    breached = stack.task_for("rita", issue_id)
    assert breached["breached"] is True and breached["role"] == "regional-manager"

    done = stack.post(f"/agent/tasks/{first['id']}/complete", {"fields": {"finding": "Late"}}, stack.token("rita"))
    assert done.status_code == 200, done.body
    stack.pump_until(lambda: stack.task_for("hana", issue_id), what="the next step")
    timeline = stack.issue(issue_id)["timeline"]
    escalation = next(e for e in timeline if e["kind"] == "escalated")
    assert "regional-manager" in escalation["text"]


def test_a_completion_racing_the_timer_is_not_lost(stack):
    """The agent answers after the deadline fired but before the escalation reached us."""
    opened = stack.open_issue("fast-test", {"summary": "Race"}, "race@example.com")
    issue_id = opened.json_body["id"]
    task = stack.pump_until(lambda: stack.task_for("sam", issue_id), what="the first task")

    # Wait for the workflow to time the task out, without handling the escalation message.
    def escalation_waiting():
        attributes = stack.sqs.get_queue_attributes(
            QueueUrl=stack.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) > 0

    import time

    deadline = time.monotonic() + 10
    while not escalation_waiting():
        assert time.monotonic() < deadline, "the deadline never fired"
        time.sleep(0.05)

    late = stack.post(
        f"/agent/tasks/{task['id']}/complete", {"fields": {"finding": "Just in time"}}, stack.token("sam")
    )
    assert late.status_code == 200, late.body

    hr_task = stack.pump_until(lambda: stack.task_for("hana", issue_id), what="the workflow to move on")
    assert hr_task["step"] == "decide"
    assert stack.task_for("rita", issue_id) is None
    check = next(t for t in stack.issue(issue_id)["tasks"] if t["step"] == "check")
    assert check["fields"] == {"finding": "Just in time"} and check["completed_by"] == "sam"
