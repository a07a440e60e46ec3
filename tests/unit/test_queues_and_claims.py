"""Queues, claims and an untouched claim's return: the rules (`domain.claims`, `domain.queues`) and
the services on fakes, wired by the real composition root (decision 0026)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import claims, queues
from chalicelib.domain import tasks as rules
from chalicelib.domain.agents import Agent
from chalicelib.domain.assignees import Holder
from chalicelib.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.domain.issue_types import parse_issue_type, with_shared_calendars
from chalicelib.domain.queues import Partition, QueueFilter, QueueRequest
from chalicelib.domain.tasks import Task
from chalicelib.workflows import compiler
from chalicelib.workflows.seeds import load_seed_definitions, load_shared_calendars
from tests.fakes import FakeTaskRepository
from tests.unit.wiring import World, world

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HANA = Agent("hana", "hana@caseflow.test", frozenset({"hr"}))
HOLLY = Agent("holly", "holly@caseflow.test", frozenset({"hr"}))
HARRY = Agent("harry", "harry@caseflow.test", frozenset({"hr-lead"}))
SAM = Agent("sam", "sam@caseflow.test", frozenset({"store-manager"}))


def _task(step: str = "hr_decision", holder: str = "role:hr", issue: str = "01ISSUE", **changes) -> Task:
    due = changes.pop("due_at", NOW + timedelta(hours=8))
    return Task(
        id=f"{issue}-{step}",
        issue_id=issue,
        step=step,
        status=rules.OPEN,
        holder=holder,
        due_at=due,
        schedule=(due - timedelta(hours=2), due, due + timedelta(hours=4)),
        **changes,
    )


# Claim, release, reassign: the rules


def test_a_member_claims_a_task_of_their_role_and_it_remembers_where_it_came_from():
    claimed = claims.claim(_task(), HANA, return_at=NOW + timedelta(hours=2))

    assert (claimed.holder, claimed.claimed_from) == ("user:hana", "role:hr")
    assert claimed.past_holders == ("role:hr",), "the role still sees the issue it worked on"
    assert claimed.return_at == NOW + timedelta(hours=2)


def test_a_claimed_task_cannot_be_claimed_again_and_a_non_member_may_not_claim():
    claimed = claims.claim(_task(), HANA, None)

    with pytest.raises(Conflict, match="hana claimed it first"):
        claims.claim(claimed, HOLLY, None)
    with pytest.raises(Conflict, match="you hold it already"):
        claims.claim(claimed, HANA, None)
    with pytest.raises(Forbidden, match="role 'hr', which you are not in"):
        claims.claim(_task(), SAM, None)


@pytest.mark.parametrize(
    ("holder", "why"),
    [("email:york.manager@stores.example", "outside party"), ("customer:01CUST", "customer's reply")],
)
def test_a_task_with_an_outside_partys_link_or_a_customer_wait_cannot_be_claimed(holder, why):
    with pytest.raises(Conflict, match=why):
        claims.claim(_task(holder=holder), HANA, None)


def test_a_finished_task_cannot_be_claimed_released_or_reassigned():
    done = replace(_task(), status=rules.COMPLETED)
    with pytest.raises(Conflict, match="completed"):
        claims.claim(done, HANA, None)
    with pytest.raises(Conflict, match="completed"):
        claims.release(done, HANA)
    with pytest.raises(Conflict, match="completed"):
        claims.reassign(done, Holder("role", "hr-lead"), None)
    with pytest.raises(NotFound):
        claims.claim(None, HANA, None)


def test_release_gives_the_task_back_to_the_queue_it_was_claimed_from():
    claimed = claims.claim(_task(), HANA, NOW)
    released = claims.release(claimed, HANA)

    assert (released.holder, released.claimed_from, released.return_at) == ("role:hr", "", None)
    assert released.past_holders == ("role:hr", "user:hana")
    with pytest.raises(Forbidden, match="only they can release it"):
        claims.release(claimed, HOLLY)
    with pytest.raises(Conflict, match="not claimed"):
        claims.release(released, HANA)
    with pytest.raises(Conflict, match="no queue to release it to"):
        claims.release(_task(holder="user:hana"), HANA)


def test_reassigning_to_a_member_keeps_the_group_to_return_to_and_to_a_role_moves_it_there():
    claimed = claims.claim(_task(), HANA, None)

    to_holly = claims.reassign(claimed, Holder("user", "holly"), NOW + timedelta(hours=1))
    assert (to_holly.holder, to_holly.claimed_from) == ("user:holly", "role:hr")
    assert to_holly.return_at == NOW + timedelta(hours=1)
    assert to_holly.past_holders == ("role:hr", "user:hana")
    to_lead = claims.reassign(to_holly, Holder("role", "hr-lead"), NOW)
    assert (to_lead.holder, to_lead.claimed_from, to_lead.return_at) == ("role:hr-lead", "", None)
    with pytest.raises(Conflict, match="held by hr-lead already"):
        claims.reassign(to_lead, Holder("role", "hr-lead"), None)
    with pytest.raises(Conflict, match="customer's reply"):
        claims.reassign(_task(holder="customer:01CUST"), Holder("role", "hr"), None)


def test_an_untouched_claim_goes_back_once_when_its_moment_comes():
    claimed = claims.claim(_task(), HANA, NOW + timedelta(hours=2))

    assert claims.return_untouched(claimed, NOW + timedelta(hours=1)) == claimed, "not yet"
    returned = claims.return_untouched(claimed, NOW + timedelta(hours=2))
    assert (returned.holder, returned.claimed_from, returned.return_at) == ("role:hr", "", None)
    assert claims.return_untouched(returned, NOW + timedelta(hours=9)) == returned, "once"
    later = claims.touched(claimed, NOW + timedelta(hours=5))
    assert later.return_at == NOW + timedelta(hours=5)
    assert claims.touched(later, NOW + timedelta(hours=3)) == later, "a touch never brings it earlier"


def test_the_sweep_looks_at_a_task_when_its_claim_returns_if_that_comes_before_its_next_checkpoint():
    task = _task()
    assert task.next_sweep_at == task.schedule[0]
    assert replace(task, return_at=NOW + timedelta(minutes=30)).next_sweep_at == NOW + timedelta(minutes=30)
    assert replace(task, return_at=NOW + timedelta(days=3)).next_sweep_at == task.schedule[0]


def test_an_escalation_that_reassigns_a_claimed_task_ends_the_claim_and_keeps_the_claimer_as_past_holder():
    claimed = claims.claim(_task(), HANA, NOW + timedelta(hours=2))
    escalated = rules.reach_missed(claimed, checkpoint=2, holder="role:hr-lead", level=1, breached=True).task

    assert (escalated.holder, escalated.claimed_from, escalated.return_at) == ("role:hr-lead", "", None)
    assert escalated.past_holders == ("role:hr", "user:hana")


# Leads, from the published escalation ladders


def _seed_types():
    return [parse_issue_type(with_shared_calendars(d, load_shared_calendars())) for d in load_seed_definitions()]


def test_groups_escalate_to_the_groups_their_steps_reassign_to():
    ladders = claims.escalations(_seed_types())

    assert "role:hr-lead" in ladders["role:hr"]
    assert "role:regional-manager" in ladders["role:store-manager"], "a field assignee's fallback group"
    assert "role:hr" in claims.led_groups(HARRY, ladders)
    assert "role:hr" not in claims.led_groups(HANA, ladders)


def test_only_a_lead_a_supervisor_or_an_admin_may_reassign():
    ladders = claims.escalations(_seed_types())
    step = next(t for t in _seed_types() if t.id == "rude-staff").step("hr_decision")
    task = claims.claim(_task(), HANA, None)
    leads = claims.lead_keys(task, step, ladders)

    claims.require_lead(HARRY, task, leads)
    claims.require_lead(Agent("sue", "sue@x.test", frozenset({"supervisor"})), task, leads)
    with pytest.raises(Forbidden, match="only a lead of hr"):
        claims.require_lead(HOLLY, task, leads)
    direct = _task(step="manager_opinion", holder="user:sam")
    manager_step = next(t for t in _seed_types() if t.id == "rude-staff").step("manager_opinion")
    assert claims.lead_keys(direct, manager_step, ladders) == {"role:regional-manager"}


# Pages: merge and cursor


def _walk(repo: FakeTaskRepository, partitions: list[Partition], limit: int, narrowing: QueueFilter | None = None):
    """The task ids of every page of a scope, page by page, read as the service reads them."""
    narrowing = narrowing or QueueFilter()
    pages, starts = [], {}
    while True:
        slices = {
            p.name: repo.queue_slice(p, starts.get(p.name), limit, narrowing)
            for p in partitions
            if starts.get(p.name) != queues.DONE
        }
        assert all(s.read <= limit for s in slices.values()), "a bounded read per partition"
        page = queues.merge(starts, slices, limit)
        pages.append([t.id for t in page.tasks])
        if page.positions is None:
            return pages
        cursor = queues.encode_cursor("f", page.positions)
        starts = queues.decode_cursor(cursor, "f", [p.name for p in partitions])


def _filled(count: int) -> FakeTaskRepository:
    repo = FakeTaskRepository()
    holders = ["role:hr", "team:hr", "user:hana"]
    for i in range(count):
        task = _task(step=f"s{i:03d}", holder=holders[i % 3], due_at=NOW + timedelta(minutes=(i * 37) % 101))
        repo.change(task.issue_id, task.step, lambda _, t=task: t)
    return repo


def test_a_cursor_walk_over_several_partitions_returns_every_task_once_in_checkpoint_order():
    repo = _filled(50)
    partitions = [Partition(queues.HELD, k) for k in ("role:hr", "team:hr", "user:hana")]

    pages = _walk(repo, partitions, limit=7)
    walked = [task_id for page in pages for task_id in page]

    assert sorted(walked) == sorted(t.id for t, _ in repo.tasks.values()) and len(walked) == 50
    moments = [queues.position(repo.get("01ISSUE", i.partition("-")[2])) for i in walked]
    assert moments == sorted(moments), "one order across pages"
    assert all(len(page) == 7 for page in pages[:-1])


def test_with_a_filter_a_page_may_be_short_but_the_walk_still_finds_each_match_once():
    repo = _filled(40)
    partitions = [Partition(queues.HELD, k) for k in ("role:hr", "team:hr", "user:hana")]
    wanted = QueueFilter(due_before=NOW + timedelta(minutes=30))

    walked = [task_id for page in _walk(repo, partitions, 5, wanted) for task_id in page]

    expected = [t.id for t, _ in repo.tasks.values() if t.due_at < NOW + timedelta(minutes=30)]
    assert sorted(walked) == sorted(expected) and len(set(walked)) == len(walked)


def test_a_cursor_from_another_request_or_not_ours_is_refused():
    cursor = queues.encode_cursor("abc", {"held:role:hr": queues.DONE})

    assert queues.decode_cursor(cursor, "abc", ["held:role:hr"]) == {"held:role:hr": queues.DONE}
    with pytest.raises(ValidationFailed, match="another scope"):
        queues.decode_cursor(cursor, "xyz", ["held:role:hr"])
    for forged in ("not-a-cursor", queues.encode_cursor("abc", {"held:role:hr": "ISSUE#x"})):
        with pytest.raises(ValidationFailed, match="not a cursor"):
            queues.decode_cursor(forged, "abc", ["held:role:hr"])


def test_a_request_names_each_bad_parameter():
    with pytest.raises(ValidationFailed) as refused:
        QueueRequest.parse({"scope": "everyone", "limit": "5000", "due_before": "soon", "sort": "x"}, NOW)
    assert {e.field for e in refused.value.errors} == {"scope", "limit", "due_before", "sort"}
    overdue = QueueRequest.parse({"overdue": "true"}, NOW)
    assert (overdue.scope, overdue.filter.due_before, overdue.limit) == (queues.QUEUE, NOW, queues.DEFAULT_LIMIT)


# The services on fakes


def _hr_world() -> World:
    w = world()
    w.clock.now = NOW
    w.directory.add("hana", "hana@caseflow.test", "hr")
    w.directory.add("holly", "holly@caseflow.test", "hr")
    w.directory.add("harry", "harry@caseflow.test", "hr-lead")
    w.directory.add("sam", "sam@caseflow.test", "store-manager")
    return w


def _hr_task(w: World) -> Task:
    """A rude-staff issue at its HR decision (the manager step skipped), held by role hr."""
    issue = w.services.intake.open_issue(
        {
            "type": "rude-staff",
            "customer": {"email": "rude@example.com"},
            "fields": {"store": "leeds-briggate", "incident_date": "2026-12-01", "what_happened": "Shouted at me."},
        }
    ).issue
    w.workflow_says(issue.id, compiler.KIND_OPEN, step="hr_decision")
    w.workflow_says(issue.id, compiler.KIND_WAIT, step="hr_decision", checkpoint=0)
    return w.tasks.get(issue.id, "hr_decision")


def test_two_claims_at_once_one_wins_and_the_other_is_refused():
    w = _hr_world()
    task = _hr_task(w)
    w.tasks.interfere(lambda: w.tasks.change(task.issue_id, task.step, lambda t: claims.claim(t, HOLLY, None)))

    with pytest.raises(Conflict, match="holly claimed it first"):
        w.services.claims.claim(task.id, HANA)
    assert w.tasks.get(task.issue_id, task.step).holder == "user:holly"


def test_claim_release_and_reassign_are_on_the_timeline_and_the_new_holder_is_emailed():
    w = _hr_world()
    task = _hr_task(w)
    w.mailer.sent.clear()

    claimed = w.services.claims.claim(task.id, HANA)
    assert claimed["assignee"] == {"kind": "user", "name": "hana"}
    assert claimed["claimed_from"] == {"kind": "role", "name": "hr"}
    assert w.mailer.sent == [], "a claimer is not told what they just did"
    mine = w.services.queues.page(HANA, {"scope": "mine"})
    assert [t["id"] for t in mine["tasks"]] == [task.id] and mine["counts"]["available"] == 0

    w.services.claims.release(task.id, HANA)
    assert {m.to[0] for m in w.mailer.sent} == {"hana@caseflow.test", "holly@caseflow.test"}
    w.services.claims.claim(task.id, HANA)
    w.mailer.sent.clear()
    moved = w.services.claims.reassign(task.id, {"to": {"user": "holly"}, "reason": "Hana is on leave"}, HARRY)

    assert moved["assignee"] == {"kind": "user", "name": "holly"}
    assert [m.to[0] for m in w.mailer.sent] == ["holly@caseflow.test"]
    texts = [e.text for e in w.issues.timeline(task.issue_id) if e.kind.startswith("task_")]
    assert "HR decision: claimed by hana from hr" in texts
    assert "HR decision: released by hana, back to hr" in texts
    assert "HR decision: reassigned by harry from hana to holly: Hana is on leave" in texts
    assert w.tasks.get(task.issue_id, task.step).past_holders == ("role:hr", "user:hana")


def test_reassign_is_for_leads_and_to_members_of_the_group_or_other_groups():
    w = _hr_world()
    task = _hr_task(w)

    with pytest.raises(Forbidden):
        w.services.claims.reassign(task.id, {"to": {"user": "holly"}, "reason": "x"}, HANA)
    with pytest.raises(ValidationFailed, match="sam is not in hr"):
        w.services.claims.reassign(task.id, {"to": {"user": "sam"}, "reason": "x"}, HARRY)
    with pytest.raises(ValidationFailed) as refused:
        w.services.claims.reassign(task.id, {"to": {"email": "a@b.example"}}, HARRY)
    assert {e.field for e in refused.value.errors} == {"to", "reason"}
    moved = w.services.claims.reassign(task.id, {"to": {"role": "hr-lead"}, "reason": "Needs a decision"}, HARRY)
    assert moved["assignee"] == {"kind": "role", "name": "hr-lead"}


def test_a_lead_sees_the_team_with_claimed_tasks_and_counts_of_every_scope():
    w = _hr_world()
    first, second = _hr_task(w), _hr_task(w)
    w.services.claims.claim(first.id, HANA)

    team = w.services.queues.page(HARRY, {"scope": "team"})
    assert sorted(t["id"] for t in team["tasks"]) == sorted([first.id, second.id])
    assert team["counts"] == {"mine": 0, "available": 0, "team": 2}
    assert w.services.queues.page(HANA, {})["counts"] == {"mine": 1, "available": 1, "team": 0}
    available = w.services.queues.page(HOLLY, {"scope": "available"})
    assert [t["id"] for t in available["tasks"]] == [second.id]
    assert available["tasks"][0]["form"]["id"] == "hr_decision", "each entry as its holder sees it"


def test_an_untouched_claim_returns_to_its_queue_once_on_the_sweep():
    w = _hr_world()
    task = _hr_task(w)
    w.services.claims.claim(task.id, HANA)  # rude-staff's HR decision: return_after PT4H (office hours)
    assert w.tasks.get(task.issue_id, task.step).return_at == NOW + timedelta(hours=4)

    w.clock.now = NOW + timedelta(hours=3)
    assert w.services.checkpoints.reconcile_due()["returned"] == 0, "not yet"
    w.clock.now = NOW + timedelta(hours=4, minutes=10)
    counts = w.services.checkpoints.reconcile_due()
    counts_again = w.services.checkpoints.reconcile_due()

    assert counts["returned"] == 1 and counts_again["returned"] == 0
    returned = w.tasks.get(task.issue_id, task.step)
    assert (returned.holder, returned.claimed_from, returned.return_at) == ("role:hr", "", None)
    [event] = w.issues.events(task.issue_id, "task_returned")
    assert event.text == "HR decision: back to hr: hana had not touched it since claiming it"


def test_a_claim_whose_holder_wrote_a_note_returns_only_after_return_after_from_the_note():
    w = _hr_world()
    task = _hr_task(w)
    w.services.claims.claim(task.id, HANA)
    w.clock.now = NOW + timedelta(hours=3)
    w.services.notes.add(task.issue_id, "Called the store, waiting for CCTV", HANA)

    w.clock.now = NOW + timedelta(hours=4, minutes=10)
    assert w.services.checkpoints.reconcile_due()["returned"] == 0
    assert w.tasks.get(task.issue_id, task.step).return_at == NOW + timedelta(hours=7)
    w.clock.now = NOW + timedelta(hours=7, minutes=10)
    assert w.services.checkpoints.reconcile_due()["returned"] == 1
    assert w.tasks.get(task.issue_id, task.step).holder == "role:hr"


# return_after in a definition


def _definition(**step) -> dict:
    return {
        "id": "claims-test",
        "name": "Claims test",
        "fields": [{"id": "summary", "type": "text"}],
        "steps": [{"id": "check", "name": "Check", "role": "hr", "deadline": "PT8H", **step}],
    }


def test_return_after_is_an_iso_duration_on_a_human_step():
    assert parse_issue_type(_definition(return_after="PT2H")).step("check").return_after == timedelta(hours=2)
    assert parse_issue_type(_definition()).step("check").return_after is None
    with pytest.raises(ValidationFailed) as refused:
        parse_issue_type(_definition(return_after="two hours"))
    assert [e.field for e in refused.value.errors] == ["steps[0].return_after"]
