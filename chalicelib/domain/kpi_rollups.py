"""KPI roll-ups: KPI events folded into aggregates per cohort day, type and channel, and the
figures of any range of them (docs/kpis.md).

An `Aggregate` only adds up: counts, (numerator, denominator) pairs and the durations themselves
(percentiles do not add up, so they are taken from the merged durations). The hourly roll-up folds
one hour's journal into aggregates and stores them under that hour, replacing what an earlier run
stored for it, so running it twice counts nothing twice. A report sums the stored aggregates of a
range of days and turns them into the figures with the functions of `kpis.py`.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from chalicelib.domain import kpi_events as ev
from chalicelib.domain.kpis import CES, CES_EASY, CSAT, FCR_WINDOW, CesCounts, NpsCounts, Ratio, median_and_p90

#: (cohort day, issue type, channel)
Bucket = tuple[date, str, str]


@dataclass
class Aggregate:
    """What happened in one bucket; `+` merges two buckets' aggregates."""

    contacts: int = 0
    first_response_seconds: list[float] = field(default_factory=list)
    resolution_seconds: list[float] = field(default_factory=list)
    resolved: int = 0
    resolved_one_contact: int = 0
    reopened: int = 0
    #: First reopenings, within FCR_WINDOW, of issues resolved with one contact: FCR lost.
    fcr_lost: int = 0
    tasks_opened: int = 0
    tasks_completed: int = 0
    #: step -> [completed by the deadline, completed with a deadline]
    sla: dict[str, list[int]] = field(default_factory=dict)
    warnings: int = 0
    breaches: int = 0
    #: level (as text, for JSON) -> escalations to it
    escalations: dict[str, int] = field(default_factory=dict)
    #: step -> tasks of it completed
    step_completed: dict[str, int] = field(default_factory=dict)
    #: step -> seconds from each task's opening to its completion (tasks journalled with it)
    step_seconds: dict[str, list[float]] = field(default_factory=dict)
    #: step -> escalations of its tasks, every level
    step_escalations: dict[str, int] = field(default_factory=dict)
    csat_positive: int = 0
    csat_answers: int = 0
    ces_easy: int = 0
    ces_answers: int = 0
    #: The CES scores added up, for their mean.
    ces_score_sum: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    auto_classified: int = 0
    triaged: int = 0
    corrected: int = 0
    #: Report forms that ended with "This answered my question" (nothing filed).
    deflections: int = 0
    #: Reports filed through a form that had shown articles.
    filed_after_articles: int = 0
    #: article slug -> deflections it made
    article_deflections: dict[str, int] = field(default_factory=dict)
    #: article slug -> reports filed after it was shown
    article_misses: dict[str, int] = field(default_factory=dict)

    def __add__(self, other: Aggregate) -> Aggregate:
        merged = Aggregate()
        merged += self
        merged += other
        return merged

    def __iadd__(self, other: Aggregate) -> Aggregate:
        """Add `other` into this aggregate, leaving `other` alone. A report sums thousands of
        aggregates: summing in place keeps that linear in their size."""
        for name in _AGGREGATE_FIELDS:
            ours, theirs = getattr(self, name), getattr(other, name)
            if isinstance(ours, list):
                ours.extend(theirs)
            elif name == "sla":
                for step, (met, done) in theirs.items():
                    counts = ours.setdefault(step, [0, 0])
                    counts[0] += met
                    counts[1] += done
            elif name == "step_seconds":
                for step, seconds in theirs.items():
                    ours.setdefault(step, []).extend(seconds)
            elif isinstance(ours, dict):
                for key, count in theirs.items():
                    ours[key] = ours.get(key, 0) + count
            else:
                setattr(self, name, ours + theirs)
        return self

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Aggregate:
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        found = cls(**known)
        found.first_response_seconds = [float(v) for v in found.first_response_seconds]
        found.resolution_seconds = [float(v) for v in found.resolution_seconds]
        found.sla = {step: [int(a), int(b)] for step, (a, b) in found.sla.items()}
        found.escalations = {str(k): int(v) for k, v in found.escalations.items()}
        found.step_completed = {str(k): int(v) for k, v in found.step_completed.items()}
        found.step_seconds = {str(k): [float(s) for s in v] for k, v in found.step_seconds.items()}
        found.step_escalations = {str(k): int(v) for k, v in found.step_escalations.items()}
        found.article_deflections = {str(k): int(v) for k, v in found.article_deflections.items()}
        found.article_misses = {str(k): int(v) for k, v in found.article_misses.items()}
        return found


_AGGREGATE_FIELDS = tuple(f.name for f in fields(Aggregate))


def _apply(aggregate: Aggregate, event: ev.KpiEvent) -> None:
    kind = event.kind
    if kind == ev.OPENED:
        aggregate.contacts += 1
    elif kind == ev.FIRST_RESPONSE and event.seconds is not None:
        aggregate.first_response_seconds.append(event.seconds)
    elif kind == ev.RESOLVED:
        aggregate.resolved += 1
        aggregate.resolved_one_contact += int(bool(event.one_contact))
        if event.seconds is not None:
            aggregate.resolution_seconds.append(event.seconds)
    elif kind == ev.REOPENED and event.first_reopening:
        aggregate.reopened += 1
        aggregate.fcr_lost += int(bool(event.one_contact) and event.within_fcr_window)
    elif kind == ev.TASK_OPENED:
        aggregate.tasks_opened += 1
    elif kind == ev.TASK_COMPLETED:
        aggregate.tasks_completed += 1
        _count(aggregate.step_completed, event.step)
        if event.seconds is not None:
            aggregate.step_seconds.setdefault(event.step, []).append(event.seconds)
        if event.on_time is not None:
            counts = aggregate.sla.setdefault(event.step, [0, 0])
            counts[0] += int(event.on_time)
            counts[1] += 1
    elif kind == ev.WARNED:
        aggregate.warnings += 1
    elif kind == ev.BREACHED:
        aggregate.breaches += 1
    elif kind == ev.ESCALATED:
        _count(aggregate.escalations, str(event.level))
        _count(aggregate.step_escalations, event.step)
    elif kind == ev.SURVEY_ANSWERED and event.score is not None:
        _count_answer(aggregate, event.question, event.score, 1)
        if event.replaced_score is not None:
            _count_answer(aggregate, event.question, event.replaced_score, -1)
    elif kind == ev.CLASSIFIED:
        aggregate.auto_classified += 1
    elif kind == ev.TRIAGED:
        aggregate.triaged += 1
    elif kind == ev.CORRECTED:
        aggregate.corrected += 1
    elif kind == ev.DEFLECTED:
        aggregate.deflections += 1
        for slug in event.articles.split():
            _count(aggregate.article_deflections, slug)
    elif kind == ev.FILED_AFTER_ARTICLES:
        aggregate.filed_after_articles += 1
        for slug in event.articles.split():
            _count(aggregate.article_misses, slug)


def _count(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


def _count_answer(aggregate: Aggregate, question: str, score: int, sign: int) -> None:
    if question == CSAT:
        aggregate.csat_answers += sign
        aggregate.csat_positive += sign * int(score >= 4)
    elif question == CES:
        aggregate.ces_answers += sign
        aggregate.ces_easy += sign * int(score >= CES_EASY)
        aggregate.ces_score_sum += sign * score
    elif score >= 9:
        aggregate.promoters += sign
    elif score >= 7:
        aggregate.passives += sign
    else:
        aggregate.detractors += sign


def fold(events: Iterable[ev.KpiEvent]) -> dict[Bucket, Aggregate]:
    """The aggregates of some events, per (cohort day, type, channel)."""
    buckets: dict[Bucket, Aggregate] = defaultdict(Aggregate)
    for event in events:
        _apply(buckets[(event.cohort, event.type_id, event.channel)], event)
    return dict(buckets)


def hours_between(start: datetime, end: datetime) -> list[datetime]:
    """The whole UTC hours from the one holding `start` to the one holding `end`, both included."""
    hour = start.replace(minute=0, second=0, microsecond=0)
    found = []
    while hour <= end:
        found.append(hour)
        hour += timedelta(hours=1)
    return found


# --- backlog -------------------------------------------------------------------------------------


class OpenIssue(NamedTuple):
    """What the backlog needs of an issue open now."""

    type_id: str
    channel: str
    created_at: datetime


@dataclass(frozen=True)
class BacklogSnapshot:
    """Open issues at a moment: their ages in seconds, per (type, channel)."""

    at: datetime
    ages: dict[tuple[str, str], list[int]]

    def select(self, type_id: str | None, channel: str | None) -> list[int]:
        return sorted(
            age
            for (t, c), ages in self.ages.items()
            if (type_id is None or t == type_id) and (channel is None or c == channel)
            for age in ages
        )


# --- reports -------------------------------------------------------------------------------------


def _percent(ratio: Ratio) -> float | None:
    value = ratio.percent
    return None if value is None else round(value, 1)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def figures(aggregate: Aggregate, fcr: Aggregate | None = None) -> dict[str, Any]:
    """The KPIs of one aggregate. `fcr` is the part of it whose FCR window has closed (the
    aggregate of the cohort days at least FCR_WINDOW old); without it FCR is None."""
    frt = median_and_p90(aggregate.first_response_seconds)
    resolution = median_and_p90(aggregate.resolution_seconds)
    sla = Ratio(sum(m for m, _ in aggregate.sla.values()), sum(d for _, d in aggregate.sla.values()))
    nps = NpsCounts(aggregate.promoters, aggregate.passives, aggregate.detractors)
    ces = CesCounts(aggregate.ces_easy, aggregate.ces_answers, aggregate.ces_score_sum)
    fcr_ratio = Ratio(fcr.resolved_one_contact - fcr.fcr_lost, fcr.resolved) if fcr is not None else Ratio()
    return {
        "contacts": aggregate.contacts,
        "first_response_median_seconds": frt[0],
        "first_response_p90_seconds": frt[1],
        "resolved": aggregate.resolved,
        "resolution_median_seconds": resolution[0],
        "resolution_p90_seconds": resolution[1],
        "tasks_opened": aggregate.tasks_opened,
        "tasks_completed": aggregate.tasks_completed,
        "sla_compliance_percent": _percent(sla),
        "sla_completed": sla.denominator,
        "sla_warnings": aggregate.warnings,
        "sla_breaches": aggregate.breaches,
        "escalations": {level: aggregate.escalations[level] for level in sorted(aggregate.escalations, key=int)},
        "first_contact_resolution_percent": _percent(fcr_ratio),
        "csat_percent": _percent(Ratio(aggregate.csat_positive, aggregate.csat_answers)),
        "csat_answers": aggregate.csat_answers,
        "ces_percent": _rounded(ces.percent),
        "ces_mean": _rounded(ces.mean),
        "ces_answers": ces.answers,
        "nps": _rounded(nps.score),
        "nps_answers": nps.answers,
        "reopen_rate_percent": _percent(Ratio(aggregate.reopened, aggregate.resolved)),
        "auto_classification_percent": _percent(
            Ratio(aggregate.auto_classified, aggregate.auto_classified + aggregate.triaged)
        ),
        "correction_percent": _percent(Ratio(aggregate.corrected, aggregate.auto_classified)),
        "deflections": aggregate.deflections,
        "filed_after_articles": aggregate.filed_after_articles,
        "deflection_rate_percent": _percent(
            Ratio(aggregate.deflections, aggregate.deflections + aggregate.filed_after_articles)
        ),
    }


#: Articles listed as deflecting or failing most.
TOP_ARTICLES = 5


def article_figures(aggregate: Aggregate, limit: int = TOP_ARTICLES) -> dict[str, list[dict[str, Any]]]:
    """The help articles that deflect most (reports not filed) and that fail most (shown, then the
    report filed anyway), most first, ties by slug; each with both counts."""

    def row(slug: str) -> dict[str, Any]:
        deflected = aggregate.article_deflections.get(slug, 0)
        failed = aggregate.article_misses.get(slug, 0)
        return {
            "article": slug,
            "deflections": deflected,
            "filed_anyway": failed,
            "deflection_rate_percent": _percent(Ratio(deflected, deflected + failed)),
        }

    def top(counts: Mapping[str, int]) -> list[dict[str, Any]]:
        ranked = sorted((slug for slug, n in counts.items() if n > 0), key=lambda s: (-counts[s], s))
        return [row(slug) for slug in ranked[:limit]]

    return {
        "deflecting_most": top(aggregate.article_deflections),
        "failing_most": top(aggregate.article_misses),
    }


@dataclass(frozen=True)
class StepFigures:
    """One step's figures over a range of days: what the process diagram colours its box by.

    `median_seconds` is taken over the completions journalled with their opening time (None when
    there are none); SLA compliance is `on_time` / `with_deadline` (None when nothing was counted).
    """

    completed: int = 0
    median_seconds: float | None = None
    on_time: int = 0
    with_deadline: int = 0
    escalations: int = 0

    @property
    def sla_percent(self) -> float | None:
        return _percent(Ratio(self.on_time, self.with_deadline))

    def as_dict(self) -> dict[str, Any]:
        return {
            "completed": self.completed,
            "median_seconds": self.median_seconds,
            "on_time": self.on_time,
            "with_deadline": self.with_deadline,
            "sla_compliance_percent": self.sla_percent,
            "escalations": self.escalations,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> StepFigures:
        median = raw.get("median_seconds")
        return cls(
            completed=int(raw.get("completed", 0)),
            median_seconds=None if median is None else float(median),
            on_time=int(raw.get("on_time", 0)),
            with_deadline=int(raw.get("with_deadline", 0)),
            escalations=int(raw.get("escalations", 0)),
        )


def step_figures(aggregate: Aggregate) -> dict[str, StepFigures]:
    """Per step of the aggregate: completions, median time open, SLA counts and escalations."""
    steps = {*aggregate.step_completed, *aggregate.step_seconds, *aggregate.sla, *aggregate.step_escalations}
    return {
        step: StepFigures(
            completed=aggregate.step_completed.get(step, 0),
            median_seconds=median_and_p90(aggregate.step_seconds.get(step, []))[0],
            on_time=aggregate.sla.get(step, [0, 0])[0],
            with_deadline=aggregate.sla.get(step, [0, 0])[1],
            escalations=aggregate.step_escalations.get(step, 0),
        )
        for step in sorted(steps)
    }


def fcr_closed_before(today: date) -> date:
    """The last cohort day whose every resolution is at least FCR_WINDOW old at the start of `today`."""
    return today - FCR_WINDOW - timedelta(days=1)


def backlog_figures(ages: list[int]) -> dict[str, Any]:
    median, p90 = median_and_p90(ages)
    return {
        "count": len(ages),
        "age_median_seconds": median,
        "age_p90_seconds": p90,
        "age_max_seconds": max(ages) if ages else None,
    }


def report(
    buckets: Mapping[Bucket, Aggregate],
    start: date,
    end: date,
    today: date,
    backlog: BacklogSnapshot | None = None,
    daily_backlog: Mapping[date, BacklogSnapshot] | None = None,
    type_id: str | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    """The KPIs of the days start..end (cohort days), optionally of one type and/or channel:
    totals, per type, per step (SLA), per day (for charts) and the rows per day, type and channel."""
    chosen = {
        key: value
        for key, value in buckets.items()
        if start <= key[0] <= end and (type_id is None or key[1] == type_id) and (channel is None or key[2] == channel)
    }
    closed = fcr_closed_before(today)

    def total(keys: Iterable[Bucket]) -> Aggregate:
        found = Aggregate()
        for key in keys:
            found += chosen[key]
        return found

    def with_fcr(keys: list[Bucket]) -> dict[str, Any]:
        return figures(total(keys), total(k for k in keys if k[0] <= closed))

    keys = sorted(chosen)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    by_day: dict[date, list[Bucket]] = defaultdict(list)
    by_type: dict[str, list[Bucket]] = defaultdict(list)
    for key in keys:
        by_day[key[0]].append(key)
        by_type[key[1]].append(key)
    steps: dict[tuple[str, str], list[int]] = {}
    for key in keys:
        for step, (met, done) in chosen[key].sla.items():
            counts = steps.setdefault((key[1], step), [0, 0])
            counts[0] += met
            counts[1] += done
    daily = []
    for day in days:
        entry = {"date": day.isoformat(), **with_fcr(by_day.get(day, []))}
        channels: dict[str, int] = defaultdict(int)
        for key in by_day.get(day, []):
            channels[key[2]] += chosen[key].contacts
        entry["contacts_by_channel"] = dict(sorted(channels.items()))
        snapshot = (daily_backlog or {}).get(day)
        entry["backlog"] = len(snapshot.select(type_id, channel)) if snapshot else None
        daily.append(entry)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "type": type_id,
        "channel": channel,
        "fcr_counted_through": min(closed, end).isoformat() if closed >= start else None,
        "totals": with_fcr(keys),
        "backlog": {
            "at": backlog.at.isoformat() if backlog else None,
            **backlog_figures(backlog.select(type_id, channel) if backlog else []),
        },
        "by_type": {t: with_fcr(ks) for t, ks in sorted(by_type.items())},
        "articles": article_figures(total(keys)),
        "sla_by_step": [
            {
                "type": t,
                "step": s,
                "completed": done,
                "on_time": met,
                "sla_compliance_percent": _percent(Ratio(met, done)),
            }
            for (t, s), (met, done) in sorted(steps.items())
        ],
        "days": daily,
        "rows": [{"date": k[0].isoformat(), "type": k[1], "channel": k[2], **with_fcr([k])} for k in keys],
    }


#: Escalation levels given a column of their own in CSV.
CSV_LEVELS = ("1", "2", "3")


def as_csv(report_: Mapping[str, Any]) -> str:
    """The report's rows (one per day, type and channel) as CSV; None is an empty cell."""
    rows = list(report_["rows"])
    scalar = [k for k in (rows[0] if rows else figures(Aggregate())) if k != "escalations"]
    columns = scalar + [f"escalations_level_{level}" for level in CSV_LEVELS]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        levels = row.get("escalations", {})
        writer.writerow(
            [("" if row.get(k) is None else row.get(k)) for k in scalar]
            + [levels.get(level, 0) for level in CSV_LEVELS]
        )
    return out.getvalue()
