"""The demo month: every KPI the ops page shows equals the figure computed from the generator's ground truth."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bench.demo_month import DemoMonth, SimulatedClock, ground_truth_report
from harness import provisioned

#: Long ago, so that no other test's issues share these days.
START = datetime(2025, 3, 3, tzinfo=UTC)
DAYS = 9


@pytest.fixture(scope="module")
def month():
    """A stack of its own (the harness's moto in-process), so that no other test's issues or tasks share it."""
    from chalicelib import bootstrap

    with provisioned() as resources:
        clock = SimulatedClock(START)
        services = bootstrap.build(clock)
        services.issue_types.publish_seeds()
        # Every resolved customer answers the survey: the few issues of these days resolve only a
        # handful, and at the demo's usual share some runs got no answer at all (the order of the
        # workflow's messages, and so of the random draws, differs from run to run).
        demo = DemoMonth(services, clock, resources.task_queue_url, seed=11, survey_share=1.0)
        truth = demo.run(START, DAYS, issues=24)
        yield services, clock, truth


def close(a, b):
    return a == b or (a is not None and b is not None and abs(a - b) < 0.051)


def test_the_page_shows_the_ground_truth(month):
    services, clock, truth = month
    today = clock.now.date()
    report = services.ops_kpis.report(START.date(), today)
    expected = ground_truth_report(truth, today)
    totals = report["totals"]

    contacts = {
        (row["date"], row["type"], row["channel"]): row["contacts"] for row in report["rows"] if row["contacts"]
    }
    assert contacts == {(d.isoformat(), t, c): n for (d, t, c), n in expected["contacts"].items()}
    assert sum(contacts.values()) == 24 + sum(1 for i in truth.issues.values() if i.type_id == "service-recovery")
    assert (totals["first_response_median_seconds"], totals["first_response_p90_seconds"]) == expected["first_response"]
    assert (totals["resolution_median_seconds"], totals["resolution_p90_seconds"]) == expected["resolution"]
    for type_id, (median, p90) in expected["resolution_by_type"].items():
        shown = report["by_type"][type_id]
        assert (shown["resolution_median_seconds"], shown["resolution_p90_seconds"]) == (median, p90)
    assert close(totals["sla_compliance_percent"], expected["sla"])
    steps = {(s["type"], s["step"]): s["sla_compliance_percent"] for s in report["sla_by_step"]}
    assert steps.keys() == expected["sla_by_step"].keys()
    assert all(close(steps[k], v) for k, v in expected["sla_by_step"].items())
    assert {int(k): v for k, v in totals["escalations"].items()} == expected["escalations"]
    assert close(totals["first_contact_resolution_percent"], expected["fcr"])
    assert close(totals["csat_percent"], expected["csat"])
    assert close(totals["ces_percent"], expected["ces"])
    assert close(totals["ces_mean"], expected["ces_mean"])
    assert close(totals["nps"], expected["nps"])
    assert close(totals["reopen_rate_percent"], expected["reopen_rate"])
    backlog = expected["backlog"]
    assert report["backlog"]["count"] == backlog.count
    assert report["backlog"]["age_max_seconds"] == (int(backlog.age_max) if backlog.age_max is not None else None)


def test_the_month_has_what_a_dashboard_needs(month):
    services, clock, truth = month
    report = services.ops_kpis.report(START.date(), clock.now.date())
    totals = report["totals"]
    assert {row["channel"] for row in report["rows"]} >= {"web", "email"}
    assert totals["resolved"] > 0 and totals["csat_answers"] > 0 and totals["nps_answers"] > 0
    assert totals["ces_answers"] > 0
    assert totals["escalations"], "no task was escalated"
    assert truth.hourly_runs == DAYS * 24
    assert START + timedelta(days=DAYS) == truth.last_run_at


def test_a_changed_answer_the_product_refuses_is_not_in_the_ground_truth():
    """After the change window the product refuses a different score (409); the customer's first
    answer stands, so the generator must not count the refused one."""
    from types import SimpleNamespace

    from chalicelib.domain.errors import Conflict

    class Surveys:
        def link(self, issue_id: str, question: str, score: int) -> str:
            return f"https://caseflow.test/survey/{question}"

        def answer(self, token: str) -> None:
            if token == "nps":
                raise Conflict("you answered 4 on 31 October 2026; thank you")

    demo = DemoMonth(SimpleNamespace(surveys=Surveys()), SimulatedClock(START), "unused-queue", seed=1)
    demo._recoveries = SimpleNamespace(recovery_issue=lambda issue_id: None)

    demo._survey(random.Random(1), "issue-1")

    assert [question for _, question, _, _ in demo.truth.answers] == ["csat", "ces"]


def test_customers_write_what_customers_of_the_type_write(month):
    """Search and similar issues need real texts: each customer's story is one of the sample's for its type."""
    from chalicelib.adapters.dynamodb.issues import IssueRepository
    from chalicelib.classifier.examples import read_examples
    from chalicelib.services.classifier_training import SAMPLE

    _, _, truth = month
    sample = {(e.label, e.text) for e in read_examples(SAMPLE)}
    stories = {}
    for issue_id, issue_truth in truth.issues.items():
        issue = IssueRepository().get(issue_id)
        story = issue.fields.get("what_happened") or issue.fields.get("details") or issue.fields.get("damage")
        if story:
            assert (issue_truth.type_id, story) in sample
            stories[issue_id] = story
    assert len(stories) >= 5 and len(set(stories.values())) > len(stories) // 2


def test_issues_acted_on_at_once_each_see_their_own_moment():
    """The generator acts for several issues at once: each action's records carry its own time,
    while the month's clock stays where the generator left it."""
    import threading

    clock = SimulatedClock(START)
    moments = [START + timedelta(minutes=minutes) for minutes in (7, 23, 41)]
    both_inside = threading.Barrier(len(moments))
    seen = {}

    def act(moment):
        with clock.at(moment):
            both_inside.wait(timeout=5)
            seen[moment] = clock()
        seen[(moment, "after")] = clock()

    threads = [threading.Thread(target=act, args=(moment,)) for moment in moments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(seen[moment] == moment for moment in moments)
    assert all(seen[(moment, "after")] == START for moment in moments)
    assert clock() == START
