"""The workflow side (`chalicelib/services/workflow`) on fakes of the ports, wired by the real
composition root: what the holder of a task, the customer and the timeline show as the state
machine's task queue messages arrive, twice as often as not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest

from chalicelib.domain import issue_types as types
from chalicelib.domain import tasks as rules
from chalicelib.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.workflows import compiler
from tests.unit.wiring import World, world

ENQUIRY = {
    "type": "general-enquiry",
    "customer": {"email": "ada@example.com", "name": "Ada"},
    "fields": {"subject": "Opening hours", "message": "Are you open on Sunday?"},
}


def _rude_staff(store: str) -> dict:
    return {
        "type": "rude-staff",
        "customer": {"email": "rude.report@example.com"},
        "fields": {"store": store, "incident_date": date(2026, 3, 1).isoformat(), "what_happened": "Shouted at me."},
    }


def _staffed() -> World:
    w = world()
    w.directory.add("sam", "sam@caseflow.test", "agent", "store-manager")
    w.directory.add("alice", "alice@caseflow.test", "agent")
    w.directory.add("rita", "rita@caseflow.test", "regional-manager")
    w.directory.add("hana", "hana@caseflow.test", "hr")
    return w


def _checkpoint(w: World, type_id: str, step_id: str, kind: str) -> int:
    step = w.services.issue_types.current(type_id).issue_type.step(step_id)
    return next(p.index for p in step.checkpoints() if p.kind == kind)


def _with_open_answer_task(w: World):
    """As the state machine runs the step: open it (token-1), then wait on its task (token-2)."""
    issue = w.services.intake.open_issue(ENQUIRY).issue
    w.workflow_says(issue.id, compiler.KIND_OPEN, step="answer")
    w.workflow_says(issue.id, compiler.KIND_WAIT, step="answer", checkpoint=0)
    return issue, w.tasks.get(issue.id, "answer")


# Opening a step


def test_a_step_the_workflow_opens_is_a_task_for_its_role_whose_members_are_emailed():
    w = _staffed()
    issue, task = _with_open_answer_task(w)

    assert (task.status, task.holder, task.step_name) == (rules.OPEN, "role:agent", "Answer the customer")
    assert [t["id"] for t in w.services.queues.page(w.agent("alice"), {})["tasks"]] == [task.id]
    assert w.services.queues.page(w.agent("hana", "hr"), {})["tasks"] == []
    assert sorted(m.to[0] for m in w.mailer.sent) == ["alice@caseflow.test", "sam@caseflow.test"]
    assert all(m.subject == f"New task {issue.reference}: Answer the customer" for m in w.mailer.sent)
    assert w.mailer.to("hana@caseflow.test") == [] and w.mailer.to("rita@caseflow.test") == []
    [opened] = w.issues.events(issue.id, "task_opened")
    assert opened.text == "Answer the customer: assigned to agent"
    [token, answer] = w.engine.successes[-1]
    assert token == "token-1" and set(answer) == {"t0", "t1"}, "the workflow is told its timers"
    assert w.issues.get(issue.id).current_step == "answer"


def test_a_message_delivered_twice_opens_one_task_and_emails_its_holders_once():
    w = _staffed()
    issue, _ = _with_open_answer_task(w)
    w.workflow_says(issue.id, compiler.KIND_OPEN, step="answer")

    assert len(w.tasks.for_issue(issue.id)) == 1
    assert len(w.issues.events(issue.id, "task_opened")) == 1
    assert len(w.mailer.to("sam@caseflow.test")) == 1
    assert len(w.engine.successes) == 2, "both deliveries are answered, so the workflow goes on"


@pytest.mark.parametrize(
    ("store", "holder", "emailed"),
    [
        ("leeds-briggate", "user:sam", "sam@caseflow.test"),
        ("york-coney-street", "email:york.manager@stores.example", "york.manager@stores.example"),
        ("manchester-arndale", "role:store-manager", "sam@caseflow.test"),
    ],
)
def test_the_store_manager_of_the_reported_store_holds_the_task(store, holder, emailed):
    w = _staffed()
    issue = w.services.intake.open_issue(_rude_staff(store)).issue
    w.workflow_says(issue.id, compiler.KIND_OPEN, step="manager_opinion")

    assert w.tasks.get(issue.id, "manager_opinion").holder == holder
    [email] = w.mailer.sent
    assert email.to == [emailed] and issue.reference in email.subject
    has_link = "/t/" in email.body or "Answer here" in email.body
    assert has_link == holder.startswith("email:"), "only an outside party gets the link to answer"


# Completing a task


def test_completing_a_task_without_a_required_field_is_refused_naming_the_field():
    w = _staffed()
    issue, task = _with_open_answer_task(w)
    answered = len(w.engine.successes)

    with pytest.raises(ValidationFailed) as refused:
        w.services.completions.complete(task.id, {"answer": "Yes, 10 to 4."}, w.agent("sam"))
    assert [(e.field, e.message) for e in refused.value.errors] == [("fields.needs_follow_up", "is required")]
    assert w.tasks.get(issue.id, "answer").status == rules.OPEN
    assert len(w.engine.successes) == answered and w.issues.events(issue.id, "task_completed") == []


def test_completing_a_task_hands_the_answers_to_the_workflow_once():
    w = _staffed()
    issue, task = _with_open_answer_task(w)

    done = w.services.completions.complete(
        task.id, {"answer": "Yes, 10 to 4.", "needs_follow_up": False}, w.agent("sam")
    )
    assert done["status"] == rules.COMPLETED and done["completed_by"] == "sam"
    token, output = w.engine.successes[-1]
    # The workflow receives what its Choice reads; the answer itself stays on the task.
    assert token == "token-2" and output == {"fields": {"needs_follow_up": False}}
    assert w.tasks.get(issue.id, "answer").fields == {"answer": "Yes, 10 to 4.", "needs_follow_up": False}
    [completed] = w.issues.events(issue.id, "task_completed")
    assert completed.text == "Answer the customer: completed by sam" and completed.actor == "sam"

    with pytest.raises(Conflict, match="already completed by sam"):
        w.services.completions.complete(task.id, {"answer": "Again", "needs_follow_up": False}, w.agent("alice"))
    assert len(w.engine.successes) == 2


def test_an_agent_who_does_not_hold_the_task_cannot_complete_it():
    w = _staffed()
    _, task = _with_open_answer_task(w)
    answer = {"answer": "x", "needs_follow_up": False}
    with pytest.raises(Forbidden):  # a supervisor sees every issue, but the task is the agents'
        w.services.completions.complete(task.id, answer, w.agent("sue", "supervisor"))
    with pytest.raises(NotFound):  # HR may not even see a general enquiry
        w.services.completions.complete(task.id, answer, w.agent("hana", "hr"))
    assert w.tasks.get(task.issue_id, "answer").status == rules.OPEN


# Checkpoints


def test_a_warning_is_on_the_timeline_once_and_the_holders_reminded_once_however_often_it_arrives():
    w = _staffed()
    issue, _ = _with_open_answer_task(w)
    warning = _checkpoint(w, "general-enquiry", "answer", types.WARNING)
    w.clock.advance(timedelta(hours=6))
    before = len(w.mailer.to("sam@caseflow.test"))

    w.workflow_says(issue.id, compiler.KIND_WAIT, step="answer", checkpoint=warning)
    w.workflow_says(issue.id, compiler.KIND_WAIT, step="answer", checkpoint=warning)

    [warned] = w.issues.events(issue.id, "sla_warning")
    assert "75% of the time to the deadline has passed" in warned.text
    reminders = w.mailer.to("sam@caseflow.test")[before:]
    assert [m.subject.split(":")[0] for m in reminders] == [f"Reminder {issue.reference}"]
    assert w.tasks.get(issue.id, "answer").token == "token-4", "the task waits on the latest token"


def test_a_breach_escalates_the_task_to_the_next_level_once():
    w = _staffed()
    issue = w.services.intake.open_issue(_rude_staff("manchester-arndale")).issue
    w.workflow_says(issue.id, compiler.KIND_OPEN, step="manager_opinion")
    breach = _checkpoint(w, "rude-staff", "manager_opinion", types.BREACH)

    for _ in range(2):
        w.workflow_says(issue.id, compiler.KIND_WAIT, step="manager_opinion", checkpoint=breach)

    task = w.tasks.get(issue.id, "manager_opinion")
    assert (task.holder, task.level, task.breached) == ("role:regional-manager", 1, True)
    assert len(w.issues.events(issue.id, "deadline_breached")) == 1
    [escalated] = w.issues.events(issue.id, "escalated")
    assert "regional-manager" in escalated.text
    [to_rita] = w.mailer.to("rita@caseflow.test")
    assert to_rita.subject.startswith(f"Escalated to you {issue.reference}")
    assert w.services.queues.page(w.agent("sam", "store-manager"), {})["tasks"] == []
    with pytest.raises(Forbidden):
        w.services.completions.complete(task.id, {"manager_opinion": "Mine"}, w.agent("sam", "store-manager"))


def test_timers_handled_out_of_order_act_on_every_checkpoint_once_and_keep_the_latest_token():
    """A late pump hands several timers' messages over in one batch, run side by side: the last
    checkpoint's may be handled first. No breach or escalation level is skipped, warnings it
    overtook stay unsent, and an earlier wait's token, which has expired, never replaces the
    last one's."""
    w = _staffed()
    issue = w.services.intake.open_issue(_rude_staff("manchester-arndale")).issue
    w.workflow_says(issue.id, compiler.KIND_OPEN, step="manager_opinion")
    opened = datetime(2026, 3, 2, 9, tzinfo=UTC)
    w.workflow_says(issue.id, compiler.KIND_WAIT, step="manager_opinion", checkpoint=0, entered_at=f"{opened:%FT%TZ}")
    breach = _checkpoint(w, "rude-staff", "manager_opinion", types.BREACH)
    last = len(w.services.issue_types.current("rude-staff").issue_type.step("manager_opinion").checkpoints()) - 1

    def timer(checkpoint: int) -> str:
        return f"{opened + timedelta(seconds=checkpoint):%FT%TZ}"

    latest = w.workflow_says(
        issue.id, compiler.KIND_WAIT, step="manager_opinion", checkpoint=last, entered_at=timer(last)
    )
    for checkpoint in range(last - 1, 0, -1):
        w.workflow_says(
            issue.id, compiler.KIND_WAIT, step="manager_opinion", checkpoint=checkpoint, entered_at=timer(checkpoint)
        )

    task = w.tasks.get(issue.id, "manager_opinion")
    assert task.token == latest, "an expired wait's token replaced the one the workflow waits on"
    assert w.issues.events(issue.id, "sla_warning") == []
    assert len(w.issues.events(issue.id, "deadline_breached")) == 1
    assert [e.data["level"] for e in w.issues.events(issue.id, "escalated")] == [1, 2]
    assert (task.level, task.checkpoint) == (2, last) and breach < last


def test_a_timer_that_fires_in_the_second_before_its_moment_is_held_until_then_and_one_far_earlier_is_not():
    """Step Functions counts whole seconds and the timers are rounded down, so the warning's timer
    fires a fraction of a second early: its message waits out the rest, and the warning never acts
    before its moment. A message hours early is no rounding; it acts at once, as before."""
    w = _staffed()
    issue, task = _with_open_answer_task(w)
    warning = _checkpoint(w, "general-enquiry", "answer", types.WARNING)
    moment = task.schedule[warning - 1]
    held: list[float] = []

    def sleep(seconds: float) -> None:
        held.append(seconds)
        w.clock.advance(timedelta(seconds=seconds))

    w.clock.now = moment - timedelta(seconds=0.4)
    with mock.patch("chalicelib.services.workflow.checkpoints.time.sleep", sleep):
        w.workflow_says(issue.id, compiler.KIND_WAIT, step="answer", checkpoint=warning)
        [warned] = w.issues.events(issue.id, "sla_warning")
        assert held == [0.4] and warned.at == moment

        later = w.services.intake.open_issue(ENQUIRY).issue
        w.workflow_says(later.id, compiler.KIND_OPEN, step="answer")
        w.workflow_says(later.id, compiler.KIND_WAIT, step="answer", checkpoint=0)
        w.workflow_says(later.id, compiler.KIND_WAIT, step="answer", checkpoint=warning)
    assert held == [0.4] and len(w.issues.events(later.id, "sla_warning")) == 1


def test_a_completion_that_races_the_timer_is_delivered_on_the_timers_token():
    w = _staffed()
    issue, task = _with_open_answer_task(w)
    w.engine.stale_tokens.add("token-2")  # the timer fired: the workflow no longer waits on token-2
    warning = _checkpoint(w, "general-enquiry", "answer", types.WARNING)

    w.services.completions.complete(task.id, {"answer": "Just in time", "needs_follow_up": False}, w.agent("sam"))
    assert [o for _, o in w.engine.successes if "fields" in o] == [], "not lost on the stale token either"
    w.workflow_says(issue.id, compiler.KIND_WAIT, step="answer", checkpoint=warning)

    [(token, output)] = [(t, o) for t, o in w.engine.successes if "fields" in o]
    assert token == "token-3" and output["fields"] == {"needs_follow_up": False}
    assert w.issues.events(issue.id, "sla_warning") == [], "a completed task is not warned about"


# Resolution


def test_resolution_is_on_the_timeline_and_the_survey_is_emailed_once_though_the_message_comes_twice():
    w = _staffed()
    issue = w.services.intake.open_issue(ENQUIRY).issue
    w.clock.advance(timedelta(hours=2))

    w.workflow_says(issue.id, compiler.KIND_RESOLVE)
    w.workflow_says(issue.id, compiler.KIND_RESOLVE)

    resolved = w.issues.get(issue.id)
    assert resolved.status == "resolved" and resolved.resolved_at == w.clock()
    [event] = w.issues.events(issue.id, "issue_resolved")
    assert event.text == "the issue is resolved"
    [survey] = [m for m in w.mailer.to("ada@example.com") if m.subject.startswith("How did we do?")]
    assert "/survey/" in survey.body
    assert [e.kind for e in w.issues.timeline(issue.id)][-2:] == ["issue_resolved", "email_sent"]
    assert len(w.engine.successes) == 2
    assert [e.kind for e in w.kpi_records.journal(w.clock())].count("resolved") == 1


# Emails the workflow sends


def test_an_acknowledgement_the_mailer_cannot_send_is_recorded_and_the_workflow_carries_on():
    w = _staffed()
    w.mailer.refuse.add("ada@example.com")
    issue = w.services.intake.open_issue(ENQUIRY).issue

    w.workflow_says(issue.id, compiler.KIND_ACKNOWLEDGE, step="acknowledge")
    [failed] = w.issues.events(issue.id, "email_failed")
    assert failed.text.startswith("not sent: We have received your report")
    assert w.engine.successes == [("token-1", {})], "the workflow is not left waiting"

    w.workflow_says(issue.id, compiler.KIND_OPEN, step="answer")
    assert w.tasks.get(issue.id, "answer").status == rules.OPEN
    assert w.mailer.to("sam@caseflow.test"), "the next step's holders are still emailed"


def test_no_acknowledgement_goes_to_a_bouncing_address_and_the_timeline_says_so():
    w = _staffed()
    w.mail.mark_bouncing("ada@example.com", w.clock(), "550 mailbox unavailable")
    issue = w.services.intake.open_issue(ENQUIRY).issue

    w.workflow_says(issue.id, compiler.KIND_ACKNOWLEDGE, step="acknowledge")
    assert w.mailer.to("ada@example.com") == []
    [suppressed] = w.issues.events(issue.id, "email_suppressed")
    assert "bounces" in suppressed.data["reason"]
    assert w.issues.events(issue.id, "email_sent") == [] and w.engine.successes == [("token-1", {})]


def test_the_step_email_tells_the_customer_the_agents_answer():
    w = _staffed()
    issue, task = _with_open_answer_task(w)
    w.services.completions.complete(task.id, {"answer": "Yes, 10 to 4.", "needs_follow_up": True}, w.agent("sam"))

    w.workflow_says(issue.id, compiler.KIND_EMAIL_CUSTOMER, step="send_answer")

    [answer] = w.mailer.to("ada@example.com")
    assert answer.subject == f"Re: Opening hours ({issue.reference})"
    assert "Yes, 10 to 4." in answer.body and "Please reply to this email" in answer.body
    [sent] = w.issues.events(issue.id, "email_sent")
    assert sent.data["message"] == "send_answer" and w.engine.successes[-1] == ("token-3", {})


def test_a_redelivered_acknowledgement_emails_the_customer_once():
    w = _staffed()
    issue = w.services.intake.open_issue(ENQUIRY).issue
    token = w.workflow_says(issue.id, compiler.KIND_ACKNOWLEDGE, step="acknowledge")
    w.workflow_says(issue.id, compiler.KIND_ACKNOWLEDGE, token=token, step="acknowledge")

    assert len(w.mailer.to("ada@example.com")) == 1


def test_a_redelivered_email_step_emails_the_customer_once_and_a_new_visit_emails_again():
    w = _staffed()
    issue, task = _with_open_answer_task(w)
    w.services.completions.complete(task.id, {"answer": "Yes, 10 to 4.", "needs_follow_up": True}, w.agent("sam"))
    before = len(w.mailer.to("ada@example.com"))

    token = w.workflow_says(issue.id, compiler.KIND_EMAIL_CUSTOMER, step="send_answer")
    w.workflow_says(issue.id, compiler.KIND_EMAIL_CUSTOMER, token=token, step="send_answer")
    assert len(w.mailer.to("ada@example.com")) == before + 1

    w.workflow_says(issue.id, compiler.KIND_EMAIL_CUSTOMER, step="send_answer")  # the workflow came back to it
    assert len(w.mailer.to("ada@example.com")) == before + 2
