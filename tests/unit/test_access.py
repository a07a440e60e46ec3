"""Who may see an issue (decision 0025): those its process names, those who held its tasks, and
supervisors and admins; first-line agents see triage issues; everyone else finds nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.access import may_see, named_holders, task_holders
from chalicelib.domain.agents import Agent
from chalicelib.domain.errors import NotFound
from chalicelib.domain.issue_types import parse_issue_type
from chalicelib.domain.tasks import Task
from chalicelib.services.access import IssueAccess
from tests.unit.test_workflow_on_fakes import _rude_staff, _staffed

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

COMPLAINT = parse_issue_type(
    {
        "id": "complaint",
        "name": "Complaint",
        "description": "A complaint about a store.",
        "fields": [
            {
                "id": "store",
                "label": "Store",
                "type": "choice",
                "required": True,
                "options": [{"value": "leeds", "label": "Leeds", "manager": "sam"}],
            }
        ],
        "steps": [
            {
                "id": "opinion",
                "name": "Manager's opinion",
                "assignee": {"field": "store", "attribute": "manager", "otherwise": {"role": "store-manager"}},
                "deadline": "PT5H",
                "escalation": [
                    {"after": "PT0S", "reassign": "regional-manager"},
                    {"after": "PT4H", "notify": ["hr-lead", {"user": "vic"}]},
                ],
            },
            {
                "id": "both",
                "name": "In parallel",
                "kind": "parallel",
                "branches": [
                    [{"id": "legal", "name": "Legal", "assignee": {"team": "legal-desk"}, "deadline": "PT1H"}],
                    [{"id": "decide", "name": "Decide", "role": "hr", "deadline": "PT8H"}],
                ],
            },
        ],
    }
)


def agent(username: str, *roles: str) -> Agent:
    return Agent(username, f"{username}@caseflow.test", frozenset(roles))


def task(holder: str, past: tuple[str, ...] = ()) -> Task:
    return Task("01X-s", "01X", "s", "open", holder, T0, past_holders=past)


def test_the_process_names_its_assignees_fallbacks_and_every_escalation_level():
    assert named_holders(COMPLAINT) == {
        "role:store-manager",  # the fallback of the field assignee
        "role:regional-manager",  # level 1 reassigns
        "role:hr-lead",  # level 2 notifies
        "user:vic",
        "team:legal-desk",  # inside a parallel branch
        "role:hr",
    }


@pytest.mark.parametrize(
    "who",
    [
        agent("hana", "hr"),
        agent("harry", "hr-lead"),  # only named by an escalation level's notify
        agent("rita", "regional-manager"),  # only named by an escalation level's reassign
        agent("sam", "store-manager"),
        agent("vic"),  # a person named by username, in no role
        agent("lou", "legal-desk"),  # a member of a named team
    ],
    ids=lambda a: a.username,
)
def test_everyone_the_process_names_sees_the_issue(who):
    assert may_see(who, named_holders(COMPLAINT), ())


def test_an_outsider_sees_nothing_and_a_first_line_agent_only_triage():
    named = named_holders(COMPLAINT)
    assert not may_see(agent("lee", "logistics"), named, ())
    assert not may_see(agent("nobody"), named, ())
    assert not may_see(agent("alice", "agent"), named, ())
    assert may_see(agent("alice", "agent"), named, (), triage=True)
    assert not may_see(agent("lee", "logistics"), named, (), triage=True)


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_see_every_issue(role):
    assert may_see(agent("sue", role), frozenset(), ())


def test_holders_past_and_present_see_the_issue_however_they_came_to_hold_it():
    held = task_holders([task("user:kim", past=("role:logistics", "user:ola")), task("team:night-shift")])
    assert held == {"user:kim", "role:logistics", "user:ola", "team:night-shift"}
    assert may_see(agent("kim"), (), held)
    assert may_see(agent("ola"), (), held)  # held it, then it was reassigned
    assert may_see(agent("lee", "logistics"), (), held)  # their role held it before someone claimed it
    assert may_see(agent("nat", "night-shift"), (), held)
    assert not may_see(agent("lena", "logistics-lead"), (), held)


# The service, on the fakes: the issue's type version and every task, archived runs included


def test_the_service_finds_holders_of_archived_runs_and_hides_the_issue_from_others():
    w = _staffed()
    issue = w.services.intake.open_issue(_rude_staff("leeds-briggate")).issue
    access = IssueAccess(w.issues, w.tasks, w.services.issue_types)
    lee, kim = agent("lee", "logistics"), agent("kim", "night-shift")
    assert not access.visible(lee, issue) and not access.visible(kim, issue)
    with pytest.raises(NotFound, match=f"no issue {issue.id}"):
        access.require_visible(lee, issue.id)
    with pytest.raises(NotFound, match="no issue 01NOPE"):
        access.require_visible(agent("ada", "admin"), "01NOPE")

    w.tasks.change(issue.id, "manager_opinion", lambda _: task("user:kim", past=("team:night-shift",)))
    w.tasks.archive(issue.id, issue.run)  # the issue changed type, or was reopened
    assert w.tasks.for_issue(issue.id) == []
    assert access.visible(kim, issue) and access.require_visible(kim, issue.id) == issue
    assert access.visible(agent("nat", "night-shift"), issue)
    assert access.visible(agent("hana", "hr"), issue) and access.visible(agent("sue", "supervisor"), issue)
    assert not access.visible(lee, issue)
