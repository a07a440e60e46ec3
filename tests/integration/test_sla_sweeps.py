"""The hourly SLA sweep on moto: it catches up on checkpoints whose timers have not been handled, once.

The sweep is called with a `now` past the task's checkpoints while the real timers are still far
away, as if their messages had been lost. It sweeps every due task of the shared stack, so the
assertions look at this module's own issues.
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.tasks import TaskRepository
from chalicelib.services.workflow.checkpoints import SWEEP_GRACE
from tests.integration.conftest import sent_emails

WATCHED = ("sla_swept", "sla_warning", "deadline_breached", "escalated", "priority_raised", "assignees_notified")
#: What catching up on the warning and the deadline with its first level adds: two `sla_swept`, one of each other.
CAUGHT_UP = ("sla_swept", "sla_warning", "deadline_breached", "escalated")


def sweep(now):
    return bootstrap.services().checkpoints.reconcile_due(now)


def stored(issue_id, step):
    return TaskRepository().get(issue_id, step)


def watched(stack, issue_id):
    """How many of each SLA event the issue's timeline has."""
    kinds = [e["kind"] for e in stack.issue(issue_id)["timeline"]]
    return {kind: kinds.count(kind) for kind in WATCHED}


def open_with_token(stack, type_id, fields, email, username, step):
    """Open an issue and wait until its first task is stored with the token the workflow waits on."""
    opened = stack.open_issue(type_id, fields, email)
    assert opened.status_code == 201, opened.body
    issue_id = opened.json_body["id"]
    stack.pump_until(lambda: stack.task_for(username, issue_id), what=f"{username}'s task")
    task = stack.pump_until(lambda: (t := stored(issue_id, step)) and t.token and t, what="the workflow's token")
    return opened.json_body, task


def complete(stack, username, task_id, fields):
    response = stack.post(f"/agent/tasks/{task_id}/complete", {"fields": fields}, stack.token(username))
    assert response.status_code == 200, response.body


def test_the_sweep_warns_breaches_and_escalates_once_and_the_workflow_still_resumes(stack):
    issue, task = open_with_token(
        stack,
        "late-delivery",
        {"order_number": "SW123456", "promised_date": "2026-11-01"},
        "swept@example.com",
        "lee",
        "courier_check",
    )
    issue_id, reference = issue["id"], issue["reference"]
    assert task.id in {t.id for t in TaskRepository().due(task.schedule[0])}
    # Checkpoint 1 is the 50% warning, 2 the deadline with level 1 (reassign), 3 level 2 (two hours on).
    now = task.schedule[1] + SWEEP_GRACE + timedelta(minutes=1)
    assert now < task.schedule[2]

    counts = sweep(now)
    assert counts["examined"] >= 1 and counts["failed"] == 0
    assert counts["warnings"] >= 1 and counts["breaches"] >= 1 and counts["escalations"] >= 1
    events = watched(stack, issue_id)
    assert [events[kind] for kind in CAUGHT_UP] == [2, 1, 1, 1]
    swept = [e for e in stack.issue(issue_id)["timeline"] if e["kind"] == "sla_swept"]
    assert all(e["actor"] == "sla_sweep" and e["data"]["by"] == "sla_sweep" for e in swept)
    escalated = stack.task_for("lena", issue_id)
    assert escalated["role"] == "logistics-lead" and escalated["escalation_level"] == 1 and escalated["breached"]
    assert stack.task_for("lee", issue_id) is None
    to_lena = [m for m in sent_emails("lena@agents.caseflow.test") if reference in m["subject"]]
    assert [m["subject"].split(" CF-")[0] for m in to_lena] == ["Escalated to you"]
    after = stored(issue_id, "courier_check")
    assert after.token == task.token and after.checkpoint == 2  # the workflow still waits on its token

    again = sweep(now)
    assert (again["warnings"], again["breaches"], again["escalations"], again["reminders"]) == (0, 0, 0, 0)
    assert watched(stack, issue_id) == events
    assert len([m for m in sent_emails("lena@agents.caseflow.test") if reference in m["subject"]]) == 1

    complete(stack, "lena", task.id, {"new_delivery_date": "2026-12-01", "compensation": "voucher"})
    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="the workflow to move on")
    assert any("new delivery date" in m["subject"] for m in sent_emails("swept@example.com"))
    assert task.id not in {t.id for t in TaskRepository().due(now + timedelta(days=30))}


QUICK_WARNING = {
    "id": "sweep-test",
    "name": "A warning timer that fires in seconds, a deadline minutes away",
    "fields": [{"id": "summary", "type": "text", "required": True}],
    "steps": [
        {
            # Checkpoints: 1 the 1% warning (6 s), 2 the deadline with level 1, 3 level 2 moves on.
            "id": "look",
            "name": "Look into it",
            "role": "store-manager",
            "deadline": "PT10M",
            "warnings": [1],
            "fields": [{"id": "finding", "type": "text"}],
            "escalation": [{"after": "PT0S", "reassign": "regional-manager"}, {"after": "PT1M", "branch": "resolve"}],
        }
    ],
}


def test_a_late_timer_only_refreshes_the_token_and_a_move_on_is_left_to_the_workflow(stack):
    response = stack.put("/admin/issue-types/sweep-test", QUICK_WARNING, stack.token("ada"))
    assert response.status_code in (200, 201), response.body
    issue, task = open_with_token(
        stack, "sweep-test", {"summary": "Lost timers"}, "late-timer@example.com", "sam", "look"
    )
    issue_id = issue["id"]
    assert task.moves_on and task.checkpoint == 0

    counts = sweep(task.schedule[-1] + SWEEP_GRACE + timedelta(seconds=1))
    assert counts["left_to_workflow"] >= 1 and counts["failed"] == 0
    events = watched(stack, issue_id)
    assert [events[kind] for kind in CAUGHT_UP] == [2, 1, 1, 1]
    swept = stored(issue_id, "look")
    assert (swept.checkpoint, swept.level, swept.holder, swept.token) == (2, 1, "role:regional-manager", task.token)
    assert swept.id not in {t.id for t in TaskRepository().due(task.schedule[-1] + timedelta(days=1))}

    # The warning's real timer fires now: its message finds the checkpoint reached and brings a new token.
    refreshed = stack.pump_until(
        lambda: (t := stored(issue_id, "look")).token != task.token and t, timeout=20, what="the warning's timer"
    )
    assert (refreshed.checkpoint, refreshed.level, refreshed.holder) == (2, 1, "role:regional-manager")
    assert watched(stack, issue_id) == events

    complete(stack, "rita", task.id, {"finding": "Found it"})
    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="the workflow to resume")
    assert stack.execution_status(issue_id) == "SUCCEEDED"
    assert stored(issue_id, "look").completed_by == "rita"


def test_a_task_completed_before_the_sweep_is_left_alone_and_leaves_the_due_index(stack):
    issue, task = open_with_token(
        stack,
        "late-delivery",
        {"order_number": "SW654321", "promised_date": "2026-11-02"},
        "answered@example.com",
        "lee",
        "courier_check",
    )
    issue_id = issue["id"]
    later = task.schedule[-1] + timedelta(days=1)
    assert task.id in {t.id for t in TaskRepository().due(later)}
    complete(stack, "lee", task.id, {"new_delivery_date": "2026-12-02", "compensation": "none"})
    assert task.id not in {t.id for t in TaskRepository().due(later)}

    sweep(task.schedule[1] + SWEEP_GRACE + timedelta(minutes=1))
    assert watched(stack, issue_id)["sla_swept"] == 0 and watched(stack, issue_id)["escalated"] == 0
    done = stored(issue_id, "courier_check")
    assert (done.status, done.holder, done.checkpoint) == ("completed", "role:logistics", 0)
    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="the workflow to move on")
