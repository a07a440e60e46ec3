"""The classifier's records in the single table: the current model, training runs, labelled examples,
and the training slot."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, PutError

from chalicelib.adapters.dynamodb.access import get_or_none
from chalicelib.adapters.dynamodb.models import ExampleItem, ModelItem, _Item
from chalicelib.domain.errors import Conflict
from chalicelib.services.records import QUEUED, ModelRecord, TrainingRun

CLASSIFIER = "CLASSIFIER"
CURRENT = "CURRENT"
RUN = "MODEL#"
EXAMPLES = "EXAMPLES"
TRAINING = "TRAINING"
#: A claim that finds the slot taken reads its holder; if the holder has just left, it tries again.
_CLAIM_ATTEMPTS = 5
_CONDITION_FAILED = "ConditionalCheckFailedException"


class TrainingSlotItem(_Item):
    """pk=CLASSIFIER, sk=TRAINING: the training run queued or running now. It is free once
    `expires_at` (epoch seconds) has passed, and DynamoDB's TTL deletes it some time after."""

    run_id = UnicodeAttribute()
    reason = UnicodeAttribute(default="")
    state = UnicodeAttribute()
    queued_at = UTCDateTimeAttribute()
    started_at = UTCDateTimeAttribute(null=True)
    expires_at = NumberAttribute()


class ClassifierRepository:
    def current_model(self) -> ModelRecord | None:
        item = get_or_none(ModelItem, CLASSIFIER, CURRENT)
        return _record(item) if item else None

    def record_training(self, record: ModelRecord) -> None:
        for sort_key in (f"{RUN}{record.version}", *((CURRENT,) if record.promoted else ())):
            ModelItem(
                CLASSIFIER,
                sort_key,
                version=record.version,
                key=record.key,
                threshold=record.threshold,
                trained_at=record.trained_at,
                metrics=record.metrics,
                promoted=record.promoted,
            ).save()

    def trainings(self, limit: int) -> list[ModelRecord]:
        items = ModelItem.query(CLASSIFIER, ModelItem.sk.startswith(RUN), scan_index_forward=False, limit=limit)
        return [_record(i) for i in items]

    def save_example(self, issue_id: str, text: str, label: str, source: str, at: datetime) -> None:
        ExampleItem(EXAMPLES, f"ISSUE#{issue_id}", text=text, label=label, source=source, at=at).save()

    def examples(self) -> list[tuple[str, str]]:
        return [(i.text, i.label) for i in ExampleItem.query(EXAMPLES)]

    def claim_training(self, run: TrainingRun, now: datetime) -> TrainingRun:
        """One conditional put: of simultaneous claims of a free slot, exactly one succeeds."""
        item = TrainingSlotItem(
            CLASSIFIER,
            TRAINING,
            run_id=run.id,
            reason=run.reason,
            state=run.state,
            queued_at=run.queued_at,
            started_at=run.started_at,
            expires_at=_epoch(run.expires_at),
        )
        free = TrainingSlotItem.pk.does_not_exist() | (TrainingSlotItem.expires_at <= _epoch(now))
        still_queued = (TrainingSlotItem.run_id == run.id) & (TrainingSlotItem.state == QUEUED)
        for _ in range(_CLAIM_ATTEMPTS):
            try:
                item.save(condition=free | still_queued)
            except PutError as exc:
                if exc.cause_response_code != _CONDITION_FAILED:
                    raise
            else:
                return run
            holder = self.training_run(now)
            if holder is not None:
                return holder
        raise Conflict("the training slot is changing too often; try again")

    def release_training(self, run_id: str) -> None:
        try:
            TrainingSlotItem(CLASSIFIER, TRAINING).delete(condition=TrainingSlotItem.run_id == run_id)
        except DeleteError as exc:
            if exc.cause_response_code != _CONDITION_FAILED:
                raise

    def training_run(self, now: datetime) -> TrainingRun | None:
        item = get_or_none(TrainingSlotItem, CLASSIFIER, TRAINING, consistent_read=True)
        if item is None or item.expires_at <= _epoch(now):
            return None
        return TrainingRun(
            item.run_id,
            item.reason,
            item.state,
            item.queued_at,
            datetime.fromtimestamp(item.expires_at, UTC),
            item.started_at,
        )


def _record(item: ModelItem) -> ModelRecord:
    return ModelRecord(
        item.version, item.key, float(item.threshold), item.trained_at, item.metrics or {}, bool(item.promoted)
    )


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())
