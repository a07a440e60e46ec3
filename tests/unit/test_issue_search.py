"""Searching issues on the fakes, wired by the real composition root: which source a search reads,
each criterion, pages that return every match once, the bound on what one request reads, and the
issues an agent may not see left out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.issue_search import (
    ALL,
    CUSTOMER,
    HOLDER,
    NAME,
    REFERENCE,
    TYPE,
    WORD,
    SearchCriteria,
    Source,
    driving_source,
)
from chalicelib.services.issue_search import MAX_ITEMS_READ, MAX_VISIBILITY_CHECKS
from chalicelib.workflows import compiler
from tests.unit.wiring import World, world

SUE = World.agent("sue", "supervisor")


def _enquiry(w: World, subject: str, message: str = "Please help.", email: str = "ada@example.com", name: str = "Ada"):
    request = {
        "type": "general-enquiry",
        "customer": {"email": email, "name": name},
        "fields": {"subject": subject, "message": message},
    }
    issue = w.services.intake.open_issue(request).issue
    w.clock.advance(timedelta(minutes=1))
    return issue


def _rude_staff(w: World, what: str, email: str = "rex@example.com"):
    fields = {"store": "manchester-arndale", "incident_date": w.clock().date().isoformat(), "what_happened": what}
    request = {"type": "rude-staff", "customer": {"email": email, "name": "Rex"}, "fields": fields}
    issue = w.services.intake.open_issue(request).issue
    w.clock.advance(timedelta(minutes=1))
    return issue


def _search(w: World, agent=SUE, **params: str) -> list[str]:
    return [i["reference"] for i in w.services.issue_search.search(agent, params)["issues"]]


def _walk(w: World, agent=SUE, **params: str) -> list[list[str]]:
    pages, cursor = [], ""
    while True:
        answer = w.services.issue_search.search(agent, {**params, **({"cursor": cursor} if cursor else {})})
        pages.append([i["reference"] for i in answer["issues"]])
        cursor = answer["cursor"]
        if not cursor:
            return pages
        assert len(pages) < 100, "the cursor never ends"


def test_the_search_reads_the_source_likely_to_hold_fewest_issues():
    def source(**params: str) -> Source:
        return driving_source(SearchCriteria.parse(params), customer_id="c1")

    assert source(reference="cf-abcde", q="parcel", type="late-delivery") == Source(REFERENCE, "CF-ABCDE")
    assert source(email="A@B.example", q="parcel") == Source(CUSTOMER, "c1")
    assert source(q="lost parcel", name="Bo", holder="role:hr") == Source(WORD, "parcel")
    assert source(q="lost", name="Jonathan") == Source(NAME, "jonathan")
    assert source(holder="sam", type="rude-staff") == Source(HOLDER, "user:sam")
    assert source(type="rude-staff", status="open") == Source(TYPE, "rude-staff")
    assert source(status="resolved", channel="email") == Source(ALL)


def test_words_find_an_issue_whatever_the_case_and_accents_of_either_side():
    w = world()
    turkish = _enquiry(w, "Müdür İSTANBUL şubesinde", "Kasada ılık kahve")
    french = _enquiry(w, "CAFÉ fermé", "Le gérant était impoli")
    _enquiry(w, "Opening hours", "Are you open on Sunday?")

    assert _search(w, q="mudur istanbul") == [turkish.reference]
    assert _search(w, q="ILIK Kahve") == [turkish.reference]
    assert _search(w, q="cafe GERANT") == [french.reference]
    assert _search(w, q="café sunday") == []  # every word must be there


def test_each_criterion_alone_and_together():
    w = world()
    first = _enquiry(w, "Parcel missing", email="bo@example.com", name="Bo Jönsson")
    rude = _rude_staff(w, "The cashier shouted at me about my parcel")
    last = _enquiry(w, "Opening hours")
    w.issues.change(last, lambda issue: issue.resolve(w.clock(), one_contact=True))

    assert _search(w) == [last.reference, rude.reference, first.reference]
    assert _search(w, q="parcel") == [rude.reference, first.reference]
    assert _search(w, q="parcel", type="general-enquiry") == [first.reference]
    assert _search(w, type="rude-staff") == [rude.reference]
    assert _search(w, status="resolved") == [last.reference]
    assert _search(w, status="open", type="general-enquiry") == [first.reference]
    assert _search(w, email="BO@example.com") == [first.reference]
    assert _search(w, email="nobody@example.com") == []
    assert _search(w, name="jonsson") == [first.reference]
    assert _search(w, reference=rude.reference.lower()) == [rude.reference]
    assert _search(w, reference=rude.reference, type="general-enquiry") == []
    assert _search(w, channel="web", q="parcel") == [rude.reference, first.reference]
    assert _search(w, channel="email") == []
    opened = rude.created_at.isoformat()
    assert _search(w, opened_after=opened) == [last.reference, rude.reference]
    assert _search(w, opened_before=opened) == [first.reference]
    assert _search(w, opened_after=first.created_at.isoformat(), opened_before=opened, q="parcel") == [first.reference]


def test_a_holder_finds_the_issues_with_an_open_task_of_theirs():
    w = world()
    enquiry = _enquiry(w, "Opening hours")
    w.workflow_says(enquiry.id, compiler.KIND_OPEN, step="answer")
    _enquiry(w, "Another question")

    assert _search(w, holder="role:agent") == [enquiry.reference]
    assert _search(w, step="answer") == [enquiry.reference]
    assert _search(w, step="answer", status="resolved") == []
    assert _search(w, holder="role:agent", q="hours") == [enquiry.reference]
    assert _search(w, holder="role:agent", q="another") == []
    assert _search(w, holder="sam") == []


@pytest.mark.parametrize("limit", ["1", "4", "25"])
def test_pages_return_every_match_once_newest_first(limit):
    w = world()
    opened = [_enquiry(w, f"Question {n}").reference for n in range(11)]
    _rude_staff(w, "Shouted at me")

    pages = _walk(w, type="general-enquiry", limit=limit)
    assert [r for page in pages for r in page] == opened[::-1]
    assert all(len(page) <= int(limit) for page in pages)

    merged = [r for page in _walk(w, limit=limit) for r in page]
    assert len(merged) == len(set(merged)) == 12


def test_a_search_that_finds_little_among_many_reads_a_bounded_share_and_gives_a_cursor():
    w = world()
    needle = _rude_staff(w, "The oldest one")
    for n in range(700):
        _enquiry(w, f"Question {n}")

    pages, cursor = [], ""
    while True:
        page = w.services.issue_search.page(SUE, {"status": "resolved", **({"cursor": cursor} if cursor else {})})
        pages.append(page)
        assert page.read <= MAX_ITEMS_READ and page.issues == []
        if not (cursor := page.cursor):
            break
    assert 2 <= len(pages) <= 4

    rare = w.services.issue_search.page(SUE, {"q": "oldest"})
    assert [i["reference"] for i in rare.issues] == [needle.reference] and rare.read <= 3
    assert [r.queries for r in (rare,)] == [3]  # the word's entries, the issue, its customer


def test_an_agent_finds_only_the_issues_they_may_see():
    w = world()
    rude = _rude_staff(w, "The manager insulted me")
    lee = World.agent("lee", "logistics")
    hana = World.agent("hana", "hr")

    assert _search(w, lee, q="insulted") == []
    assert _search(w, lee, reference=rude.reference) == []
    assert _search(w, lee) == []
    assert _search(w, hana, q="insulted") == [rude.reference]


def test_an_agent_who_may_see_few_issues_gets_short_pages_that_still_reach_every_match():
    w = world()
    request = {
        "type": "late-delivery",
        "customer": {"email": "jo@example.com", "name": "Jo"},
        "fields": {"order_number": "AB123456", "promised_date": w.clock().date().isoformat()},
    }
    late = w.services.intake.open_issue(request).issue
    for n in range(MAX_VISIBILITY_CHECKS + 20):
        _rude_staff(w, f"Shouted at me, {n}")
    lee = World.agent("lee", "logistics")

    first = w.services.issue_search.page(lee, {"limit": "5"})
    assert first.issues == [] and first.cursor
    assert [r for page in _walk(w, lee, limit="5") for r in page] == [late.reference]


def test_a_summary_says_what_the_issue_is():
    w = world()
    issue = _enquiry(w, "Opening hours", name="Ada Lovelace")
    [summary] = w.services.issue_search.search(SUE, {"q": "hours"})["issues"]
    assert summary == {
        "id": issue.id,
        "reference": issue.reference,
        "type": "general-enquiry",
        "type_name": summary["type_name"],
        "status": "open",
        "channel": "web",
        "current_step": "",
        "opened_at": issue.created_at.isoformat(),
        "customer_name": "Ada Lovelace",
    }
    assert summary["type_name"] and summary["type_name"] != "general-enquiry"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"q": "the and"}, "q"),
        ({"status": "pending"}, "status"),
        ({"opened_after": "yesterday"}, "opened_after"),
        ({"opened_after": "2026-12-06", "opened_before": "2026-12-01"}, "opened_before"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_a_search_it_cannot_run_is_refused_naming_the_criterion(params, field):
    w = world()
    with pytest.raises(ValidationFailed) as refused:
        w.services.issue_search.search(SUE, params)
    assert field in [e.field for e in refused.value.errors]


def test_a_cursor_only_continues_the_search_that_gave_it():
    w = world()
    for n in range(3):
        _enquiry(w, f"Question {n}")
    cursor = w.services.issue_search.search(SUE, {"q": "question", "limit": "1"})["cursor"]
    assert cursor
    with pytest.raises(ValidationFailed):
        w.services.issue_search.search(SUE, {"q": "other", "limit": "1", "cursor": cursor})
    assert len(w.services.issue_search.search(SUE, {"q": "question", "limit": "2", "cursor": cursor})["issues"]) == 2
