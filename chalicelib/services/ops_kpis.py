"""Ops' numbers: the hourly schedule (SLA sweep, KPI roll-ups, backlog snapshot) and the KPI reports.

The roll-up of an hour reads that hour's KPI journal by key, folds it (`kpi_rollups.fold`) and
stores the aggregates under the hour, replacing an earlier roll-up of it: running it twice counts
nothing twice, and a late event is picked up by the next run, which rolls the previous hours
again. Reports read one item collection per day, never a Scan.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.domain import kpi_rollups
from chalicelib.domain.agents import ADMIN_ROLE, OPS_ROLE, Agent
from chalicelib.domain.errors import FieldError, Forbidden, ValidationFailed
from chalicelib.domain.issues import EMAIL as EMAIL_CHANNEL
from chalicelib.domain.issues import WEB
from chalicelib.domain.kpi_rollups import Aggregate, BacklogSnapshot, Bucket
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.ports import IssueRepository, KpiRepository
from chalicelib.services.workflow.checkpoints import Checkpoints

#: Roles that may read the KPIs.
READERS = frozenset({OPS_ROLE, ADMIN_ROLE})
#: How issues come in: the customers' channels, and the survey for service-recovery issues.
CHANNELS = (WEB, EMAIL_CHANNEL, "survey")
#: Each run rolls up this many hours before the current one again, for events recorded late.
HOURS_BACK = 2
DEFAULT_DAYS = 30
MAX_DAYS = 366
#: The most hours an admin may ask to roll up again in one request.
MAX_HOURS = 24 * 62


class OpsKpiService:
    def __init__(
        self,
        kpis: KpiRepository,
        issues: IssueRepository,
        issue_types: IssueTypeService,
        clock: Clock = utc_now,
        sweep: Checkpoints | None = None,
    ):
        self._kpis = kpis
        self._issues = issues
        self._types = issue_types
        self._clock = clock
        #: The SLA sweep the hourly schedule runs first (the checkpoints' safety net for timers).
        self._sweep = sweep

    # The hourly schedule

    def run_hourly(self, start: datetime | None = None, end: datetime | None = None) -> dict[str, Any]:
        """Sweep overdue checkpoints, roll up the recent hours (or start..end) and snapshot the backlog."""
        now = self._clock()
        result: dict[str, Any] = {"at": now.isoformat()}
        if self._sweep is not None:
            result["sla_sweep"] = self._sweep.reconcile_due(now)
        hours = kpi_rollups.hours_between(start or now - timedelta(hours=HOURS_BACK), end or now)
        result["roll_up"] = self.roll_up(hours)
        result["backlog"] = self.snapshot_backlog(now)
        return result

    def run_by_admin(self, body: Any, agent: Agent) -> dict[str, Any]:
        """An admin runs the hourly schedule now, optionally rolling up the hours `from`..`to` again."""
        agent.require_role(ADMIN_ROLE)
        body = body if isinstance(body, dict) else {}
        start = _moment(body.get("from"), "from")
        end = _moment(body.get("to"), "to")
        if (start is None) != (end is None):
            raise ValidationFailed([FieldError("from" if start is None else "to", "give both from and to, or neither")])
        if start and end:
            if start > end:
                raise ValidationFailed([FieldError("from", "must not be after to")])
            if end - start > timedelta(hours=MAX_HOURS):
                raise ValidationFailed([FieldError("to", f"at most {MAX_HOURS} hours at once")])
        return self.run_hourly(start, end)

    def roll_up(self, hours: list[datetime]) -> dict[str, Any]:
        """Fold each hour's journal into that hour's aggregates, replacing earlier ones."""
        began = time.perf_counter()
        events = buckets = 0
        for hour in hours:
            journal = self._kpis.journal(hour)
            folded = kpi_rollups.fold(journal)
            self._kpis.save_rollup(hour, folded)
            events += len(journal)
            buckets += len(folded)
        return {
            "hours": len(hours),
            "from": hours[0].isoformat() if hours else None,
            "to": hours[-1].isoformat() if hours else None,
            "events": events,
            "aggregates": buckets,
            "seconds": round(time.perf_counter() - began, 3),
        }

    def snapshot_backlog(self, now: datetime) -> dict[str, Any]:
        """Store the ages of the issues open now, per type and channel, read from the open-issues index."""
        ages: dict[tuple[str, str], list[int]] = {}
        for published in self._types.catalogue():
            for issue in self._issues.open_issues(published.type_id):
                if issue.created_at <= now:
                    age = int((now - issue.created_at).total_seconds())
                    ages.setdefault((issue.type_id, issue.channel), []).append(age)
        self._kpis.save_backlog(BacklogSnapshot(now, ages))
        return {"open": sum(len(v) for v in ages.values())}

    # Reports

    def report(self, start: date, end: date, type_id: str | None = None, channel: str | None = None) -> dict[str, Any]:
        """The KPIs of the cohort days start..end (see docs/kpis.md), from the stored roll-ups."""
        buckets: dict[Bucket, Aggregate] = {}
        daily_backlog: dict[date, BacklogSnapshot] = {}
        day = start
        while day <= end:
            found, snapshots = self._kpis.day(day)
            buckets.update(found)
            if snapshots:
                daily_backlog[day] = snapshots[-1]
            day += timedelta(days=1)
        latest = daily_backlog[max(daily_backlog)] if daily_backlog else None
        today = self._clock().date()
        return kpi_rollups.report(buckets, start, end, today, latest, daily_backlog, type_id, channel)

    def report_for(self, agent: Agent, query: Mapping[str, str] | None) -> dict[str, Any]:
        """The report an ops user asked for: `from`, `to` (YYYY-MM-DD, the last 30 days by default),
        `type` and `channel`; every bad value is named."""
        _require_reader(agent)
        query = query or {}
        errors: list[FieldError] = []
        today = self._clock().date()
        end = _day(query.get("to"), "to", errors) or today
        start = _day(query.get("from"), "from", errors) or end - timedelta(days=DEFAULT_DAYS - 1)
        if not errors and start > end:
            errors.append(FieldError("from", "must not be after to"))
        if not errors and (end - start).days + 1 > MAX_DAYS:
            errors.append(FieldError("from", f"a report covers at most {MAX_DAYS} days"))
        type_id = query.get("type") or None
        if type_id is not None and type_id not in {p.type_id for p in self._types.catalogue()}:
            errors.append(FieldError("type", f"unknown issue type {type_id!r}"))
        channel = query.get("channel") or None
        if channel is not None and channel not in CHANNELS:
            errors.append(FieldError("channel", f"must be one of {', '.join(CHANNELS)}"))
        if errors:
            raise ValidationFailed(errors)
        return self.report(start, end, type_id, channel)

    def step_figures(self, type_id: str, agent: Agent, days: int = DEFAULT_DAYS) -> dict[str, dict[str, Any]]:
        """Each step of a type over the last `days` cohort days (today included), from the stored
        roll-ups: completions, median time open, SLA compliance and escalations (docs/kpis.md)."""
        _require_reader(agent)
        if not 1 <= days <= MAX_DAYS:
            raise ValidationFailed([FieldError("days", f"must be 1 to {MAX_DAYS}")])
        end = self._clock().date()
        total = Aggregate()
        for offset in range(days):
            found, _ = self._kpis.day(end - timedelta(days=offset))
            for (_, bucket_type, _), aggregate in found.items():
                if bucket_type == type_id:
                    total += aggregate
        return {step: figures.as_dict() for step, figures in kpi_rollups.step_figures(total).items()}


def _require_reader(agent: Agent) -> None:
    if not READERS & agent.roles:
        raise Forbidden("the KPIs need the role 'ops' (or 'admin')")


def _day(raw: str | None, name: str, errors: list[FieldError]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError(name, "must be a date as YYYY-MM-DD"))
        return None


def _moment(raw: Any, name: str) -> datetime | None:
    if raw in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed([FieldError(name, "must be an ISO 8601 moment, e.g. 2026-11-02T14:00Z")]) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
