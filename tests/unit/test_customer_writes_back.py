"""When the customer writes back, a person hears of it, and the task says so; task emails say it in
words, link to the task, and give times in the reader's own time zone (decision 0030)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chalicelib.domain import customer_replies
from chalicelib.domain.agents import Agent
from chalicelib.domain.assignees import Holder
from chalicelib.domain.local_times import in_words, known_zone, moment_in
from chalicelib.services.auth import AuthService
from chalicelib.workflows import compiler
from tests.fakes import FakeDirectory
from tests.unit.test_intake_and_email_on_fakes import _email
from tests.unit.test_workflow_on_fakes import _rude_staff
from tests.unit.wiring import World, world

ENQUIRY = {
    "type": "general-enquiry",
    "customer": {"email": "ada@example.com", "name": "Ada"},
    "fields": {"subject": "Opening hours", "message": "Are you open on Sunday?"},
}
DAMAGE = {
    "type": "damaged-product",
    "customer": {"email": "ada@example.com", "name": "Ada"},
    "fields": {"order_number": "AB123456", "product": "Kettle", "damage": "The lid is cracked.", "wanted": "refund"},
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100


def _staffed() -> World:
    w = world()
    w.directory.add("alice", "alice@caseflow.test", "agent", time_zone="Europe/Istanbul")
    w.directory.add("amir", "amir@caseflow.test", "agent")  # no zone of his own: the calendar's
    w.directory.add("sam", "sam@caseflow.test", "store-manager")
    w.directory.add("hana", "hana@caseflow.test", "hr", time_zone="Europe/Istanbul")
    return w


def _answer_task(w: World, request: dict = ENQUIRY):
    issue = w.services.intake.open_issue(request).issue
    w.workflow_says(issue.id, compiler.KIND_OPEN, step="answer")
    w.workflow_says(issue.id, compiler.KIND_WAIT, step="answer", checkpoint=0)
    w.mailer.sent.clear()
    return issue, w.tasks.get(issue.id, "answer")


def _status_token(w: World, issue_id: str) -> str:
    return w.services.status_links.link_for(issue_id).rpartition("/s/")[2]


def _queue_entry(w: World, username: str, task_id: str) -> dict:
    agent = Agent(username, f"{username}@caseflow.test", frozenset({"agent"}))
    return next(t for t in w.services.queues.page(agent, {})["tasks"] if t["id"] == task_id)


# Who is told


def test_an_email_reply_tells_each_member_of_the_holding_role_once_with_the_words_and_a_link():
    w = _staffed()
    issue, task = _answer_task(w)
    w.clock.advance(timedelta(hours=1))
    reply = _email(w, issue, "ses-1", "Also: is the car park open?")

    w.services.inbound_email.receive(reply)
    w.services.inbound_email.receive(reply)  # SES delivers it again

    for member in ("alice@caseflow.test", "amir@caseflow.test"):
        [told] = w.mailer.to(member)
        assert told.subject == f"Customer replied {issue.reference}: Answer the customer"
        assert "  > Also: is the car park open?" in told.body
        assert f"Open the task: {w.config.public_url}/desk/tasks/{task.id}" in told.body
    assert w.mailer.to("sam@caseflow.test") == [], "only the task's holders"


def test_the_queue_shows_customer_replied_until_an_agent_answers_the_customer():
    w = _staffed()
    issue, task = _answer_task(w)
    assert _queue_entry(w, "alice", task.id)["customer_replied_at"] is None, "the report itself is no reply"

    w.clock.advance(timedelta(hours=1))
    wrote = w.clock()
    w.services.inbound_email.receive(_email(w, issue, "ses-1", "Any news?"))
    assert _queue_entry(w, "alice", task.id)["customer_replied_at"] == wrote.isoformat()
    assert w.services.completions.task(task.id, w.agent("alice"))["customer_replied_at"] == wrote.isoformat()

    w.clock.advance(timedelta(minutes=5))
    w.services.replies.reply(issue.id, "We are looking into it.", w.agent("alice"))
    assert _queue_entry(w, "alice", task.id)["customer_replied_at"] is None


def test_the_rule_counts_only_what_our_side_did_after_the_customer_wrote():
    at = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    w = _staffed()
    issue, task = _answer_task(w)
    wrote = replace(issue, customer_wrote_at=at)
    done_before = replace(task, status="completed", completed_at=at - timedelta(minutes=1))
    done_after = replace(task, status="completed", completed_at=at + timedelta(minutes=1))
    customer_wait = replace(done_after, holder="customer:c1")

    assert customer_replies.replied_at(issue, [task]) is None
    assert customer_replies.replied_at(wrote, [task, done_before]) == at
    assert customer_replies.replied_at(wrote, [done_after]) is None, "an agent completed a task since"
    assert customer_replies.replied_at(wrote, [customer_wait]) == at, "the customer's own wait is no answer"
    assert customer_replies.replied_at(replace(wrote, answered_at=at + timedelta(seconds=1)), [task]) is None


def test_with_no_task_open_the_holder_of_the_types_first_task_is_told():
    w = _staffed()
    by_field = w.services.intake.open_issue(_rude_staff("leeds-briggate")).issue
    issue_type = w.services.issue_types.current("rude-staff").issue_type

    assert customer_replies.to_tell(by_field, issue_type, [], None) == [customer_replies.ToTell(Holder("user", "sam"))]
    fallback = replace(by_field, fields={**by_field.fields, "store": "manchester-arndale"})
    assert [t.holder for t in customer_replies.to_tell(fallback, issue_type, [], None)] == [
        Holder("role", "store-manager")
    ]
    assert customer_replies.to_tell(by_field, issue_type, [], "await_reply") == [], "the next task's email says it"


def test_a_status_page_message_sent_twice_is_filed_and_told_once():
    w = _staffed()
    issue, _ = _answer_task(w)
    token = _status_token(w, issue.id)

    w.services.status_pages.reply(token, "Is it open on Sunday?")
    again = w.services.status_pages.reply(token, "Is it open on Sunday?")

    assert again["repeated"] is True
    assert len(w.issues.events(issue.id, "customer_message")) == 1
    [told] = w.mailer.to("alice@caseflow.test")
    assert "  > Is it open on Sunday?" in told.body


def test_a_photo_from_the_status_page_tells_the_holder_once():
    w = _staffed()
    w.directory.add("remy", "remy@caseflow.test", "returns")
    issue = w.services.intake.open_issue(DAMAGE).issue
    token = _status_token(w, issue.id)
    photo = w.services.status_pages.view(token)["upload"]["fields"]["key"]
    w.store.write(photo, PNG, "image/png")
    w.mailer.sent.clear()

    w.services.status_pages.record_upload(token, photo)
    w.services.status_pages.record_upload(token, photo)

    [told] = w.mailer.to("remy@caseflow.test")
    assert f"(added a file: {issue.reference}-1.png)" in told.body
    assert f"/desk/issues/{issue.reference}" in told.body, "no task is open yet: a link to the issue"


def test_a_reply_that_reopens_an_issue_tells_the_customer_and_the_first_role_and_marks_the_new_task():
    w = _staffed()
    issue = w.services.intake.open_issue(ENQUIRY).issue
    w.clock.advance(timedelta(hours=1))
    w.workflow_says(issue.id, compiler.KIND_RESOLVE)
    w.clock.advance(timedelta(hours=2))
    w.mailer.sent.clear()

    w.services.inbound_email.receive(_email(w, issue, "ses-1", "It is still closed on Sunday."))

    [reopened] = w.mailer.to("ada@example.com")
    assert reopened.subject.startswith(f"Your issue {issue.reference} is open again")
    assert "because you wrote to us again" in reopened.body and "/s/" in reopened.body
    [told] = w.mailer.to("alice@caseflow.test")
    assert "It is still closed on Sunday." in told.body and "Answer the customer" in told.body
    w.workflow_says(issue.id, compiler.KIND_OPEN, step="answer")
    new_task = w.tasks.get(issue.id, "answer")
    assert _queue_entry(w, "alice", new_task.id)["customer_replied_at"] is not None
    [opened] = [m for m in w.mailer.to("alice@caseflow.test") if m.subject.startswith("New task")]
    assert "It is still closed on Sunday." in opened.body, "the new task's email carries the reply"


def test_an_agents_reopening_tells_the_customer_without_the_agents_reason():
    w = _staffed()
    issue = w.services.intake.open_issue(ENQUIRY).issue
    w.workflow_says(issue.id, compiler.KIND_RESOLVE)
    w.mailer.sent.clear()

    w.services.reopenings.reopen_by_agent(issue.id, {"reason": "Sam forgot the refund"}, w.agent("sam"))

    [told] = w.mailer.to("ada@example.com")
    assert "We have reopened your issue" in told.body and "Sam forgot" not in told.body
    assert told.headers["Reply-To"] == w.config.support_address.replace("@", f"+{issue.reference}@")


def test_a_reply_that_resumes_a_waiting_step_is_told_by_the_next_tasks_email_only():
    w = _staffed()
    issue = w.services.intake.open_issue(ENQUIRY).issue
    w.workflow_says(issue.id, compiler.KIND_OPEN, step="await_reply")
    w.workflow_says(issue.id, compiler.KIND_WAIT, step="await_reply", checkpoint=0)
    w.mailer.sent.clear()

    w.services.status_pages.reply(_status_token(w, issue.id), "It is order AB123456.")
    assert w.mailer.to("alice@caseflow.test") == []

    w.workflow_says(issue.id, compiler.KIND_OPEN, step="follow_up")
    [opened] = w.mailer.to("alice@caseflow.test")
    assert "  > It is order AB123456." in opened.body
    assert "The customer's reply: It is order AB123456." in opened.body, "and among the earlier answers"


# Task emails in words, in the reader's time zone


def test_a_task_email_gives_labels_the_link_and_each_members_own_time_zone_or_the_calendars():
    w = _staffed()
    w.directory.add("hugo", "hugo@caseflow.test", "hr")  # no zone of his own
    issue = w.services.intake.open_issue(_rude_staff("leeds-briggate")).issue
    w.workflow_says(issue.id, compiler.KIND_OPEN, step="manager_opinion")
    opinion = w.tasks.get(issue.id, "manager_opinion")
    w.services.completions.complete(opinion.id, {"manager_opinion": "The cashier was rude."}, w.agent("sam"))

    w.workflow_says(issue.id, compiler.KIND_OPEN, step="hr_decision")

    task = w.tasks.get(issue.id, "hr_decision")
    [to_hana] = w.mailer.to("hana@caseflow.test")
    [to_hugo] = w.mailer.to("hugo@caseflow.test")
    assert f"Open the task: {w.config.public_url}/desk/tasks/{task.id}" in to_hana.body
    assert "  Store: Leeds Briggate" in to_hana.body, "the option's label, not its code"
    assert "  - Decision (required; one of: No action, Formal apology" in to_hana.body
    assert "Your account of the incident: The cashier was rude." in to_hana.body
    assert f"Due: {in_words(task.due_at, 'Europe/Istanbul')}" in to_hana.body
    assert f"Due: {in_words(task.due_at, 'Europe/London')}" in to_hugo.body, "the uk-office calendar's zone"
    assert "UTC)" in to_hana.body


def test_the_api_gives_the_deadline_in_utc_and_in_the_agents_zone_else_the_calendars():
    w = _staffed()
    _, task = _answer_task(w)
    istanbul = Agent("alice", "alice@caseflow.test", frozenset({"agent"}), time_zone="Europe/Istanbul")

    shown = w.services.completions.task(task.id, istanbul)
    assert shown["due_at"] == task.due_at.isoformat(), "kept for older clients"
    assert shown["due"]["time_zone"] == "Europe/Istanbul" and shown["due"]["local"].endswith("+03:00")
    assert datetime.fromisoformat(shown["due"]["local"]) == task.due_at
    assert shown["next_checkpoint"]["utc"] == task.next_checkpoint_at.isoformat()
    assert w.services.completions.task(task.id, w.agent("alice"))["due"]["time_zone"] == "Europe/London"


def test_times_in_words_and_zones_that_are_not_zones():
    moment = datetime(2026, 12, 7, 21, 30, tzinfo=UTC)
    assert in_words(moment, "Europe/Istanbul") == "Tue 8 Dec 2026, 00:30 Europe/Istanbul (Mon 7 Dec, 21:30 UTC)"
    assert in_words(moment, "Europe/London") == "Mon 7 Dec 2026, 21:30 Europe/London (21:30 UTC)"
    assert in_words(moment, "UTC") == "Mon 7 Dec 2026, 21:30 UTC"
    assert known_zone("Mars/Olympus") == "" and known_zone("../etc/passwd") == "" and known_zone(None) == ""
    assert moment_in(moment, "nowhere") == {"utc": moment.isoformat(), "local": moment.isoformat(), "time_zone": "UTC"}


def test_an_agents_time_zone_comes_from_their_tokens_zoneinfo_and_a_bad_one_is_ignored():
    class Verifier:
        def __init__(self, zone: str):
            self.zone = zone

        def verify(self, token: str) -> dict:
            return {"cognito:username": "hana", "cognito:groups": ["hr"], "zoneinfo": self.zone}

    assert AuthService(FakeDirectory(), Verifier("Europe/Istanbul")).agent_from_header("Bearer t").time_zone == (
        "Europe/Istanbul"
    )
    assert AuthService(FakeDirectory(), Verifier("Mars/Olympus")).agent_from_header("Bearer t").time_zone == ""
