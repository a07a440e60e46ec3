from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import tasks as rules
from chalicelib.domain.errors import Conflict

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def assign(current, level, token, role="store-manager", breached=False):
    return rules.assign(
        current,
        task_id="I-step",
        issue_id="I",
        step="step",
        level=level,
        role=role,
        due_at=NOW + timedelta(hours=level + 1),
        token=token,
        now=NOW,
        breached=breached,
    )


def test_first_message_opens_the_task_and_escalation_reassigns_it():
    opened = assign(None, 0, "t0")
    assert opened.change == rules.OPENED and opened.task.role == "store-manager"
    escalated = assign(opened.task, 1, "t1", role="regional-manager")
    assert escalated.change == rules.ESCALATED
    assert (escalated.task.role, escalated.task.level, escalated.task.token) == ("regional-manager", 1, "t1")
    assert escalated.task.due_at == NOW + timedelta(hours=2)


def test_redelivered_or_late_messages_change_nothing():
    task = assign(assign(None, 0, "t0").task, 1, "t1", role="regional-manager").task
    assert assign(task, 1, "t1", role="regional-manager").change == rules.UNCHANGED
    assert assign(task, 0, "t0").change == rules.UNCHANGED


def test_breach_keeps_the_holder_and_its_due_time():
    task = assign(None, 0, "t0").task
    breached = assign(task, 1, "t1", role="ignored", breached=True)
    assert breached.change == rules.BREACHED
    assert (breached.task.role, breached.task.due_at, breached.task.breached) == (task.role, task.due_at, True)


def test_completion_waits_for_a_token_the_workflow_still_holds():
    task = assign(None, 0, "t0").task
    done = rules.complete(task, fields={"a": 1}, by="sam", now=NOW)
    assert done.needs_delivery
    assert not rules.delivered(done, "t0").needs_delivery
    # The t0 timer fired before delivery: the next level's token must receive the completion.
    after_timeout = assign(rules.delivered(done, "t0"), 1, "t1", role="regional-manager")
    assert after_timeout.change == rules.UNCHANGED
    assert after_timeout.task.status == rules.COMPLETED and after_timeout.task.role == "store-manager"
    assert after_timeout.task.needs_delivery
    assert after_timeout.task.completion_output() == {"fields": {"a": 1}, "completed_by": "sam"}


def test_a_task_is_completed_once():
    done = rules.complete(assign(None, 0, "t0").task, fields={}, by="sam", now=NOW)
    with pytest.raises(Conflict):
        rules.complete(done, fields={}, by="rita", now=NOW)


def test_task_ids_carry_issue_and_step():
    assert rules.parse_task_id(rules.task_id_for("01ABC", "hr_decision")) == ("01ABC", "hr_decision")
