from chalicelib.domain.issue_types import parse_issue_type
from chalicelib.workflows.compiler import (
    TASK_RESOURCE,
    compile_issue_type,
    deadline_inputs,
    state_machine_name,
)
from chalicelib.workflows.seeds import load_seed_definitions

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/caseflow-tasks"


def rude_staff():
    return parse_issue_type(next(d for d in load_seed_definitions() if d["id"] == "rude-staff"))


def test_states_run_acknowledge_steps_and_resolve_in_order():
    asl = compile_issue_type(rude_staff(), QUEUE)
    states = asl["States"]
    assert asl["StartAt"] == "acknowledge"
    chain, name = [], "acknowledge"
    while states[name]["Type"] != "Succeed":
        chain.append(name)
        name = states[name]["Next"]
    assert chain == ["acknowledge", "manager_opinion", "hr_decision", "tell_customer", "resolve"]
    assert all(states[n]["Resource"] == TASK_RESOURCE for n in chain)


def test_a_deadline_is_a_timer_whose_timeout_escalates_then_breaches():
    states = compile_issue_type(rude_staff(), QUEUE)["States"]
    first = states["manager_opinion"]
    assert first["TimeoutSecondsPath"] == "$.deadlines.manager_opinion.L0"
    assert first["Catch"][0]["ErrorEquals"] == ["States.Timeout"]
    escalated = states[first["Catch"][0]["Next"]]
    assert escalated["Parameters"]["MessageBody"]["level"] == 1
    assert escalated["TimeoutSecondsPath"] == "$.deadlines.manager_opinion.L1"
    breached = states[escalated["Catch"][0]["Next"]]
    assert breached["Parameters"]["MessageBody"]["breached"] is True
    assert "TimeoutSecondsPath" not in breached and "Catch" not in breached
    assert first["Next"] == escalated["Next"] == breached["Next"] == "hr_decision"
    assert first["Parameters"]["MessageBody"]["token.$"] == "$$.Task.Token"
    assert first["Parameters"]["QueueUrl"] == QUEUE


def test_deadline_inputs_are_seconds_per_level():
    assert deadline_inputs(rude_staff()) == {
        "manager_opinion": {"L0": 5 * 3600, "L1": 4 * 3600},
        "hr_decision": {"L0": 24 * 3600, "L1": 8 * 3600},
    }


def test_each_version_has_its_own_state_machine_name():
    assert state_machine_name("caseflow", "rude-staff", 3) == "caseflow-rude-staff-v3"
