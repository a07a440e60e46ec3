"""An agent records what a customer told them outside Caseflow: how it reached us is one we know."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import ValidationFailed
from tests.unit.wiring import world

ENQUIRY = {
    "type": "general-enquiry",
    "customer": {"email": "ada@example.com", "name": "Ada"},
    "fields": {"subject": "Opening hours", "message": "Are you open on Sunday?"},
}


@pytest.mark.parametrize("channel", [False, 0, "", ["phone"], "fax"])
def test_a_recorded_customer_message_names_a_channel_we_know_or_none(channel):
    w = world()
    issue = w.services.intake.open_issue(ENQUIRY).issue
    with pytest.raises(ValidationFailed) as refused:
        w.services.completions.record_customer_message(issue.id, "She called back.", channel, w.agent("alice"))
    assert [e.field for e in refused.value.errors] == ["channel"]
    assert w.issues.events(issue.id, "customer_message") == [], "nothing is recorded"
