"""The classifier's records in the single table: the current model, training runs, labelled examples."""

from __future__ import annotations

from datetime import datetime

from chalicelib.adapters.dynamodb.access import get_or_none
from chalicelib.adapters.dynamodb.models import ExampleItem, ModelItem
from chalicelib.services.ports import ModelRecord

CLASSIFIER = "CLASSIFIER"
CURRENT = "CURRENT"
RUN = "MODEL#"
EXAMPLES = "EXAMPLES"


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


def _record(item: ModelItem) -> ModelRecord:
    return ModelRecord(
        item.version, item.key, float(item.threshold), item.trained_at, item.metrics or {}, bool(item.promoted)
    )
