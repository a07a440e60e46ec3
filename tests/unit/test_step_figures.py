"""Per-step figures (completions, median time open, SLA compliance, escalations) from the KPI
roll-ups: how they add up, survive the stored form, and reach ops through the service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.api.process_diagram import process_outline
from chalicelib.domain import kpi_events as ev
from chalicelib.domain import kpi_rollups
from chalicelib.domain.errors import Forbidden, ValidationFailed
from chalicelib.domain.kpi_rollups import Aggregate, StepFigures
from chalicelib.workflows import compiler
from tests.unit.test_workflow_on_fakes import ENQUIRY
from tests.unit.wiring import world

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = AT.date()


def completed(issue: str, step: str, hours: float, on_time: bool | None = True) -> ev.KpiEvent:
    done = AT + timedelta(hours=hours)
    return ev.task_completed(issue, 1, "rude-staff", "web", step, done, on_time, opened_at=AT)


def escalated(issue: str, step: str, level: int) -> ev.KpiEvent:
    return ev.escalated(issue, 1, "rude-staff", "web", step, level, AT + timedelta(hours=6))


def test_a_completed_task_carries_how_long_it_was_open_through_the_journal():
    event = completed("i1", "hr_decision", 2.5)

    stored = ev.KpiEvent.from_dict(event.as_dict())

    assert stored.seconds == 9000
    assert stored == event


def test_a_completion_journalled_before_durations_were_recorded_still_counts_without_one():
    old = completed("i1", "hr_decision", 1).as_dict()
    del old["seconds"]

    rolled = kpi_rollups.fold([ev.KpiEvent.from_dict(old)])[(DAY, "rude-staff", "web")]

    assert kpi_rollups.step_figures(rolled)["hr_decision"] == StepFigures(
        completed=1, median_seconds=None, on_time=1, with_deadline=1
    )


def test_figures_per_step_are_the_median_the_sla_and_the_escalations_of_that_step_only():
    events = [
        completed("i1", "manager_opinion", 1),
        completed("i2", "manager_opinion", 3, on_time=False),
        completed("i3", "manager_opinion", 2),
        completed("i1", "hr_decision", 10, on_time=False),
        escalated("i2", "manager_opinion", 1),
        escalated("i2", "manager_opinion", 2),
        escalated("i1", "hr_decision", 1),
    ]

    figures = kpi_rollups.step_figures(kpi_rollups.fold(events)[(DAY, "rude-staff", "web")])

    opinion = figures["manager_opinion"]
    assert (opinion.completed, opinion.median_seconds, opinion.escalations) == (3, 7200, 2)
    assert opinion.sla_percent == pytest.approx(66.7)
    assert figures["hr_decision"].as_dict() == {
        "completed": 1,
        "median_seconds": 36000,
        "on_time": 0,
        "with_deadline": 1,
        "sla_compliance_percent": 0,
        "escalations": 1,
    }


def test_per_step_figures_add_up_across_buckets_and_survive_the_stored_form():
    monday = kpi_rollups.fold([completed("i1", "hr_decision", 1), escalated("i1", "hr_decision", 1)])
    tuesday = kpi_rollups.fold([completed("i2", "hr_decision", 5, on_time=False)])
    stored = [Aggregate.from_dict(a.as_dict()) for a in (*monday.values(), *tuesday.values())]

    merged = stored[0] + stored[1]

    assert merged.step_seconds == {"hr_decision": [3600, 18000]}
    assert merged.step_completed == {"hr_decision": 2} and merged.step_escalations == {"hr_decision": 1}
    assert kpi_rollups.step_figures(merged)["hr_decision"].sla_percent == 50
    assert merged.escalations == {"1": 1}, "the per-level count is kept as before"


def test_an_aggregate_stored_before_per_step_figures_still_loads_and_merges():
    old = Aggregate(tasks_completed=2, sla={"hr_decision": [1, 2]}).as_dict()
    for key in ("step_completed", "step_seconds", "step_escalations"):
        del old[key]

    loaded = (
        Aggregate.from_dict(old) + kpi_rollups.fold([completed("i3", "hr_decision", 1)])[(DAY, "rude-staff", "web")]
    )

    figures = kpi_rollups.step_figures(loaded)["hr_decision"]
    assert (figures.completed, figures.on_time, figures.with_deadline, figures.median_seconds) == (1, 2, 3, 3600)


# Through the service, on fakes


def test_ops_read_the_last_30_days_of_a_types_steps_from_the_roll_ups():
    w = world()
    w.directory.add("sam", "sam@caseflow.test", "agent")
    opened_at = w.clock()
    issue = w.services.intake.open_issue(ENQUIRY).issue
    w.workflow_says(issue.id, compiler.KIND_OPEN, step="answer")
    w.workflow_says(issue.id, compiler.KIND_WAIT, step="answer", checkpoint=0)
    task = w.tasks.get(issue.id, "answer")
    w.clock.advance(timedelta(hours=3))
    w.services.completions.complete(task.id, {"answer": "From 10:00.", "needs_follow_up": False}, w.agent("sam"))
    w.services.ops_kpis.roll_up(kpi_rollups.hours_between(opened_at, w.clock()))

    figures = w.services.ops_kpis.step_figures("general-enquiry", w.agent("omar", "ops"))

    assert figures["answer"]["completed"] == 1
    assert figures["answer"]["median_seconds"] == 3 * 3600
    assert figures["answer"]["sla_compliance_percent"] == 100
    assert w.services.ops_kpis.step_figures("rude-staff", w.agent("omar", "ops")) == {}
    w.clock.advance(timedelta(days=30))
    assert w.services.ops_kpis.step_figures("general-enquiry", w.agent("ada", "admin")) == {}, "out of the 30 days"


def test_step_figures_need_the_ops_or_admin_role_and_a_sensible_period():
    w = world()
    with pytest.raises(Forbidden):
        w.services.ops_kpis.step_figures("general-enquiry", w.agent("alice"))
    with pytest.raises(ValidationFailed):
        w.services.ops_kpis.step_figures("general-enquiry", w.agent("omar", "ops"), days=0)


def test_the_diagram_takes_the_services_figures_as_they_come():
    figures = {"answer": StepFigures(completed=4, median_seconds=60, on_time=4, with_deadline=4).as_dict()}
    outline = process_outline(world().services.issue_types.current("general-enquiry").issue_type, figures)

    assert outline.steps[0].status == "on-target" and "4 completed" in outline.steps[0].figures
