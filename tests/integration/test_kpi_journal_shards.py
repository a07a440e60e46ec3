"""The KPI journal on moto: one hour's events spread over several partitions, read back whole."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import boto3

from chalicelib import settings
from chalicelib.adapters.dynamodb.kpis import JOURNAL, KpiRepository
from chalicelib.domain import kpi_events, kpi_rollups
from tests.fakes import FakeKpiRepository

HOUR = datetime(2026, 3, 4, 10, tzinfo=UTC)


def an_hour_of_events(issues: int) -> list[kpi_events.KpiEvent]:
    found = []
    for n in range(issues):
        opened_at = HOUR + timedelta(seconds=30 * n)
        issue_id, type_id = f"shards-{n}", ("general-enquiry", "billing-dispute")[n % 2]
        found.append(kpi_events.issue_opened(issue_id, type_id, "web", opened_at))
        found.append(kpi_events.first_response(issue_id, type_id, "web", opened_at, opened_at + timedelta(minutes=5)))
    return found


def journal_partitions(hour_key: str) -> set[str]:
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=settings.get().table_name)
    items = [item for page in pages for item in page["Items"]]
    return {item["pk"]["S"] for item in items if item["pk"]["S"].startswith(f"{JOURNAL}{hour_key}#")}


def test_one_hours_events_land_on_several_shards_and_roll_up_to_the_same_numbers(table):
    events = an_hour_of_events(60)
    next_hour = kpi_events.issue_opened("shards-late", "general-enquiry", "web", HOUR + timedelta(hours=1))
    repository, one_partition = KpiRepository(), FakeKpiRepository()
    for event in [*events, next_hour]:
        repository.append(event)
        one_partition.append(event)
    redelivered = dataclasses.replace(events[0], at=events[0].at + timedelta(minutes=1))
    repository.append(redelivered)  # the same key: its own shard again, where the first copy is kept

    assert len(journal_partitions("2026-03-04T10")) >= 4
    journal = repository.journal(HOUR)
    assert journal == one_partition.journal(HOUR)
    assert len(journal) == len(events) and events[0] in journal
    assert kpi_rollups.fold(journal) == kpi_rollups.fold(events)
