"""The domain events the KPIs are made of, as the services record them (see docs/kpis.md).

Each event is recorded once: to CloudWatch as EMF metrics (`measurements.of_event`) and to the
KPI journal, from which the hourly roll-ups are folded (`kpi_rollups.fold`). An event carries
what both need: the issue's type and channel, and the **cohort** day its figure belongs to (the
opening day for contacts, the first resolution day for resolution, FCR and reopenings, the
first answer day for surveys). Its `key` names the domain event itself, so a retried delivery
records the same key and the journal keeps one copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from chalicelib.domain.kpis import FCR_WINDOW

OPENED = "opened"
FIRST_RESPONSE = "first_response"
RESOLVED = "resolved"
REOPENED = "reopened"
TASK_OPENED = "task_opened"
TASK_COMPLETED = "task_completed"
WARNED = "warned"
BREACHED = "breached"
ESCALATED = "escalated"
SURVEY_ANSWERED = "survey_answered"
CLASSIFIED = "classified"
TRIAGED = "triaged"
CORRECTED = "corrected"
#: A customer read a help article on a report form and filed nothing: "This answered my question".
DEFLECTED = "deflected"
#: A report filed through a form that had shown help articles: they did not answer it.
FILED_AFTER_ARTICLES = "filed_after_articles"
KINDS = (
    OPENED,
    FIRST_RESPONSE,
    RESOLVED,
    REOPENED,
    TASK_OPENED,
    TASK_COMPLETED,
    WARNED,
    BREACHED,
    ESCALATED,
    SURVEY_ANSWERED,
    CLASSIFIED,
    TRIAGED,
    CORRECTED,
    DEFLECTED,
    FILED_AFTER_ARTICLES,
)


@dataclass(frozen=True)
class KpiEvent:
    kind: str
    key: str
    at: datetime
    type_id: str
    channel: str
    cohort: date
    issue_id: str = ""
    step: str = ""
    level: int = 0
    seconds: float | None = None
    question: str = ""
    score: int | None = None
    #: A survey answer changed within its window: the score it replaces.
    replaced_score: int | None = None
    #: A task completed by its deadline (None: the step has no deadline).
    on_time: bool | None = None
    #: The issue was resolved with one customer contact (first resolution), or had been (reopening).
    one_contact: bool | None = None
    #: A reopening that is the issue's first.
    first_reopening: bool = False
    #: A reopening within FCR_WINDOW of the first resolution.
    within_fcr_window: bool = False
    #: The help articles of a deflection (the one that answered) or of a report filed anyway (those
    #: shown), their slugs separated by spaces.
    articles: str = ""

    def as_dict(self) -> dict:
        found = {name: getattr(self, name) for name in self.__dataclass_fields__}
        found["at"] = self.at.isoformat()
        found["cohort"] = self.cohort.isoformat()
        return {k: v for k, v in found.items() if not _empty(v) or k in ("on_time", "one_contact")}

    @classmethod
    def from_dict(cls, raw: dict) -> KpiEvent:
        values = dict(raw)
        values["at"] = datetime.fromisoformat(values["at"])
        values["cohort"] = date.fromisoformat(values["cohort"])
        if values.get("level") is not None:
            values["level"] = int(values["level"])
        for name in ("score", "replaced_score"):
            if values.get(name) is not None:
                values[name] = int(values[name])
        if values.get("seconds") is not None:
            values["seconds"] = float(values["seconds"])
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})


def _empty(value: object) -> bool:
    """Left out of the stored form: None, "" and False, but never 0 (an NPS of 0, a level 0)."""
    return value is None or value is False or value == ""


def issue_opened(issue_id: str, type_id: str, channel: str, at: datetime) -> KpiEvent:
    return KpiEvent(OPENED, f"{OPENED}#{issue_id}", at, type_id, channel, at.date(), issue_id)


def classification(issue_id: str, type_id: str, channel: str, at: datetime, automatic: bool) -> KpiEvent:
    kind = CLASSIFIED if automatic else TRIAGED
    return KpiEvent(kind, f"{kind}#{issue_id}", at, type_id, channel, at.date(), issue_id)


def type_corrected(issue_id: str, predicted: str, channel: str, at: datetime, opened_at: datetime) -> KpiEvent:
    """An agent changed an automatic type; counted against the classifier's type and the opening day."""
    return KpiEvent(CORRECTED, f"{CORRECTED}#{issue_id}", at, predicted, channel, opened_at.date(), issue_id)


def first_response(issue_id: str, type_id: str, channel: str, opened_at: datetime, at: datetime) -> KpiEvent:
    seconds = max((at - opened_at).total_seconds(), 0.0)
    return KpiEvent(
        FIRST_RESPONSE, f"{FIRST_RESPONSE}#{issue_id}", at, type_id, channel, at.date(), issue_id, seconds=seconds
    )


def resolved(
    issue_id: str, type_id: str, channel: str, opened_at: datetime, at: datetime, customer_contacts: int
) -> KpiEvent:
    """The issue's first resolution; later ones are not events (reopenings are)."""
    seconds = max((at - opened_at).total_seconds(), 0.0)
    return KpiEvent(
        RESOLVED,
        f"{RESOLVED}#{issue_id}",
        at,
        type_id,
        channel,
        at.date(),
        issue_id,
        seconds=seconds,
        one_contact=customer_contacts == 1,
    )


def reopened(
    issue_id: str,
    type_id: str,
    channel: str,
    first_resolved_at: datetime,
    at: datetime,
    number: int,
    one_contact: bool,
) -> KpiEvent:
    """The issue's `number`th reopening, counted in the cohort of its first resolution."""
    return KpiEvent(
        REOPENED,
        f"{REOPENED}#{issue_id}#{number}",
        at,
        type_id,
        channel,
        first_resolved_at.date(),
        issue_id,
        one_contact=one_contact,
        first_reopening=number == 1,
        within_fcr_window=at - first_resolved_at <= FCR_WINDOW,
    )


def task_opened(issue_id: str, run: int, type_id: str, channel: str, step: str, at: datetime) -> KpiEvent:
    return KpiEvent(
        TASK_OPENED, f"{TASK_OPENED}#{issue_id}#{run}#{step}", at, type_id, channel, at.date(), issue_id, step
    )


def task_completed(
    issue_id: str,
    run: int,
    type_id: str,
    channel: str,
    step: str,
    at: datetime,
    on_time: bool | None,
    opened_at: datetime | None = None,
) -> KpiEvent:
    """A task done; with `opened_at`, its `seconds` are the time it was open (the step's duration)."""
    key = f"{TASK_COMPLETED}#{issue_id}#{run}#{step}"
    seconds = max((at - opened_at).total_seconds(), 0.0) if opened_at else None
    return KpiEvent(
        TASK_COMPLETED, key, at, type_id, channel, at.date(), issue_id, step, seconds=seconds, on_time=on_time
    )


def warned(issue_id: str, run: int, type_id: str, channel: str, step: str, checkpoint: int, at: datetime) -> KpiEvent:
    key = f"{WARNED}#{issue_id}#{run}#{step}#{checkpoint}"
    return KpiEvent(WARNED, key, at, type_id, channel, at.date(), issue_id, step)


def breached(issue_id: str, run: int, type_id: str, channel: str, step: str, at: datetime) -> KpiEvent:
    return KpiEvent(BREACHED, f"{BREACHED}#{issue_id}#{run}#{step}", at, type_id, channel, at.date(), issue_id, step)


def escalated(issue_id: str, run: int, type_id: str, channel: str, step: str, level: int, at: datetime) -> KpiEvent:
    key = f"{ESCALATED}#{issue_id}#{run}#{step}#{level}"
    return KpiEvent(ESCALATED, key, at, type_id, channel, at.date(), issue_id, step, level=level)


def survey_answered(
    issue_id: str,
    type_id: str,
    channel: str,
    question: str,
    score: int,
    at: datetime,
    first_answered_at: datetime,
    replaced_score: int | None = None,
) -> KpiEvent:
    """An answer, or a change of it within its window (then it replaces the earlier score)."""
    return KpiEvent(
        SURVEY_ANSWERED,
        f"{SURVEY_ANSWERED}#{issue_id}#{question}#{at.isoformat()}",
        at,
        type_id,
        channel,
        first_answered_at.date(),
        issue_id,
        question=question,
        score=score,
        replaced_score=replaced_score,
    )


def deflected(submission_id: str, type_id: str, channel: str, article: str, at: datetime) -> KpiEvent:
    """A report form's customer found their answer in `article` and filed nothing; one per form."""
    return KpiEvent(DEFLECTED, f"{DEFLECTED}#{submission_id}", at, type_id, channel, at.date(), articles=article)


def filed_after_articles(issue_id: str, type_id: str, channel: str, articles: list[str], at: datetime) -> KpiEvent:
    """A report filed through a form that showed `articles`: none answered it."""
    return KpiEvent(
        FILED_AFTER_ARTICLES,
        f"{FILED_AFTER_ARTICLES}#{issue_id}",
        at,
        type_id,
        channel,
        at.date(),
        issue_id,
        articles=" ".join(articles),
    )
