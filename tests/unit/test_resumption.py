"""Entering a workflow at a step: the compiled entry `Choice`s, the execution's input, and the
domain's rules for where an issue stands and whether it can move to another version."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.domain import resumption as rules
from chalicelib.domain.issue_types import parse_issue_type, with_shared_calendars
from chalicelib.domain.issues import Issue, TransitionRefused
from chalicelib.domain.tasks import CLOSED, COMPLETED, OPEN, Task
from chalicelib.workflows import compiler
from chalicelib.workflows.compiler import compile_issue_type, execution_input
from chalicelib.workflows.seeds import load_seed_definitions, load_shared_calendars

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/caseflow-tasks"
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def seed(type_id):
    definition = copy.deepcopy(next(d for d in load_seed_definitions() if d["id"] == type_id))
    return parse_issue_type(with_shared_calendars(definition, load_shared_calendars()))


def human(step_id, role="hr"):
    return {"id": step_id, "name": step_id, "role": role, "deadline": "PT1H", "fields": [{"id": "x", "type": "text"}]}


PARALLEL = parse_issue_type(
    {
        "id": "two-branches",
        "name": "Two branches",
        "fields": [],
        "steps": [
            human("start"),
            {
                "id": "together",
                "name": "Together",
                "kind": "parallel",
                "branches": [[human("a1"), human("a2")], [human("b1")]],
            },
            human("finish"),
        ],
    }
)


def task(step, status=OPEN, delivered=False):
    return Task(
        id=f"I-{step}",
        issue_id="I",
        step=step,
        status=status,
        holder="role:hr",
        due_at=NOW,
        token="t",
        delivered_token="t" if delivered else "",
        fields={"x": "answer"} if status == COMPLETED else None,
    )


# The compiled entry


def test_every_state_machine_starts_at_an_entry_choice_that_falls_through_to_the_acknowledgement():
    for definition in load_seed_definitions():
        issue_type = parse_issue_type(with_shared_calendars(definition, load_shared_calendars()))
        machine = compile_issue_type(issue_type, QUEUE)
        states = machine["States"]
        enter = states[machine["StartAt"]]
        assert enter == {
            "Type": "Choice",
            "Choices": [{"Variable": "$.resume_at", "IsPresent": True, "Next": "enter.step"}],
            "Default": "acknowledge",
        }
        targets = {c["StringEquals"]: c["Next"] for c in states["enter.step"]["Choices"]}
        assert set(targets) == {s.id for s in issue_type.steps} | {"resolve", ""}
        assert targets[""] == "acknowledge", "an empty resume_at is the start"
        assert all(target in states for target in targets.values())
        assert states[states["enter.step"]["Default"]]["Type"] == "Fail", "an unknown step never restarts the process"


def test_a_step_is_entered_through_its_when_so_that_the_answers_so_far_decide():
    states = compile_issue_type(seed("billing-dispute"), QUEUE)["States"]
    targets = {c["StringEquals"]: c["Next"] for c in states["enter.step"]["Choices"]}
    assert targets["billing_review"] == "billing_review"  # a timed step's open state: its timers are recomputed
    assert targets["finance_approval"] == "finance_approval.when"
    assert targets["resolve"] == "resolve"


def test_each_branch_of_a_parallel_step_is_entered_where_it_was():
    states = compile_issue_type(PARALLEL, QUEUE)["States"]
    first, second = states["together"]["Branches"]
    entry = first["States"][first["StartAt"]]
    assert entry["Choices"][0]["Variable"] == "$.resume_branches.together.b0"
    assert entry["Default"] == "a1"
    targets = {c["StringEquals"]: c["Next"] for c in first["States"][entry["Choices"][0]["Next"]]["Choices"]}
    assert targets == {"a1": "a1", "a2": "a2", "done": "together.b0.done", "": "a1"}
    assert second["States"][second["StartAt"]]["Default"] == "b1"


def test_the_input_carries_what_the_choices_read_and_where_to_enter():
    billing = seed("billing-dispute")
    payload = execution_input(
        billing,
        issue_id="I",
        version=3,
        fields={"invoice_number": "INV-000001"},
        segment="vip",
        answers={"billing_review": {"refund_amount": 250, "explanation": "long"}, "await_reply": {"reply": "no"}},
        resume_at="second_review",
    )
    assert payload == {
        "issue_id": "I",
        "type": "billing-dispute",
        "type_version": 3,
        "fields": {},
        "customer": {"segment": "vip"},
        "results": {
            "billing_review": {"fields": {"refund_amount": 250}},
            "await_reply": {"fields": {"reply": True}},
        },
        "resume_at": "second_review",
    }
    fresh = execution_input(billing, issue_id="I", version=1, fields={}, segment="")
    assert fresh["resume_at"] == "" and fresh["results"] == {} and "resume_branches" not in fresh
    from_start = execution_input(PARALLEL, issue_id="I", version=1, fields={}, segment="")
    assert from_start["resume_branches"] == {"together": {"b0": "", "b1": ""}}, "each branch from its start"


def test_a_parallel_steps_entry_names_each_branch():
    payload = execution_input(
        PARALLEL,
        issue_id="I",
        version=1,
        fields={},
        segment="",
        answers={"a1": {"x": "y"}},
        resume_at="together",
        branches={0: "a2", 1: rules.BRANCH_DONE},
    )
    assert payload["resume_branches"] == {"together": {"b0": "a2", "b1": "done"}}
    assert payload["parallel"] == {"together": {"b0": {"a1": {"fields": {}}}, "b1": {}}}


def test_the_domain_and_the_compiler_name_the_same_entries():
    assert rules.BRANCH_DONE == compiler.BRANCH_DONE
    assert rules.RESOLVE_ENTRY == compiler.RESOLVE_STATE


# Where an issue stands


def test_an_issue_is_entered_at_its_open_step_or_past_a_completion_the_workflow_received():
    rude = seed("rude-staff")
    assert rules.entry_point(rude, "", []) == rules.Entry()
    assert rules.entry_point(rude, "manager_opinion", [task("manager_opinion")]).step == "manager_opinion"
    undelivered = task("manager_opinion", COMPLETED)
    assert rules.entry_point(rude, "manager_opinion", [undelivered]).step == "manager_opinion"
    delivered = task("manager_opinion", COMPLETED, delivered=True)
    assert rules.entry_point(rude, "manager_opinion", [delivered]).step == "hr_decision"
    closed = task("manager_opinion", CLOSED)
    assert rules.entry_point(rude, "manager_opinion", [closed]).step == "manager_opinion"
    last = task("hr_decision", COMPLETED, delivered=True)
    assert rules.entry_point(rude, "hr_decision", [delivered, last]).step == "tell_customer"


def test_the_last_step_behind_leaves_only_the_resolution():
    general = seed("general-enquiry")
    last = general.steps[-1]
    entry = rules.entry_point(general, last.id, [task(last.id, COMPLETED, delivered=True)])
    assert entry.step == rules.RESOLVE_ENTRY


def test_each_branch_goes_on_from_where_it_was_and_a_finished_one_ends():
    tasks = [task("start", COMPLETED, True), task("a1", COMPLETED, True), task("a2"), task("b1", COMPLETED, True)]
    entry = rules.entry_point(PARALLEL, "a2", tasks)
    assert entry == rules.Entry("together", {0: "a2", 1: rules.BRANCH_DONE})
    not_started = rules.entry_point(PARALLEL, "b1", [task("b1")])
    assert not_started == rules.Entry("together", {1: "b1"}), "a branch with no task starts from its beginning"
    passed = [task("a1", COMPLETED, True), task("a2", COMPLETED, True), task("b1", COMPLETED, True)]
    assert rules.entry_point(PARALLEL, "b1", passed).step == "finish"
    moved_on = rules.entry_point(PARALLEL, "a1", [task("a1", COMPLETED, True)])
    assert moved_on.branches == {0: "a2"}


def test_the_answers_are_the_completed_tasks_fields():
    assert rules.answers([task("start", COMPLETED), task("a1"), task("a2", CLOSED)]) == {"start": {"x": "answer"}}


def test_a_resumed_execution_gets_a_new_name_every_time():
    arn = "arn:aws:states:us-east-1:1:execution:caseflow-x-v1:"
    assert rules.resumed_execution_name("I", arn + "I") == "I-r1"
    assert rules.resumed_execution_name("I", arn + "I-r1") == "I-r2"
    assert rules.resumed_execution_name("I-2", arn + "I-2") == "I-2-r1"
    assert rules.resumed_execution_name("I-2", arn + "I-2-r7") == "I-2-r8"
    assert rules.resumed_execution_name("I", "") == "I-r1"


# Moving to another version


def test_an_issue_moves_only_where_its_step_is_in_the_new_version():
    rude = seed("rude-staff")
    definition = copy.deepcopy(next(d for d in load_seed_definitions() if d["id"] == "rude-staff"))
    definition["steps"] = [s for s in definition["steps"] if s["id"] != "hr_decision"]
    for texts in definition["translations"].values():  # a translation of a step that is gone is refused
        del texts["steps"]["hr_decision"]
    without_hr = parse_issue_type(with_shared_calendars(definition, load_shared_calendars()))
    opinion = [task("manager_opinion")]
    assert rules.migration_refusal(rude, without_hr, "manager_opinion", opinion) is None
    hr = [task("manager_opinion", COMPLETED, True), task("hr_decision")]
    assert "hr_decision" in rules.migration_refusal(rude, without_hr, "hr_decision", hr)
    assert rules.migration_refusal(rude, without_hr, "", []) == "the process has not reached a step yet"


def test_an_issue_in_a_parallel_step_moves_when_each_branch_step_is_there():
    definition = {
        "id": "two-branches",
        "name": "Two branches",
        "fields": [],
        "steps": [
            human("start"),
            {"id": "together", "name": "T", "kind": "parallel", "branches": [[human("a1")], [human("b1")]]},
            human("finish"),
        ],
    }
    shorter = parse_issue_type(definition)
    tasks = [task("a1", COMPLETED, True), task("a2")]
    assert "a2" in rules.migration_refusal(PARALLEL, shorter, "a2", tasks)
    assert rules.migration_refusal(PARALLEL, shorter, "b1", [task("b1")]) is None


def test_a_move_happens_once():
    issue = Issue(
        id="I",
        reference="CF-1",
        type_id="t",
        type_version=1,
        status="open",
        channel="web",
        customer_id="C",
        fields={},
        created_at=NOW,
    )
    moved = rules.on_version(issue, 1, 2)
    assert moved.type_version == 2
    with pytest.raises(TransitionRefused, match="version 2, not 1"):
        rules.on_version(moved, 1, 2)
    with pytest.raises(TransitionRefused, match="resolved"):
        rules.on_version(replace(issue, status="resolved"), 1, 2)


def test_a_task_follows_its_steps_new_checkpoints_and_keeps_those_reached():
    later = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    reached = replace(task("a1"), checkpoint=3, schedule=(NOW, NOW, NOW))
    moved = rules.rescheduled(reached, (later, later), later, moves_on=False)
    assert (moved.schedule, moved.due_at, moved.checkpoint, moved.holder) == ((later, later), later, 2, "role:hr")


# The service, on fakes wired by the composition root


def test_resume_all_starts_a_lost_execution_at_its_step_once():
    from tests.unit.wiring import world

    w = world()
    w.directory.add("sam", "sam@caseflow.test", "agent", "store-manager")
    opened = w.services.intake.open_issue(
        {
            "type": "rude-staff",
            "customer": {"email": "lost@example.com"},
            "fields": {
                "store": "manchester-arndale",
                "incident_date": "2026-03-01",
                "what_happened": "Shouted at me twice.",
            },
        }
    ).issue
    w.workflow_says(opened.id, compiler.KIND_OPEN, step="manager_opinion")
    w.workflow_says(opened.id, compiler.KIND_WAIT, step="manager_opinion", checkpoint=0)
    machine = opened.execution_arn.replace(":execution:", ":stateMachine:").rsplit(":", 1)[0]
    w.engine.executions.clear()  # a restart: Step Functions no longer knows the executions

    report = w.services.resumption.resume_all()

    assert (report.resumed, report.open_tasks, report.failed) == (1, 1, 0)
    arn, name, payload = w.engine.starts[-1]
    assert (arn, name) == (machine, f"{opened.id}-r1")
    assert payload["resume_at"] == "manager_opinion" and payload["issue_id"] == opened.id
    issue = w.issues.get(opened.id)
    assert issue.execution_arn.endswith(f":{opened.id}-r1")
    assert [e.data["step"] for e in w.issues.timeline(opened.id) if e.kind == "workflow_resumed"] == ["manager_opinion"]
    # The new execution is running: a second call leaves it alone.
    assert w.services.resumption.resume_all().resumed == 0
    assert len([s for s in w.engine.starts if s[1].startswith(f"{opened.id}-r")]) == 1
