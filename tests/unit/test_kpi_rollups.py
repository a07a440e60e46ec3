"""Aggregates add up: a report's sums equal the aggregate of all the events, and summing leaves the
stored aggregates it read as they were."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.domain import kpi_events as ev
from chalicelib.domain import kpi_rollups
from chalicelib.domain.kpi_rollups import Aggregate

OPENED_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def issue_events(n: int) -> list[ev.KpiEvent]:
    opened = OPENED_AT + timedelta(minutes=n)
    issue = f"i{n}"
    step = "manager_opinion"
    return [
        ev.issue_opened(issue, "rude-staff", "web", opened),
        ev.first_response(issue, "rude-staff", "web", opened, opened + timedelta(minutes=5 + n)),
        ev.task_completed(issue, 1, "rude-staff", "web", step, opened + timedelta(hours=n % 3), n % 2 == 0, opened),
        ev.escalated(issue, 1, "rude-staff", "web", step, 1 + n % 2, opened + timedelta(hours=1)),
        ev.resolved(issue, "rude-staff", "web", opened, opened + timedelta(hours=4 + n), customer_contacts=1),
    ]


def only(buckets: dict) -> Aggregate:
    [aggregate] = buckets.values()
    return aggregate


def test_aggregates_summed_part_by_part_equal_the_aggregate_of_all_the_events():
    events = [e for n in range(6) for e in issue_events(n)]
    parts = [only(kpi_rollups.fold(events[i : i + 5])) for i in range(0, len(events), 5)]
    in_place = Aggregate()
    for part in parts:
        in_place += part
    added = parts[0]
    for part in parts[1:]:
        added = added + part
    whole = only(kpi_rollups.fold(events)).as_dict()
    assert in_place.as_dict() == whole
    assert added.as_dict() == whole
    assert whole["contacts"] == 6 and whole["sla"] == {"manager_opinion": [3, 6]}
    assert whole["escalations"] == {"1": 3, "2": 3}


def test_summing_leaves_the_aggregates_it_read_as_they_were():
    first, second = (only(kpi_rollups.fold(issue_events(n))) for n in (1, 2))
    kept = first.as_dict(), second.as_dict()
    total = first + second
    total.first_response_seconds.append(1.0)
    total.sla["manager_opinion"][0] += 10
    total.step_seconds["manager_opinion"].append(1.0)
    running = Aggregate()
    running += first
    running += second
    running.resolution_seconds.append(1.0)
    running.sla["manager_opinion"][1] += 10
    running.step_seconds["manager_opinion"].append(1.0)
    assert (first.as_dict(), second.as_dict()) == kept
