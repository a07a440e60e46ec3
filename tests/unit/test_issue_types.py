import copy
from datetime import timedelta

import pytest

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.issue_types import parse_issue_type
from chalicelib.workflows.seeds import load_seed_definitions


def seed(type_id):
    return copy.deepcopy(next(d for d in load_seed_definitions() if d["id"] == type_id))


def problems(definition):
    with pytest.raises(ValidationFailed) as caught:
        parse_issue_type(definition)
    return {e.field: e.message for e in caught.value.errors}


def test_every_seed_is_a_valid_issue_type():
    ids = {parse_issue_type(d).id for d in load_seed_definitions()}
    assert {"rude-staff", "late-delivery", "demo-quick"} <= ids


def test_rude_staff_matches_the_brief():
    rude = parse_issue_type(seed("rude-staff"))
    assert [f.id for f in rude.fields if f.required] == ["store", "incident_date", "what_happened"]
    opinion, decision, _ = rude.steps
    assert [(a.role, a.deadline) for a in opinion.levels][0] == ("store-manager", timedelta(hours=5))
    assert opinion.levels[1].role == "regional-manager"
    assert [o.value for o in decision.fields[0].options] == ["no_action", "apology", "coaching", "disciplinary"]
    assert decision.levels[1].role == "hr-lead"


def test_problems_are_reported_with_their_path():
    broken = seed("rude-staff")
    broken["steps"][1]["escalation"][0]["deadline"] = "tomorrow"
    broken["steps"][0]["role"] = "Store Manager"
    broken["steps"][2]["body"] = "{% if %}"
    broken["fields"][0]["type"] = "colour"
    found = problems(broken)
    assert found["steps[1].escalation[0].deadline"].startswith("not an ISO-8601 duration")
    assert "steps[0].role" in found
    assert found["steps[2].body"].startswith("template error")
    assert "fields[0].type" in found


def test_step_ids_must_be_unique_and_not_reserved():
    broken = seed("demo-quick")
    broken["steps"][1]["id"] = "first_look"
    broken["steps"][0]["id"] = "resolve"
    found = problems(broken)
    assert "is reserved" in found["steps[0].id"]
    broken = seed("demo-quick")
    broken["steps"][1]["id"] = "first_look"
    assert problems(broken) == {"steps[1].id": "duplicate step id 'first_look'"}


def test_a_type_needs_steps_and_a_name():
    assert problems({"id": "x-y"}) == {"name": "is required", "steps": "must be a non-empty list"}
