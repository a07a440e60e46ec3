"""The workflow side's typed messages, and timeline entries that store facts and show the view."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import tasks as rules
from chalicelib.domain.issues import TimelineEvent
from chalicelib.domain.task_moments import TaskMoment
from chalicelib.domain.templates import render
from chalicelib.services.workflow import messages
from chalicelib.services.workflow.customer_emails import _acknowledgement
from chalicelib.services.workflow.task_views import event_data, history_entry, task_view, timeline_entry

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
SCHEDULE = (NOW + timedelta(hours=1), NOW + timedelta(hours=2), NOW + timedelta(hours=4))
ENVELOPE = {"issue_id": "01ISSUE", "token": "tok", "execution": "arn:x"}


def opened() -> rules.Task:
    return rules.open_task(
        None,
        issue_id="01ISSUE",
        step="check",
        holder="role:store-manager",
        schedule=SCHEDULE,
        due_at=SCHEDULE[1],
        now=NOW,
        reference="CF-ABCDE",
        step_name="Check",
    ).task


def moments() -> list[rules.Task]:
    task = opened()
    escalated = rules.reach(
        task, checkpoint=2, token="t2", holder="role:regional-manager", level=1, breached=True, due_at=SCHEDULE[2]
    ).task
    completed = rules.complete(escalated, fields={"finding": "ok", "n": 2}, by="rita", now=NOW + timedelta(hours=3))
    closed = rules.close(escalated, checkpoint=3, reason="escalation moved the process on to resolve", now=NOW).task
    no_fields = rules.complete(task, fields={}, by="sam", now=NOW)
    return [task, escalated, completed, closed, no_fields, replace(task, schedule=())]


@pytest.mark.parametrize("task", moments())
def test_an_entry_stores_the_task_as_it_stood_and_shows_the_view_it_always_showed(task):
    stored = json.loads(json.dumps({"task": TaskMoment.of(task).as_data(), "level": 1}))  # as DynamoDB keeps it
    assert "token" not in json.dumps(stored) and "assignee" not in stored["task"]
    assert event_data(stored) == {**task_view(task), "level": 1}


def test_entries_written_with_the_view_itself_and_entries_about_no_task_read_as_they_are():
    older = {**task_view(opened()), "percent": 50}
    assert event_data(older) == older
    assert event_data({"reason": "bounces", "to": "a@example.com"}) == {"reason": "bounces", "to": "a@example.com"}
    event = TimelineEvent(NOW, "task_opened", "Check: assigned to store-manager", "caseflow", older)
    assert timeline_entry(event) == event.as_dict()
    entry = {"issue_id": "01OTHER", **TimelineEvent(NOW, "escalated", "x", "caseflow", {"task": {}}).as_dict()}
    assert history_entry(entry) == entry


def test_each_kind_of_message_parses_into_its_own_type():
    assert messages.parse({**ENVELOPE, "kind": "acknowledge", "step": "acknowledge"}) == messages.Acknowledge(
        **ENVELOPE
    )
    opening = messages.parse(
        {**ENVELOPE, "kind": "open", "step": "check", "segment": "vip", "entered_at": "2026-12-05T09:00:00.123Z"}
    )
    assert opening == messages.OpenStep(
        **ENVELOPE, step="check", segment="vip", entered_at=datetime(2026, 12, 5, 9, 0, 0, 123000, tzinfo=UTC)
    )
    assert messages.parse({**ENVELOPE, "kind": "wait", "step": "check", "checkpoint": 2}).checkpoint == 2
    assert isinstance(messages.parse({**ENVELOPE, "kind": "move_on", "step": "check"}), messages.MoveOn)
    assert isinstance(messages.parse({**ENVELOPE, "kind": "email_customer", "step": "tell"}), messages.EmailCustomer)
    assert isinstance(messages.parse({"kind": "resolve", "issue_id": "01ISSUE", "token": "t"}), messages.Resolve)
    with pytest.raises(AttributeError):
        opening.step = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "body",
    [
        [],
        {**ENVELOPE, "kind": "dance"},
        {**ENVELOPE, "kind": "open"},
        {"kind": "acknowledge", "token": "t"},
        {"kind": "resolve", "issue_id": "01ISSUE"},
        {**ENVELOPE, "kind": "wait", "step": "check", "checkpoint": "two"},
        {**ENVELOPE, "kind": "open", "step": "check", "entered_at": "yesterday"},
    ],
)
def test_a_message_this_code_cannot_read_is_unknown(body):
    with pytest.raises(messages.UnknownMessage):
        messages.parse(body)


def test_our_acknowledgement_is_a_template_in_the_words_it_always_had():
    template = _acknowledgement()
    context = {
        "issue": {"reference": "CF-ABCDE"},
        "customer": {"name": ""},
        "type_name": "Late delivery",
        "shown": [("Order number", "SW123456")],
        "status_link": "https://caseflow.example/s/abc",
        "reply_to": "",
    }
    assert render(template["subject"], context) == "We have received your report CF-ABCDE: Late delivery"
    assert render(template["body"], context) == (
        "Dear customer,\n\nWe have received your report and will keep you informed by email.\n\n"
        "Reference: CF-ABCDE\nType: Late delivery\nOrder number: SW123456\n\n"
        "Please quote the reference if you contact us about it.\n"
        "Follow your issue here: https://caseflow.example/s/abc\n\nCaseflow customer service\n"
    )
    internal = {**context, "type_name": "", "shown": [], "status_link": "", "reply_to": "Where is it?"}
    assert render(template["subject"], internal) == "Re: Where is it? [CF-ABCDE]"
    assert render(template["body"], internal).count("\n\n") == 4
