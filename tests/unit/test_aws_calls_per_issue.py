"""bench.aws_calls_per_issue counts an issue's calls, not the driver's, and prices what it counts."""

from __future__ import annotations

import pytest

from bench.aws_calls_per_issue import DRIVER, EMAILS, RAISED, Issue, cost_per_issue, issue_calls
from bench.cost_model import SES_PER_1K_EMAILS
from bench.transitions import Run, Variant
from chalicelib.local.aws_calls import API_HANDLER, WORKFLOW_ROLE, AwsCall


def call(function: str | None, name: str, during: str | None = None) -> AwsCall:
    return AwsCall(function, name, (name,), during)


def test_the_drivers_looks_are_left_out_but_the_workflows_calls_meanwhile_count() -> None:
    recorded = [
        call(API_HANDLER, "dynamodb:GetItem", DRIVER),  # the driver polling the issue
        call(None, "states:DescribeExecution", DRIVER),
        call(WORKFLOW_ROLE, "sqs:SendMessage", DRIVER),  # Step Functions, while the driver looked
        call("OnTaskMessage", "ses:SendRawEmail"),
        call(None, "sqs:ReceiveMessage"),  # the harness's own polling
    ]

    assert issue_calls(recorded) == {(WORKFLOW_ROLE, "sqs:SendMessage"): 1, ("OnTaskMessage", "ses:SendRawEmail"): 1}


def test_an_issue_caseflow_raises_itself_counts_as_the_apis() -> None:
    counted = issue_calls([call(None, "states:StartExecution", RAISED)])

    assert counted == {(API_HANDLER, "states:StartExecution"): 1}


def test_emails_are_priced_per_recipient_and_drawn_from_the_sending_quota() -> None:
    issue = Issue(Run("rude-staff", Variant()), emails=4)

    assert issue.draws(EMAILS) == 4
    assert cost_per_issue(issue)["SES"] == pytest.approx(4 * SES_PER_1K_EMAILS / 1000)
