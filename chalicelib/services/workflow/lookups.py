"""The issue's type version and customer, as every part of the workflow side reads them."""

from __future__ import annotations

from chalicelib.domain.errors import NotFound
from chalicelib.domain.issue_types import IssueType
from chalicelib.domain.issues import Customer, Issue
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.ports import IssueRepository


def issue_type_of(issue_types: IssueTypeService, issue: Issue) -> IssueType:
    """The version of its type the issue was filed with (a later version never changes a running one)."""
    return issue_types.version(issue.type_id, issue.type_version).issue_type


def customer_of(issues: IssueRepository, issue: Issue) -> Customer:
    customer = issues.customer(issue.customer_id)
    if customer is None:
        raise NotFound(f"issue {issue.id} has no customer {issue.customer_id}")
    return customer
