from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import tasks as rules
from chalicelib.domain.errors import Conflict

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SCHEDULE = (NOW + timedelta(hours=1), NOW + timedelta(hours=2), NOW + timedelta(hours=4))


def opened():
    return rules.open_task(
        None,
        issue_id="I",
        step="step",
        holder="role:store-manager",
        schedule=SCHEDULE,
        due_at=SCHEDULE[1],
        now=NOW,
    )


def reach(task, checkpoint, token, **changes):
    return rules.reach(task, checkpoint=checkpoint, token=token, **changes)


def test_opening_creates_the_task_once():
    first = opened()
    assert first.change == rules.OPENED and first.task.role == "store-manager" and first.task.token == ""
    again = rules.open_task(first.task, issue_id="I", step="step", holder="role:x", schedule=(), due_at=NOW, now=NOW)
    assert again.change == rules.UNCHANGED and again.task.holder == "role:store-manager"


def test_each_checkpoint_acts_once_and_an_escalation_reassigns():
    task = reach(opened().task, 0, "t0").task
    warned = reach(task, 1, "t1")
    assert warned.change == rules.REACHED and warned.task.checkpoint == 1
    escalated = reach(warned.task, 2, "t2", holder="role:regional-manager", level=1, breached=True, due_at=SCHEDULE[2])
    assert escalated.change == rules.REACHED
    assert (escalated.task.role, escalated.task.level, escalated.task.breached) == ("regional-manager", 1, True)
    assert escalated.task.due_at == SCHEDULE[2] and escalated.task.next_checkpoint_at == SCHEDULE[2]
    assert reach(escalated.task, 2, "t2").change == rules.UNCHANGED  # redelivered
    stale = reach(escalated.task, 1, "t-old")
    assert stale.change == rules.TOKEN_ONLY and stale.task.checkpoint == 2


def test_completion_waits_for_a_token_the_workflow_still_holds():
    task = reach(opened().task, 0, "t0").task
    done = rules.complete(task, fields={"a": 1}, by="sam", now=NOW)
    assert done.needs_delivery
    assert not rules.delivered(done, "t0").needs_delivery
    # The t0 timer fired before delivery: the next checkpoint's token must receive the completion,
    # and a completed task neither warns nor escalates.
    after_timeout = reach(rules.delivered(done, "t0"), 1, "t1", holder="role:regional-manager", level=1)
    assert after_timeout.change == rules.TOKEN_ONLY
    assert after_timeout.task.status == rules.COMPLETED and after_timeout.task.role == "store-manager"
    assert after_timeout.task.needs_delivery
    assert (after_timeout.task.fields, after_timeout.task.completed_by) == ({"a": 1}, "sam")


def test_a_completion_before_the_first_wait_is_delivered_to_its_token():
    done = rules.complete(opened().task, fields={}, by="sam", now=NOW)
    assert not done.needs_delivery  # no token yet
    assert reach(done, 0, "t0").task.needs_delivery


def test_a_task_is_completed_once_and_not_after_closing():
    task = opened().task
    done = rules.complete(task, fields={}, by="sam", now=NOW)
    with pytest.raises(Conflict):
        rules.complete(done, fields={}, by="rita", now=NOW)
    closed = rules.close(task, checkpoint=3, reason="moved on", now=NOW)
    assert closed.change == rules.REACHED and closed.task.status == rules.CLOSED
    with pytest.raises(Conflict, match="closed"):
        rules.complete(closed.task, fields={}, by="sam", now=NOW)
    assert rules.close(closed.task, checkpoint=3, reason="again", now=NOW).change == rules.UNCHANGED


def test_task_ids_carry_issue_and_step():
    assert rules.parse_task_id(rules.task_id_for("01ABC", "hr_decision")) == ("01ABC", "hr_decision")
