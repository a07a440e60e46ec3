"""The ports' contracts, held by both the in-memory fakes (`tests/fakes.py`) and the DynamoDB adapters.

Each test runs twice: once on the fakes the service unit tests use, once on the adapters on moto.
What a service relies on (a conditional write refused and nothing written, a lost race decided
again on the fresh state, the order of a timeline or a queue) is asserted here, so a fake that
drifts from its adapter fails here rather than letting a unit test pass against a fiction.

Only the table is needed: under the package's `stack` (when another test started it) the table is
there already; alone, this module makes one. Every test uses its own ids.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from chalicelib.domain import queues
from chalicelib.domain import tasks as rules
from chalicelib.domain.agent_groups import Group, Member
from chalicelib.domain.agents import Agent
from chalicelib.domain.assignees import ROLE, TEAM
from chalicelib.domain.errors import Conflict
from chalicelib.domain.issues import (
    EMAIL,
    WEB,
    Customer,
    Issue,
    StaleIssue,
    TimelineEvent,
    TransitionRefused,
    new_id,
    new_reference,
)
from chalicelib.domain.tasks import Task
from chalicelib.services.ports import DuplicateKey
from chalicelib.services.records import InboundRecord, NewIssue, QuarantinedMail, Receipt, ThreadEntry
from tests.fakes import FakeIssueRepository, FakeMailRepository, FakeTaskRepository

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Ports:
    issues: Any
    tasks: Any
    mail: Any


@pytest.fixture(params=["fake", "dynamodb"])
def ports(request) -> Ports:
    if request.param == "fake":
        issues = FakeIssueRepository()
        return Ports(issues, FakeTaskRepository(), FakeMailRepository(issues))
    request.getfixturevalue("table")
    from chalicelib.adapters.dynamodb.issues import IssueRepository
    from chalicelib.adapters.dynamodb.mail import MailRepository
    from chalicelib.adapters.dynamodb.tasks import TaskRepository

    return Ports(IssueRepository(), TaskRepository(), MailRepository())


def _new_issue(
    *,
    customer: Customer | None = None,
    is_new: bool = True,
    reference: str | None = None,
    key: str | None = None,
    inbound: InboundRecord | None = None,
    type_id: str = "contract-test",
    at: datetime = T0,
) -> NewIssue:
    customer = customer or Customer(new_id(), f"{new_id().lower()}@example.com", "Contract Customer")
    issue = Issue.open(
        id=new_id(),
        reference=reference or new_reference(),
        type_id=type_id,
        type_version=1,
        channel=EMAIL if inbound else WEB,
        customer_id=customer.id,
        fields={"summary": "it broke"},
        created_at=at,
    )
    first = TimelineEvent(at, "issue_opened", "reported", customer.email, {"channel": issue.channel})
    return NewIssue(issue, customer, is_new, first, key, "hash-1", inbound)


def _inbound(issue_id: str = "", at: datetime = T0) -> InboundRecord:
    message_id = f"{new_id()}@mail.example.com"
    return InboundRecord(
        Receipt(new_id(), message_id, "opened", issue_id), ThreadEntry(message_id, "in", at, "them@example.com")
    )


# Issues


def test_a_created_issue_is_found_by_id_reference_customer_and_idempotency_key(ports):
    new = _new_issue(key=f"key-{new_id()}")
    ports.issues.create(new)

    stored = ports.issues.get(new.issue.id)
    assert stored == new.issue and stored.version > 0
    assert ports.issues.issue_id_by_reference(new.issue.reference.lower()) == new.issue.id
    assert ports.issues.customer_by_email(new.customer.email) == new.customer
    assert ports.issues.customer(new.customer.id) == new.customer
    assert ports.issues.idempotent_request(new.idempotency_key) == (new.issue.id, "hash-1")
    assert ports.issues.timeline(new.issue.id) == [new.first_event]
    assert ports.issues.get(new_id()) is None and ports.issues.issue_id_by_reference("CF-NONE0") is None


def test_a_taken_reference_idempotency_key_or_address_refuses_the_whole_issue(ports):
    first = _new_issue(key=f"key-{new_id()}")
    ports.issues.create(first)
    for taken in (
        _new_issue(reference=first.issue.reference),
        _new_issue(key=first.idempotency_key),
        _new_issue(customer=Customer(new_id(), first.customer.email)),
    ):
        with pytest.raises(DuplicateKey):
            ports.issues.create(taken)
        assert ports.issues.get(taken.issue.id) is None
        assert ports.issues.customer(taken.customer.id) is None
    assert ports.issues.idempotent_request(first.idempotency_key) == (first.issue.id, "hash-1")
    assert ports.issues.customer_by_email(first.customer.email).id == first.customer.id


def test_an_existing_customer_opens_a_second_issue(ports):
    first = _new_issue()
    ports.issues.create(first)
    second = _new_issue(customer=first.customer, is_new=False)
    ports.issues.create(second)
    assert ports.issues.get(second.issue.id).customer_id == first.customer.id


def test_saving_from_a_stale_copy_is_refused_and_writes_nothing(ports):
    new = _new_issue()
    ports.issues.create(new)
    read_by_us = ports.issues.get(new.issue.id)
    read_by_them = ports.issues.get(new.issue.id)

    theirs = ports.issues.save(read_by_them.raise_priority())
    assert theirs.version > read_by_them.version
    with pytest.raises(StaleIssue):
        ports.issues.save(read_by_us.enter_step("check"))
    assert ports.issues.get(new.issue.id) == theirs and ports.issues.get(new.issue.id).version == theirs.version

    with pytest.raises(StaleIssue):
        ports.issues.save(new.issue)  # a copy never read (version 0) of an issue stored since
    for never_created in (_new_issue().issue, replace(_new_issue().issue, version=1)):
        with pytest.raises(StaleIssue):
            ports.issues.save(never_created)  # `create` writes new issues
        assert ports.issues.get(never_created.id) is None


def test_change_applies_the_transition_again_to_the_issue_as_it_now_is(ports):
    new = _new_issue()
    ports.issues.create(new)
    stale = ports.issues.get(new.issue.id)
    ports.issues.save(stale.raise_priority())  # another writer came first

    changed = ports.issues.change(stale, lambda issue: issue.enter_step("check"))
    assert changed.priority == "high" and changed.current_step == "check"
    assert ports.issues.get(new.issue.id) == changed and ports.issues.get(new.issue.id).version == changed.version

    unchanged = ports.issues.change(changed, lambda issue: issue)
    assert unchanged.version == changed.version == ports.issues.get(new.issue.id).version


def test_a_transition_the_fresh_issue_refuses_propagates(ports):
    new = _new_issue()
    ports.issues.create(new)
    resolved = ports.issues.change(ports.issues.get(new.issue.id), lambda i: i.resolve(T0, one_contact=True))
    ports.issues.change(resolved, lambda i: i.reopen(run=resolved.run))  # the first reopening wins

    with pytest.raises(TransitionRefused):
        ports.issues.change(resolved, lambda i: i.reopen(run=resolved.run))
    stored = ports.issues.get(new.issue.id)
    assert stored.reopenings == 1 and stored.run == 2


def test_a_save_makes_earlier_copies_stale(ports):
    new = _new_issue()
    ports.issues.create(new)
    before = ports.issues.get(new.issue.id)
    ports.issues.save(before.enter_step("decide").raise_priority())
    after = ports.issues.get(new.issue.id)
    assert (after.current_step, after.priority) == ("decide", "high")
    with pytest.raises(StaleIssue):
        ports.issues.save(before.enter_step("other"))


def test_timeline_is_in_write_order_and_customer_history_newest_first_across_issues(ports):
    first = _new_issue()
    ports.issues.create(first)
    second = _new_issue(customer=first.customer, is_new=False)
    ports.issues.create(second)
    later = [TimelineEvent(T0 - timedelta(minutes=n), f"note_{n}", f"note {n}") for n in range(3)]
    for event in later:
        ports.issues.add_event(first.issue, event)

    assert [e.kind for e in ports.issues.timeline(first.issue.id)] == ["issue_opened", "note_0", "note_1", "note_2"]
    history = ports.issues.customer_history(first.customer.id, limit=3)
    assert [(h["issue_id"], h["kind"]) for h in history] == [
        (first.issue.id, "note_2"),
        (first.issue.id, "note_1"),
        (first.issue.id, "note_0"),
    ]
    everything = ports.issues.customer_history(first.customer.id)
    assert [h["issue_id"] for h in everything][-2:] == [second.issue.id, first.issue.id]


def test_open_issues_are_the_backlog_oldest_first_without_the_resolved(ports):
    type_id = f"backlog-{new_id()}"
    created = [_new_issue(type_id=type_id, at=T0 - timedelta(hours=h)) for h in (1, 3, 2)]
    for new in created:
        ports.issues.create(new)
    ports.issues.change(ports.issues.get(created[0].issue.id), lambda i: i.resolve(T0, one_contact=False))

    backlog = ports.issues.open_issues(type_id)
    assert [o.created_at for o in backlog] == [T0 - timedelta(hours=3), T0 - timedelta(hours=2)]
    assert {o.channel for o in backlog} == {WEB}


def test_a_customer_segment_is_kept(ports):
    new = _new_issue()
    ports.issues.create(new)
    ports.issues.set_customer_segment(new.customer.id, "vip")
    assert ports.issues.customer(new.customer.id).segment == "vip"
    assert ports.issues.customer_by_email(new.customer.email).segment == "vip"


# Tasks


def _open(issue_id: str, step: str, holder: str, due: datetime, schedule: tuple[datetime, ...] = ()):
    def decide(current: Task | None) -> Task:
        return rules.open_task(
            current,
            issue_id=issue_id,
            step=step,
            holder=holder,
            schedule=schedule or (due,),
            due_at=due,
            now=T0,
        ).task

    return decide


def test_a_task_is_opened_once_and_listed_by_step(ports):
    issue_id = new_id()
    opened = ports.tasks.change(issue_id, "review", _open(issue_id, "review", "role:hr", T0 + timedelta(hours=2)))
    again = ports.tasks.change(issue_id, "review", _open(issue_id, "review", "role:hr", T0 + timedelta(hours=9)))
    ports.tasks.change(issue_id, "approve", _open(issue_id, "approve", "role:hr", T0 + timedelta(hours=1)))

    assert again == opened == ports.tasks.get(issue_id, "review")
    assert [t.step for t in ports.tasks.for_issue(issue_id)] == ["approve", "review"]
    assert ports.tasks.get(issue_id, "missing") is None


def test_the_tasks_of_several_issues_come_in_one_read_by_their_steps(ports):
    first, second, none = new_id(), new_id(), new_id()
    for issue_id, step in ((first, "review"), (first, "approve"), (second, "review")):
        ports.tasks.change(issue_id, step, _open(issue_id, step, "role:hr", T0 + timedelta(hours=2)))

    found = ports.tasks.for_issues({first: ["approve", "review", "tell"], second: ["review"], none: ["review"]})
    assert {issue: [t.step for t in tasks] for issue, tasks in found.items()} == {
        first: ["approve", "review"],
        second: ["review"],
    }


def test_a_decision_that_lost_a_race_is_taken_again_on_the_fresh_task(ports):
    issue_id = new_id()
    ports.tasks.change(issue_id, "review", _open(issue_id, "review", "role:hr", T0 + timedelta(hours=2)))
    seen: list[str] = []

    def complete(current: Task | None) -> Task:
        seen.append(current.token)
        if len(seen) == 1:  # the workflow's new token is written between our read and our write
            ports.tasks.change(issue_id, "review", lambda t: replace(t, token="token-2"))
        return rules.complete(current, fields={"ok": True}, by="sam", now=T0)

    done = ports.tasks.change(issue_id, "review", complete)
    assert seen == ["", "token-2"]
    assert (done.status, done.token, done.completed_by) == (rules.COMPLETED, "token-2", "sam")
    assert ports.tasks.get(issue_id, "review") == done


def test_an_unchanged_or_refused_decision_writes_nothing(ports):
    issue_id = new_id()
    opened = ports.tasks.change(issue_id, "review", _open(issue_id, "review", "role:hr", T0))
    assert ports.tasks.change(issue_id, "review", lambda t: t) == opened
    ports.tasks.change(issue_id, "review", lambda t: rules.complete(t, fields={}, by="sam", now=T0))
    with pytest.raises(Conflict):
        ports.tasks.change(issue_id, "review", lambda t: rules.complete(t, fields={}, by="kim", now=T0))
    assert ports.tasks.get(issue_id, "review").completed_by == "sam"


def _queued(ports, holder: str) -> list[str]:
    """The steps in a holder's queue partition, in queue order."""
    held = ports.tasks.queue_slice(queues.Partition(queues.HELD, holder), None, 10, queues.QueueFilter())
    return [task.step for _, task in held.tasks]


def test_a_holders_queue_holds_their_open_tasks_only(ports):
    issue_id, role, user = new_id(), f"role:r{new_id()}", f"user:u{new_id()}"
    ports.tasks.change(issue_id, "late", _open(issue_id, "late", role, T0 + timedelta(hours=5)))
    ports.tasks.change(issue_id, "soon", _open(issue_id, "soon", user, T0 + timedelta(hours=1)))
    ports.tasks.change(issue_id, "done", _open(issue_id, "done", role, T0))
    ports.tasks.change(issue_id, "done", lambda t: rules.complete(t, fields={}, by="sam", now=T0))
    ports.tasks.change(issue_id, "other", _open(issue_id, "other", "role:someone-else", T0))

    assert _queued(ports, role) == ["late"] and _queued(ports, user) == ["soon"]


def test_due_tasks_are_those_whose_next_sweepable_checkpoint_has_come(ports):
    issue_id = new_id()
    warn, deadline = T0 + timedelta(minutes=30), T0 + timedelta(hours=1)
    ports.tasks.change(issue_id, "a", _open(issue_id, "a", "role:hr", deadline, (warn, deadline)))
    ports.tasks.change(issue_id, "b", _open(issue_id, "b", "role:hr", T0 + timedelta(minutes=10)))
    ports.tasks.change(issue_id, "c", _open(issue_id, "c", "role:hr", T0 + timedelta(hours=3)))

    def mine(before: datetime) -> list[str]:
        return [t.step for t in ports.tasks.due(before) if t.issue_id == issue_id]

    assert mine(T0 + timedelta(hours=1)) == ["b", "a"]
    ports.tasks.change(issue_id, "a", lambda t: rules.reach_missed(t, checkpoint=1).task)
    assert mine(T0 + timedelta(minutes=45)) == ["b"]
    assert mine(T0 + timedelta(hours=1)) == ["b", "a"]


def test_archived_tasks_are_out_of_the_next_runs_way(ports):
    issue_id, role = new_id(), f"role:r{new_id()}"
    ports.tasks.change(issue_id, "review", _open(issue_id, "review", role, T0))
    ports.tasks.archive(issue_id, 1)
    assert ports.tasks.for_issue(issue_id) == [] and ports.tasks.get(issue_id, "review") is None
    assert _queued(ports, role) == []
    reopened = ports.tasks.change(issue_id, "review", _open(issue_id, "review", role, T0))
    assert reopened.status == rules.OPEN


def test_a_queue_slice_reads_a_bounded_run_in_checkpoint_order_and_says_where_it_stopped(ports):

    issue_id, role = new_id(), f"role:r{new_id().lower()}"
    for i, hours in enumerate((5, 1, 3, 2, 4)):
        due = T0 + timedelta(hours=hours)
        ports.tasks.change(issue_id, f"s{i}", _open(issue_id, f"s{i}", role, due, (due - timedelta(hours=1), due)))
    ports.tasks.change(issue_id, "s4", lambda t: replace(t, type_id="rude-staff"))
    held = queues.Partition(queues.HELD, role)

    first = ports.tasks.queue_slice(held, None, 3, queues.QueueFilter())
    assert [t.step for _, t in first.tasks] == ["s1", "s3", "s2"] and first.read_to == first.tasks[-1][0]
    rest = ports.tasks.queue_slice(held, first.read_to, 3, queues.QueueFilter())
    assert [t.step for _, t in rest.tasks] == ["s4", "s0"] and rest.read_to is None
    typed = ports.tasks.queue_slice(held, None, 10, queues.QueueFilter(type_id="rude-staff"))
    assert [t.step for _, t in typed.tasks] == ["s4"] and typed.read == 5, "filtered after reading"
    soon = ports.tasks.queue_slice(held, None, 10, queues.QueueFilter(due_before=T0 + timedelta(hours=2, minutes=1)))
    assert [t.step for _, t in soon.tasks] == ["s1", "s3"]
    assert ports.tasks.queue_count(held, queues.QueueFilter(), 10) == queues.Count(5)
    assert ports.tasks.queue_count(held, queues.QueueFilter(), 3) == queues.Count(3, more=True)


def test_a_claimed_task_is_in_its_claimers_queue_and_under_the_group_it_was_claimed_from(ports):

    issue_id, role, user = new_id(), f"role:r{new_id().lower()}", f"user:u{new_id().lower()}"
    ports.tasks.change(issue_id, "review", _open(issue_id, "review", role, T0 + timedelta(hours=1)))
    ports.tasks.change(issue_id, "review", lambda t: replace(t, holder=user, claimed_from=role, past_holders=(role,)))

    def steps(kind: str, key: str) -> list[str]:
        found = ports.tasks.queue_slice(queues.Partition(kind, key), None, 10, queues.QueueFilter())
        return [t.step for _, t in found.tasks]

    assert steps(queues.HELD, user) == ["review"] and steps(queues.CLAIMED, role) == ["review"]
    assert steps(queues.HELD, role) == []
    stored = ports.tasks.get(issue_id, "review")
    assert (stored.claimed_from, stored.past_holders) == (role, (role,))
    ports.tasks.change(issue_id, "review", lambda t: rules.complete(t, fields={}, by="u", now=T0))
    assert steps(queues.HELD, user) == [] and steps(queues.CLAIMED, role) == []


def test_issues_are_read_many_at_once(ports):
    first, second = _new_issue(), _new_issue()
    ports.issues.create(first)
    ports.issues.create(second)

    found = ports.issues.get_many([first.issue.id, second.issue.id, new_id(), first.issue.id])
    assert set(found) == {first.issue.id, second.issue.id}
    assert found[second.issue.id].reference == second.issue.reference
    assert ports.issues.get_many([]) == {}


def test_holders_are_everyone_who_held_a_task_of_the_issue_archived_runs_included(ports):
    issue_id, other = new_id(), new_id()
    ports.tasks.change(issue_id, "review", _open(issue_id, "review", "role:store-manager", T0))
    claimed = ("user:sam", ("role:store-manager",))
    ports.tasks.change(issue_id, "review", lambda t: replace(t, holder=claimed[0], past_holders=claimed[1]))
    ports.tasks.archive(issue_id, 1)
    ports.tasks.change(issue_id, "decide", _open(issue_id, "decide", "role:hr", T0))
    ports.tasks.change(other, "review", _open(other, "review", "role:logistics", T0))

    assert ports.tasks.holders(issue_id) == {"role:store-manager", "user:sam", "role:hr"}
    assert ports.tasks.holders(new_id()) == frozenset()


# Mail


def test_a_message_is_received_once_by_either_key(ports):
    receipt = Receipt(new_id(), f"<{new_id()}@x.example>", "report")
    ports.mail.file_without_issue(receipt, None)

    for again in (receipt, replace(receipt, ses_id=new_id()), replace(receipt, message_id=None)):
        with pytest.raises(DuplicateKey):
            ports.mail.file_without_issue(again, None)
    assert ports.mail.receipt(receipt.ses_id, None).outcome == "report"
    assert ports.mail.receipt(new_id(), receipt.message_id).outcome == "report"
    assert ports.mail.receipt_by_message_id(receipt.message_id).outcome == "report"
    assert ports.mail.receipt(new_id(), None) is None


def test_an_opening_email_is_filed_with_its_issue_at_once(ports):
    inbound = _inbound()
    new = _new_issue(inbound=inbound)
    new = replace(new, inbound=InboundRecord(replace(inbound.receipt, issue_id=new.issue.id), inbound.entry))
    ports.issues.create(new)

    assert ports.mail.receipt(inbound.receipt.ses_id, inbound.receipt.message_id).issue_id == new.issue.id
    assert ports.mail.thread(new.issue.id) == [inbound.entry]
    assert ports.mail.issue_by_message_id(f"<{inbound.entry.message_id.upper()}>") == new.issue.id

    second = _new_issue(inbound=new.inbound)  # the same message delivered again
    with pytest.raises(DuplicateKey):
        ports.issues.create(second)
    assert ports.issues.get(second.issue.id) is None


def test_a_reply_is_filed_on_its_issue_once(ports):
    new = _new_issue()
    ports.issues.create(new)
    inbound = _inbound(new.issue.id, T0 + timedelta(minutes=5))
    event = TimelineEvent(T0 + timedelta(minutes=5), "customer_message", "thanks", new.customer.email)
    ports.mail.file_on_issue(new.issue, event, inbound)
    with pytest.raises(DuplicateKey):
        ports.mail.file_on_issue(new.issue, event, inbound)

    assert [e.kind for e in ports.issues.timeline(new.issue.id)] == ["issue_opened", "customer_message"]
    assert ports.mail.thread(new.issue.id) == [inbound.entry]
    assert ports.mail.receipt(inbound.receipt.ses_id, None).issue_id == new.issue.id


def test_a_thread_is_in_the_order_its_messages_were_sent(ports):
    issue_id = new_id()
    entries = [ThreadEntry(f"{new_id()}@x", d, T0 + timedelta(minutes=m), "a@x") for d, m in (("out", 9), ("in", 3))]
    for entry in entries:
        ports.mail.add_to_thread(issue_id, entry)
    assert ports.mail.thread(issue_id) == [entries[1], entries[0]]
    assert ports.mail.issue_by_message_id(entries[0].message_id) == issue_id


def test_quarantine_lists_the_newest_first(ports):
    sender = f"{new_id()}@spam.example"
    kept = []
    for minutes in (1, 3, 2):
        q = QuarantinedMail(new_id(), T0 + timedelta(days=3650, minutes=minutes), "spam", sender, "hi", "raw/x")
        ports.mail.file_without_issue(Receipt(q.ses_id, None, "quarantined"), q)
        kept.append(q)
    newest = ports.mail.quarantined(2)
    assert newest == [kept[1], kept[2]]


def test_bouncing_addresses_and_automatic_mail_counts(ports):
    address = f"{new_id().lower()}@example.com"
    assert not ports.mail.is_bouncing(address)
    ports.mail.mark_bouncing(address, T0, "550 no such user")
    assert ports.mail.is_bouncing(address) and not ports.mail.is_bouncing(f"other-{address}")

    for minutes in (0, 10, 20):
        ports.mail.record_automatic_mail(address, T0 + timedelta(minutes=minutes), T0 + timedelta(days=1))
    assert ports.mail.automatic_mail_count(address, T0 + timedelta(minutes=10)) == 2
    assert ports.mail.automatic_mail_count(address, T0) == 3
    assert ports.mail.automatic_mail_count(f"other-{address}", T0) == 0


# Roles and teams (AgentGroups): the fake directory and Cognito on moto


@dataclass
class Directory:
    groups: Any
    add_agent: Any


@pytest.fixture(params=["fake", "cognito"])
def directory(request) -> Directory:
    if request.param == "fake":
        from tests.fakes import FakeDirectory

        fake = FakeDirectory()

        def add_fake(username: str, enabled: bool = True) -> None:
            fake.add(username, f"{username}@agents.test", enabled=enabled)

        return Directory(fake, add_fake)
    request.getfixturevalue("table")  # moto running
    from chalicelib.adapters.cognito import CognitoDirectory

    cognito = boto3.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName=f"contracts-{new_id()}")["UserPool"]["Id"]

    def add_cognito(username: str, enabled: bool = True) -> None:
        email = {"Name": "email", "Value": f"{username}@agents.test"}
        cognito.admin_create_user(UserPoolId=pool, Username=username, UserAttributes=[email], MessageAction="SUPPRESS")
        if not enabled:
            cognito.admin_disable_user(UserPoolId=pool, Username=username)

    return Directory(CognitoDirectory(pool, "no-client", cognito), add_cognito)


def test_a_role_and_a_team_are_kept_apart_and_a_name_is_taken_once(directory):
    groups = directory.groups
    groups.create_group(Group("night-desk", ROLE, "Answers overnight"))
    groups.create_group(Group("repair-workshop", TEAM, "Bench repairs"))
    assert groups.group("repair-workshop") == Group("repair-workshop", TEAM, "Bench repairs")
    assert [g for g in groups.groups() if g.name in ("night-desk", "repair-workshop")] == [
        Group("night-desk", ROLE, "Answers overnight"),
        Group("repair-workshop", TEAM, "Bench repairs"),
    ]
    with pytest.raises(DuplicateKey):
        groups.create_group(Group("night-desk", TEAM))
    assert groups.group("no-such-group") is None


def test_members_are_added_once_removed_and_listed_by_username(directory):
    groups = directory.groups
    directory.add_agent("zed")
    directory.add_agent("amy", enabled=False)
    groups.create_group(Group("night-desk", ROLE))
    assert groups.members("night-desk") == []
    assert groups.members("no-such-group") is None
    for username in ("zed", "amy", "zed"):
        groups.add_member("night-desk", username)
    assert groups.members("night-desk") == [Member("amy", "amy@agents.test", False), Member("zed", "zed@agents.test")]
    groups.remove_member("night-desk", "zed")
    assert [m.username for m in groups.members("night-desk")] == ["amy"]
    assert groups.agent("zed") == Member("zed", "zed@agents.test")
    assert groups.agent("nobody") is None


# Agents' time zones (Directory): the fake directory and Cognito on moto (decision 0030)


@pytest.fixture(params=["fake", "cognito"])
def zoned_directory(request) -> Any:
    """A directory whose role `night-desk` has zed (in Istanbul), amy (no zone) and ola (disabled)."""
    people = (("zed", "Europe/Istanbul", True), ("amy", "", True), ("ola", "Asia/Tokyo", False))
    if request.param == "fake":
        from tests.fakes import FakeDirectory

        fake = FakeDirectory()
        for username, zone, enabled in people:
            fake.add(username, f"{username}@agents.test", "night-desk", enabled=enabled, time_zone=zone)
        return fake
    request.getfixturevalue("table")  # moto running
    from chalicelib.adapters.cognito import CognitoDirectory

    cognito = boto3.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName=f"zones-{new_id()}")["UserPool"]["Id"]
    cognito.create_group(UserPoolId=pool, GroupName="night-desk")
    for username, zone, enabled in people:
        attributes = [{"Name": "email", "Value": f"{username}@agents.test"}]
        attributes += [{"Name": "zoneinfo", "Value": zone}] if zone else []
        user = {"UserPoolId": pool, "Username": username}
        cognito.admin_create_user(**user, UserAttributes=attributes, MessageAction="SUPPRESS")
        cognito.admin_add_user_to_group(**user, GroupName="night-desk")
        if not enabled:
            cognito.admin_disable_user(UserPoolId=pool, Username=username)
    return CognitoDirectory(pool, "no-client", cognito)


def test_members_time_zones_come_with_their_addresses_and_a_missing_one_is_empty(zoned_directory):
    assert zoned_directory.role_member_time_zones("night-desk") == {
        "amy@agents.test": "",
        "zed@agents.test": "Europe/Istanbul",
    }
    assert zoned_directory.role_member_time_zones("no-such-role") == {}
    assert zoned_directory.user_time_zone("zed") == "Europe/Istanbul"
    assert zoned_directory.user_time_zone("amy") == "" and zoned_directory.user_time_zone("nobody") == ""


def test_an_agent_is_found_by_username_with_their_groups_unless_disabled_or_unknown(zoned_directory):
    assert zoned_directory.agent_named("zed") == Agent("zed", "zed@agents.test", frozenset({"night-desk"}))
    assert zoned_directory.agent_named("ola") is None and zoned_directory.agent_named("nobody") is None
