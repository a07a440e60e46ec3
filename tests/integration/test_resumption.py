"""Running processes resume: after a restart loses the executions, each open issue goes on at its step.

A restart is simulated by stopping the issue's execution (moto's StopExecution), as a restarted
embedded stack finds no execution running; `resume_all` then starts a new one entered at the step.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from chalicelib.adapters.dynamodb.issues import IssueRepository
from chalicelib.adapters.dynamodb.tasks import TaskRepository
from chalicelib.services.workflow.checkpoints import SWEEP_GRACE
from tests.integration.conftest import sent_emails

#: A 24/7 step whose first warning falls three seconds after it opens, its deadline much later.
WARNED_TYPE = {
    "id": "resume-warned",
    "name": "A warning during the downtime",
    "fields": [{"id": "summary", "type": "text", "required": True}],
    "steps": [
        {
            "id": "look",
            "name": "Look",
            "role": "store-manager",
            "deadline": "PT40S",
            "warnings": [8],
            "fields": [{"id": "finding", "type": "text", "required": True}],
        }
    ],
}


@pytest.fixture(scope="module")
def warned(stack):
    stack.services.issue_types.publish(WARNED_TYPE)
    return WARNED_TYPE["id"]


def restart(stack, *issue_ids):
    """What a restart does to the issues' workflows: the queue is left as it was, the executions
    are gone. Then the stack resumes the running processes."""
    stack.drain()
    issues = IssueRepository()
    for issue_id in issue_ids:
        stop(stack, issues.get(issue_id).execution_arn)
    return stack.services.resumption.resume_all()


def stop(stack, execution_arn):
    """End an execution as a restart does: its interpreter stops (StopExecution), and the restarted
    Step Functions no longer knows it. (moto reports a stopped execution RUNNING until its
    interpreter thread notices, which a wait for a task token does not.)"""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.stepfunctions.responses import get_backend

    from harness.environment import REGION

    stack.sfn.stop_execution(executionArn=execution_arn, cause="the stack stopped")
    backend = get_backend(DEFAULT_ACCOUNT_ID, REGION)
    machine = backend._get_state_machine_for_execution(execution_arn)
    machine.executions = [e for e in machine.executions if e.execution_arn != execution_arn]


def execution_of(issue_id):
    return IssueRepository().get(issue_id).execution_arn


def kinds(stack, issue_id):
    return [e["kind"] for e in stack.issue(issue_id)["timeline"]]


def resolved(stack, issue_id):
    return stack.issue(issue_id)["status"] == "resolved"


def test_a_claimed_task_keeps_its_holder_and_deadlines_and_the_process_goes_on(stack):
    fields = {
        "store": "manchester-arndale",
        "incident_date": "2026-01-10",
        "what_happened": "The cashier shouted at me in front of everyone.",
    }
    opened = stack.open_issue("rude-staff", fields, "resume-rude@example.com", name="Rhoda")
    assert opened.status_code == 201, opened.body
    issue_id = opened.json_body["id"]
    task = stack.wait_for_task("sam", issue_id, "manager_opinion")
    claimed = stack.post(f"/agent/tasks/{task['id']}/claim", None, stack.token("sam"))
    assert claimed.status_code == 200, claimed.body
    before = TaskRepository().get(issue_id, "manager_opinion")
    first_execution = execution_of(issue_id)

    report = restart(stack, issue_id)

    assert report.resumed >= 1 and report.open_tasks >= 1 and report.failed == 0
    assert execution_of(issue_id) == f"{first_execution}-r1"
    # The new execution's waits take over the task: its token changes, nothing else does.
    after = stack.pump_until(
        lambda: (t := TaskRepository().get(issue_id, "manager_opinion")).token != before.token and t,
        what="the new execution's token",
    )
    assert (after.holder, after.claimed_from, after.opened_at) == (before.holder, before.claimed_from, before.opened_at)
    assert (after.due_at, after.schedule, after.checkpoint) == (before.due_at, before.schedule, before.checkpoint)
    timeline = stack.issue(issue_id)["timeline"]
    [resumed] = [e for e in timeline if e["kind"] == "workflow_resumed"]
    assert resumed["data"]["step"] == "manager_opinion"
    assert kinds(stack, issue_id).count("task_opened") == 1, "the task is not opened (nor announced) again"
    stack.services.resumption.resume_all()
    assert execution_of(issue_id) == f"{first_execution}-r1", "a running execution is left alone"

    stack.complete("sam", task, {"manager_opinion": "I was there; it was loud but not rude."})
    decision = stack.wait_for_task("hana", issue_id, "hr_decision")
    stack.complete("hana", decision, {"decision": "apology", "notes": "The employee will apologise."})
    stack.pump_until(lambda: resolved(stack, issue_id), what="the resolution")

    reference = opened.json_body["reference"]
    subjects = [m["subject"] for m in sent_emails("resume-rude@example.com") if reference in m["subject"]]
    assert f"Your report {reference}: our decision" in subjects
    [outcome] = [m for m in sent_emails("resume-rude@example.com") if m["subject"].endswith("our decision")]
    assert "Formal apology" in outcome["body"] and "The employee will apologise." in outcome["body"]
    assert stack.sfn.describe_execution(executionArn=execution_of(issue_id))["status"] == "SUCCEEDED"


def test_a_dispute_waiting_for_the_customer_still_takes_their_reply(stack):
    fields = {"invoice_number": "INV-123456", "amount_disputed": 40, "reason": "double_charge"}
    opened = stack.open_issue("billing-dispute", fields, "resume-billing@example.com", name="Bo")
    assert opened.status_code == 201, opened.body
    issue_id = opened.json_body["id"]
    review = stack.wait_for_task("bella", issue_id, "billing_review")
    stack.complete("bella", review, {"finding": "not_upheld", "refund_amount": 0, "explanation": "Charged once."})
    stack.pump_until(
        lambda: (t := TaskRepository().get(issue_id, "await_reply")) and t.token, what="the wait for the customer"
    )

    report = restart(stack, issue_id)

    assert report.failed == 0 and execution_of(issue_id).endswith("-r1")
    [resumed] = [e for e in stack.issue(issue_id)["timeline"] if e["kind"] == "workflow_resumed"]
    assert resumed["data"]["step"] == "await_reply"
    stack.drain()
    replied = stack.post(
        f"/agent/issues/{issue_id}/customer-messages",
        {"text": "I still see two charges on my statement.", "channel": "phone"},
        stack.token("bella"),
    )
    assert replied.status_code in (200, 201), replied.body
    second = stack.wait_for_task("fiona", issue_id, "second_review")
    stack.complete("fiona", second, {"outcome": "We found the second charge and refund it."})
    stack.pump_until(lambda: resolved(stack, issue_id), what="the resolution")
    reference = opened.json_body["reference"]
    subjects = [m["subject"] for m in sent_emails("resume-billing@example.com")]
    assert f"Invoice INV-123456 ({reference}): our finding" in subjects
    assert f"Invoice INV-123456 ({reference}): second review" in subjects
    assert kinds(stack, issue_id).count("waiting_for_customer") == 1


def test_a_warning_that_fell_due_while_the_stack_was_down_fires_once(stack, warned):
    opened = stack.open_issue(warned, {"summary": "Nobody came"}, "resume-warned@example.com")
    issue_id = opened.json_body["id"]
    stack.wait_for_task("sam", issue_id, "look")
    stack.drain()
    execution = execution_of(issue_id)
    stop(stack, execution)
    task = TaskRepository().get(issue_id, "look")
    warning_at = task.schedule[0]
    time.sleep(max(0.0, (warning_at - datetime.now(UTC)).total_seconds()) + 0.5)
    assert "sla_warning" not in kinds(stack, issue_id), "nothing fired while the stack was down"

    report = stack.services.resumption.resume_all()

    assert report.failed == 0 and execution_of(issue_id).endswith("-r1")
    stack.pump_until(lambda: "sla_warning" in kinds(stack, issue_id), timeout=10, what="the warning")
    # The SLA sweep, past its grace, finds the warning reached and does nothing more.
    swept = stack.services.checkpoints.reconcile_due(datetime.now(UTC) + SWEEP_GRACE)
    assert swept["failed"] == 0
    stack.drain()
    assert kinds(stack, issue_id).count("sla_warning") == 1
    assert "sla_swept" not in kinds(stack, issue_id)
    reminders = [m for m in sent_emails("sam@agents.caseflow.test") if m["subject"].startswith("Reminder")]
    assert len([m for m in reminders if opened.json_body["reference"] in m["subject"]]) == 1
    assert TaskRepository().get(issue_id, "look").checkpoint == 1


def human(step_id, role):
    return {"id": step_id, "name": step_id, "role": role, "deadline": "PT1H", "fields": [{"id": "x", "type": "text"}]}


#: A parallel step whose first branch has two steps, the second one.
PARALLEL_TYPE = {
    "id": "resume-parallel",
    "name": "Branches that resume where they were",
    "fields": [{"id": "summary", "type": "text", "required": True}],
    "steps": [
        human("start", "store-manager"),
        {
            "id": "together",
            "name": "Together",
            "kind": "parallel",
            "branches": [[human("a1", "hr"), human("a2", "regional-manager")], [human("b1", "hr-lead")]],
        },
        {
            "id": "tell_customer",
            "kind": "email_customer",
            "subject": "Branches done {{ issue.reference }}",
            "body": "{{ results.a2.x }} / {{ results.b1.x }}",
        },
    ],
}


def test_a_parallel_step_resumes_each_branch_where_it_was(stack):
    stack.services.issue_types.publish(PARALLEL_TYPE)
    opened = stack.open_issue("resume-parallel", {"summary": "Both"}, "resume-parallel@example.com")
    issue_id = opened.json_body["id"]
    stack.complete("sam", stack.wait_for_task("sam", issue_id, "start"), {"x": "started"})
    stack.complete("hana", stack.wait_for_task("hana", issue_id, "a1"), {"x": "a1 done"})
    a2 = stack.wait_for_task("rita", issue_id, "a2")
    b1 = stack.wait_for_task("harry", issue_id, "b1")

    report = restart(stack, issue_id)

    assert report.failed == 0
    [resumed] = [e for e in stack.issue(issue_id)["timeline"] if e["kind"] == "workflow_resumed"]
    assert resumed["data"]["step"] == "together" and resumed["data"]["branches"] == {"1": "a2", "2": "b1"}
    stack.complete("harry", b1, {"x": "b1 done"})
    stack.complete("rita", a2, {"x": "a2 done"})
    stack.pump_until(lambda: resolved(stack, issue_id), what="the resolution")
    opened_steps = [e["data"].get("step") for e in stack.issue(issue_id)["timeline"] if e["kind"] == "task_opened"]
    assert sorted(opened_steps) == ["a1", "a2", "b1", "start"], "no step ran twice"
    [done] = [m for m in sent_emails("resume-parallel@example.com") if m["subject"].startswith("Branches done")]
    assert "a2 done / b1 done" in done["body"]
