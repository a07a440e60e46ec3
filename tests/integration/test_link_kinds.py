"""Status, survey and task links are signed with one secret: each is refused where another kind belongs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib import bootstrap
from chalicelib.web_tokens import signed_links
from tests.integration.test_status_and_surveys import open_enquiry


def test_a_genuine_link_of_one_kind_does_not_open_a_page_of_another(stack):
    issue_id = open_enquiry(stack, "link-kinds@example.com")["id"]
    task = stack.pump_until(lambda: stack.task_for("alice", issue_id, "answer"), what="the answer task")
    services, now = bootstrap.services(), datetime.now(UTC)
    secret = services.link_secret()
    holder = f"{task['assignee']['kind']}:{task['assignee']['name']}"  # what TaskLinks signs
    tokens = {
        "/s/": services.status_links.link_for(issue_id).rpartition("/s/")[2],
        "/survey/": services.surveys.link(issue_id, "csat", 5).rpartition("/survey/")[2],
        "/t/": signed_links.sign({"task": task["id"], "holder": holder}, secret, now + timedelta(days=1)),
    }
    for token in tokens.values():  # genuine and unexpired: only their kind can stop them
        signed_links.verify(token, secret, now)
    assert stack.client.http.get(f"/s/{tokens['/s/']}").status_code == 200
    assert stack.client.http.get(f"/t/{tokens['/t/']}").status_code == 200

    for path in tokens:
        for kind, token in tokens.items():
            if kind != path:
                assert stack.client.http.get(f"{path}{token}").status_code == 404, f"{kind} link opened {path}"
    assert not [e for e in stack.issue(issue_id)["timeline"] if e["kind"] == "survey_answered"]
