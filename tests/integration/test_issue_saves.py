"""Issues are saved whole under optimistic locking; a lost race re-applies the transition (decision 0021)."""

from __future__ import annotations

from dataclasses import replace

import boto3
import pytest

from chalicelib import settings
from chalicelib.adapters.dynamodb.issues import IssueRepository
from chalicelib.domain.issues import Issue, StaleIssue

FIELDS = {"subject": "Opening hours", "message": "When do you open on Sunday?"}


def opened(stack, email: str) -> Issue:
    issue_id = stack.open_issue("general-enquiry", FIELDS, email).json_body["id"]
    stack.drain()
    return IssueRepository().get(issue_id)


def test_a_save_writes_the_issue_and_moves_it_to_its_next_version(stack):
    repository = IssueRepository()
    issue = opened(stack, "saves.version@example.com")
    saved = repository.save(issue.raise_priority())
    assert saved.version == issue.version + 1
    assert repository.get(issue.id) == saved and repository.get(issue.id).version == saved.version


def test_a_save_from_a_stale_copy_is_refused_and_writes_nothing(stack):
    repository = IssueRepository()
    issue = opened(stack, "saves.stale@example.com")
    repository.save(issue.enter_step("elsewhere"))
    with pytest.raises(StaleIssue):
        repository.save(issue.raise_priority())
    assert repository.get(issue.id).priority == issue.priority


def test_a_change_that_lost_the_race_is_applied_again_to_the_issue_as_it_now_is(stack):
    repository = IssueRepository()
    issue = opened(stack, "saves.race@example.com")
    first = repository.change(issue, Issue.raise_priority)
    second = repository.change(issue, Issue.raise_priority)  # from the copy read before the first
    assert (first.priority, second.priority) == ("high", "urgent")
    assert repository.get(issue.id).priority == "urgent"


def test_a_change_that_changes_nothing_writes_nothing(stack):
    repository = IssueRepository()
    issue = opened(stack, "saves.nothing@example.com")
    assert repository.change(issue, lambda same: same).version == issue.version
    assert repository.get(issue.id).version == issue.version


def test_save_never_creates_an_issue(stack):
    repository = IssueRepository()
    issue = opened(stack, "saves.create@example.com")
    with pytest.raises(StaleIssue):
        repository.save(replace(issue, id=f"{issue.id}X", version=0))
    assert repository.get(f"{issue.id}X") is None


def test_an_issue_stored_before_issues_had_versions_loads_and_saves(stack):
    repository = IssueRepository()
    issue = opened(stack, "saves.legacy@example.com")
    boto3.client("dynamodb").update_item(
        TableName=settings.get().table_name,
        Key={"pk": {"S": f"ISSUE#{issue.id}"}, "sk": {"S": "ISSUE"}},
        UpdateExpression="REMOVE #v",
        ExpressionAttributeNames={"#v": "version"},
    )
    legacy = repository.get(issue.id)
    assert legacy.version == 0 and legacy == issue
    saved = repository.change(legacy, Issue.raise_priority)
    assert saved.version == 1 and repository.get(issue.id).priority == "high"
