"""Customer-service KPIs, computed from plain facts about what happened (see docs/kpis.md).

The definitions live here once; the roll-ups, the API, the CloudWatch metrics and the local report
all use them. Inputs are small dataclasses (`IssueFacts`, `TaskFacts`, `SurveyFacts`) that the
services build from the timeline and the task table, so nothing here touches AWS.

Roll-ups sum. A ratio is returned as a `Ratio` (numerator, denominator) and counts as plain ints,
so an aggregate per day, type and channel can be added to another with `+` and only turned into a
percentage at the end (`Ratio.percent`). Percentiles do not add up: a roll-up keeps the durations
themselves (`first_response_seconds`, `resolution_seconds`) and merges them by concatenation
before `percentile`. No data gives None, never 0: "no surveys" is not "0 % satisfied". A count of
nothing is still 0.

Times are timezone-aware UTC datetimes; days are UTC dates. Durations are wall-clock seconds
(deadlines, which follow business calendars, are already in `TaskFacts.due_at`).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol

AUTO = "auto"
TRIAGE = "triage"
CSAT = "csat"
CES = "ces"
NPS = "nps"
CSAT_SCALE = range(1, 6)
CES_SCALE = range(1, 8)
NPS_SCALE = range(0, 11)
#: The lowest CES score that counts as easy (5, 6 and 7 do).
CES_EASY = 5

#: An issue counts for first-contact resolution only once this long has passed since it was resolved.
FCR_WINDOW = timedelta(days=7)

#: Emails that reach the customer but are not a response: they are sent whatever a person decides.
#: Any other email sent to the customer (an agent's reply, a step's outcome email) is a response.
NOT_A_RESPONSE = frozenset({"acknowledgement", "reminder", "survey", "status_link"})


@dataclass(frozen=True)
class IssueFacts:
    """What happened to one issue.

    `resolved_at` is the first resolution; `reopened_at` and `resolved_again_at` are the later
    reopenings and resolutions, so the state at any moment can be replayed. `customer_contacts`
    counts the customer's messages up to the first resolution, the one that opened the issue
    included. `classified` is AUTO or TRIAGE when the classifier chose (or failed to choose) the
    type, None when the customer chose it; `corrected` is True when an agent changed an automatic
    type.
    """

    issue_id: str
    type_id: str
    channel: str
    opened_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    reopened_at: tuple[datetime, ...] = ()
    resolved_again_at: tuple[datetime, ...] = ()
    customer_contacts: int = 1
    classified: Literal["auto", "triage"] | None = None
    corrected: bool = False

    def is_open(self, at: datetime) -> bool:
        """True when the issue exists at `at` and was not resolved then (or was reopened since)."""
        if self.opened_at > at:
            return False
        resolutions = sum(1 for t in (self.resolved_at, *self.resolved_again_at) if t is not None and t <= at)
        reopenings = sum(1 for t in self.reopened_at if t <= at)
        return resolutions == reopenings


@dataclass(frozen=True)
class TaskFacts:
    """One workflow task: its deadline (None when the step has none) and the highest escalation
    level it reached (0 when it never escalated)."""

    issue_id: str
    type_id: str
    step: str
    due_at: datetime | None
    completed_at: datetime | None = None
    escalation_level: int = 0


@dataclass(frozen=True)
class SurveyFacts:
    """One survey answer: CSAT on 1..5, CES on 1..7 or NPS on 0..10."""

    issue_id: str
    question: Literal["csat", "ces", "nps"]
    score: int
    type_id: str = ""

    def __post_init__(self) -> None:
        scale = {CSAT: CSAT_SCALE, CES: CES_SCALE, NPS: NPS_SCALE}.get(self.question)
        if scale is None:
            raise ValueError(f"unknown survey question {self.question!r}")
        if self.score not in scale:
            raise ValueError(f"{self.question} score {self.score} is outside {scale.start}..{scale.stop - 1}")


@dataclass(frozen=True)
class Ratio:
    """A share kept as its two counts, so that ratios of different days or types can be added."""

    numerator: int = 0
    denominator: int = 0

    def __add__(self, other: Ratio) -> Ratio:
        return Ratio(self.numerator + other.numerator, self.denominator + other.denominator)

    @property
    def percent(self) -> float | None:
        """100 × numerator / denominator, or None when there is nothing to divide by."""
        return None if self.denominator == 0 else 100.0 * self.numerator / self.denominator


@dataclass(frozen=True)
class NpsCounts:
    """Promoters (9–10), passives (7–8) and detractors (0–6); adds up like a Ratio."""

    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    def __add__(self, other: NpsCounts) -> NpsCounts:
        return NpsCounts(
            self.promoters + other.promoters, self.passives + other.passives, self.detractors + other.detractors
        )

    @property
    def answers(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float | None:
        """% promoters − % detractors, in points from −100 to 100; None without answers."""
        if not self.answers:
            return None
        return 100.0 * (self.promoters - self.detractors) / self.answers


@dataclass(frozen=True)
class CesCounts:
    """Easy answers (5–7), all answers and the sum of their scores; adds up like a Ratio."""

    easy: int = 0
    answers: int = 0
    score_sum: int = 0

    def __add__(self, other: CesCounts) -> CesCounts:
        return CesCounts(self.easy + other.easy, self.answers + other.answers, self.score_sum + other.score_sum)

    @property
    def percent(self) -> float | None:
        """Share of easy answers in percent; None without answers."""
        return Ratio(self.easy, self.answers).percent

    @property
    def mean(self) -> float | None:
        """The mean score on 1..7; None without answers."""
        return None if not self.answers else self.score_sum / self.answers


@dataclass(frozen=True)
class Backlog:
    """Open issues at a moment, and how long ago they were opened (seconds)."""

    count: int
    age_median: float | None
    age_p90: float | None
    age_max: float | None


# --- percentiles -------------------------------------------------------------------------------


def percentile(values: Iterable[float], p: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least p % of the values at or below
    it (rank ⌈p/100 × n⌉, at least 1). Always one of the values; None when there are none."""
    if not 0 <= p <= 100:
        raise ValueError("p must be between 0 and 100")
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Iterable[float]) -> float | None:
    """The nearest-rank 50th percentile: of an even count, the lower of the two middle values."""
    return percentile(values, 50)


def median_and_p90(values: Iterable[float]) -> tuple[float | None, float | None]:
    ordered = sorted(values)
    return percentile(ordered, 50), percentile(ordered, 90)


# --- contacts ----------------------------------------------------------------------------------


def contacts_per_day(issues: Iterable[IssueFacts]) -> dict[tuple[date, str, str], int]:
    """Issues opened per (UTC day, type, channel). A contact is an issue opened; the customer's
    follow-ups on an issue are not new contacts."""
    counts: Counter[tuple[date, str, str]] = Counter()
    for issue in issues:
        counts[(issue.opened_at.date(), issue.type_id, issue.channel)] += 1
    return dict(counts)


# --- first response and resolution -----------------------------------------------------------


class TimelineLike(Protocol):
    """What `first_response_at` reads of a timeline event (`chalicelib.domain.issues.TimelineEvent`)."""

    @property
    def at(self) -> datetime: ...

    @property
    def kind(self) -> str: ...

    @property
    def data(self) -> Mapping[str, Any]: ...


def first_response_at(events: Iterable[TimelineLike]) -> datetime | None:
    """When the customer first received an email from a person or a step outcome: the earliest
    `email_sent` event whose `data["message"]` is not in NOT_A_RESPONSE. Suppressed emails never
    reached the customer and do not count. None when there was no response yet."""
    times = [e.at for e in events if e.kind == "email_sent" and e.data.get("message") not in NOT_A_RESPONSE]
    return min(times, default=None)


def first_response_seconds(issues: Iterable[IssueFacts]) -> dict[str, list[float]]:
    """Seconds from opening to the first response, per type; issues without one are left out."""
    by_type: dict[str, list[float]] = defaultdict(list)
    for issue in issues:
        if issue.first_response_at is not None:
            by_type[issue.type_id].append((issue.first_response_at - issue.opened_at).total_seconds())
    return dict(by_type)


def resolution_seconds(issues: Iterable[IssueFacts]) -> dict[str, list[float]]:
    """Seconds from opening to the first resolution, per type; unresolved issues are left out."""
    by_type: dict[str, list[float]] = defaultdict(list)
    for issue in issues:
        if issue.resolved_at is not None:
            by_type[issue.type_id].append((issue.resolved_at - issue.opened_at).total_seconds())
    return dict(by_type)


def resolution_times(issues: Iterable[IssueFacts]) -> dict[str, tuple[float | None, float | None]]:
    """(median, p90) of resolution seconds per type, nearest-rank."""
    return {type_id: median_and_p90(values) for type_id, values in resolution_seconds(issues).items()}


# --- tasks -------------------------------------------------------------------------------------


def on_time(task: TaskFacts) -> bool | None:
    """True when completed by its deadline (exactly at it counts), False when late, None when the
    task is open or has no deadline (then it is not part of SLA compliance)."""
    if task.completed_at is None or task.due_at is None:
        return None
    return task.completed_at <= task.due_at


def sla_compliance(tasks: Iterable[TaskFacts]) -> tuple[dict[tuple[str, str], Ratio], dict[str, Ratio]]:
    """Tasks completed by their deadline / tasks completed, per (type, step) and per type."""
    by_step: dict[tuple[str, str], Ratio] = defaultdict(Ratio)
    by_type: dict[str, Ratio] = defaultdict(Ratio)
    for task in tasks:
        verdict = on_time(task)
        if verdict is None:
            continue
        one = Ratio(int(verdict), 1)
        by_step[(task.type_id, task.step)] += one
        by_type[task.type_id] += one
    return dict(by_step), dict(by_type)


def escalations_by_level(tasks: Iterable[TaskFacts]) -> dict[int, int]:
    """Escalations per level: a task that reached level 2 escalated once at level 1 and once at 2,
    as the Escalated metric counts them."""
    counts: Counter[int] = Counter()
    for task in tasks:
        for level in range(1, task.escalation_level + 1):
            counts[level] += 1
    return dict(sorted(counts.items()))


# --- resolution quality ------------------------------------------------------------------------


def first_contact_resolution(issues: Iterable[IssueFacts], now: datetime) -> Ratio:
    """Issues resolved with exactly one customer contact and not reopened within 7 days of their
    first resolution / issues resolved at least 7 days before `now`. Issues resolved more recently
    are not counted yet, in either part: their 7 days are not over."""
    result = Ratio()
    for issue in issues:
        if issue.resolved_at is None or issue.resolved_at > now - FCR_WINDOW:
            continue
        resolved = issue.resolved_at
        reopened_soon = any(resolved < t <= resolved + FCR_WINDOW for t in issue.reopened_at)
        result += Ratio(int(issue.customer_contacts == 1 and not reopened_soon), 1)
    return result


def reopen_rate(issues: Iterable[IssueFacts]) -> Ratio:
    """Resolved issues reopened at least once / resolved issues."""
    result = Ratio()
    for issue in issues:
        if issue.resolved_at is not None:
            result += Ratio(int(bool(issue.reopened_at)), 1)
    return result


def backlog(issues: Iterable[IssueFacts], now: datetime) -> Backlog:
    """Issues open at `now` and their age since opening (a reopened issue keeps its first age)."""
    ages = sorted((now - issue.opened_at).total_seconds() for issue in issues if issue.is_open(now))
    p50, p90 = median_and_p90(ages)
    return Backlog(len(ages), p50, p90, ages[-1] if ages else None)


# --- surveys -----------------------------------------------------------------------------------


def csat_counts(answers: Iterable[SurveyFacts]) -> Ratio:
    """CSAT answers of 4 or 5 / CSAT answers."""
    result = Ratio()
    for answer in answers:
        if answer.question == CSAT:
            result += Ratio(int(answer.score >= 4), 1)
    return result


def csat(answers: Iterable[SurveyFacts]) -> float | None:
    """Share of CSAT answers that are 4 or 5, in percent; None without answers."""
    return csat_counts(answers).percent


def ces_counts(answers: Iterable[SurveyFacts]) -> CesCounts:
    """CES answers of 5 to 7, CES answers and the sum of their scores."""
    result = CesCounts()
    for answer in answers:
        if answer.question == CES:
            result += CesCounts(int(answer.score >= CES_EASY), 1, answer.score)
    return result


def ces(answers: Iterable[SurveyFacts]) -> float | None:
    """Share of CES answers that are 5 to 7, in percent; None without answers."""
    return ces_counts(answers).percent


def ces_mean(answers: Iterable[SurveyFacts]) -> float | None:
    """The mean CES score (1..7); None without answers."""
    return ces_counts(answers).mean


def nps_counts(answers: Iterable[SurveyFacts]) -> NpsCounts:
    promoters = passives = detractors = 0
    for answer in answers:
        if answer.question != NPS:
            continue
        if answer.score >= 9:
            promoters += 1
        elif answer.score >= 7:
            passives += 1
        else:
            detractors += 1
    return NpsCounts(promoters, passives, detractors)


def nps(answers: Iterable[SurveyFacts]) -> float | None:
    """Net promoter score in points (−100..100); None without answers."""
    return nps_counts(answers).score


# --- classification ----------------------------------------------------------------------------


def auto_classification_rate(issues: Iterable[IssueFacts]) -> Ratio:
    """Issues the classifier typed itself / issues it was asked about (typed or sent to triage).
    Issues whose type the customer chose are not part of it."""
    result = Ratio()
    for issue in issues:
        if issue.classified in (AUTO, TRIAGE):
            result += Ratio(int(issue.classified == AUTO), 1)
    return result


def correction_rate(issues: Iterable[IssueFacts]) -> Ratio:
    """Automatically typed issues whose type an agent changed / automatically typed issues."""
    result = Ratio()
    for issue in issues:
        if issue.classified == AUTO:
            result += Ratio(int(issue.corrected), 1)
    return result
