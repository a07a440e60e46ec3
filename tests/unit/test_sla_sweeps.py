"""What the SLA sweep may catch up on, and how reaching a checkpoint by the sweep leaves the token alone."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.adapters.dynamodb.tasks import TaskRepository
from chalicelib.domain import deadlines
from chalicelib.domain import tasks as rules
from chalicelib.domain.calendars import ALWAYS
from chalicelib.domain.issue_types import AUTO_CLOSE, BREACH, ESCALATION, REMINDER, WARNING, parse_issue_type

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)

TYPE = parse_issue_type(
    {
        "id": "sweep-unit",
        "name": "Sweeps",
        "fields": [{"id": "summary", "type": "text"}],
        "steps": [
            {
                # Checkpoints: 1 warning (+2h), 2 deadline with level 1 (+4h), 3 level 2 (+6h), 4 branch (+8h).
                "id": "check",
                "role": "store-manager",
                "deadline": "PT4H",
                "warnings": [50],
                "escalation": [
                    {"after": "PT0S", "reassign": "regional-manager"},
                    {"after": "PT2H", "notify": ["hr-lead"], "raise_priority": True},
                    {"after": "PT4H", "branch": "resolve"},
                ],
            },
            {
                # Checkpoints: 1 deadline (+1h), 2 level 1 (+1h30).
                "id": "later",
                "role": "hr",
                "deadline": "PT1H",
                "escalation": [{"after": "PT30M", "reassign": "hr-lead"}],
            },
            {
                # Checkpoints: 1 reminder (+1 day), 2 auto-close (+3 days).
                "id": "wait",
                "kind": "wait_for_customer",
                "remind_after": "P1D",
                "close_after": "P2D",
                "reminder": {"subject": "Still there?", "body": "Please reply."},
            },
        ],
    }
)


def opened(step_id, checkpoint=0):
    """A task of the step, opened at NOW, its first wait's token stored, at `checkpoint`."""
    step = TYPE.step(step_id)
    moments = deadlines.checkpoint_moments(step, ALWAYS, NOW, "standard")
    task = rules.open_task(
        None,
        issue_id="I",
        step=step.id,
        holder="role:store-manager",
        schedule=tuple(moments),
        due_at=deadlines.deadline_moment(step, moments),
        now=NOW,
        moves_on=deadlines.ends_by_moving_on(step),
    ).task
    return step, replace(rules.reach(task, checkpoint=0, token="t0").task, checkpoint=checkpoint)


def due(step_id, at, checkpoint=0):
    step, task = opened(step_id, checkpoint)
    found = deadlines.due_checkpoints(task, step, at)
    return [(p.index, p.kind) for p in found.sweep], [(p.index, p.kind) for p in found.workflow]


def test_a_warning_falls_due_at_its_moment():
    assert due("check", NOW + 2 * HOUR - timedelta(seconds=1)) == ([], [])
    assert due("check", NOW + 2 * HOUR) == ([(1, WARNING)], [])


def test_the_deadline_and_the_first_level_fall_due_in_one_sweep():
    assert due("check", NOW + 4 * HOUR) == ([(1, WARNING), (2, BREACH)], [])
    level = TYPE.step("check").checkpoints()[2].level
    assert level.number == 1 and level.reassign.key == "role:regional-manager"
    # When the first level comes after the deadline, both are checkpoints of their own.
    assert due("later", NOW + 2 * HOUR) == ([(1, BREACH), (2, ESCALATION)], [])


def test_nothing_is_due_before_the_first_moment_or_once_reached():
    assert due("check", NOW + HOUR) == ([], [])
    assert due("check", NOW + 5 * HOUR, checkpoint=2) == ([], [])
    assert due("check", NOW + 7 * HOUR, checkpoint=2) == ([(3, ESCALATION)], [])


def test_checkpoints_that_move_the_workflow_on_are_left_to_it():
    assert due("check", NOW + 9 * HOUR) == ([(1, WARNING), (2, BREACH), (3, ESCALATION)], [(4, ESCALATION)])
    assert due("check", NOW + 9 * HOUR, checkpoint=3) == ([], [(4, ESCALATION)])
    assert due("wait", NOW + timedelta(days=4)) == ([(1, REMINDER)], [(2, AUTO_CLOSE)])


def test_a_task_that_is_no_longer_open_is_never_due():
    step, task = opened("check")
    done = rules.complete(task, fields={}, by="sam", now=NOW)
    assert deadlines.due_checkpoints(done, step, NOW + 9 * HOUR) == deadlines.DueCheckpoints()
    closed = rules.close(task, checkpoint=4, reason="moved on", now=NOW).task
    assert deadlines.due_checkpoints(closed, step, NOW + 9 * HOUR) == deadlines.DueCheckpoints()
    assert done.next_sweep_at is None and closed.next_sweep_at is None


def test_the_due_index_holds_the_next_checkpoint_the_sweep_can_act_on():
    step, task = opened("check")
    assert task.next_sweep_at == NOW + 2 * HOUR
    _, at_level_2 = opened("check", checkpoint=3)
    assert at_level_2.next_sweep_at is None  # only the branch is left: the workflow's timer does it
    assert at_level_2.next_checkpoint_at == NOW + 8 * HOUR
    # A task written before the flag existed stays indexed until its last checkpoint.
    legacy = replace(at_level_2, moves_on=False)
    assert legacy.next_sweep_at == NOW + 8 * HOUR
    _, waiting = opened("wait", checkpoint=1)
    assert waiting.moves_on and waiting.next_sweep_at is None
    _, later = opened("later", checkpoint=1)
    assert not later.moves_on and later.next_sweep_at == NOW + timedelta(minutes=90)


def test_the_sweep_reaches_a_checkpoint_once_and_keeps_the_token():
    step, task = opened("check")
    swept = rules.reach_missed(task, checkpoint=2, holder="role:regional-manager", level=1, breached=True)
    assert swept.change == rules.REACHED
    assert (swept.task.checkpoint, swept.task.level, swept.task.breached) == (2, 1, True)
    assert swept.task.holder == "role:regional-manager" and swept.task.token == "t0"
    assert rules.reach_missed(swept.task, checkpoint=2, level=1).change == rules.UNCHANGED
    assert rules.reach_missed(swept.task, checkpoint=1).change == rules.UNCHANGED
    # The timer's message for the same checkpoint comes later: it only refreshes the token.
    late = rules.reach(swept.task, checkpoint=2, token="t2", holder="role:regional-manager", level=1, breached=True)
    assert late.change == rules.TOKEN_ONLY and late.task.token == "t2" and late.task.checkpoint == 2
    done = rules.complete(task, fields={}, by="sam", now=NOW)
    assert rules.reach_missed(done, checkpoint=1).change == rules.UNCHANGED


def test_checkpoints_read_well_on_the_timeline():
    points = TYPE.step("check").checkpoints()
    assert [deadlines.describe_checkpoint(p) for p in points[1:]] == [
        "the 50% warning",
        "the deadline (escalation level 1)",
        "escalation level 2",
        "escalation level 3",
    ]
    assert [deadlines.describe_checkpoint(p) for p in TYPE.step("wait").checkpoints()[1:]] == [
        "the reminder to the customer",
        "auto-close",
    ]


def test_the_due_index_entry_sorts_by_utc_moment_and_leaves_with_the_task():
    _, task = opened("check")
    london = replace(task, schedule=tuple(m.astimezone(ZoneInfo("Europe/London")) for m in task.schedule))
    item = TaskRepository._item(london)
    assert item.gsi3pk == TaskRepository._item(task).gsi3pk and item.gsi3pk.startswith("DUE#")
    assert item.gsi3sk == "2026-11-23T11:00:00.000000+00:00"
    done = TaskRepository._item(rules.complete(task, fields={}, by="sam", now=NOW))
    assert done.gsi3pk is None and done.gsi3sk is None
