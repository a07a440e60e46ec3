import copy
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import deadlines
from chalicelib.domain.assignees import Holder
from chalicelib.domain.calendars import ALWAYS
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.issue_types import parse_issue_type, with_shared_calendars
from chalicelib.workflows.seeds import load_seed_definitions, load_shared_calendars

SEEDS = ("rude-staff", "late-delivery", "damaged-product", "billing-dispute", "service-outage", "general-enquiry")


def seed(type_id):
    definition = next(d for d in load_seed_definitions() if d["id"] == type_id)
    return copy.deepcopy(with_shared_calendars(definition, load_shared_calendars()))


def problems(definition):
    with pytest.raises(ValidationFailed) as caught:
        parse_issue_type(definition)
    return {e.field: e.message for e in caught.value.errors}


def test_every_seed_is_a_valid_issue_type():
    ids = {parse_issue_type(seed(d["id"])).id for d in load_seed_definitions()}
    assert {*SEEDS, "demo-quick"} <= ids


def test_rude_staff_matches_the_brief():
    rude = parse_issue_type(seed("rude-staff"))
    assert [f.id for f in rude.fields if f.required] == ["store", "incident_date", "what_happened"]
    opinion, decision, _ = rude.steps
    assert opinion.deadline == timedelta(hours=5) and opinion.deadline_for("vip") == timedelta(hours=2)
    assert opinion.escalation[0].reassign == Holder("role", "regional-manager")
    assert opinion.assignee.resolve({"store": "leeds-briggate"}, {"leeds-briggate": "sam"}) == Holder("user", "sam")
    store = rude.field("store")
    assert store.options[1].attribute("manager") == "york.manager@stores.example"
    assert [o.value for o in decision.fields[0].options] == ["no_action", "apology", "coaching", "disciplinary"]
    assert decision.escalation[0].reassign.name == "hr-lead"
    assert {"store-manager", "regional-manager", "hr", "hr-lead"} <= rude.roles()


def test_checkpoints_come_in_business_time_order():
    opinion = parse_issue_type(seed("rude-staff")).steps[0]
    points = opinion.checkpoints()
    assert [(p.kind, p.percent, p.level.number if p.level else None) for p in points] == [
        ("open", 0, None),
        ("warning", 50, None),
        ("warning", 80, None),
        ("breach", 0, 1),
        ("escalation", 0, 2),
    ]
    opened = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    moments = deadlines.checkpoint_moments(opinion, ALWAYS, opened, "standard")
    assert moments == [opened + timedelta(hours=h) for h in (2.5, 4, 5, 9)]
    assert deadlines.timers(moments, opened) == {"t0": 9000, "t1": 5400, "t2": 3600, "t3": 14400}
    assert deadlines.deadline_moment(opinion, moments) == opened + timedelta(hours=5)


def test_deadlines_follow_the_steps_calendar():
    opinion = parse_issue_type(seed("rude-staff")).steps[0]
    calendar = parse_issue_type(seed("rude-staff")).calendar(opinion.calendar)
    friday_4pm = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # London is on UTC in November
    moments = deadlines.checkpoint_moments(opinion, calendar, friday_4pm, "standard")
    # 1.5 h on Friday (closes 17:30), Saturday opens 09:00: the 5-hour deadline falls at 12:30.
    assert moments[2] == datetime(2026, 11, 28, 12, 30, tzinfo=UTC)
    assert deadlines.checkpoint_moments(opinion, calendar, friday_4pm, "vip")[2] == datetime(
        2026, 11, 28, 9, 30, tzinfo=UTC
    )


def test_problems_are_reported_with_their_path():
    broken = seed("rude-staff")
    broken["steps"][1]["escalation"][0]["after"] = "tomorrow"
    broken["steps"][1]["role"] = "Human Resources"
    broken["steps"][2]["body"] = "{% if %}"
    broken["steps"][0]["warnings"] = [80, 50]
    broken["steps"][0]["calendar"] = "mars-base"
    broken["fields"][0]["type"] = "colour"
    found = problems(broken)
    assert found["steps[1].escalation[0].after"].startswith("not an ISO-8601 duration")
    assert "steps[1].role" in found
    assert found["steps[2].body"].startswith("template error")
    assert found["steps[0].warnings"] == "must be increasing, each percentage once"
    assert found["steps[0].calendar"].startswith("unknown calendar 'mars-base'")
    assert "fields[0].type" in found


def test_ladders_conditions_and_branches_are_checked():
    broken = seed("service-outage")
    triage = broken["steps"][0]
    triage["escalation"].append({"after": "PT9H", "notify": ["x"]})
    triage["escalation"].append({"after": "PT10H", "notify": ["y"]})
    triage["escalation"][1]["after"] = "PT0S"
    found = problems(broken)
    assert found["steps[0].escalation"] == "at most 4 levels"
    assert found["steps[0].escalation[1].after"] == "must be later than the previous level's"
    assert found["steps[0].escalation[2].branch"] == "only the last level can move the process on"
    broken = seed("service-outage")
    broken["steps"][2]["when"] = {"result": "triage.colour", "equals": "red"}
    broken["steps"][3]["when"] = {"field": "impact", "equals": "apocalyptic"}
    broken["steps"][1]["when"] = {"result": "engineering_fix.root_cause", "is_set": True}
    found = problems(broken)
    assert found["steps[2].when.result"] == "step 'triage' has no field 'colour'"
    assert found["steps[3].when.equals"].startswith("'apocalyptic' is not an option of impact")
    assert found["steps[1].when.result"] == "'engineering_fix' is not an earlier step"


def test_unknown_keys_and_a_backwards_branch_are_refused():
    broken = seed("rude-staff")
    broken["steps"][0]["deadlines"] = "PT1H"
    broken["steps"][1]["escalation"][0]["branch"] = "manager_opinion"
    broken["colour"] = "blue"
    found = problems(broken)
    assert found["steps[0].deadlines"].startswith("unknown key for a task step")
    assert found["steps[1].escalation[0].branch"].startswith("must be a later step or resolve")
    assert found["colour"].startswith("unknown key")


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


def test_shared_calendars_are_copied_into_the_definition():
    definition = next(d for d in load_seed_definitions() if d["id"] == "rude-staff")
    stored = with_shared_calendars(definition, load_shared_calendars())
    assert set(stored["calendars"]) == {"uk-stores", "uk-office"}
    assert "calendars" not in definition


def test_a_pattern_needs_words_for_the_customer_before_it_is_published():
    """A customer is shown the field's help, never its regular expression: a pattern without help
    would leave them guessing the format, so a new version is refused; versions stored earlier still load."""
    from chalicelib.services.issue_types import IssueTypeService

    definition = seed("late-delivery")
    del definition["fields"][0]["help"]
    assert parse_issue_type(definition).field("order_number").pattern
    service = IssueTypeService(None, None, lambda: "", "test")  # validating touches neither
    with pytest.raises(ValidationFailed) as caught:
        service.validate(definition)
    [error] = caught.value.errors
    assert error.field == "fields[0].help" and "in words" in error.message
    service.validate(seed("late-delivery"))


def test_a_type_may_acknowledge_the_customer_in_its_own_words():
    definition = seed("demo-quick")
    definition["acknowledgement"] = {"subject": "Thanks {{ issue.reference }}", "body": "{% if %}", "cc": "x"}
    found = problems(definition)
    assert found["acknowledgement.body"].startswith("template error")
    assert found["acknowledgement.cc"].startswith("unknown key")
    definition["acknowledgement"] = "Thanks"
    assert "acknowledgement" in problems(definition)
    assert parse_issue_type(seed("demo-quick")).acknowledgement is None
    recovery = parse_issue_type(seed("service-recovery")).acknowledgement
    assert recovery is not None and "sorry" in recovery.body.lower()


def test_timers_fire_within_the_second_before_their_moment_and_their_roundings_do_not_add_up():
    """Whole seconds rounded down: the handler holds what comes early (Checkpoints.hold_until_due)."""
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    moments = [now + timedelta(seconds=s) for s in (3.2, 6.4, 9.6, 12.8, 16.0)]
    waits = deadlines.timers(moments, now)
    fired = now
    for index, planned in enumerate(moments):
        fired += timedelta(seconds=waits[deadlines.timer_key(index)])
        assert planned - timedelta(seconds=1) < fired <= planned, (index, fired - planned)
    assert deadlines.timers([now + timedelta(seconds=0.4)], now) == {deadlines.timer_key(0): 1}, "at least 1 s"
