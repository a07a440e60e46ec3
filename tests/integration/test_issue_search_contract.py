"""The issue search index's contract, held by the fake (`tests/fakes.py`) and the DynamoDB adapter
alike: sources read newest first within a window, `limit` entries read at a time with the position
to continue below, the narrowing each source carries, entries following a change of type and text,
and the issues and customers of a page read at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.issue_search import CUSTOMER, HIGHEST, LOWEST, NAME, TYPE, WORD, Narrowing, Source, position
from chalicelib.domain.issues import EMAIL, WEB, Customer, Issue, TimelineEvent, new_id, new_reference
from chalicelib.services.records import NewIssue
from tests.fakes import FakeIssueRepository, FakeIssueSearchIndex

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANY = Narrowing()


@dataclass
class Ports:
    issues: Any
    index: Any


@pytest.fixture(params=["fake", "dynamodb"])
def ports(request) -> Ports:
    if request.param == "fake":
        issues = FakeIssueRepository()
        return Ports(issues, FakeIssueSearchIndex(issues))
    request.getfixturevalue("table")
    from chalicelib.adapters.dynamodb.issue_search import IssueSearchRepository
    from chalicelib.adapters.dynamodb.issues import IssueRepository

    return Ports(IssueRepository(), IssueSearchRepository())


def _open(ports: Ports, type_id: str, text: str, customer: Customer, minutes: int, channel: str = WEB) -> Issue:
    at = T0 + timedelta(minutes=minutes)
    issue = Issue.open(
        id=new_id(),
        reference=new_reference(),
        type_id=type_id,
        type_version=1,
        channel=channel,
        customer_id=customer.id,
        fields={"message": text},
        created_at=at,
    )
    new = ports.issues.customer_by_email(customer.email) is None
    ports.issues.create(NewIssue(issue, customer, new, TimelineEvent(at, "issue_opened", "opened"), None, ""))
    return issue


@pytest.fixture
def opened(ports: Ports) -> dict[str, Any]:
    mark = uuid.uuid4().hex[:10]
    type_a, type_b = f"alpha-{mark}", f"beta-{mark}"
    word, name = f"w{mark}", f"n{mark}"
    customer = Customer(new_id(), f"{mark}@example.com", f"Zoë {name}")
    issues = [
        _open(ports, type_a, f"{word} first", customer, 0),
        _open(ports, type_b, f"{word} second", customer, 1, EMAIL),
        _open(ports, type_a, f"{word} third", customer, 2),
    ]
    return {"issues": issues, "word": word, "name": name, "customer": customer, "types": (type_a, type_b)}


def _ids(found) -> list[str]:
    return [issue_id for _, issue_id in found.found]


def test_a_word_names_and_customer_find_the_issues_newest_first(ports, opened):
    first, second, third = opened["issues"]
    for source in (
        Source(WORD, opened["word"]),
        Source(NAME, opened["name"]),
        Source(NAME, "zoe"),
        Source(CUSTOMER, opened["customer"].id),
    ):
        read = ports.index.entries(source, LOWEST, HIGHEST, 10, ANY)
        if source.value == "zoe":  # other tests' customers may be called Zoë too
            assert [i for i in _ids(read) if i in {first.id, second.id, third.id}] == [third.id, second.id, first.id]
            continue
        assert _ids(read) == [third.id, second.id, first.id] and read.more is None and read.read == 3
        assert [at for at, _ in read.found] == [position(i.created_at, i.id) for i in (third, second, first)]


def test_a_source_is_read_limit_entries_at_a_time_below_a_position_within_a_window(ports, opened):
    first, second, third = opened["issues"]
    word = Source(WORD, opened["word"])

    page = ports.index.entries(word, LOWEST, HIGHEST, 2, ANY)
    assert _ids(page) == [third.id, second.id] and page.more == position(second.created_at, second.id)
    rest = ports.index.entries(word, LOWEST, page.more, 2, ANY)
    assert _ids(rest) == [first.id] and rest.more is None
    window = ports.index.entries(word, position(second.created_at, ""), position(third.created_at, ""), 5, ANY)
    assert _ids(window) == [second.id]


def test_each_source_applies_the_narrowing_its_entries_carry(ports, opened):
    first, second, third = opened["issues"]
    type_a, type_b = opened["types"]
    word = Source(WORD, opened["word"])

    assert _ids(ports.index.entries(word, LOWEST, HIGHEST, 10, Narrowing(type_id=type_a))) == [third.id, first.id]
    narrowed = ports.index.entries(word, LOWEST, HIGHEST, 2, Narrowing(channel=EMAIL))
    assert _ids(narrowed) == [second.id] and narrowed.read == 2 and narrowed.more
    assert _ids(ports.index.entries(Source(TYPE, type_a), LOWEST, HIGHEST, 10, ANY)) == [third.id, first.id]
    ports.issues.change(third, lambda issue: issue.resolve(T0 + timedelta(hours=1), one_contact=True))
    resolved = ports.index.entries(Source(TYPE, type_a), LOWEST, HIGHEST, 10, Narrowing(status="resolved"))
    assert _ids(resolved) == [third.id]


def test_entries_follow_a_change_of_type_and_text(ports, opened):
    first = opened["issues"][0]
    type_a, type_b = opened["types"]
    ports.issues.change(first, lambda issue: issue.change_type(type_b, 1, {"message": "replaced words"}))

    assert _ids(ports.index.entries(Source(TYPE, type_b), LOWEST, HIGHEST, 10, ANY))[-1] == first.id
    assert first.id not in _ids(ports.index.entries(Source(TYPE, type_a), LOWEST, HIGHEST, 10, ANY))
    assert first.id not in _ids(ports.index.entries(Source(WORD, opened["word"]), LOWEST, HIGHEST, 10, ANY))
    found = ports.index.entries(Source(WORD, "replaced"), LOWEST, HIGHEST, 100, Narrowing(type_id=type_b))
    assert first.id in _ids(found)


def test_the_issues_and_customers_of_a_page_are_read_at_once(ports, opened):
    issues = opened["issues"]
    read = ports.index.issues([i.id for i in issues] + ["no-such-issue"])
    assert sorted(i.id for i in read) == sorted(i.id for i in issues)
    assert {i.id: i.fields for i in read} == {i.id: i.fields for i in issues}
    customer = opened["customer"]
    assert ports.index.customers([customer.id, "nobody"]) == {customer.id: customer}
