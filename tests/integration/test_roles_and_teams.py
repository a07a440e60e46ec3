"""Roles and teams for admins over HTTP on moto's Cognito: listed with their members, created,
members added and removed; the warnings a definition gets for holders nobody answers for; and an
issue type read with GET taken back by PUT as it is."""

from __future__ import annotations

import uuid

import boto3
import pytest

from chalicelib.local.provision import DEMO_PASSWORD


@pytest.fixture
def suffix() -> str:
    return uuid.uuid4().hex[:6]


def new_agent(stack, username: str) -> None:
    """An agent an admin has just created in the pool: in no group yet."""
    cognito = boto3.client("cognito-idp")
    pool = stack.resources.user_pool_id
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=username,
        UserAttributes=[{"Name": "email", "Value": f"{username}@agents.caseflow.test"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(UserPoolId=pool, Username=username, Password=DEMO_PASSWORD, Permanent=True)


def signed_in(stack, username: str) -> str:
    """A fresh id token: a token carries the groups its agent had when signing in."""
    response = stack.post("/auth/login", {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, stack.text_of(response)
    return response.json_body["id_token"]


def one_step_type(type_id: str, **step) -> dict:
    return {
        "id": type_id,
        "name": "Night desk enquiry",
        "fields": [{"id": "summary", "type": "text", "required": True}],
        "steps": [{"id": "answer", "name": "Answer", "deadline": "PT1H", **step}],
    }


def test_roles_and_teams_are_listed_with_their_members_for_admins_only(stack):
    ada = stack.token("ada")
    roles = {r["name"]: r for r in stack.get("/admin/roles", ada).json_body["roles"]}
    assert {"username": "hana", "email": "hana@agents.caseflow.test", "enabled": True} in roles["hr"]["members"]
    assert {"agent", "admin", "store-manager", "returns-lead"} <= set(roles)
    teams = {t["name"]: t for t in stack.get("/admin/teams", ada).json_body["teams"]}
    assert [m["username"] for m in teams["engineering-oncall"]["members"]] == ["otto"]
    assert "engineering-oncall" not in roles and "hr" not in teams

    for path in ("/admin/roles", "/admin/teams"):
        assert stack.get(path, stack.token("alice")).status_code == 403
    refused = stack.put("/admin/roles/admin/members/alice", None, stack.token("alice"))
    assert refused.status_code == 403


def test_creating_a_role_or_team_refuses_a_taken_name_and_a_bad_one(stack, suffix):
    ada = stack.token("ada")
    created = stack.post("/admin/teams", {"name": f"night-shift-{suffix}", "description": "Leeds, 22:00-06:00"}, ada)
    assert created.status_code == 201
    assert created.json_body == {"name": f"night-shift-{suffix}", "description": "Leeds, 22:00-06:00", "members": []}
    teams = {t["name"]: t for t in stack.get("/admin/teams", ada).json_body["teams"]}
    assert teams[f"night-shift-{suffix}"]["description"] == "Leeds, 22:00-06:00"

    assert stack.post("/admin/roles", {"name": f"night-shift-{suffix}"}, ada).status_code == 409
    assert stack.post("/admin/teams", {"name": "hr"}, ada).status_code == 409
    bad = stack.post("/admin/roles", {"name": "Night Shift"}, ada)
    assert bad.status_code == 400 and bad.json_body["errors"][0]["field"] == "name"


def test_unknown_roles_teams_and_agents_are_not_found(stack):
    ada = stack.token("ada")
    assert stack.put("/admin/roles/no-such-role/members/sam", None, ada).status_code == 404
    assert stack.put("/admin/roles/hr/members/no-such-agent", None, ada).status_code == 404
    assert stack.request("DELETE", "/admin/teams/hr/members/hana", token=ada).status_code == 404, "hr is a role"
    assert stack.request("DELETE", "/admin/teams/no-such-team/members/otto", token=ada).status_code == 404


def test_a_new_member_signs_in_again_and_works_the_roles_queue_until_removed(stack, suffix):
    ada = stack.token("ada")
    role, type_id, username = f"night-desk-{suffix}", f"night-desk-{suffix}", f"nina-{suffix}"
    new_agent(stack, username)
    assert stack.get("/agent/tasks", signed_in(stack, username)).status_code == 403, "in no group yet"

    assert stack.post("/admin/roles", {"name": role, "description": "Answers overnight"}, ada).status_code == 201
    validated = stack.post("/admin/issue-types/validate", one_step_type(type_id, role=role), ada)
    assert validated.status_code == 200
    assert validated.json_body["warnings"] == [
        {"field": "steps[0].role", "message": f"role '{role}' has no members: nobody can act on this task"}
    ]

    added = stack.put(f"/admin/roles/{role}/members/{username}", None, ada)
    assert added.status_code == 200
    assert added.json_body["members"] == [
        {"username": username, "email": f"{username}@agents.caseflow.test", "enabled": True}
    ]
    published = stack.put(f"/admin/issue-types/{type_id}", one_step_type(type_id, role=role), ada)
    assert published.status_code == 201 and published.json_body["warnings"] == []

    issue_id = stack.open_issue(type_id, {"summary": "Locked out at midnight"}, "night@example.com").json_body["id"]
    token = signed_in(stack, username)
    stack.wait_for(lambda: any(t["issue_id"] == issue_id for t in _tasks(stack, token)), what="the role's task")

    removed = stack.request("DELETE", f"/admin/roles/{role}/members/{username}", token=ada)
    assert removed.status_code == 200 and removed.json_body["members"] == []
    assert stack.get("/agent/tasks", signed_in(stack, username)).status_code == 403


def _tasks(stack, token: str) -> list[dict]:
    response = stack.get("/agent/tasks", token)
    assert response.status_code == 200, stack.text_of(response)
    return response.json_body["tasks"]


def test_publishing_a_type_with_holders_nobody_answers_for_is_accepted_with_a_warning_per_path(stack, suffix):
    ada = stack.token("ada")
    type_id = f"unstaffed-{suffix}"
    body = one_step_type(
        type_id,
        assignee={"team": f"ghosts-{suffix}"},
        escalation=[{"after": "PT0S", "reassign": "returns-lead", "notify": [{"email": "desk@stores.example"}]}],
    )
    published = stack.put(f"/admin/issue-types/{type_id}", body, ada)
    assert published.status_code == 201 and published.json_body["version"] == 1
    assert published.json_body["warnings"] == [
        {
            "field": "steps[0].assignee",
            "message": (
                f"team 'ghosts-{suffix}' does not exist: nobody can act on this task; create it with POST /admin/teams"
            ),
        }
    ]


def test_what_get_answers_put_takes_back_unchanged(stack, suffix):
    ada = stack.token("ada")
    type_id = f"round-trip-{suffix}"
    assert stack.put(f"/admin/issue-types/{type_id}", one_step_type(type_id, role="hr"), ada).status_code == 201

    read = stack.get(f"/admin/issue-types/{type_id}", ada).json_body
    again = stack.put(f"/admin/issue-types/{type_id}", read, ada)
    assert again.status_code == 200, stack.text_of(again)
    assert (again.json_body["version"], again.json_body["published"]) == (1, False)

    read["definition"]["steps"][0]["deadline"] = "PT2H"
    changed = stack.put(f"/admin/issue-types/{type_id}", read, ada)
    assert (changed.json_body["version"], changed.json_body["published"]) == (2, True)

    stale = stack.put(f"/admin/issue-types/{type_id}", read, ada)
    assert stale.status_code == 409, "read at version 1, and version 2 is out"
    versions = stack.get(f"/admin/issue-types/{type_id}/versions", ada).json_body["versions"]
    assert [v["version"] for v in versions] == [1, 2]

    seeded = stack.get("/admin/issue-types/rude-staff", ada).json_body
    unchanged = stack.put("/admin/issue-types/rude-staff", seeded, ada)
    assert unchanged.status_code == 200 and unchanged.json_body["published"] is False
