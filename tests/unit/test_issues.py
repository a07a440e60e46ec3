"""An issue's transitions: pure functions of the issue, no AWS (decision 0021)."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.domain.issues import OPEN, RESOLVED, Issue, StaleIssue, TransitionRefused

NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(days=2)


def an_issue(**changes) -> Issue:
    opened = Issue.open(
        id="01JEXAMPLE",
        reference="CF-7K3Q9",
        type_id="gift-card",
        type_version=3,
        channel="email",
        customer_id="c1",
        fields={"message": "My card shows zero"},
        created_at=NOW - timedelta(hours=5),
        execution_arn="arn:aws:states:us-east-1:123:execution:gift-card-v3:01JEXAMPLE",
    )
    return replace(opened, **changes)


def a_resolved_issue(**changes) -> Issue:
    return replace(an_issue().resolve(NOW, one_contact=True), **changes)


def test_a_new_issue_is_open_of_normal_priority_in_its_first_run_and_never_resolved():
    issue = an_issue()
    assert issue.status == OPEN
    assert (issue.priority, issue.run, issue.reopenings, issue.current_step) == ("normal", 1, 0, "")
    assert issue.resolved_at is issue.first_resolved_at is issue.resolved_with_one_contact is None
    assert issue.execution_name == "01JEXAMPLE"


def test_a_new_issue_keeps_what_opened_it():
    issue = Issue.open(
        id="i",
        reference="CF-22222",
        type_id="triage",
        type_version=1,
        channel="email",
        customer_id="c",
        fields={},
        created_at=NOW,
        auto_reply_blocked="auto-submitted",
        classification={"label": "gift-card", "routed": "triage"},
    )
    assert issue.auto_reply_blocked == "auto-submitted"
    assert issue.classification == {"label": "gift-card", "routed": "triage"}


def test_transitions_return_a_new_issue_and_leave_the_old_one_as_it_was():
    issue = an_issue()
    stepped = issue.enter_step("check")
    assert stepped.current_step == "check" and issue.current_step == ""
    with pytest.raises(FrozenInstanceError):
        issue.status = RESOLVED  # type: ignore[misc]


def test_entering_a_step_records_it_as_the_current_step_whatever_came_before():
    assert an_issue().enter_step("check").enter_step("decide").current_step == "decide"


def test_raising_priority_goes_one_level_up_and_stops_at_urgent():
    issue = an_issue()
    assert issue.raise_priority().priority == "high"
    assert issue.raise_priority().raise_priority().priority == "urgent"
    assert an_issue(priority="urgent").raise_priority().priority == "urgent"
    assert an_issue(priority="low").raise_priority().priority == "normal"


def test_a_first_resolution_records_when_and_whether_the_customer_wrote_once():
    resolved = an_issue(current_step="answer").resolve(NOW, one_contact=True)
    assert resolved.status == RESOLVED
    assert resolved.resolved_at == resolved.first_resolved_at == NOW
    assert resolved.resolved_with_one_contact is True
    assert resolved.current_step == ""


def test_a_later_resolution_changes_only_when_it_was_resolved():
    reopened = a_resolved_issue().reopen()
    again = reopened.resolve(LATER, one_contact=False)
    assert again.status == RESOLVED and again.resolved_at == LATER
    assert again.first_resolved_at == NOW
    assert again.resolved_with_one_contact is True, "only the first resolution counts for FCR"


def test_resolving_a_resolved_issue_is_refused():
    with pytest.raises(TransitionRefused):
        a_resolved_issue().resolve(LATER, one_contact=True)


def test_reopening_opens_a_resolved_issue_as_its_next_run_and_counts_the_reopening():
    resolved = a_resolved_issue()
    reopened = resolved.reopen(run=resolved.run)
    assert reopened.status == OPEN
    assert (reopened.run, reopened.reopenings) == (2, 1)
    assert reopened.current_step == "" and reopened.execution_arn == ""
    assert reopened.execution_name == "01JEXAMPLE-2"
    assert reopened.first_resolved_at == NOW, "resolution time and FCR still count from the first resolution"


@pytest.mark.parametrize("run", [None, 1])
def test_reopening_an_issue_that_is_not_resolved_is_refused(run):
    with pytest.raises(TransitionRefused):
        an_issue().reopen(run=run)


def test_reopening_is_refused_once_the_issue_moved_on_from_the_run_it_was_decided_in():
    moved_on = a_resolved_issue().reopen().resolve(LATER, one_contact=False)
    with pytest.raises(TransitionRefused):
        moved_on.reopen(run=1)
    assert moved_on.reopen(run=2).run == 3


def test_a_refused_transition_is_a_conflict():
    assert issubclass(TransitionRefused, Conflict) and issubclass(StaleIssue, Conflict)


def test_changing_type_moves_the_issue_to_the_new_type_as_its_next_run():
    issue = an_issue(current_step="check")
    moved = issue.change_type("refund", 7, {"amount": 12}, run=1)
    assert (moved.type_id, moved.type_version, moved.fields) == ("refund", 7, {"amount": 12})
    assert (moved.run, moved.current_step, moved.execution_arn) == (2, "", "")
    assert moved.status == OPEN and moved.reopenings == 0


def test_a_resolved_issue_keeps_its_type():
    with pytest.raises(TransitionRefused, match="keeps its type"):
        a_resolved_issue().change_type("refund", 7, {})


def test_changing_to_the_type_the_issue_has_or_after_it_moved_on_is_refused():
    with pytest.raises(TransitionRefused):
        an_issue().change_type("gift-card", 3, {})
    with pytest.raises(TransitionRefused):
        an_issue(run=2).change_type("refund", 7, {}, run=1)


def test_the_next_runs_execution_is_recorded_with_it():
    moved = an_issue().change_type("refund", 7, {})
    started = moved.with_execution("arn:aws:states:us-east-1:123:execution:refund-v7:01JEXAMPLE-2")
    assert started.execution_arn.endswith(started.execution_name)


def test_the_stored_version_is_not_part_of_what_the_issue_is():
    issue = an_issue(version=4)
    assert issue == replace(issue, version=5)
    assert issue.enter_step("check").version == 4, "a transition keeps the version it was read at"
