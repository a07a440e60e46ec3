import copy

from chalicelib.domain.issue_types import parse_issue_type, with_shared_calendars
from chalicelib.workflows.compiler import (
    RESUME_AT,
    RESUME_BRANCHES,
    TASK_RESOURCE,
    compile_issue_type,
    state_machine_name,
    state_reads,
)
from chalicelib.workflows.seeds import load_seed_definitions, load_shared_calendars

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/caseflow-tasks"


def seed(type_id):
    return copy.deepcopy(next(d for d in load_seed_definitions() if d["id"] == type_id))


def parsed(definition):
    return parse_issue_type(with_shared_calendars(definition, load_shared_calendars()))


def compiled(definition):
    return compile_issue_type(parsed(definition), QUEUE)


def happy_path(states):
    """The states visited when every task is completed in time and every Choice takes its first rule."""
    chain, name = [], "acknowledge"
    while states[name]["Type"] != "Succeed":
        chain.append(name)
        state = states[name]
        name = state["Choices"][0]["Next"] if state["Type"] == "Choice" else state["Next"]
    return chain


def test_every_seed_compiles_and_its_states_all_lead_somewhere():
    for definition in load_seed_definitions():
        states = compiled(definition)["States"]
        for name, state in states.items():
            targets = [state.get("Next"), state.get("Default")]
            targets += [c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])]
            for target in filter(None, targets):
                assert target in states, f"{definition['id']}: {name} -> {target}"


def test_a_timed_step_opens_then_waits_once_per_checkpoint():
    states = compiled(seed("rude-staff"))["States"]
    assert happy_path(states) == [
        "acknowledge",
        "manager_opinion",
        "manager_opinion.wait_0",
        "hr_decision",
        "hr_decision.wait_0",
        "tell_customer",
        "resolve",
    ]
    opening = states["manager_opinion"]
    assert opening["Parameters"]["MessageBody"]["kind"] == "open"
    assert opening["ResultPath"] == "$.timers.manager_opinion"
    # open, warnings at 50 % and 80 %, the deadline (reassign), level 2 (notify): four timers.
    for index in range(4):
        wait = states[f"manager_opinion.wait_{index}"]
        assert wait["Resource"] == TASK_RESOURCE
        assert wait["Parameters"]["MessageBody"]["checkpoint"] == index
        assert wait["TimeoutSecondsPath"] == f"$.timers.manager_opinion.t{index}"
        assert wait["Catch"] == [
            {"ErrorEquals": ["States.Timeout"], "ResultPath": None, "Next": f"manager_opinion.wait_{index + 1}"}
        ]
        assert wait["Next"] == "hr_decision"
    last = states["manager_opinion.wait_4"]
    assert "TimeoutSecondsPath" not in last and "Catch" not in last


def test_an_escalation_branch_and_an_auto_close_move_the_process_on():
    states = compiled(seed("service-outage"))["States"]
    move_on = states["triage.move_on"]
    assert states["triage.wait_3"]["Catch"][0]["Next"] == "triage.move_on"
    assert move_on["Parameters"]["MessageBody"]["kind"] == "move_on" and move_on["Next"] == "customer_update"
    waiting = compiled(seed("general-enquiry"))["States"]
    assert waiting["await_reply.move_on"]["Next"] == "resolve"


def test_conditions_become_choices_that_skip_the_step():
    states = compiled(seed("billing-dispute"))["States"]
    choice = states["finance_approval.when"]
    assert choice["Default"] == "tell_customer"
    assert choice["Choices"][0]["And"] == [
        {"Variable": "$.results.billing_review.fields.refund_amount", "IsPresent": True},
        {"Variable": "$.results.billing_review.fields.refund_amount", "NumericGreaterThan": 100},
    ]
    engineering = compiled(seed("service-outage"))["States"]["engineering_fix.when"]["Choices"][0]
    assert engineering["Not"]["And"][1] == {"Variable": "$.results.triage.fields.severity", "StringEquals": "sev3"}


def test_a_parallel_step_runs_its_branches_and_keeps_their_results():
    state = compiled(seed("service-outage"))["States"]["incident_review"]
    assert state["Type"] == "Parallel" and len(state["Branches"]) == 2
    entries = [b["States"][b["StartAt"]] for b in state["Branches"]]
    assert [e["Default"] for e in entries] == ["legal_review", "comms_review"]
    assert state["ResultSelector"] == {"b0.$": "States.ArrayGetItem($, 0)", "b1.$": "States.ArrayGetItem($, 1)"}
    assert state["ResultPath"] == "$.parallel.incident_review"


def test_each_version_has_its_own_state_machine_name():
    assert state_machine_name("caseflow", "rude-staff", 3) == "caseflow-rude-staff-v3"


# What the execution's state carries

LONG = "x" * 20_000


def choice_variables(rule):
    """Every path a Choice rule (with its And / Or / Not) reads."""
    found = [rule["Variable"]] if "Variable" in rule else []
    for inner in rule.get("And", []) + rule.get("Or", []) + ([rule["Not"]] if "Not" in rule else []):
        found += choice_variables(inner)
    return found


def all_states(states):
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from all_states(branch["States"])


def test_the_state_carries_every_value_a_choice_reads():
    for definition in load_seed_definitions() + [BRANCHING]:
        reads = state_reads(parsed(definition))
        for _, state in all_states(compiled(definition)["States"]):
            for path in [v for rule in state.get("Choices", []) for v in choice_variables(rule)]:
                parts = path.split(".")
                if parts[1] == "fields":
                    assert parts[2] in reads.fields, path
                elif parts[1] == "customer":
                    assert parts[2] == "segment", path  # the input carries the segment
                elif parts[1] in (RESUME_AT, RESUME_BRANCHES):
                    continue  # where a resumed execution enters: in its input (execution_input)
                else:
                    step, field = parts[-3], parts[-1]
                    assert field in reads.results[step], path


def test_a_completed_task_hands_the_workflow_only_what_a_choice_reads():
    reads = state_reads(parsed(seed("billing-dispute")))
    review = {"finding": "upheld", "refund_amount": 250, "explanation": LONG}
    assert reads.task_output("billing_review", review) == {"fields": {"refund_amount": 250}}
    # The customer's reply is read only for whether there is one: it travels as `true`.
    assert reads.task_output("await_reply", {"reply": LONG}) == {"fields": {"reply": True}}
    # A step no Choice reads hands over nothing, and a missing answer stays missing.
    assert reads.task_output("second_review", {"outcome": LONG}) == {"fields": {}}
    assert reads.task_output("billing_review", {"finding": "not_upheld", "explanation": LONG}) == {"fields": {}}
    assert reads.issue_fields({"invoice_number": "INV-000001", "details": LONG}) == {}


BRANCHING = {
    "id": "branching",
    "name": "Branches on a field, the segment and an answer",
    "fields": [{"id": "amount", "type": "number"}, {"id": "story", "type": "long_text"}],
    "steps": [
        {"id": "review", "role": "hr", "deadline": "PT1H", "fields": [{"id": "ok", "type": "yes_no"}]},
        {"id": "approve", "role": "finance", "deadline": "PT1H", "when": {"field": "amount", "greater_than": 100}},
        {"id": "noted", "role": "agent", "deadline": "PT1H", "when": {"field": "story", "is_set": True}},
        {"id": "vip", "role": "agent", "deadline": "PT1H", "when": {"customer": "segment", "equals": "vip"}},
        {"id": "refused", "kind": "resolve", "when": {"result": "review.ok", "equals": False}},
    ],
}


def test_the_execution_input_carries_the_issue_fields_a_choice_reads():
    reads = state_reads(parsed(BRANCHING))
    assert reads.issue_fields({"amount": 500, "story": LONG}) == {"amount": 500, "story": True}
    assert reads.issue_fields({}) == {}
    assert reads.task_output("review", {"ok": False}) == {"fields": {"ok": False}}
