"""Queues with scopes, filters, cursors and counts; claim, release, reassign; an untouched claim's
return: through HTTP on moto (decision 0026). The stack is shared, so assertions look at this
module's own issues, and counts at how they change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.tasks import TaskRepository
from chalicelib.domain import claims
from chalicelib.services.workflow.checkpoints import SWEEP_GRACE
from tests.integration.conftest import sent_emails

NO_MANAGER = "manchester-arndale"  # the store's task goes to the store-manager role
SAMS_STORE = "leeds-briggate"  # the store's task goes to sam himself


def _report(stack, store: str, email: str) -> str:
    opened = stack.open_issue(
        "rude-staff",
        {"store": store, "incident_date": "2026-12-01", "what_happened": "The cashier shouted at me."},
        email,
    )
    assert opened.status_code == 201, opened.body
    return opened.json_body["id"]


def _page(stack, username: str, query: str = "") -> dict:
    response = stack.get(f"/agent/tasks?{query}", stack.token(username))
    assert response.status_code == 200, response.body
    return response.json_body


def _hr_task(stack, email: str) -> dict:
    """A rude-staff report past the store manager's opinion: its HR decision, in role hr's queue."""
    issue_id = _report(stack, NO_MANAGER, email)
    opinion = stack.wait_for_task("sam", issue_id, "manager_opinion")
    stack.complete("sam", opinion, {"manager_opinion": "Our cashier admits raising her voice."})
    return stack.wait_for_task("hana", issue_id, "hr_decision")


def _ours(tasks: list[dict], issue_ids: set[str]) -> list[str]:
    return [t["issue_id"] for t in tasks if t["issue_id"] in issue_ids]


def test_sams_queue_by_scope_with_filters_and_counts(stack):
    for_role = {_report(stack, NO_MANAGER, f"scope{i}@example.com") for i in range(2)}
    for_sam = {_report(stack, SAMS_STORE, "scope-sam@example.com")}
    for issue_id in for_role | for_sam:
        stack.wait_for_task("sam", issue_id, "manager_opinion")
    ours = for_role | for_sam

    assert set(_ours(stack.tasks("sam", "scope=mine"), ours)) == for_sam
    assert set(_ours(stack.tasks("sam", "scope=available"), ours)) == for_role
    assert set(_ours(stack.tasks("sam"), ours)) == ours, "no scope: mine and available"
    counts = _page(stack, "sam")["counts"]
    assert counts["mine"] == len(stack.tasks("sam", "scope=mine")) >= 1
    assert counts["available"] == len(stack.tasks("sam", "scope=available")) >= 2
    # demo-quick's ladder hands the first-line agents' late tasks to store managers: sam leads `agent`.
    assert counts["team"] == len(stack.tasks("sam", "scope=team"))
    assert not set(_ours(stack.tasks("sam", "scope=team"), ours)), "his own role's work is not his team's"

    page = _page(stack, "sam", "limit=200")
    moments = [t["next_checkpoint_at"] or t["due_at"] for t in page["tasks"]]
    assert moments == sorted(moments), "soonest checkpoint first"
    [entry] = [t for t in page["tasks"] if t["issue_id"] in for_sam]
    assert entry["form"]["id"] == "manager_opinion" and entry["issue"]["type"] == "rude-staff"

    assert set(_ours(stack.tasks("sam", "type=rude-staff&step=manager_opinion"), ours)) == ours
    assert _ours(stack.tasks("sam", "type=fast-test"), ours) == []
    assert _ours(stack.tasks("sam", "overdue=true"), ours) == []
    assert _ours(stack.tasks("sam", "due_before=2026-01-01T00:00:00Z"), ours) == []
    assert set(_ours(stack.tasks("sam", "due_before=2099-01-01T00:00:00Z"), ours)) == ours
    refused = stack.get("/agent/tasks?scope=everyone&limit=0", stack.token("sam"))
    assert refused.status_code == 400
    assert {e["field"] for e in refused.json_body["errors"]} == {"scope", "limit"}


def test_a_cursor_walk_returns_each_task_exactly_once(stack):
    ours = {_report(stack, NO_MANAGER, f"walk{i}@example.com") for i in range(5)}
    for issue_id in ours:
        stack.wait_for_task("sam", issue_id, "manager_opinion")

    first = _page(stack, "sam", "scope=available&limit=2")
    assert len(first["tasks"]) == 2 and first["next_cursor"] and first["counts"]["available"] >= 5
    walked = stack.tasks("sam", "scope=available&limit=2")

    ids = [t["id"] for t in walked]
    assert len(ids) == len(set(ids)), "no task twice"
    assert set(_ours(walked, ours)) == ours
    other = stack.get(f"/agent/tasks?scope=mine&cursor={first['next_cursor']}", stack.token("sam"))
    assert other.status_code == 400, "a cursor works only with the request it came from"
    assert _page(stack, "sam", f"scope=available&limit=2&cursor={first['next_cursor']}")["counts"] is None


def test_two_claims_at_once_one_wins_then_release_puts_it_back(stack, monkeypatch):
    task = _hr_task(stack, "claims@example.com")
    real_claim = claims.claim
    raced: list[str] = []

    def claim_raced(current, agent, return_at):
        """Another claim of the task (hana's, from her other tab) is written between our read and write."""
        if not raced:
            raced.append(current.holder)
            bootstrap.services().claims.claim(current.id, agent)
        return real_claim(current, agent, return_at)

    monkeypatch.setattr(claims, "claim", claim_raced)
    lost = stack.post(f"/agent/tasks/{task['id']}/claim", None, stack.token("hana"))
    monkeypatch.undo()

    assert raced == ["role:hr"] and lost.status_code == 409, "the write that lost is decided again: taken"
    assert "you hold it already" in lost.json_body["message"]
    mine = stack.tasks("hana", "scope=mine")
    assert [t["assignee"] for t in mine if t["id"] == task["id"]] == [{"kind": "user", "name": "hana"}]
    assert task["id"] not in {t["id"] for t in stack.tasks("hana", "scope=available")}
    assert stack.post(f"/agent/tasks/{task['id']}/claim", None, stack.token("sam")).status_code == 409
    assert stack.post(f"/agent/tasks/{task['id']}/claim", None, stack.token("lee")).status_code == 404, "not his"
    assert stack.post(f"/agent/tasks/{task['id']}/release", None, stack.token("harry")).status_code == 403

    released = stack.post(f"/agent/tasks/{task['id']}/release", None, stack.token("hana"))
    assert released.status_code == 200 and released.json_body["assignee"] == {"kind": "role", "name": "hr"}
    assert task["id"] in {t["id"] for t in stack.tasks("hana", "scope=available")}
    kinds = [e["kind"] for e in stack.issue(task["issue_id"], "hana")["timeline"]]
    assert kinds.count("task_claimed") == 1 and kinds.count("task_released") == 1


def test_harry_sees_his_teams_work_and_reassigns_hanas_task_to_a_role_whose_members_are_emailed(stack):
    claimed, waiting = _hr_task(stack, "team1@example.com"), _hr_task(stack, "team2@example.com")
    assert stack.post(f"/agent/tasks/{claimed['id']}/claim", None, stack.token("hana")).status_code == 200

    team = {t["id"]: t for t in stack.tasks("harry", "scope=team")}
    assert team[claimed["id"]]["assignee"] == {"kind": "user", "name": "hana"}, "claimed by a member of hr"
    assert team[waiting["id"]]["assignee"] == {"kind": "role", "name": "hr"}
    assert _page(stack, "harry", "scope=team")["counts"]["team"] >= 2
    assert claimed["id"] not in {t["id"] for t in stack.tasks("harry")}, "his own queue is his own work"

    url = f"/agent/tasks/{claimed['id']}/reassign"
    body = {"to": {"role": "hr-lead"}, "reason": "Needs a lead's decision: a repeat complaint"}
    assert stack.post(url, body, stack.token("hana")).status_code == 403, "hana leads nobody"
    not_member = stack.post(url, {"to": {"user": "sam"}, "reason": "x"}, stack.token("harry"))
    assert not_member.status_code == 400 and "not in hr" in not_member.json_body["errors"][0]["message"]
    moved = stack.post(url, body, stack.token("harry"))

    assert moved.status_code == 200 and moved.json_body["assignee"] == {"kind": "role", "name": "hr-lead"}
    reference = stack.issue(claimed["issue_id"], "harry")["reference"]
    assert [m for m in sent_emails("harry@agents.caseflow.test") if reference in m["subject"]]
    assert claimed["id"] in {t["id"] for t in stack.tasks("harry", "scope=available")}
    [entry] = [e for e in stack.issue(claimed["issue_id"], "hana")["timeline"] if e["kind"] == "task_reassigned"]
    assert entry["actor"] == "harry" and entry["text"].endswith("from hana to hr-lead: " + body["reason"])
    assert stack.get(f"/agent/issues/{claimed['issue_id']}", stack.token("hana")).status_code == 200


def test_an_untouched_claim_goes_back_to_the_queue_once_on_the_sla_sweep(stack):
    task = _hr_task(stack, "returns@example.com")
    assert stack.post(f"/agent/tasks/{task['id']}/claim", None, stack.token("hana")).status_code == 200
    stored = TaskRepository().get(task["issue_id"], "hr_decision")
    assert stored.return_at is not None and stored.return_at > datetime.now(UTC)
    assert stored.id in {t.id for t in TaskRepository().due(stored.return_at)}, "in the sweep's due index"
    sweep_at = stored.return_at + SWEEP_GRACE + timedelta(minutes=1)

    bootstrap.services().checkpoints.reconcile_due(sweep_at)
    bootstrap.services().checkpoints.reconcile_due(sweep_at)

    back = TaskRepository().get(task["issue_id"], "hr_decision")
    assert (back.holder, back.claimed_from, back.return_at) == ("role:hr", "", None)
    timeline = stack.issue(task["issue_id"], "hana")["timeline"]
    assert [e["text"] for e in timeline if e["kind"] == "task_returned"] == [
        "HR decision: back to hr: hana had not touched it since claiming it"
    ]
    assert task["id"] in {t["id"] for t in stack.tasks("hana", "scope=available")}
