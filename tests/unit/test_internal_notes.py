"""Internal notes: the team's words on an issue, never the customer's to read; `@name` reaches a colleague."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.services.notes import mentions
from tests.unit.wiring import world

ENQUIRY = {
    "type": "general-enquiry",
    "customer": {"email": "ada@example.com", "name": "Ada"},
    "fields": {"subject": "Opening hours", "message": "Are you open on Sunday?"},
}


def test_a_note_is_on_the_agents_timeline_and_emails_the_colleague_it_mentions():
    w = world()
    w.directory.add("bob", "bob@caseflow.test", "agent")
    w.directory.add("hana", "hana@caseflow.test", "hr")
    issue = w.services.intake.open_issue(ENQUIRY).issue

    note = w.services.notes.add(issue.id, "@bob please check her order first. @hana @nobody?", w.agent("sam"))

    [stored] = w.issues.events(issue.id, "internal_note")
    assert (stored.actor, stored.text) == ("sam", "@bob please check her order first. @hana @nobody?")
    assert stored.data["mentions"] == ["bob"] and note["unknown_mentions"] == ["nobody"]
    [sent] = w.mailer.to("bob@caseflow.test")
    assert sent.subject == f"sam mentioned you on {issue.reference}"
    assert "please check her order first" in sent.body
    assert w.mailer.to("ada@example.com") == [], "the customer never gets a note"


def test_a_mention_of_someone_who_may_not_see_the_issue_emails_them_nothing():
    w = world()
    w.directory.add("hana", "hana@caseflow.test", "hr")
    issue = w.services.intake.open_issue(ENQUIRY).issue

    note = w.services.notes.add(issue.id, "@hana the customer's order is late", w.agent("sam"))

    assert note["mentions_who_cannot_see_it"] == ["hana"] and note["data"]["mentions"] == []
    assert w.mailer.to("hana@caseflow.test") == [], "a general enquiry is not HR's to read"


def test_a_note_never_reaches_the_customers_status_page():
    w = world()
    issue = w.services.intake.open_issue(ENQUIRY).issue
    w.services.notes.add(issue.id, "Customer sounds upset; be gentle.", w.agent("sam"))

    token = w.services.status_links.link_for(issue.id).rpartition("/s/")[2]
    page = w.services.status_pages.view(token)
    assert all("upset" not in str(entry) for entry in page["timeline"])


def test_a_note_needs_text_and_an_issue():
    w = world()
    issue = w.services.intake.open_issue(ENQUIRY).issue
    with pytest.raises(ValidationFailed) as refused:
        w.services.notes.add(issue.id, "   ", w.agent("sam"))
    assert [e.field for e in refused.value.errors] == ["text"]
    with pytest.raises(NotFound):
        w.services.notes.add("no-such-issue", "hello", w.agent("sam"))


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("@hana and @harry.", ["hana", "harry"]),
        ("mail jo@example.com, not a mention", []),
        ("@hana @hana twice", ["hana"]),
        ("(@lee)", ["lee"]),
    ],
)
def test_mentions_are_usernames_after_an_at_sign_not_email_addresses(text, named):
    assert mentions(text) == named

