"""The rules behind the agents' workspace, without a browser: what an agent may do with a task,
where a process stands, how a deadline counts down, which timeline entries are internal, and
where a sign-in may send a browser back to."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.api.desk import views
from chalicelib.api.desk.responses import local_path
from chalicelib.domain import claims
from chalicelib.domain import tasks as rules
from chalicelib.domain.agents import Agent
from chalicelib.domain.issue_types import parse_issue_type, with_shared_calendars
from chalicelib.domain.issues import looks_like_reference
from chalicelib.domain.process_progress import CLOSED, CURRENT, DONE, NEXT, progress
from chalicelib.domain.tasks import Task
from chalicelib.workflows.seeds import load_seed_definitions, load_shared_calendars

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HANA = Agent("hana", "hana@caseflow.test", frozenset({"hr"}))
HARRY = Agent("harry", "harry@caseflow.test", frozenset({"hr-lead"}))
SAM = Agent("sam", "sam@caseflow.test", frozenset({"store-manager"}))
SUE = Agent("sue", "sue@caseflow.test", frozenset({"supervisor"}))


def rude_staff():
    definition = next(d for d in load_seed_definitions() if d["id"] == "rude-staff")
    return parse_issue_type(with_shared_calendars(definition, load_shared_calendars()))


def task(step: str = "hr_decision", holder: str = "role:hr", **changes) -> Task:
    due = changes.pop("due_at", NOW + timedelta(hours=8))
    fields = {"id": f"01ISSUE-{step}", "issue_id": "01ISSUE", "step": step, "status": rules.OPEN, "holder": holder}
    return Task(**fields, due_at=due, schedule=(due - timedelta(hours=2), due, due + timedelta(hours=4)), **changes)


def actions(agent: Agent, held: Task) -> set[str]:
    issue_type = rude_staff()
    step = issue_type.step(held.step)
    return set(claims.actions(agent, held, step, claims.lead_keys(held, step, claims.escalations([issue_type]))))


def test_a_member_may_answer_or_claim_a_role_task_and_its_lead_may_reassign_it():
    assert actions(HANA, task()) == {claims.COMPLETE, claims.CLAIM}
    assert actions(HARRY, task()) == {claims.REASSIGN}
    assert actions(SUE, task()) == {claims.REASSIGN}
    assert actions(SAM, task()) == set()


def test_a_claimer_may_answer_and_release_and_nobody_acts_on_a_closed_task():
    claimed = task(holder="user:hana", claimed_from="role:hr")
    assert actions(HANA, claimed) == {claims.COMPLETE, claims.RELEASE}
    assert actions(HANA, replace(claimed, status=rules.COMPLETED)) == set()
    assert actions(HARRY, task(holder="email:york.manager@stores.example", step="manager_opinion")) == set()


def test_the_process_says_what_is_done_current_closed_and_next():
    issue_type = rude_staff()
    opinion = replace(task("manager_opinion", "user:sam"), status=rules.COMPLETED, completed_by="sam", completed_at=NOW)
    stands = {p.step.id: p.state for p in progress(issue_type, [opinion, task()])}
    assert stands == {"manager_opinion": DONE, "hr_decision": CURRENT}
    first = {p.step.id: p.state for p in progress(issue_type, [])}
    assert set(first.values()) == {NEXT}
    retired = replace(task(), status=rules.CLOSED, closed_reason="the issue was reopened")
    assert {p.step.id: p.state for p in progress(issue_type, [opinion, retired])}["hr_decision"] == CLOSED


@pytest.mark.parametrize(
    ("due_in", "warned", "words", "state"),
    [
        (timedelta(hours=3), False, "Due in 3 h", views.ON_TIME),
        (timedelta(minutes=90), True, "Due soon: in 1 h 30 min", views.SOON),
        (timedelta(minutes=-35), True, "Overdue by 35 min", views.OVERDUE),
    ],
)
def test_a_deadline_counts_down_in_words_and_its_state_follows_the_types_warnings(due_in, warned, words, state):
    due = NOW + due_in
    warning = NOW - timedelta(minutes=1) if warned else NOW + timedelta(minutes=1)
    shown = views.countdown(
        {
            "due_at": due.isoformat(),
            "checkpoints": [(due - timedelta(hours=8)).isoformat(), warning.isoformat(), due.isoformat()],
        },
        NOW,
    )
    assert (shown.text, shown.state) == (words, state)


def test_an_overdue_task_says_when_it_escalates_and_a_task_without_warnings_is_soon_in_its_last_hour():
    due = NOW - timedelta(minutes=10)
    shown = views.countdown(
        {"due_at": due.isoformat(), "next_checkpoint_at": (NOW + timedelta(hours=2)).isoformat()}, NOW
    )
    assert shown.then == "escalates in 2 h"
    assert views.countdown({"due_at": (NOW + timedelta(minutes=40)).isoformat()}, NOW).state == views.SOON
    assert views.countdown({"due_at": (NOW + timedelta(minutes=70)).isoformat()}, NOW).state == views.ON_TIME


def test_notes_are_marked_internal_and_what_the_customer_said_names_its_channel():
    entries = views.timeline(
        [
            {"at": NOW.isoformat(), "kind": "internal_note", "actor": "sam", "text": "CCTV", "data": {}},
            {
                "at": NOW.isoformat(),
                "kind": "customer_message",
                "actor": "customer",
                "text": "Hi",
                "data": {"channel": "phone"},
            },
            {"at": NOW.isoformat(), "kind": "task_claimed", "actor": "hana", "text": "claimed", "data": {}},
        ],
        "Europe/London",
    )
    assert [(e.kind, e.label) for e in entries] == [
        ("internal", "Internal note"),
        ("customer", "Customer (phone)"),
        ("process", "Task claimed"),
    ]


def test_an_email_that_was_not_sent_stands_out_and_says_why():
    reason = "SES refused it (MessageRejected): Email address is not verified."
    [entry] = views.timeline(
        [
            {
                "at": NOW.isoformat(),
                "kind": "email_failed",
                "actor": "caseflow",
                "text": "not sent: We have received your report [CF-7K3Q9]",
                "data": {"to": "ada@example.com", "reason": reason},
            }
        ],
        "Europe/London",
    )
    assert (entry.kind, entry.label) == ("problem", "Email not sent")
    assert entry.text == f"not sent: We have received your report [CF-7K3Q9] ({reason})"


@pytest.mark.parametrize(
    ("target", "followed"),
    [
        ("/desk/tasks/01ABC-hr_decision", "/desk/tasks/01ABC-hr_decision"),
        ("/ops/dashboard?from=2026-12-01", "/ops/dashboard?from=2026-12-01"),
        ("https://evil.example/desk", "/desk"),
        ("//evil.example/desk", "/desk"),
        ("/\\\\evil.example", "/desk"),
        ("/report/rude-staff", "/desk"),
        ("", "/desk"),
    ],
)
def test_a_sign_in_returns_only_to_a_page_of_the_desk_or_the_dashboard(target, followed):
    assert local_path(target) == followed


def test_a_reference_is_recognised_however_it_is_typed():
    assert looks_like_reference(" cf-7k3q9 ") and looks_like_reference("CF-22222")
    assert (
        not looks_like_reference("CF-7K3Q")
        and not looks_like_reference("CF-0O1IL")
        and not looks_like_reference("receipt")
    )
