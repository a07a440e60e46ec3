"""Training with scikit-learn, and export to the numpy-only `serving.Model`.

The model: word TF-IDF (1-2 grams) and character TF-IDF (`char_wb`, 2-5 grams), each L2-normalised and
concatenated, under a multinomial LogisticRegression. Hyperparameters (C, and the character block's min_df)
are chosen by stratified k-fold cross-validation on the training examples only; the same out-of-fold scores
then fit a temperature (one scalar dividing the logits, so the ranking is unchanged) that calibrates the
probabilities, and give the coverage/accuracy table from which the default auto-route threshold is chosen.
Finally the model is refitted on all training examples and the temperature is folded into its coefficients,
so scikit-learn's own `predict_proba` and the exported numpy model both return the calibrated probabilities.

Only the training command and the training layer import this module (it needs scikit-learn and scipy).
"""

from __future__ import annotations

import math
import platform
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import numpy as np
import sklearn
from scipy.optimize import minimize_scalar
from scipy.special import logsumexp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline

from chalicelib.classifier import serving
from chalicelib.classifier.examples import MAX_CHARS, Example, clean_text

CANDIDATE_THRESHOLDS = tuple(round(0.30 + 0.05 * i, 2) for i in range(14))
"""Thresholds reported and considered for the default: 0.30 to 0.95."""

FALLBACK_THRESHOLD = 0.6
"""Used when too few examples exist to estimate auto-route accuracy (see `choose_threshold`)."""

MIN_EXAMPLES_FOR_THRESHOLD = 100
MIN_AUTO_ROUTED = 20


@dataclass(frozen=True)
class TrainingConfig:
    """What is fixed and what is tuned; the defaults are what the shipped sample was measured with."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    c_values: tuple[float, ...] = (3.0, 10.0, 30.0, 100.0)
    char_min_df: tuple[int, ...] = (1, 2)
    folds: int = 5
    target_accuracy: float = 0.95
    thresholds: tuple[float, ...] = CANDIDATE_THRESHOLDS
    max_iter: int = 3000


@dataclass(frozen=True)
class ThresholdRow:
    """Auto-routing at one threshold: the share of issues routed, and how many of those were right."""

    threshold: float
    coverage: float
    accuracy: float | None
    routed: int
    total: int


@dataclass(frozen=True)
class Candidate:
    """One hyperparameter setting and its cross-validated scores."""

    c: float
    char_min_df: int
    accuracy: float
    log_loss: float


@dataclass(frozen=True)
class TrainingReport:
    """How a model was trained and what cross-validation on its training examples says about it."""

    n_examples: int
    label_counts: dict[str, int]
    folds: int
    seed: int
    chosen: Candidate
    candidates: list[Candidate]
    inverse_temperature: float
    threshold: float
    threshold_rule: str
    threshold_table: list[ThresholdRow]
    trained_at: str
    sklearn_version: str = field(default=sklearn.__version__)
    python_version: str = field(default=platform.python_version())

    def as_dict(self) -> dict:
        """A JSON-ready copy, stored in the exported blob's `info`."""
        return asdict(self)


@dataclass
class TrainedModel:
    """A fitted scikit-learn pipeline (calibration folded in) with its labels and training report."""

    pipeline: Pipeline
    labels: tuple[str, ...]
    report: TrainingReport

    @property
    def threshold(self) -> float:
        """The default auto-route threshold chosen from cross-validation."""
        return self.report.threshold

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """scikit-learn's calibrated probabilities, columns in `labels` order (the reference for the export)."""
        return self.pipeline.predict_proba([clean_text(text, MAX_CHARS) for text in texts])


@dataclass(frozen=True)
class Evaluation:
    """Scores of a serving model on labelled examples."""

    n_examples: int
    accuracy: float
    macro_f1: float
    threshold: float
    coverage: float
    auto_accuracy: float | None
    routed: int


@dataclass(frozen=True)
class ExportCheck:
    """Whether the numpy model reproduces scikit-learn: rows with the same label and probabilities within tolerance."""

    identical: int
    total: int
    max_abs_difference: float
    tolerance: float

    @property
    def ok(self) -> bool:
        """True when every row matched."""
        return self.identical == self.total


def make_pipeline(config: TrainingConfig, *, c: float, char_min_df: int) -> Pipeline:
    """The unfitted scikit-learn pipeline; every setting here is one that `serving` reproduces."""
    return Pipeline([("features", _features(config, char_min_df)), ("model", _classifier(config, c))])


def _features(config: TrainingConfig, char_min_df: int) -> FeatureUnion:
    common = {"lowercase": True, "strip_accents": "unicode", "sublinear_tf": True, "dtype": np.float64}
    return FeatureUnion(
        [
            ("word", TfidfVectorizer(analyzer="word", ngram_range=config.word_ngrams, min_df=1, **common)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=config.char_ngrams, min_df=char_min_df, **common)),
        ]
    )


def _classifier(config: TrainingConfig, c: float) -> LogisticRegression:
    """Multinomial logistic regression; newton-cg reaches the same optimum as lbfgs here 5-8 times faster."""
    return LogisticRegression(C=c, solver="newton-cg", max_iter=config.max_iter)


def train(examples: Sequence[tuple[str, str]], *, seed: int = 0, config: TrainingConfig | None = None) -> TrainedModel:
    """Tune, calibrate and fit a classifier on (text, label) examples; see the module docstring for how."""
    config = config or TrainingConfig()
    texts = [clean_text(text) for text, _ in examples]
    y = np.array([label for _, label in examples])
    counts = Counter(y.tolist())
    if len(counts) < 2:
        raise ValueError("training needs examples of at least two labels")
    folds = min(config.folds, min(counts.values()))
    if folds < 2:
        rare = sorted(label for label, n in counts.items() if n < 2)
        raise ValueError(f"every label needs at least two examples; too few for: {', '.join(rare)}")
    labels = tuple(sorted(counts))
    y_index = np.searchsorted(labels, y)

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    grid = [(c, min_df) for min_df in config.char_min_df for c in config.c_values]
    out_of_fold = {setting: np.zeros((len(texts), len(labels))) for setting in grid}
    for fit_rows, held_out in splitter.split(texts, y):
        fit_texts = [texts[i] for i in fit_rows]
        held_texts = [texts[i] for i in held_out]
        for min_df in config.char_min_df:
            vectorizers = _features(config, min_df)
            x_fit = vectorizers.fit_transform(fit_texts)
            x_held = vectorizers.transform(held_texts)
            for c in config.c_values:
                classifier = _classifier(config, c).fit(x_fit, y[fit_rows])
                out_of_fold[(c, min_df)][held_out] = classifier.decision_function(x_held)

    candidates = []
    for c, min_df in grid:
        logits = out_of_fold[(c, min_df)]
        beta = fit_inverse_temperature(logits, y_index)
        accuracy = float(np.mean(logits.argmax(axis=1) == y_index))
        candidates.append(Candidate(c, min_df, accuracy, _log_loss(beta * logits, y_index)))
    chosen = max(candidates, key=lambda cand: (cand.accuracy, -cand.log_loss, -cand.c))

    logits = out_of_fold[(chosen.c, chosen.char_min_df)]
    beta = fit_inverse_temperature(logits, y_index)
    probabilities = _softmax(beta * logits)
    table = threshold_table(probabilities.max(axis=1), probabilities.argmax(axis=1) == y_index, config.thresholds)
    threshold, rule = choose_threshold(table, target_accuracy=config.target_accuracy)

    pipeline = make_pipeline(config, c=chosen.c, char_min_df=chosen.char_min_df).fit(texts, y)
    classifier = pipeline.named_steps["model"]
    classifier.coef_ = classifier.coef_ * beta
    classifier.intercept_ = classifier.intercept_ * beta
    if tuple(classifier.classes_) != labels:
        raise AssertionError("the classifier's classes differ from the sorted labels")

    report = TrainingReport(
        n_examples=len(texts),
        label_counts=dict(sorted(counts.items())),
        folds=folds,
        seed=seed,
        chosen=chosen,
        candidates=candidates,
        inverse_temperature=beta,
        threshold=threshold,
        threshold_rule=rule,
        threshold_table=table,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return TrainedModel(pipeline=pipeline, labels=labels, report=report)


def fit_inverse_temperature(logits: np.ndarray, y_index: np.ndarray) -> float:
    """The factor on the logits that minimises the log loss of held-out predictions (temperature scaling)."""
    result = minimize_scalar(
        lambda log_beta: _log_loss(math.exp(log_beta) * logits, y_index), bounds=(-5.0, 5.0), method="bounded"
    )
    return float(math.exp(result.x))


def _log_loss(logits: np.ndarray, y_index: np.ndarray) -> float:
    return float(np.mean(logsumexp(logits, axis=1) - logits[np.arange(len(y_index)), y_index]))


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def threshold_table(
    confidences: np.ndarray, correct: np.ndarray, thresholds: Sequence[float] = CANDIDATE_THRESHOLDS
) -> list[ThresholdRow]:
    """Coverage (share with top confidence >= threshold, so auto-routed) and accuracy of those, per threshold."""
    confidences = np.asarray(confidences, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    rows = []
    for threshold in thresholds:
        routed = confidences >= threshold
        n = int(routed.sum())
        rows.append(
            ThresholdRow(
                threshold=float(threshold),
                coverage=n / len(confidences) if len(confidences) else 0.0,
                accuracy=float(correct[routed].mean()) if n else None,
                routed=n,
                total=len(confidences),
            )
        )
    return rows


def choose_threshold(rows: Sequence[ThresholdRow], *, target_accuracy: float = 0.95) -> tuple[float, str]:
    """The default threshold and the rule that chose it.

    The lowest threshold whose auto-routed issues were at least `target_accuracy` right and that still routes
    `MIN_AUTO_ROUTED` examples. With fewer than `MIN_EXAMPLES_FOR_THRESHOLD` held-out examples one mistake
    moves accuracy by more than a point, so the fixed `FALLBACK_THRESHOLD` is used instead; if no threshold
    reaches the target, the highest one, so that doubtful issues go to triage rather than astray.
    """
    if not rows:
        return FALLBACK_THRESHOLD, "fallback: no threshold candidates"
    if rows[0].total < MIN_EXAMPLES_FOR_THRESHOLD:
        return FALLBACK_THRESHOLD, f"fallback: fewer than {MIN_EXAMPLES_FOR_THRESHOLD} examples to measure on"
    for row in sorted(rows, key=lambda r: r.threshold):
        if row.accuracy is not None and row.accuracy >= target_accuracy and row.routed >= MIN_AUTO_ROUTED:
            return row.threshold, f"lowest threshold with cross-validated auto-route accuracy >= {target_accuracy:.0%}"
    highest = max(rows, key=lambda r: r.threshold)
    return highest.threshold, f"no threshold reached {target_accuracy:.0%}; the most cautious candidate"


def export(trained: TrainedModel, version: str, *, threshold: float | None = None) -> serving.Model:
    """The numpy-only serving model for a trained pipeline; refuses settings that serving cannot reproduce."""
    union = trained.pipeline.named_steps["features"]
    if union.transformer_weights:
        raise ValueError("feature weights are not exported")
    blocks = [_export_vectorizer(name, vectorizer) for name, vectorizer in union.transformer_list]
    classifier = trained.pipeline.named_steps["model"]
    return serving.Model(
        version=version,
        labels=trained.labels,
        features=blocks,
        coef=classifier.coef_.T,
        intercept=classifier.intercept_,
        threshold=trained.threshold if threshold is None else threshold,
        max_chars=MAX_CHARS,
        info=trained.report.as_dict(),
    )


def _export_vectorizer(name: str, vectorizer: TfidfVectorizer) -> serving.TextFeatures:
    unsupported = {
        "input": vectorizer.input != "content",
        "preprocessor": vectorizer.preprocessor is not None,
        "tokenizer": vectorizer.tokenizer is not None,
        "stop_words": vectorizer.stop_words is not None,
        "binary": vectorizer.binary,
        "dtype": np.dtype(vectorizer.dtype) != np.float64,
        "callable strip_accents": callable(vectorizer.strip_accents),
    }
    refused = [setting for setting, bad in unsupported.items() if bad]
    if refused:
        raise ValueError(f"vectorizer {name!r}: cannot export {', '.join(refused)}")
    vocabulary = [""] * len(vectorizer.vocabulary_)
    for term, column in vectorizer.vocabulary_.items():
        vocabulary[column] = term
    return serving.TextFeatures(
        analyzer=vectorizer.analyzer,
        ngram_range=vectorizer.ngram_range,
        vocabulary=vocabulary,
        idf=vectorizer.idf_ if vectorizer.use_idf else None,
        lowercase=vectorizer.lowercase,
        strip_accents=vectorizer.strip_accents,
        token_pattern=vectorizer.token_pattern,
        sublinear_tf=vectorizer.sublinear_tf,
        norm=vectorizer.norm,
    )


def check_export(
    trained: TrainedModel, model: serving.Model, texts: Sequence[str], *, tolerance: float = 1e-9
) -> ExportCheck:
    """Compare numpy predictions with scikit-learn's on the given texts."""
    if tuple(model.labels) != trained.labels:
        return ExportCheck(0, len(texts), math.inf, tolerance)
    expected = trained.predict_proba(texts)
    actual = model.predict_proba(texts)
    differences = np.abs(expected - actual).max(axis=1) if len(texts) else np.zeros(0)
    same = (expected.argmax(axis=1) == actual.argmax(axis=1)) & (differences <= tolerance)
    return ExportCheck(int(same.sum()), len(texts), float(differences.max(initial=0.0)), tolerance)


def evaluate(
    model: serving.Model, examples: Sequence[tuple[str, str]], *, threshold: float | None = None
) -> Evaluation:
    """Accuracy, macro-F1, and auto-route coverage/accuracy at a threshold, of the serving model on examples."""
    threshold = model.threshold if threshold is None else threshold
    truth = [label for _, label in examples]
    predictions = model.predict_many([text for text, _ in examples])
    predicted = [p.label for p in predictions]
    correct = np.array([p == t for p, t in zip(predicted, truth, strict=True)])
    row = threshold_table(np.array([p.confidence for p in predictions]), correct, [threshold])[0]
    every_label = sorted(set(truth) | set(model.labels))
    return Evaluation(
        n_examples=len(examples),
        accuracy=float(correct.mean()),
        macro_f1=float(f1_score(truth, predicted, labels=every_label, average="macro", zero_division=0)),
        threshold=threshold,
        coverage=row.coverage,
        auto_accuracy=row.accuracy,
        routed=row.routed,
    )


def per_label_sample(examples: Sequence[tuple[str, str]], per_label: int, *, seed: int = 0) -> list[Example]:
    """At most `per_label` examples of each label, drawn with a fixed seed (for few-shot measurements)."""
    by_label: dict[str, list[Example]] = {}
    for text, label in examples:
        by_label.setdefault(label, []).append(Example(text, label))
    rng = random.Random(seed)
    sample = []
    for label in sorted(by_label):
        group = by_label[label]
        sample.extend(rng.sample(group, min(per_label, len(group))))
    return sample
