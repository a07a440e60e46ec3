"""The metrics each domain event emits match the table in docs/kpis.md: names, dimensions, values."""

from __future__ import annotations

import re
from pathlib import Path

from chalicelib.domain import measurements as m

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "kpis.md").read_text()


def documented() -> dict[str, set[tuple[str, ...]]]:
    """Metric name -> its documented dimension sets (one per row), from the Metrics (EMF) table."""
    table = DOCS.split("## Metrics (EMF)", 1)[1]
    found: dict[str, set[tuple[str, ...]]] = {}
    for name, dimensions in re.findall(r"^\| (\w+) \|.*?\| ([^|]*) \| \d+ \|$", table, re.MULTILINE):
        names = tuple(re.findall(r"\b([A-Z]\w+)\b", dimensions.split("(")[0])) if "{" in dimensions else ()
        found.setdefault(name, set()).add(names)
    return found


def documented_series() -> tuple[int, int]:
    """The series column's rows added up, and the total the table states."""
    table = DOCS.split("## Metrics (EMF)", 1)[1]
    rows = re.findall(r"^\| \w+ \|.*\| (\d+) \|$", table, re.MULTILINE)
    [total] = re.findall(r"^\| \*\*Total\*\* \|.*\| \*\*(\d+)\*\* \|$", table, re.MULTILINE)
    return sum(map(int, rows)), int(total)


EMITTED = [
    *m.issue_opened("rude-staff", "web"),
    *m.first_response("rude-staff", 60),
    *m.resolved("rude-staff", 3600),
    *m.task_opened("rude-staff"),
    *m.task_completed("rude-staff", "manager_opinion", True),
    *m.sla_warning("rude-staff"),
    *m.sla_breached("rude-staff", "manager_opinion"),
    *m.escalated(2),
    *m.survey_answered("csat", 5, "rude-staff"),
    *m.survey_answered("ces", 6, "rude-staff"),
    *m.survey_answered("nps", 3, "rude-staff"),
    *m.classified("late-delivery"),
    *m.triage_needed(),
    *m.type_corrected("late-delivery"),
    *m.email_failed(),
]


def test_every_emitted_metric_is_documented_with_its_dimensions():
    docs = documented()
    for measurement in EMITTED:
        assert measurement.name in docs, f"{measurement.name} is not in docs/kpis.md"
        assert tuple(name for name, _ in measurement.dimensions) in docs[measurement.name], measurement


def test_the_metric_names_are_the_documented_ones_and_every_emitted_name_is_among_them():
    assert set(m.METRIC_NAMES) == set(documented())
    assert {measurement.name for measurement in EMITTED} <= set(m.METRIC_NAMES)


def test_the_documented_series_add_up_to_the_stated_total_and_cost():
    rows, total = documented_series()
    assert rows == total
    assert f"{total} × $0.30 = **${total * 0.30:.2f} a month**" in DOCS


def test_tasks_opened_and_breaches_also_go_out_without_dimensions_for_the_breach_rate_alarm():
    for found in (m.task_opened("t"), m.sla_breached("t", "s")):
        by_type, total = found
        assert by_type.name == total.name and by_type.value == total.value == 1
        assert by_type.dimensions[0] == (m.TYPE, "t") and total.dimensions == ()


def test_survey_scores_become_values_whose_average_is_the_kpi():
    csat = [m.survey_answered("csat", score, "t")[0].value for score in range(1, 6)]
    nps = [m.survey_answered("nps", score, "t")[0].value for score in range(0, 11)]
    ces = [m.survey_answered("ces", score, "t")[0] for score in range(1, 8)]
    assert csat == [0, 0, 0, 100, 100]
    assert [x.value for x in ces] == [0, 0, 0, 0, 100, 100, 100]
    assert {(x.name, x.dimensions) for x in ces} == {("Ces", (("Type", "t"),))}
    assert nps == [-100] * 7 + [0, 0, 100, 100]


def test_sla_met_is_sent_only_for_steps_with_a_deadline():
    assert [x.name for x in m.task_completed("t", "s", None)] == ["TaskCompleted"]
    assert [x.value for x in m.task_completed("t", "s", False)] == [1, 0]
