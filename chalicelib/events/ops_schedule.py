"""The hourly ops schedule: SLA sweep, KPI roll-ups of the recent hours, backlog snapshot."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate

from chalicelib.bootstrap import services
from chalicelib.observability import logger

ops_schedule = Blueprint(__name__)


@ops_schedule.schedule(Rate(1, unit=Rate.HOURS), name="hourly_ops")
def hourly_ops(event: Any) -> None:
    logger.info("hourly ops schedule", extra=services().ops_kpis.run_hourly())
