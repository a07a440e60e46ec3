"""The CloudWatch metrics each domain event emits: names and dimension sets from docs/kpis.md.

One function per event, so the vocabulary of the dashboard lives in one place and the services
only say what happened.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain import kpi_events
from chalicelib.domain.kpi_events import KpiEvent
from chalicelib.domain.kpis import CES_EASY

NAMESPACE = "Caseflow"
COUNT = "Count"
SECONDS = "Seconds"
NONE = "None"

#: Metric names: the dashboard's vocabulary (docs/kpis.md), which infra/observability.py graphs.
ISSUES_OPENED = "IssuesOpened"
FIRST_RESPONSE_SECONDS = "FirstResponseSeconds"
RESOLUTION_SECONDS = "ResolutionSeconds"
ISSUES_REOPENED = "IssuesReopened"
TASK_OPENED = "TaskOpened"
TASK_COMPLETED = "TaskCompleted"
SLA_MET = "SlaMet"
SLA_WARNING = "SlaWarning"
SLA_BREACHED = "SlaBreached"
ESCALATED = "Escalated"
CSAT = "Csat"
CES = "Ces"
NPS = "Nps"
AUTO_CLASSIFIED = "AutoClassified"
TRIAGE_NEEDED = "TriageNeeded"
TYPE_CORRECTED = "TypeCorrected"
BACKLOG = "Backlog"
EMAILS_FAILED = "EmailsFailed"
METRIC_NAMES = (
    ISSUES_OPENED,
    FIRST_RESPONSE_SECONDS,
    RESOLUTION_SECONDS,
    ISSUES_REOPENED,
    TASK_OPENED,
    TASK_COMPLETED,
    SLA_MET,
    SLA_WARNING,
    SLA_BREACHED,
    ESCALATED,
    CSAT,
    CES,
    NPS,
    AUTO_CLASSIFIED,
    TRIAGE_NEEDED,
    TYPE_CORRECTED,
    BACKLOG,
    EMAILS_FAILED,
)

#: Dimension names.
TYPE = "Type"
CHANNEL = "Channel"
STEP = "Step"
LEVEL = "Level"


@dataclass(frozen=True)
class Measurement:
    name: str
    value: float
    unit: str
    dimensions: tuple[tuple[str, str], ...] = ()


def issue_opened(type_id: str, channel: str) -> list[Measurement]:
    return [Measurement("IssuesOpened", 1, COUNT, (("Type", type_id), ("Channel", channel)))]


def first_response(type_id: str, seconds: float) -> list[Measurement]:
    return [Measurement("FirstResponseSeconds", max(seconds, 0.0), SECONDS, (("Type", type_id),))]


def resolved(type_id: str, seconds: float) -> list[Measurement]:
    return [Measurement("ResolutionSeconds", max(seconds, 0.0), SECONDS, (("Type", type_id),))]


def task_opened(type_id: str) -> list[Measurement]:
    """TaskOpened by type, and once more without dimensions: the SLA breach-rate alarm's
    denominator (an alarm cannot sum the per-type series with SEARCH)."""
    return [Measurement(TASK_OPENED, 1, COUNT, ((TYPE, type_id),)), Measurement(TASK_OPENED, 1, COUNT)]


def task_completed(type_id: str, step: str, on_time: bool | None) -> list[Measurement]:
    """TaskCompleted, and SlaMet (1 on time, 0 late) when the step had a deadline."""
    dimensions = (("Type", type_id), ("Step", step))
    found = [Measurement("TaskCompleted", 1, COUNT, dimensions)]
    if on_time is not None:
        found.append(Measurement("SlaMet", 1 if on_time else 0, NONE, dimensions))
    return found


def sla_warning(type_id: str) -> list[Measurement]:
    return [Measurement("SlaWarning", 1, COUNT, (("Type", type_id),))]


def sla_breached(type_id: str, step: str) -> list[Measurement]:
    """SlaBreached by type and step, and once more without dimensions: the breach-rate alarm's
    numerator."""
    return [Measurement(SLA_BREACHED, 1, COUNT, ((TYPE, type_id), (STEP, step))), Measurement(SLA_BREACHED, 1, COUNT)]


def escalated(level: int) -> list[Measurement]:
    return [Measurement("Escalated", 1, COUNT, (("Level", str(level)),))]


def survey_answered(question: str, score: int, type_id: str) -> list[Measurement]:
    """Csat as 100 (4–5) or 0, Ces as 100 (5–7) or 0, Nps as +100, 0 or −100: their Average is the KPI itself."""
    if question == "csat":
        return [Measurement("Csat", 100 if score >= 4 else 0, NONE, (("Type", type_id),))]
    if question == "ces":
        return [Measurement(CES, 100 if score >= CES_EASY else 0, NONE, ((TYPE, type_id),))]
    value = 100 if score >= 9 else (0 if score >= 7 else -100)
    return [Measurement("Nps", value, NONE, (("Type", type_id),))]


def classified(type_id: str) -> list[Measurement]:
    return [Measurement("AutoClassified", 1, COUNT, (("Type", type_id),))]


def triage_needed() -> list[Measurement]:
    return [Measurement("TriageNeeded", 1, COUNT)]


def type_corrected(predicted: str) -> list[Measurement]:
    return [Measurement("TypeCorrected", 1, COUNT, (("Type", predicted),))]


def reopened(type_id: str) -> list[Measurement]:
    return [Measurement("IssuesReopened", 1, COUNT, (("Type", type_id),))]


def email_failed() -> list[Measurement]:
    """An email that was not sent (SES refused it, or it could not be built): ops' alarm counts them."""
    return [Measurement(EMAILS_FAILED, 1, COUNT)]


def of_event(event: KpiEvent) -> list[Measurement]:
    """The metrics of a KPI event. A changed survey answer emits none: CloudWatch keeps the first
    (the roll-ups, which can subtract, replace it)."""
    kind = event.kind
    if kind == kpi_events.OPENED:
        return issue_opened(event.type_id, event.channel)
    if kind == kpi_events.FIRST_RESPONSE:
        return first_response(event.type_id, event.seconds or 0.0)
    if kind == kpi_events.RESOLVED:
        return resolved(event.type_id, event.seconds or 0.0)
    if kind == kpi_events.REOPENED:
        return reopened(event.type_id)
    if kind == kpi_events.TASK_OPENED:
        return task_opened(event.type_id)
    if kind == kpi_events.TASK_COMPLETED:
        return task_completed(event.type_id, event.step, event.on_time)
    if kind == kpi_events.WARNED:
        return sla_warning(event.type_id)
    if kind == kpi_events.BREACHED:
        return sla_breached(event.type_id, event.step)
    if kind == kpi_events.ESCALATED:
        return escalated(event.level)
    if kind == kpi_events.SURVEY_ANSWERED and event.replaced_score is None and event.score is not None:
        return survey_answered(event.question, event.score, event.type_id)
    if kind == kpi_events.CLASSIFIED:
        return classified(event.type_id)
    if kind == kpi_events.TRIAGED:
        return triage_needed()
    if kind == kpi_events.CORRECTED:
        return type_corrected(event.type_id)
    return []
