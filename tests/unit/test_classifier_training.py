"""Retraining decides on a held-back slice: a worse model is kept on file but never promoted.

The repository and the bucket are in-memory fakes of the ports; training itself is real (quick).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.classifier.training import TrainingConfig
from chalicelib.services.classifier_training import ClassifierTrainingService
from chalicelib.services.records import ModelRecord


class Repository:
    def __init__(self) -> None:
        self.runs: list[ModelRecord] = []
        self.current: ModelRecord | None = None
        self.saved: list[tuple[str, str]] = []

    def current_model(self) -> ModelRecord | None:
        return self.current

    def record_training(self, record: ModelRecord) -> None:
        self.runs.append(record)
        if record.promoted:
            self.current = record

    def examples(self) -> list[tuple[str, str]]:
        return self.saved


class Bucket:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def read(self, key: str) -> bytes:
        return self.objects[key]

    def write(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = data

    def head(self, key: str, length: int) -> tuple[int, bytes] | None:
        data = self.objects.get(key)
        return None if data is None else (len(data), data[:length])


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


QUICK = TrainingConfig(c_values=(30.0,), char_min_df=(2,), folds=3, embeddings=False)
#: So strongly regularised that it predicts almost one label: a worse model by construction.
CRIPPLED = TrainingConfig(c_values=(0.0001,), char_min_df=(2,), folds=3, embeddings=False)


def test_a_better_or_equal_model_is_promoted_and_a_worse_one_is_refused():
    repository, bucket, clock = Repository(), Bucket(), Clock()
    first = ClassifierTrainingService(repository, bucket, clock=clock, config=QUICK).retrain("first")
    assert first["promoted"] is True and repository.current.version == first["version"]
    assert first["metrics"]["current_accuracy"] is None and first["metrics"]["accuracy"] > 0.7

    worse = ClassifierTrainingService(repository, bucket, clock=clock, config=CRIPPLED).retrain("worse")
    assert worse["promoted"] is False
    assert worse["metrics"]["accuracy"] < worse["metrics"]["current_accuracy"]
    assert repository.current.version == first["version"] and worse["key"] in bucket.objects

    again = ClassifierTrainingService(repository, bucket, clock=clock, config=QUICK).retrain("same data")
    assert again["promoted"] is True, "an equally good model replaces the current one"


def test_the_run_reports_coverage_and_accuracy_at_the_deployments_threshold():
    low = ClassifierTrainingService(Repository(), Bucket(), clock=Clock(), config=QUICK, threshold=0.3).retrain("low")
    high = ClassifierTrainingService(Repository(), Bucket(), clock=Clock(), config=QUICK, threshold=0.95).retrain("hi")
    assert low["metrics"]["threshold"] == 0.3 and high["metrics"]["threshold"] == 0.95
    assert low["metrics"]["coverage"] > high["metrics"]["coverage"]


def test_agents_examples_override_the_sample_and_labels_with_one_example_wait():
    repository, bucket = Repository(), Bucket()
    repository.saved = [("Where can I buy a gift card for my aunt?", "gift-cards")]
    record = ClassifierTrainingService(repository, bucket, clock=Clock(), config=QUICK).retrain("one example")
    assert record["metrics"]["from_agents"] == 1 and record["metrics"]["left_out_labels"] == ["gift-cards"]


def test_two_runs_within_one_second_keep_their_own_model_and_record():
    """Versions name the model's file and its run record: two runs in the same second (an admin's
    request right after the nightly run) must not overwrite each other's."""
    repository, bucket = Repository(), Bucket()
    first_moment = datetime(2026, 11, 23, 3, 0, 0, 100_000, tzinfo=UTC)
    second_moment = first_moment + timedelta(milliseconds=800)
    first = ClassifierTrainingService(repository, bucket, clock=lambda: first_moment, config=QUICK).retrain("nightly")
    second = ClassifierTrainingService(repository, bucket, clock=lambda: second_moment, config=QUICK).retrain("asked")
    assert first["version"] != second["version"] and first["version"] < second["version"]
    assert {first["key"], second["key"]} <= set(bucket.objects)
