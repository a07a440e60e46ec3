"""The CloudWatch metrics each domain event emits: names and dimension sets from docs/kpis.md.

One function per event, so the vocabulary of the dashboard lives in one place and the services
only say what happened.
"""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE = "Caseflow"
COUNT = "Count"
SECONDS = "Seconds"
NONE = "None"


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
    return [Measurement("TaskOpened", 1, COUNT, (("Type", type_id),))]


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
    return [Measurement("SlaBreached", 1, COUNT, (("Type", type_id), ("Step", step)))]


def escalated(level: int) -> list[Measurement]:
    return [Measurement("Escalated", 1, COUNT, (("Level", str(level)),))]


def survey_answered(question: str, score: int, type_id: str) -> list[Measurement]:
    """Csat as 100 (4–5) or 0, Nps as +100, 0 or −100: their Average is the KPI itself."""
    if question == "csat":
        return [Measurement("Csat", 100 if score >= 4 else 0, NONE, (("Type", type_id),))]
    value = 100 if score >= 9 else (0 if score >= 7 else -100)
    return [Measurement("Nps", value, NONE, (("Type", type_id),))]


def classified(type_id: str) -> list[Measurement]:
    return [Measurement("AutoClassified", 1, COUNT, (("Type", type_id),))]


def triage_needed() -> list[Measurement]:
    return [Measurement("TriageNeeded", 1, COUNT)]


def type_corrected(predicted: str) -> list[Measurement]:
    return [Measurement("TypeCorrected", 1, COUNT, (("Type", predicted),))]
