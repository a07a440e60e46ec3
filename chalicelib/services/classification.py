"""Classifying customers' free text into an issue type with the current model, and learning from agents.

Serving uses numpy only (`chalicelib.classifier.serving`): the model is a blob in S3, loaded once
per process and version. Above the threshold the issue's type is set and its process starts;
below it, the issue goes to triage with the top suggestions. Every type an agent sets or confirms
is a labelled example for the next training run.

Training runs one at a time: a run holds the training slot (one item, claimed with a conditional
write) from its request until it ends, or at most TRAINING_MAX_DURATION, so asking again while a
run is queued or running names that run instead of queuing another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.domain.agents import ADMIN_ROLE, Agent
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.ports import ClassifierRecords, JobQueue, ObjectStore
from chalicelib.services.records import TrainingRun

if TYPE_CHECKING:
    from chalicelib.classifier.serving import Model

#: The issue type of messages the classifier is not sure of (a seeded type, not offered to customers).
TRIAGE_TYPE = "triage"
SUGGESTIONS = 3
AUTO = "auto"
TRIAGE = "triage"
#: Agents' decisions: the classifier's label confirmed, or replaced by another.
CONFIRMED = "confirmed"
CORRECTED = "corrected"
TRAININGS_LISTED = 10


@dataclass(frozen=True)
class Classification:
    """What the classifier made of a text, and whether that is enough to start the process."""

    label: str
    confidence: float
    suggestions: tuple[tuple[str, float], ...]
    model_version: str
    threshold: float

    @property
    def routed(self) -> str:
        return AUTO if self.confidence >= self.threshold else TRIAGE

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "confidence": round(self.confidence, 4),
            "suggestions": [{"type": label, "confidence": round(p, 4)} for label, p in self.suggestions],
            "model_version": self.model_version,
            "threshold": self.threshold,
            "routed": self.routed,
        }


class ClassificationService:
    def __init__(
        self,
        repository: ClassifierRecords,
        store: ObjectStore,
        jobs: JobQueue,
        threshold: float | None = None,
        clock: Clock = utc_now,
    ):
        self._repository = repository
        self._store = store
        self._jobs = jobs
        self._threshold = threshold
        self._clock = clock
        self._models: dict[str, Model] = {}

    def classify(self, text: str, known_types: set[str]) -> Classification | None:
        """The model's verdict on `text`, or None while no model has been trained.

        Labels that are not current issue types (a type since withdrawn) are left out.
        """
        record = self._repository.current_model()
        if record is None:
            return None
        if record.version not in self._models:
            # numpy, imported here: every function imports app.py, and most never classify.
            from chalicelib.classifier.serving import Model

            self._models = {record.version: Model.from_bytes(self._store.read(record.key))}
        prediction = self._models[record.version].predict(text)
        ranked = tuple((label, float(p)) for label, p in prediction.ranked if label in known_types)
        if not ranked:
            return None
        label, confidence = ranked[0]
        threshold = self._threshold if self._threshold is not None else record.threshold
        return Classification(label, confidence, ranked[:SUGGESTIONS], record.version, threshold)

    def learn(self, issue_id: str, text: str, label: str, predicted: str | None) -> str:
        """Keep an agent's decision as a labelled example; returns confirmed or corrected."""
        source = CONFIRMED if label == predicted else CORRECTED
        self._repository.save_example(issue_id, text, label, source, self._clock())
        return source

    def ensure_model(self) -> bool:
        """Make sure a training run is on its way when no model exists yet; True if one is."""
        if self._repository.current_model() is not None:
            return False
        self.queue_training("no model yet")
        return True

    def status(self, agent: Agent) -> dict[str, Any]:
        agent.require_role(ADMIN_ROLE)
        current = self._repository.current_model()
        training = self._repository.training_run(self._clock())
        return {
            "current": current.as_dict() if current else None,
            "threshold_override": self._threshold,
            "examples_from_agents": len(self._repository.examples()),
            "training": training.as_dict() if training else None,
            "trainings": [t.as_dict() for t in self._repository.trainings(TRAININGS_LISTED)],
        }

    def request_training(self, agent: Agent) -> dict[str, Any]:
        """An admin asks for a training run: queued, unless one is queued or running; the answer names
        the run either way, and `queued` says whether this request queued it."""
        agent.require_role(ADMIN_ROLE)
        run, queued = self.queue_training(f"asked for by {agent.username}")
        return {"queued": queued, "run": run.as_dict()}

    def queue_training(self, reason: str) -> tuple[TrainingRun, bool]:
        """Queue a training run unless one is queued or running (each takes minutes of a large
        function); returns the run in the slot and whether this call queued it."""
        wanted = TrainingRun.queued(reason, self._clock())
        run = self._repository.claim_training(wanted, wanted.queued_at)
        if run.id != wanted.id:
            return run, False
        try:
            self._jobs.submit(run.as_job())
        except Exception:
            self._repository.release_training(run.id)
            raise
        return run, True
