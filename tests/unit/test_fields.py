from datetime import UTC, datetime

import pytest

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.fields import DefinitionProblems, parse_field_specs, validate_values

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def specs(*raw):
    problems = DefinitionProblems()
    parsed = parse_field_specs(list(raw), "fields", problems)
    assert problems.errors == []
    return parsed


def errors_of(field_specs, values):
    with pytest.raises(ValidationFailed) as caught:
        validate_values(field_specs, values, NOW)
    return {e.field: e.message for e in caught.value.errors}


def test_every_bad_field_is_reported_at_once():
    form = specs(
        {"id": "store", "required": True},
        {"id": "order", "pattern": "^[A-Z]{2}[0-9]{6}$"},
        {"id": "when", "type": "date", "max": "today"},
        {"id": "mood", "type": "choice", "options": ["calm", "angry"]},
    )
    errors = errors_of(form, {"order": "ab12", "when": "2026-12-30", "mood": "sad", "extra": 1})
    assert errors == {
        "fields.store": "is required",
        "fields.order": "is not in the expected format",  # the customer reads it: never the regex
        "fields.when": "must not be in the future",
        "fields.mood": "must be one of calm, angry",
        "fields.extra": "unknown field",
    }


def test_valid_values_are_cleaned():
    form = specs(
        {"id": "store", "required": True},
        {"id": "when", "type": "date", "max": "today"},
        {"id": "count", "type": "number", "min": 1},
        {"id": "ok", "type": "yes_no"},
        {"id": "tags", "type": "multi_choice", "options": ["a", "b"]},
    )
    cleaned = validate_values(
        form, {"store": "  Leeds ", "when": "2026-11-23", "count": "3", "ok": "yes", "tags": ["a", "a"]}, NOW
    )
    assert cleaned == {"store": "Leeds", "when": "2026-11-23", "count": 3, "ok": True, "tags": ["a"]}


def test_today_is_judged_by_the_customers_calendar_not_utc():
    form = specs({"id": "when", "type": "date", "max": "today"})
    # 12:00 UTC on the 23rd is already the 24th in Auckland.
    assert validate_values(form, {"when": "2026-11-24"}, NOW) == {"when": "2026-11-24"}
    assert "fields.when" in errors_of(form, {"when": "2026-11-25"})


def test_optional_empty_values_are_dropped_and_types_are_checked():
    form = specs({"id": "name"}, {"id": "count", "type": "number", "max": 5}, {"id": "mail", "type": "email"})
    assert validate_values(form, {"name": ""}, NOW) == {}
    assert errors_of(form, {"count": 9, "mail": "nope"}) == {
        "fields.count": "must be at most 5",
        "fields.mail": "must be an email address",
    }
    assert errors_of(form, "not an object") == {"fields": "must be an object"}


def test_definition_problems_name_their_path():
    problems = DefinitionProblems()
    parse_field_specs(
        [{"id": "Bad Id"}, {"id": "c", "type": "choice"}, {"id": "d", "type": "date", "max": "soon"}],
        "steps[0].fields",
        problems,
    )
    assert {e.field for e in problems.errors} == {
        "steps[0].fields[0].id",
        "steps[0].fields[1].options",
        "steps[0].fields[2].max",
    }


def test_values_read_as_people_expect():
    choice, yes_no, many = specs(
        {"id": "c", "type": "choice", "options": [{"value": "no_action", "label": "No action"}]},
        {"id": "y", "type": "yes_no"},
        {"id": "m", "type": "multi_choice", "options": ["red_wine", "beer"]},
    )
    assert choice.display("no_action") == "No action"
    assert (yes_no.display(True), yes_no.display(False)) == ("Yes", "No")
    assert many.display(["red_wine", "beer"]) == "Red wine, Beer"


def test_conditional_fields_are_required_only_when_shown_and_dropped_when_hidden():
    problems = DefinitionProblems()
    form = parse_field_specs(
        [
            {"id": "reason", "type": "choice", "required": True, "options": ["cancelled", "other"]},
            {
                "id": "cancelled_on",
                "type": "date",
                "shown_when": {"field": "reason", "equals": "cancelled"},
                "required_when": {"field": "reason", "equals": "cancelled"},
            },
        ],
        "fields",
        problems,
    )
    assert problems.errors == []
    with pytest.raises(ValidationFailed) as caught:
        validate_values(form, {"reason": "cancelled"}, NOW)
    assert [e.as_dict() for e in caught.value.errors] == [{"field": "fields.cancelled_on", "message": "is required"}]
    assert validate_values(form, {"reason": "other", "cancelled_on": "2026-11-01"}, NOW) == {"reason": "other"}


def test_a_condition_must_name_another_field_of_the_form():
    problems = DefinitionProblems()
    raw = [{"id": "a", "shown_when": {"field": "b", "equals": "x"}}, {"id": "c", "colour": "red"}]
    parse_field_specs(raw, "fields", problems)
    assert {e.field for e in problems.errors} == {"fields[0].shown_when", "fields[1].colour"}


def test_agents_work_from_their_groups_as_roles_and_teams_and_their_own_name():
    from chalicelib.domain.agents import Agent
    from chalicelib.domain.errors import Forbidden

    otto = Agent("otto", "otto@example.com", frozenset({"engineering-oncall"}))
    otto.require_holder("team:engineering-oncall")
    otto.require_holder("user:otto")
    with pytest.raises(Forbidden):
        otto.require_holder("role:engineering")
