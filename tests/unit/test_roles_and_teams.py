"""Roles and teams for admins, the warnings a definition gets for holders nobody answers for, and
an issue type read with GET taken back by PUT as it is: the services as wired, on fakes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from chalicelib.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.services.agent_groups import MAX_LOOKUPS
from tests.unit.wiring import World, world

ADMIN = World.agent("ada", "admin")


@pytest.fixture
def w() -> World:
    built = world()
    built.directory.add("hana", "hana@caseflow.test", "hr")
    built.directory.add("harry", "harry@caseflow.test", "hr-lead")
    built.directory.add("sam", "sam@caseflow.test", "store-manager")
    built.directory.add("gone", "gone@caseflow.test", "night-desk", enabled=False)
    return built


def definition(**step: Any) -> dict[str, Any]:
    """A type whose first step is `step` over a task held by hr (which has a member)."""
    return {
        "id": "staffing-test",
        "name": "Staffing test",
        "fields": [
            {
                "id": "store",
                "type": "choice",
                "required": True,
                "options": [
                    {"value": "leeds", "label": "Leeds", "manager": "sam"},
                    {"value": "york", "label": "York", "manager": "nobody-here"},
                    {"value": "hull", "label": "Hull", "manager": "hull@stores.example"},
                ],
            }
        ],
        "steps": [{"id": "first", "name": "First", "deadline": "PT1H", **step}],
    }


def warnings_of(w: World, body: dict[str, Any]) -> dict[str, str]:
    answer = w.services.administration.validate(body, ADMIN)
    return {item["field"]: item["message"] for item in answer["warnings"]}


def test_a_definition_whose_holders_all_have_someone_validates_without_warnings(w):
    body = definition(
        role="hr",
        escalation=[{"after": "PT0S", "reassign": "hr-lead", "notify": [{"user": "sam"}, {"email": "x@y.example"}]}],
    )
    assert w.services.administration.validate(body, ADMIN)["warnings"] == []


def test_each_holder_nobody_answers_for_is_warned_at_its_path(w):
    w.services.agent_groups.create("team", {"name": "repair-workshop"}, ADMIN)
    body = definition(
        assignee={"team": "repair-workshop"},
        escalation=[
            {"after": "PT0S", "reassign": "returns-lead"},
            {"after": "PT1H", "notify": ["hr", {"user": "nobody-at-all"}, {"email": "desk@stores.example"}]},
        ],
    )
    assert warnings_of(w, body) == {
        "steps[0].assignee": "team 'repair-workshop' has no members: nobody can act on this task",
        "steps[0].escalation[0].reassign": (
            "role 'returns-lead' does not exist: nobody can act on this task; create it with POST /admin/roles"
        ),
        "steps[0].escalation[1].notify[1]": "agent 'nobody-at-all' does not exist: nobody will be told",
    }


def test_a_field_assignee_is_warned_for_its_fallback_and_for_the_agents_its_options_name(w):
    body = definition(assignee={"field": "store", "attribute": "manager", "otherwise": {"role": "night-desk"}})
    assert warnings_of(w, body) == {
        # night-desk's only member is disabled: they cannot sign in to act.
        "steps[0].assignee.otherwise": "role 'night-desk' has no members: nobody can act on this task",
        "fields[0].options[1].manager": "agent 'nobody-here' does not exist: nobody can act on this task",
    }


def test_a_definition_naming_very_many_holders_has_the_first_ones_checked_and_says_so(w):
    many = [{"user": f"agent-{i}"} for i in range(MAX_LOOKUPS + 5)]
    found = warnings_of(w, definition(role="hr", escalation=[{"after": "PT0S", "notify": many}]))
    assert len(found) == MAX_LOOKUPS
    assert found["body"] == f"names more than {MAX_LOOKUPS} roles, teams and agents; 6 were not checked"
    assert "steps[0].escalation[0].notify[98]" in found and "steps[0].escalation[0].notify[99]" not in found


def test_publishing_with_warnings_publishes_and_says_them(w):
    created, published = w.services.administration.put_type("staffing-test", definition(role="ghosts"), ADMIN)
    assert created and published["version"] == 1
    assert [x["field"] for x in published["warnings"]] == ["steps[0].role"]
    assert w.services.issue_types.current("staffing-test").issue_type.step("first").assignee.name == "ghosts"


def test_once_the_role_has_a_member_the_warning_is_gone(w):
    groups = w.services.agent_groups
    groups.create("role", {"name": "ghosts", "description": "Haunted stores"}, ADMIN)
    assert warnings_of(w, definition(role="ghosts")) == {
        "steps[0].role": "role 'ghosts' has no members: nobody can act on this task"
    }
    groups.add_member("role", "ghosts", "hana", ADMIN)
    assert warnings_of(w, definition(role="ghosts")) == {}


def test_roles_and_teams_are_listed_apart_with_their_members(w):
    groups = w.services.agent_groups
    groups.create("team", {"name": "repair-workshop", "description": "Bench repairs in Leeds"}, ADMIN)
    groups.add_member("team", "repair-workshop", "sam", ADMIN)
    teams = groups.list("team", ADMIN)
    assert teams == [
        {
            "name": "repair-workshop",
            "description": "Bench repairs in Leeds",
            "members": [{"username": "sam", "email": "sam@caseflow.test", "enabled": True}],
        }
    ]
    roles = {r["name"]: r for r in groups.list("role", ADMIN)}
    assert "repair-workshop" not in roles
    assert [m["username"] for m in roles["hr"]["members"]] == ["hana"]


def test_a_member_is_removed_and_adding_twice_changes_nothing(w):
    groups = w.services.agent_groups
    groups.add_member("role", "hr", "sam", ADMIN)
    again = groups.add_member("role", "hr", "sam", ADMIN)
    assert [m["username"] for m in again["members"]] == ["hana", "sam"]
    after = groups.remove_member("role", "hr", "hana", ADMIN)
    assert [m["username"] for m in after["members"]] == ["sam"]


def test_a_name_taken_by_a_role_or_a_team_is_a_conflict(w):
    groups = w.services.agent_groups
    with pytest.raises(Conflict, match="role 'hr' exists already"):
        groups.create("team", {"name": "hr"}, ADMIN)
    groups.create("team", {"name": "night-shift"}, ADMIN)
    with pytest.raises(Conflict, match="team 'night-shift'"):
        groups.create("role", {"name": "night-shift"}, ADMIN)


def test_unknown_roles_teams_and_agents_are_not_found(w):
    groups = w.services.agent_groups
    with pytest.raises(NotFound, match="no role 'nope'"):
        groups.add_member("role", "nope", "sam", ADMIN)
    with pytest.raises(NotFound, match="no agent 'nobody'"):
        groups.add_member("role", "hr", "nobody", ADMIN)
    with pytest.raises(NotFound, match="'hr' is a role"):
        groups.remove_member("team", "hr", "hana", ADMIN)


def test_a_new_role_needs_a_name_like_a_definition_names_it(w):
    with pytest.raises(ValidationFailed) as raised:
        w.services.agent_groups.create("role", {"name": "Night Desk", "description": 7, "colour": "red"}, ADMIN)
    assert sorted(e.field for e in raised.value.errors) == ["colour", "description", "name"]


def test_only_admins_see_or_change_roles_and_teams(w):
    alice = World.agent("alice", "agent")
    with pytest.raises(Forbidden):
        w.services.agent_groups.list("role", alice)
    with pytest.raises(Forbidden):
        w.services.agent_groups.add_member("role", "admin", "alice", alice)


def test_what_get_answers_put_takes_back_unchanged(w):
    administration = w.services.administration
    administration.put_type("staffing-test", definition(role="hr"), ADMIN)
    read = administration.get_type("staffing-test", ADMIN)
    created, published = administration.put_type("staffing-test", copy.deepcopy(read), ADMIN)
    assert (created, published["version"], published["published"]) == (False, 1, False)

    read["definition"]["name"] = "Staffing test, renamed"
    _, published = administration.put_type("staffing-test", read, ADMIN)
    assert (published["version"], published["published"]) == (2, True)
    assert administration.get_type("staffing-test", ADMIN)["definition"]["name"] == "Staffing test, renamed"


def test_a_definition_read_before_someone_else_published_is_refused(w):
    administration = w.services.administration
    administration.put_type("staffing-test", definition(role="hr"), ADMIN)
    read = administration.get_type("staffing-test", ADMIN)
    administration.put_type("staffing-test", definition(role="hr-lead"), ADMIN)
    read["definition"]["name"] = "My edit of version 1"
    with pytest.raises(Conflict, match="read at version 1; staffing-test is at version 2"):
        administration.put_type("staffing-test", read, ADMIN)
    assert administration.get_type("staffing-test", ADMIN)["definition"]["steps"][0]["role"] == "hr-lead"
