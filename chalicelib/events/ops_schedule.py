"""The hourly ops schedule: SLA sweep, KPI roll-ups of the recent hours, backlog snapshot."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from chalice import Blueprint, Rate

from chalicelib.bootstrap import services

ops_schedule = Blueprint(__name__)
logger = Logger(service="caseflow")


@ops_schedule.schedule(Rate(1, unit=Rate.HOURS), name="hourly_ops")
def hourly_ops(event: Any) -> None:
    logger.info("hourly ops schedule", extra=services().ops_kpis.run_hourly())
