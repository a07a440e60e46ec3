"""Two customer replies to a just-resolved issue, arriving together, reopen it once.

The race is made deterministic: both replies read the issue while it is still resolved, and only
then does either write (the second delivery's reads are held at the state before the first one's).
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from chalicelib.adapters.dynamodb.issues import IssueRepository
from tests.integration.test_email_channel import email, resolved_by_email


@contextmanager
def reads_from_before(monkeypatch: pytest.MonkeyPatch, issue_id: str):
    """Every read of the issue answers what it was on entering, as for a reply that read it before
    a concurrent one changed it."""
    read = IssueRepository.get
    before = read(IssueRepository(), issue_id)
    with monkeypatch.context() as patched:
        patched.setattr(
            IssueRepository, "get", lambda self, wanted: before if wanted == issue_id else read(self, wanted)
        )
        yield


def executions_of(stack, issue_id: str) -> list[str]:
    return sorted(
        e["name"]
        for m in stack.sfn.list_state_machines()["stateMachines"]
        for e in stack.sfn.list_executions(stateMachineArn=m["stateMachineArn"])["executions"]
        if e["name"] == issue_id or e["name"].startswith(f"{issue_id}-")
    )


def test_two_replies_racing_to_a_resolved_issue_reopen_it_once(stack, monkeypatch):
    received = resolved_by_email(stack, "racing.replies@example.com")
    issue_id, subject = received["issue_id"], f"Re: Gift card balance [{received['reference']}]"
    first, _ = email("racing.replies@example.com", subject, "It still says zero.")
    second, _ = email("racing.replies@example.com", subject, "Also, the card number is on the back.")

    with reads_from_before(monkeypatch, issue_id):
        assert stack.deliver_email(first)["outcome"] == "reopened"
        assert stack.deliver_email(second)["issue_id"] == issue_id

    issue = stack.issue(issue_id)
    kinds = [e["kind"] for e in issue["timeline"]]
    assert kinds.count("issue_reopened") == 1, "the issue was reopened twice"
    messages = [e["text"] for e in issue["timeline"] if e["kind"] == "customer_message"]
    assert "It still says zero." in messages and "Also, the card number is on the back." in messages
    assert issue["status"] == "open"
    assert executions_of(stack, issue_id) == [issue_id, f"{issue_id}-2"]
    task = stack.pump_until(lambda: stack.task_for("alice", issue_id, "answer"), what="the second run's task")
    assert task["status"] == "open"


def test_an_agent_reopening_an_issue_a_reply_just_reopened_gets_a_conflict(stack, monkeypatch):
    received = resolved_by_email(stack, "reply.then.agent@example.com")
    issue_id = received["issue_id"]
    reply, _ = email("reply.then.agent@example.com", f"Re: Gift card balance [{received['reference']}]", "Again!")

    with reads_from_before(monkeypatch, issue_id):
        assert stack.deliver_email(reply)["outcome"] == "reopened"
        late = stack.post(f"/agent/issues/{issue_id}/reopen", {"reason": "customer called"}, stack.token("alice"))

    assert late.status_code == 409, late.body
    kinds = [e["kind"] for e in stack.issue(issue_id)["timeline"]]
    assert kinds.count("issue_reopened") == 1
    assert executions_of(stack, issue_id) == [issue_id, f"{issue_id}-2"]
