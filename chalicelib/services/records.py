"""The records the ports take and give: plain, frozen values with no behaviour beyond (de)serialising.

Interfaces live in `chalicelib.services.ports`; these are what passes through them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.issues import Customer, Issue, TimelineEvent, new_id

#: The job kind that asks for a classifier training run.
RETRAIN = "retrain_classifier"
#: The longest a training run can take: the training functions' timeout (infra's TRAINING_TIMEOUT).
#: A run whose function was killed holds the training slot no longer than this.
TRAINING_MAX_DURATION = timedelta(minutes=15)
#: A training run's states while it holds the slot.
QUEUED = "queued"
RUNNING = "running"


@dataclass(frozen=True)
class ThreadEntry:
    """One message of an issue's email thread."""

    message_id: str
    #: "in" (received) or "out" (sent).
    direction: str
    at: datetime
    sender: str = ""
    cc: tuple[str, ...] = ()


@dataclass(frozen=True)
class Receipt:
    """What became of an inbound message, keyed by its SES message id and its Message-ID."""

    ses_id: str
    message_id: str | None
    #: opened, threaded, quarantined, bounce, report or automatic.
    outcome: str
    issue_id: str = ""
    #: The customer-held step this message completes, if any (so that a retry can finish it).
    waiting_step: str = ""


@dataclass(frozen=True)
class InboundRecord:
    """An inbound message filed on an issue: its receipt and its place in the thread."""

    receipt: Receipt
    entry: ThreadEntry | None


@dataclass(frozen=True)
class QuarantinedMail:
    """Mail kept in S3 that opened no issue, for admins to look at."""

    ses_id: str
    received_at: datetime
    reason: str
    sender: str
    subject: str
    raw_key: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "ses_id": self.ses_id,
            "received_at": self.received_at.isoformat(),
            "reason": self.reason,
            "sender": self.sender,
            "subject": self.subject,
            "raw_key": self.raw_key,
        }


@dataclass(frozen=True)
class NewIssue:
    issue: Issue
    customer: Customer
    customer_is_new: bool
    first_event: TimelineEvent
    idempotency_key: str | None
    request_hash: str
    #: Set when an email opened the issue: written in the same transaction (exactly once).
    inbound: InboundRecord | None = None


@dataclass(frozen=True)
class ModelRecord:
    """A trained classifier model: where its blob is, and how it did on the held-back examples."""

    version: str
    key: str
    threshold: float
    trained_at: datetime
    metrics: dict[str, Any]
    promoted: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "key": self.key,
            "threshold": self.threshold,
            "trained_at": self.trained_at.isoformat(),
            "metrics": self.metrics,
            "promoted": self.promoted,
        }


@dataclass(frozen=True)
class TrainingRun:
    """The one training run allowed at a time, from its request until it ends or `expires_at` passes."""

    id: str
    reason: str
    state: str
    queued_at: datetime
    expires_at: datetime
    started_at: datetime | None = None

    @classmethod
    def queued(cls, reason: str, now: datetime) -> TrainingRun:
        return cls(new_id(), reason, QUEUED, now, _expiry(now))

    @classmethod
    def from_job(cls, job: Mapping[str, Any], now: datetime) -> TrainingRun:
        """The queued run a job names (a job queued before runs had ids is a run of its own)."""
        queued_at = job.get("queued_at")
        return cls(
            str(job.get("run_id") or new_id()),
            str(job.get("reason") or "asked for"),
            QUEUED,
            datetime.fromisoformat(queued_at) if queued_at else now,
            _expiry(now),
        )

    def as_job(self) -> dict[str, Any]:
        return {"kind": RETRAIN, "reason": self.reason, "run_id": self.id, "queued_at": self.queued_at.isoformat()}

    def started(self, now: datetime) -> TrainingRun:
        return TrainingRun(self.id, self.reason, RUNNING, self.queued_at, _expiry(now), now)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reason": self.reason,
            "state": self.state,
            "queued_at": self.queued_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "expires_at": self.expires_at.isoformat(),
        }


def _expiry(now: datetime) -> datetime:
    """When a run started or queued now stops holding the slot, in whole seconds (as the table keeps it)."""
    return (now + TRAINING_MAX_DURATION).replace(microsecond=0)


@dataclass(frozen=True)
class SurveyAnswer:
    question: str
    score: int
    answered_at: datetime
    first_answered_at: datetime
    comment: str = ""
