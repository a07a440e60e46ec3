"""Retraining the classifier: the shipped sample plus agents' decisions, judged on a held-back slice.

A new model replaces the current one only if it is not worse on the same held-back examples, so a
bad batch of corrections cannot make routing worse overnight. This runs in the training function
(nightly, or when an admin asks), the only one with scikit-learn: it is imported when a run starts.
A run trains only while it holds the training slot (see `classification`), and frees it when it
ends, even in failure, so that a retry or the next request can run.

Sentence embeddings of the examples are kept between runs in one object of the bucket (`EMBEDDINGS_KEY`:
the texts' sha256 and float32 vectors, about 1.5 kB an example), so a nightly run embeds only the texts it has
not seen; the object holds the current examples only, so it does not grow with corrections that were replaced.
One object read and written per run, rather than an item per text: 10,000 items would cost 10,000 reads.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import random
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from chalicelib.classifier.examples import read_examples
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.ports import ClassifierRecords, ObjectStore
from chalicelib.services.records import ModelRecord, TrainingRun

log = logging.getLogger(__name__)
SAMPLE = Path(__file__).resolve().parents[1] / "classifier" / "data" / "train.csv"
MODEL_PREFIX = "models/"
#: One example in five of each label is held back to judge the new model against the current one.
HELD_BACK_EVERY = 5
MIN_EXAMPLES_PER_LABEL = 2
SEED = 0
ENCODER = "all-MiniLM-L6-v2"
EMBEDDINGS_KEY = f"classifier/embeddings/{ENCODER}.npz"


class ClassifierTrainingService:
    def __init__(
        self,
        repository: ClassifierRecords,
        store: ObjectStore,
        tuning: str = "full",
        clock: Clock = utc_now,
        sample: Path = SAMPLE,
        config: Any = None,
        threshold: float | None = None,
        encoder: Any = None,
        encoder_weights: Callable[[], Path] | None = None,
    ):
        self._repository = repository
        self._store = store
        self._tuning = tuning
        self._clock = clock
        self._sample = sample
        self._config = config
        self._threshold = threshold
        self._encoder = encoder
        self._encoder_weights = encoder_weights

    def run_job(self, job: Mapping[str, Any]) -> dict[str, Any]:
        """Train for the queued run a job names (the jobs queue's message)."""
        return self._train_in_slot(TrainingRun.from_job(job, self._clock()))

    def run_nightly(self) -> dict[str, Any]:
        """The nightly schedule's run: none if a run is queued or running already."""
        return self._train_in_slot(TrainingRun.queued("nightly", self._clock()))

    def _train_in_slot(self, run: TrainingRun) -> dict[str, Any]:
        """Train as `run` if it gets the slot; else another run holds it, and this one steps aside."""
        now = self._clock()
        started = run.started(now)
        holder = self._repository.claim_training(started, now)
        if holder.id != started.id:
            log.info("classifier training skipped: another run holds the slot", extra={"run": holder.as_dict()})
            return {"skipped": started.id, "run": holder.as_dict()}
        try:
            return self.retrain(started.reason, started.id)
        finally:
            self._repository.release_training(started.id)

    def retrain(self, reason: str, run_id: str | None = None) -> dict[str, Any]:
        """Train on the sample and the agents' examples; promote the model if it is not worse.

        It does not take the training slot: `run_job` and `run_nightly` take it, then call this."""
        from chalicelib.classifier import training
        from chalicelib.classifier.serving import Model

        from_agents = self._repository.examples()
        examples = self._examples(from_agents)
        held_back, rest = _split(examples)
        counts = _label_counts(rest)
        usable = [e for e in rest if counts[e[1]] >= MIN_EXAMPLES_PER_LABEL]
        held_back = [e for e in held_back if counts[e[1]] >= MIN_EXAMPLES_PER_LABEL]
        config = self._config or (
            training.TrainingConfig() if self._tuning == "full" else _quick(training.TrainingConfig)
        )
        encoder = self._load_encoder() if config.embeddings else None
        if encoder is None and config.embeddings:
            config = dataclasses.replace(config, embeddings=False)
        cache = self._read_embeddings() if encoder is not None else {}
        before = len(cache)
        caching = training.CachingEncoder(encoder, cache) if encoder is not None else None
        now = self._clock()
        version = now.strftime("%Y%m%dT%H%M%S%f")  # to the microsecond: two runs in one second keep their own
        trained = training.train(usable, seed=SEED, config=config, encoder=caching, cache=cache)
        candidate = training.export(trained, version)
        # Coverage and accuracy at the threshold this deployment routes with (its own, or the model's).
        score = training.evaluate(candidate, held_back, threshold=self._threshold)
        current = self._repository.current_model()
        current_score = None
        if current is not None:
            current_model = Model.from_bytes(self._store.read(current.key), encoder=caching)
            current_score = training.evaluate(current_model, held_back).accuracy
        if caching is not None:
            self._write_embeddings(cache, [text for text, _ in usable + held_back])
        promoted = current_score is None or score.accuracy >= current_score
        key = f"{MODEL_PREFIX}{version}.npz"
        self._store.write(key, candidate.to_bytes(), "application/octet-stream")
        metrics = {
            "reason": reason,
            "run_id": run_id,
            "examples": len(usable),
            "from_agents": len(from_agents),
            "held_back": len(held_back),
            "accuracy": round(score.accuracy, 4),
            "macro_f1": round(score.macro_f1, 4),
            "threshold": score.threshold,
            "coverage": round(score.coverage, 4),
            "auto_accuracy": None if score.auto_accuracy is None else round(score.auto_accuracy, 4),
            "current_accuracy": None if current_score is None else round(current_score, 4),
            "left_out_labels": sorted(label for label, n in counts.items() if n < MIN_EXAMPLES_PER_LABEL),
            "encoder": ENCODER if encoder is not None else None,
            "embedded": len(cache) - before,
            "seconds": trained.report.seconds,
        }
        record = ModelRecord(version, key, candidate.threshold, now, metrics, promoted)
        self._repository.record_training(record)
        log.info("classifier trained", extra={"version": version, "promoted": promoted, **metrics})
        return record.as_dict()

    def _load_encoder(self) -> Any:
        """The sentence encoder; None (and a warning: the model is then TF-IDF only) if it cannot be loaded.

        Its weights come from `encoder_weights` (a folder it fetches) when given, else the installed package."""
        if self._encoder is not None:
            return self._encoder
        from chalicelib.classifier import training

        try:
            self._encoder = training.load_encoder(self._encoder_weights() if self._encoder_weights else None)
        except (ImportError, OSError, ValueError) as error:
            log.warning("classifier training without sentence embeddings: %s", error)
            return None
        return self._encoder

    def _read_embeddings(self) -> dict[str, np.ndarray]:
        if self._store.head(EMBEDDINGS_KEY, 0) is None:
            return {}
        try:
            with np.load(io.BytesIO(self._store.read(EMBEDDINGS_KEY)), allow_pickle=False) as stored:
                return {str(k): v for k, v in zip(stored["keys"], stored["vectors"], strict=True)}
        except (OSError, ValueError, KeyError) as error:
            log.warning("the embedding cache is unreadable, starting afresh: %s", error)
            return {}

    def _write_embeddings(self, cache: dict[str, np.ndarray], texts: list[str]) -> None:
        from chalicelib.classifier.training import text_hash

        keys = sorted({text_hash(text) for text in texts} & cache.keys())
        buffer = io.BytesIO()
        vectors = np.vstack([cache[k] for k in keys]) if keys else np.zeros((0, 0), np.float32)
        np.savez(buffer, keys=np.array(keys, dtype="U64"), vectors=vectors.astype(np.float32))
        self._store.write(EMBEDDINGS_KEY, buffer.getvalue(), "application/octet-stream")

    def _examples(self, from_agents: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The sample, then the agents' examples; an agent's label wins over the sample's for the same text."""
        by_text = {e.text: e.label for e in read_examples(self._sample)}
        by_text.update(dict(from_agents))
        return list(by_text.items())


def _split(examples: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Every fifth example of each label (in a seeded shuffle) is held back."""
    by_label: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for example in sorted(examples):
        by_label[example[1]].append(example)
    held_back, rest = [], []
    for label in sorted(by_label):
        group = by_label[label]
        random.Random(f"{SEED}:{label}").shuffle(group)
        for index, example in enumerate(group):
            (held_back if index % HELD_BACK_EVERY == HELD_BACK_EVERY - 1 else rest).append(example)
    return held_back, rest


def _label_counts(examples: list[tuple[str, str]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for _, label in examples:
        counts[label] += 1
    return counts


def _quick(config_type: Callable[..., Any]) -> Any:
    """One setting and three folds: seconds instead of tens of seconds (tests, small machines)."""
    return config_type(c_values=(30.0,), char_min_df=(2,), folds=3)
