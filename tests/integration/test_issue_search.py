"""Searching issues on moto: `GET /agent/issues` with each criterion alone and together, words in
several languages, a cursor walk, the agent's visibility, the index following a change of type,
and what one search costs in DynamoDB requests (no Scan).

The stack is shared with the package's other tests: every search here names this module's own
marker word or customers, or starts at the moment its issues opened.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlencode

import botocore.endpoint
import pytest

MARKER = f"mk{uuid.uuid4().hex[:10]}"


def _search(stack, username: str = "sue", **params: str) -> dict[str, Any]:
    response = stack.get(f"/agent/issues?{urlencode(params)}", stack.token(username))
    assert response.status_code == 200, stack.text_of(response)
    return stack.json_of(response)


def _references(stack, username: str = "sue", **params: str) -> list[str]:
    return [i["reference"] for i in _search(stack, username, **params)["issues"]]


def _opened(stack, type_id: str, fields: dict[str, Any], email: str, name: str) -> dict[str, Any]:
    response = stack.open_issue(type_id, fields, email, name=name)
    assert response.status_code == 201, stack.text_of(response)
    return stack.json_of(response)


@pytest.fixture(scope="module")
def issues(stack) -> dict[str, Any]:
    """Four issues of different types, channels, languages and customers, oldest first."""
    started = datetime.now(UTC) - timedelta(seconds=1)
    enquiry = _opened(
        stack,
        "general-enquiry",
        {"subject": f"Müdür {MARKER}", "message": f"Şube müdürü {MARKER} hakkında bir sorum var"},
        f"zeynep-{MARKER}@example.com",
        "Zeynep Yılmaz",
    )
    late = _opened(
        stack,
        "late-delivery",
        {
            "order_number": "AB123456",
            "promised_date": date.today().isoformat(),
            "what_happened": f"Le colis {MARKER} n'est pas arrivé au CAFÉ",
        },
        f"jean-{MARKER}@example.com",
        "Jean Dupont",
    )
    rude = _opened(
        stack,
        "rude-staff",
        {
            "store": "manchester-arndale",
            "incident_date": date.today().isoformat(),
            "what_happened": f"{MARKER}: the cashier in İSTANBUL Road shouted at me",
        },
        f"rex-{MARKER}@example.com",
        "Rex Roe",
    )
    message = EmailMessage()
    message["From"], message["To"] = f"mail-{MARKER}@example.com", "support@caseflow.test"
    message["Subject"], message["Message-ID"] = f"Gift card {MARKER}", make_msgid(domain="example.com")
    message.set_content("How do I check the balance of my gift card?")
    received = stack.deliver_email(message.as_bytes())
    assert received["outcome"] == "opened", received
    by_email = stack.issue(received["issue_id"])
    stack.wait_for_task("lee", late["id"])
    return {"started": started, "enquiry": enquiry, "late": late, "rude": rude, "email": by_email}


def test_words_find_issues_in_any_language_newest_first(stack, issues):
    enquiry, late, rude, by_email = (issues[k]["reference"] for k in ("enquiry", "late", "rude", "email"))

    assert _references(stack, q=MARKER) == [by_email, rude, late, enquiry]
    assert _references(stack, q=f"MUDUR {MARKER}") == [enquiry]
    assert _references(stack, q=f"istanbul {MARKER}") == [rude]
    assert _references(stack, q=f"cafe arrive {MARKER.upper()}") == [late]
    assert _references(stack, q=f"cafe mudur {MARKER}") == []


def test_each_criterion_alone(stack, issues):
    enquiry, late, rude, by_email = (issues[k]["reference"] for k in ("enquiry", "late", "rude", "email"))
    since = issues["started"].isoformat()

    assert _references(stack, reference=rude) == [rude]
    assert _references(stack, reference=rude.lower()) == [rude]
    assert _references(stack, email=f"JEAN-{MARKER}@example.com") == [late]
    assert _references(stack, name="yilmaz ZEYNEP") == [enquiry]
    assert _references(stack, type="late-delivery", opened_after=since) == [late]
    assert _references(stack, channel="email", opened_after=since) == [by_email]
    assert _references(stack, holder="role:logistics", opened_after=since) == [late]
    assert _references(stack, step="courier_check", opened_after=since) == [late]
    assert set(_references(stack, status="open", opened_after=since)) >= {enquiry, late, rude, by_email}
    assert _references(stack, status="resolved", q=MARKER) == []
    opened_at = {i["reference"]: i["opened_at"] for i in _search(stack, q=MARKER)["issues"]}
    assert _references(stack, opened_after=opened_at[late], opened_before=opened_at[by_email], q=MARKER) == [
        rude,
        late,
    ]


def test_criteria_together(stack, issues):
    late, rude = issues["late"]["reference"], issues["rude"]["reference"]

    assert _references(stack, q=MARKER, type="rude-staff", channel="web", status="open") == [rude]
    assert _references(stack, q=MARKER, holder="role:logistics", step="courier_check") == [late]
    assert _references(stack, q="istanbul", type="late-delivery", opened_after=issues["started"].isoformat()) == []
    assert _references(stack, email=f"rex-{MARKER}@example.com", type="rude-staff", q="cashier") == [rude]
    assert _references(stack, reference=rude, channel="email") == []


def test_a_cursor_walk_returns_every_match_once(stack, issues):
    mine = {issues[k]["reference"] for k in ("enquiry", "late", "rude", "email")}
    for params in ({"q": MARKER, "limit": "1"}, {"opened_after": issues["started"].isoformat(), "limit": "2"}):
        seen, cursor = [], None
        while True:
            answer = _search(stack, **params, **({"cursor": cursor} if cursor else {}))
            assert len(answer["issues"]) <= int(params["limit"])
            seen += [i["reference"] for i in answer["issues"]]
            if not (cursor := answer["cursor"]):
                break
        assert len(seen) == len(set(seen)) and mine <= set(seen)
        opened = [i for i in seen if i in mine]
        assert opened == [issues[k]["reference"] for k in ("email", "rude", "late", "enquiry")]


def test_a_summary_names_the_type_step_and_customer(stack, issues):
    [summary] = _search(stack, reference=issues["late"]["reference"])["issues"]
    assert summary["id"] == issues["late"]["id"]
    assert (summary["type"], summary["type_name"], summary["status"], summary["channel"]) == (
        "late-delivery",
        "Late delivery",
        "open",
        "web",
    )
    assert summary["current_step"] == "courier_check" and summary["customer_name"] == "Jean Dupont"


def test_an_agent_finds_only_what_they_may_see(stack, issues):
    late, rude = issues["late"]["reference"], issues["rude"]["reference"]

    assert _references(stack, "lee", q=MARKER) == [late]
    assert _references(stack, "lee", reference=rude) == []
    assert _references(stack, "lee", q=f"istanbul {MARKER}") == []
    assert rude in _references(stack, "hana", q=MARKER) and late not in _references(stack, "hana", q=MARKER)


def test_bad_criteria_are_a_400_naming_them(stack, issues):
    for params, field in (({"colour": "red"}, "colour"), ({"cursor": "x"}, "cursor"), ({"limit": "500"}, "limit")):
        response = stack.get(f"/agent/issues?{urlencode(params)}", stack.token("sue"))
        assert response.status_code == 400 and field in [e["field"] for e in stack.json_of(response)["errors"]]
    assert stack.get("/agent/issues").status_code == 401


def test_a_search_costs_one_query_of_the_index_and_no_scan(stack, issues):
    calls: Counter[str] = Counter()
    original = botocore.endpoint.Endpoint.make_request

    def counting(self: Any, operation_model: Any, request_dict: dict[str, Any]) -> Any:
        if threading.current_thread() is threading.main_thread():
            calls[f"{operation_model.service_model.service_name}.{operation_model.name}"] += 1
        return original(self, operation_model, request_dict)

    stack.token("sue")
    botocore.endpoint.Endpoint.make_request = counting
    try:
        assert len(_search(stack, q=MARKER)["issues"]) == 4
        words = dict(calls)
        calls.clear()
        assert len(_search(stack, type="late-delivery", opened_after=issues["started"].isoformat())["issues"]) == 1
        listing = dict(calls)
    finally:
        botocore.endpoint.Endpoint.make_request = original
    dynamodb = {k: v for k, v in words.items() if k.startswith("dynamodb.")}
    assert dynamodb.get("dynamodb.Query") == 1 and dynamodb.get("dynamodb.BatchGetItem") == 2, words
    assert not any("Scan" in call for call in [*words, *listing]), (words, listing)
    assert listing.get("dynamodb.Query") == 1, listing


def test_the_index_follows_a_change_of_type(stack, issues):
    """The new type keeps the customer's words (the message) but has no subject field: the issue is
    found under its new type by the words it kept, and no longer by its subject's."""
    enquiry = issues["enquiry"]
    response = stack.post(f"/agent/issues/{enquiry['id']}/type", {"type": "billing-dispute"}, stack.token("alice"))
    assert response.status_code == 200, stack.text_of(response)

    assert _references(stack, q=f"muduru {MARKER}", type="billing-dispute") == [enquiry["reference"]]
    assert _references(stack, q=f"muduru {MARKER}", type="general-enquiry") == []
    assert _references(stack, q=f"mudur {MARKER}") == []
    assert _references(stack, type="billing-dispute", opened_after=issues["started"].isoformat()) == [
        enquiry["reference"]
    ]


def test_the_backfill_indexes_an_issue_written_before_the_search_existed(stack):
    from chalicelib.adapters.dynamodb.issues import _issue
    from chalicelib.adapters.dynamodb.models import IssueItem, SearchEntryItem
    from chalicelib.adapters.dynamodb.search_backfill import backfill
    from chalicelib.adapters.dynamodb.search_entries import entry_partitions
    from chalicelib.domain.issue_search import position

    word = f"old{uuid.uuid4().hex[:10]}"
    old = _opened(
        stack, "general-enquiry", {"subject": "Old", "message": f"An {word} question"}, f"{word}@x.test", "Olga"
    )
    item = IssueItem.get(f"ISSUE#{old['id']}", "ISSUE")
    issue = _issue(item)
    for pk in entry_partitions(issue, "Olga"):  # as an issue opened before this change: no entries, no gsi5 keys
        SearchEntryItem(pk, f"OPENED#{position(issue.created_at, issue.id)}").delete()
    item.update(actions=[IssueItem.gsi5pk.remove(), IssueItem.gsi5sk.remove()])
    since = (issue.created_at - timedelta(seconds=1)).isoformat()
    assert _references(stack, q=word) == [] and old["reference"] not in _references(stack, opened_after=since)

    assert backfill() >= 1

    assert _references(stack, q=word) == [old["reference"]] == _references(stack, name="olga", q=word)
    assert old["reference"] in _references(stack, type="general-enquiry", opened_after=since)
