"""Similar resolved issues through HTTP on moto, with the sentence encoder the app is wired with
(decision 0043): resolving issues keeps their vectors, and an agent asking about an issue gets the
nearest resolved ones of its type that they may see, with how each was resolved.

The test type's one step is held by `lee` for the `north` desk and by billing otherwise, so lee
sees the north desk's issues (he holds their tasks) and no other; sue, a supervisor, sees all.
"""

from __future__ import annotations

import pytest

from chalicelib.adapters.sentence_encoder import encoder_available
from tests.fakes import HashedWordsEncoder
from tests.integration.test_desk_pages import Browser, text


def _type(type_id: str) -> dict:
    return {
        "id": type_id,
        "name": f"Similar issues test ({type_id})",
        "fields": [
            {"id": "details", "label": "What happened", "type": "long_text", "required": True},
            {
                "id": "desk",
                "label": "Desk",
                "type": "choice",
                "required": True,
                "options": [
                    {"value": "north", "label": "North desk", "manager": "lee"},
                    {"value": "south", "label": "South desk"},
                ],
            },
        ],
        "steps": [
            {
                "id": "fix",
                "name": "Fix it",
                "assignee": {"field": "desk", "attribute": "manager", "otherwise": {"role": "billing"}},
                "deadline": "PT1H",
                "fields": [{"id": "fix", "label": "What we did", "type": "long_text", "required": True}],
            },
            {
                "id": "tell",
                "name": "Tell the customer",
                "kind": "email_customer",
                "subject": "About {{ issue.reference }}",
                "body": "What we did: {{ results.fix.fix }}",
            },
        ],
    }


TYPE, OTHER = "similar-test", "similar-other"


@pytest.fixture(scope="module")
def similar(stack, request):
    stack.services.issue_types.publish(_type(TYPE))
    stack.services.issue_types.publish(_type(OTHER))
    if not encoder_available():  # the encoder's module is not in this build: the fake stands in
        patch = pytest.MonkeyPatch()
        patch.setattr(stack.services.similar_issues, "_encoder", HashedWordsEncoder())
        request.addfinalizer(patch.undo)
    return stack


def _open(stack, type_id: str, details: str, desk: str = "south") -> str:
    opened = stack.open_issue(type_id, {"details": details, "desk": desk}, "similar.customer@example.com")
    assert opened.status_code == 201, opened.body
    return opened.json_body["id"]


def _resolved(stack, type_id: str, details: str, fix: str, desk: str = "south") -> str:
    issue_id = _open(stack, type_id, details, desk)
    holder = "lee" if desk == "north" else "bella"
    stack.complete(holder, stack.wait_for_task(holder, issue_id, "fix"), {"fix": fix})
    stack.wait_for(lambda: stack.issue(issue_id)["status"] == "resolved", what=f"{issue_id} resolved")
    return issue_id


def _similar(stack, issue_id: str, username: str = "sue"):
    return stack.get(f"/agent/issues/{issue_id}/similar", stack.token(username))


def test_the_nearest_resolved_issues_of_the_type_that_the_agent_may_see_come_first(similar):
    stack = similar
    vase = _resolved(
        stack, TYPE, "The glass vase in my parcel arrived smashed to pieces.", "Sent a new vase by courier."
    )
    invoice = _resolved(stack, TYPE, "My invoice charged me twice for the same month.", "Refunded the double charge.")
    rude = _resolved(stack, TYPE, "The delivery driver was rude and shouted at me.", "Apologised; driver coached.")
    north = _resolved(stack, TYPE, "The invoice total is wrong, too much VAT.", "Corrected the VAT.", desk="north")
    other_type = _resolved(stack, OTHER, "The glass vase in my parcel arrived smashed.", "Replaced it.")
    unresolved = _open(stack, TYPE, "A glass vase in the parcel arrived smashed.")
    asked = _open(stack, TYPE, "The vase I ordered came broken, the glass was smashed in the parcel.")

    answer = _similar(stack, asked)
    assert answer.status_code == 200, answer.body
    found = answer.json_body["similar"]
    ids = [s["id"] for s in found]
    assert ids[0] == vase
    assert set(ids) == {vase, invoice, rude, north}
    assert other_type not in ids and unresolved not in ids and asked not in ids
    first = found[0]
    assert first["steps"][0]["answers"] == [
        {"id": "fix", "label": "What we did", "value": "Sent a new vase by courier."}
    ]
    assert "Sent a new vase by courier." in first["reply"]["body"]
    assert first["summary"].startswith("The glass vase in my parcel arrived smashed to pieces.")
    assert first["resolved_at"] and first["reference"].startswith("CF-")
    assert found[0]["similarity"] >= found[1]["similarity"]

    sue = Browser(stack)
    assert sue.sign_in("sue").status_code == 303
    reference = stack.issue(asked)["reference"]
    page = text(sue.get(f"/desk/issues/{reference}"))
    assert "Similar resolved issues" in page and first["reference"] in page and "Sent a new vase by courier." in page

    itself = _similar(stack, vase).json_body["similar"]
    assert vase not in [s["id"] for s in itself]

    # lee holds the north desk's tasks only: he sees the north issue among the neighbours, no other
    about_north = _open(stack, TYPE, "The glass vase arrived smashed.", desk="north")
    stack.wait_for_task("lee", about_north, "fix")
    assert [s["id"] for s in _similar(stack, about_north, "lee").json_body["similar"]] == [north]
    assert _similar(stack, asked, "lee").status_code == 404


def test_an_unknown_issue_is_not_found(similar):
    assert _similar(similar, "01JUNKNOWNISSUE000000000000").status_code == 404


def test_without_an_encoder_the_answer_and_the_desk_say_so(similar, monkeypatch):
    stack = similar
    asked = _open(stack, TYPE, "The vase arrived broken.")
    assert _similar(stack, asked).json_body["encoder_available"] is True
    monkeypatch.setattr(stack.services.similar_issues, "_encoder", None)
    answer = _similar(stack, asked).json_body
    assert answer["encoder_available"] is False and answer["similar"] == []
    sue = Browser(stack)
    assert sue.sign_in("sue").status_code == 303
    page = text(sue.get(f"/desk/issues/{stack.issue(asked)['reference']}"))
    assert "this deployment has no sentence encoder" in page
