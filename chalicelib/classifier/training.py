"""Training with scikit-learn, and export to the numpy-only `serving.Model`.

The features: the text's sentence embedding (`encoder.Encoder`, 384 floats, L2-normalised), word TF-IDF (1-2
grams) and character TF-IDF (`char_wb`, 2-5 grams), each block L2-normalised, side by side under one multinomial
logistic-regression head. The TF-IDF vocabularies are capped (`*_max_features`, the most frequent terms) so that
the exported head stays small whatever the data.

Choosing C (and the character block's min_df) is k-fold cross-validation on the training examples only, made
cheap: the embeddings are computed once (and cached by text hash across runs, see `EmbeddingCache`), the
vectorisers are fitted once per fold (not per grid point), and the C grid is walked in increasing order with
each fit starting from the previous one's weights. The head is fitted by L-BFGS on the objective scikit-learn's
LogisticRegression minimises (mean log loss + |W|^2 / (2 C n)), with the dense embedding block kept dense: on
sparse+dense features that is several times faster than LogisticRegression itself, whose fitted object we
still build (coef_, intercept_), so scikit-learn's own `predict_proba` remains the reference the numpy export is
checked against.

The out-of-fold scores of the chosen C fit a temperature (one scalar dividing the logits, so the ranking is
unchanged) and give the coverage/accuracy table from which the auto-route threshold is chosen: the lowest whose
auto-routed accuracy is at least the target with a one-sided 90 % Wilson lower bound, so that the promise holds on
unseen data and not only on the examples that chose it. The model is refitted on all examples, the temperature
folded into its coefficients and the coefficients rounded to float16 (the blob stores them so), in the
scikit-learn object too, so both predict with exactly the same numbers.

Only the training command and the training layer import this module (it needs scikit-learn and scipy).
"""

from __future__ import annotations

import hashlib
import math
import platform
import random
from collections import Counter
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import sklearn
from scipy.optimize import minimize, minimize_scalar
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline

from chalicelib.classifier import serving
from chalicelib.classifier.examples import MAX_CHARS, Example, clean_text

CANDIDATE_THRESHOLDS = tuple(round(0.30 + 0.05 * i, 2) for i in range(14))
"""Thresholds reported: 0.30 to 0.95."""

CHOICE_THRESHOLDS = tuple(round(0.30 + 0.01 * i, 2) for i in range(70))
"""Thresholds considered for the default: 0.30 to 0.99 by 0.01."""

FALLBACK_THRESHOLD = 0.6
"""Used when too few examples exist to estimate auto-route accuracy (see `choose_threshold`)."""

MIN_EXAMPLES_FOR_THRESHOLD = 100
MIN_AUTO_ROUTED = 20
WILSON_Z = 1.2816
"""One-sided 90 % normal quantile: the threshold's auto-route accuracy must hold at this lower bound."""

ENCODER_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
"""Width of the encoder's vectors (`encoder.DIMENSIONS`, repeated so that importing this module loads no weights)."""


def text_hash(text: str) -> str:
    """The key of a text's embedding in a cache: sha256 of the cleaned text."""
    return hashlib.sha256(clean_text(text).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class TrainingConfig:
    """What is fixed and what is tuned; the defaults are what the shipped sample was measured with."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    word_max_features: int = 5_000
    char_max_features: int = 10_000
    c_values: tuple[float, ...] = (3.0, 10.0, 30.0)
    char_min_df: tuple[int, ...] = (2,)
    folds: int = 5
    embeddings: bool = True
    target_accuracy: float = 0.95
    thresholds: tuple[float, ...] = CANDIDATE_THRESHOLDS
    max_iter: int = 100
    tolerance: float = 1e-5
    """L-BFGS stops when an iteration lowers the objective by less than this, relatively."""
    tune_all_folds_below: int = 2_000
    """With at least this many examples, the C grid is compared on the first fold only, then the chosen C
    alone is fitted on the other folds (each fit of the 10,000-example head costs seconds)."""
    large_folds: int = 3
    """Folds with at least `tune_all_folds_below` examples: 3 folds of 10,000 still hold out 3,333 each."""
    float16: bool = True


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
    embeddings: str | None = None
    embedded: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    sklearn_version: str = field(default=sklearn.__version__)
    python_version: str = field(default=platform.python_version())

    def as_dict(self) -> dict:
        """A JSON-ready copy, stored in the exported blob's `info`."""
        return asdict(self)


class EmbeddingFeatures(TransformerMixin, BaseEstimator):
    """The sentence-embedding block as a scikit-learn transformer; vectors are looked up in `cache` by
    `text_hash` first, and only the texts missing from it are encoded (and added to it)."""

    def __init__(self, encoder: Any = None, cache: MutableMapping[str, np.ndarray] | None = None) -> None:
        self.encoder = encoder
        self.cache = cache

    def fit(self, texts: Sequence[str], y: Any = None) -> EmbeddingFeatures:
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        vectors, _ = embed(list(texts), self.encoder, self.cache if self.cache is not None else {})
        return vectors.astype(np.float64)


def embed(
    texts: Sequence[str], encoder: Any, cache: MutableMapping[str, np.ndarray], batch_size: int = 32
) -> tuple[np.ndarray, int]:
    """Embeddings of `texts` (float32, one row each), encoding only those whose hash is not in `cache`
    (which gains them); returns the vectors and how many texts were encoded."""
    keys = [text_hash(text) for text in texts]
    missing: dict[str, str] = {}
    for key, text in zip(keys, texts, strict=True):
        if key not in cache and key not in missing:
            missing[key] = clean_text(text)
    if missing:
        fresh = np.asarray(encoder.encode(list(missing.values()), batch_size=batch_size), dtype=np.float32)
        for key, vector in zip(missing, fresh, strict=True):
            cache[key] = vector
    if not keys:
        return np.zeros((0, 0), dtype=np.float32), 0
    return np.vstack([cache[key] for key in keys]).astype(np.float32), len(missing)


class CachingEncoder:
    """An encoder that answers from `cache` (by `text_hash`) and encodes only what is missing there: give it to
    `serving.Model` to evaluate on texts that training has embedded already."""

    def __init__(self, encoder: Any, cache: MutableMapping[str, np.ndarray]) -> None:
        self.encoder = encoder
        self.cache = cache
        self.encoded = 0

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        vectors, encoded = embed(list(texts), self.encoder, self.cache, batch_size)
        self.encoded += encoded
        return vectors if len(texts) else np.zeros((0, DIMENSIONS), dtype=np.float32)


@dataclass
class TrainedModel:
    """A fitted scikit-learn pipeline (calibration and float16 rounding folded in), its labels and report."""

    pipeline: Pipeline
    labels: tuple[str, ...]
    report: TrainingReport
    coef: np.ndarray | None = None
    intercept: np.ndarray | None = None

    @property
    def threshold(self) -> float:
        """The default auto-route threshold chosen from cross-validation."""
        return self.report.threshold

    @property
    def encoder(self) -> Any:
        union = self.pipeline.named_steps["features"]
        return next((t.encoder for name, t in union.transformer_list if name == "embedding"), None)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """scikit-learn's calibrated probabilities, columns in `labels` order (the reference for the export)."""
        return self.pipeline.predict_proba([clean_text(text, MAX_CHARS) for text in texts])


@dataclass(frozen=True)
class LabelScores:
    """Auto-routing of one issue type at the threshold: `coverage` is the share of the type's issues routed
    automatically; `precision` the share of issues routed to the type that belonged to it."""

    label: str
    support: int
    coverage: float
    routed_to: int
    precision: float | None


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
    per_label: tuple[LabelScores, ...] = ()
    at_coverage: ThresholdRow | None = None


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


def _vectorizers(config: TrainingConfig, char_min_df: int) -> list[tuple[str, TfidfVectorizer]]:
    common = {"lowercase": True, "strip_accents": "unicode", "sublinear_tf": True, "dtype": np.float64}
    return [
        (
            "word",
            TfidfVectorizer(
                analyzer="word", ngram_range=config.word_ngrams, max_features=config.word_max_features, **common
            ),
        ),
        (
            "char",
            TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=config.char_ngrams,
                min_df=char_min_df,
                max_features=config.char_max_features,
                **common,
            ),
        ),
    ]


def load_encoder(directory: str | Path | None = None) -> Any:
    """The numpy sentence encoder, its weights from `directory` (default: the installed package)."""
    from chalicelib.classifier.encoder import Encoder

    return Encoder.load(directory)


def train(
    examples: Sequence[tuple[str, str]],
    *,
    seed: int = 0,
    config: TrainingConfig | None = None,
    encoder: Any = None,
    cache: MutableMapping[str, np.ndarray] | None = None,
    clock: Callable[[], float] | None = None,
) -> TrainedModel:
    """Tune, calibrate and fit a classifier on (text, label) examples; see the module docstring for how.

    With `config.embeddings`, `encoder` (default: `load_encoder()`) embeds the texts missing from `cache` (a
    mapping from `text_hash` to vector, which gains the new ones)."""
    import time

    clock = clock or time.perf_counter
    seconds: dict[str, float] = {}
    started = clock()
    config = config or TrainingConfig()
    texts = [clean_text(text) for text, _ in examples]
    y = np.array([label for _, label in examples])
    counts = Counter(y.tolist())
    if len(counts) < 2:
        raise ValueError("training needs examples of at least two labels")
    folds = min(config.folds, min(counts.values()))
    if len(texts) >= config.tune_all_folds_below:
        folds = min(folds, config.large_folds)
    if folds < 2:
        rare = sorted(label for label, n in counts.items() if n < 2)
        raise ValueError(f"every label needs at least two examples; too few for: {', '.join(rare)}")
    labels = tuple(sorted(counts))
    y_index = np.searchsorted(labels, y)

    cache = cache if cache is not None else {}
    embedded = 0
    if config.embeddings:
        encoder = encoder if encoder is not None else load_encoder()
        dense, embedded = embed(texts, encoder, cache)
        dense = dense.astype(np.float64)
    else:
        dense = np.zeros((len(texts), 0))
    seconds["embedding"] = clock() - started

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    c_values = sorted(config.c_values)
    grid = [(c, min_df) for min_df in config.char_min_df for c in c_values]
    out_of_fold = {setting: np.zeros((len(texts), len(labels))) for setting in grid}
    tune_on = folds if len(texts) < config.tune_all_folds_below else 1
    splits = list(splitter.split(texts, y))
    prepared = [_fold_features(config, texts, fit_rows, held_out) for fit_rows, held_out in splits]
    for fold, (fit_rows, held_out) in enumerate(splits[:tune_on]):
        for min_df, (x_fit, x_held) in prepared[fold].items():
            weights = None
            for c in c_values:
                weights = fit_head(dense[fit_rows], x_fit, y_index[fit_rows], len(labels), c, config, start=weights)
                out_of_fold[(c, min_df)][held_out] = head_logits(weights, dense[held_out], x_held)
    tuned_rows = np.concatenate([held_out for _, held_out in splits[:tune_on]])
    candidates = []
    for c, min_df in grid:
        logits = out_of_fold[(c, min_df)][tuned_rows]
        beta = fit_inverse_temperature(logits, y_index[tuned_rows])
        accuracy = float(np.mean(logits.argmax(axis=1) == y_index[tuned_rows]))
        candidates.append(Candidate(c, min_df, accuracy, _log_loss(beta * logits, y_index[tuned_rows])))
    chosen = max(candidates, key=lambda cand: (cand.accuracy, -cand.log_loss, -cand.c))
    logits = out_of_fold[(chosen.c, chosen.char_min_df)]
    for fold, (fit_rows, held_out) in enumerate(splits[tune_on:], start=tune_on):
        x_fit, x_held = prepared[fold][chosen.char_min_df]
        weights = fit_head(dense[fit_rows], x_fit, y_index[fit_rows], len(labels), chosen.c, config)
        logits[held_out] = head_logits(weights, dense[held_out], x_held)
    seconds["cross_validation"] = clock() - started - seconds["embedding"]

    beta = fit_inverse_temperature(logits, y_index)
    probabilities = _softmax(beta * logits)
    confidences = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y_index
    table = threshold_table(confidences, correct, config.thresholds)
    threshold, rule = choose_threshold(
        threshold_table(confidences, correct, CHOICE_THRESHOLDS), target_accuracy=config.target_accuracy
    )

    mark = clock()
    vectorizers = _vectorizers(config, chosen.char_min_df)
    sparse = sp.hstack([v.fit_transform(texts) for _, v in vectorizers], format="csr")
    coef, intercept = fit_head(dense, sparse, y_index, len(labels), chosen.c, config)
    coef, intercept = coef * beta, intercept * beta
    if config.float16:
        coef = coef.astype(np.float16).astype(np.float64)
    blocks: list[tuple[str, Any]] = []
    if config.embeddings:
        blocks.append(("embedding", EmbeddingFeatures(encoder, cache)))
    blocks.extend(vectorizers)
    pipeline = Pipeline([("features", FeatureUnion(blocks)), ("model", _sklearn_head(coef, intercept, labels))])
    seconds["final_fit"] = clock() - mark
    seconds["total"] = clock() - started

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
        embeddings=ENCODER_NAME if config.embeddings else None,
        embedded=embedded,
        seconds={k: round(v, 3) for k, v in seconds.items()},
    )
    return TrainedModel(pipeline=pipeline, labels=labels, report=report, coef=coef, intercept=intercept)


def _fold_features(
    config: TrainingConfig, texts: Sequence[str], fit_rows: np.ndarray, held_out: np.ndarray
) -> dict[int, tuple[sp.csr_matrix, sp.csr_matrix]]:
    """The fold's TF-IDF blocks (vectorisers fitted on its training rows), for each char min_df."""
    fit_texts = [texts[i] for i in fit_rows]
    held_texts = [texts[i] for i in held_out]
    (_, word), _ = _vectorizers(config, 1)
    word_fit = word.fit_transform(fit_texts)
    word_held = word.transform(held_texts)
    result = {}
    for min_df in config.char_min_df:
        _, (_, char) = _vectorizers(config, min_df)
        result[min_df] = (
            sp.hstack([word_fit, char.fit_transform(fit_texts)], format="csr"),
            sp.hstack([word_held, char.transform(held_texts)], format="csr"),
        )
    return result


def fit_head(
    dense: np.ndarray,
    sparse: sp.csr_matrix,
    y_index: np.ndarray,
    n_classes: int,
    c: float,
    config: TrainingConfig,
    *,
    start: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression by L-BFGS on [dense | sparse]: scikit-learn's objective (the intercept
    unpenalised), divided by n. Returns coef (n_features, n_classes) and intercept (n_classes,)."""
    n, d_dense = dense.shape
    d = d_dense + sparse.shape[1]
    k = n_classes
    # The products in float32 (half the memory traffic of float64, which they are bound by); the optimiser's
    # state, the loss and the returned weights stay float64.
    dense = np.ascontiguousarray(dense, dtype=np.float32)
    sparse = sparse.astype(np.float32)
    sparse_t = sparse.T.tocsr()
    onehot = np.zeros((n, k))
    onehot[np.arange(n), y_index] = 1.0
    rows = np.arange(n)
    penalty = 1.0 / (c * n)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: d * k].reshape(d, k)
        b = theta[d * k :]
        w32 = w.astype(np.float32)
        z = (sparse @ w32[d_dense:]).astype(np.float64) + b
        if d_dense:
            z += dense @ w32[:d_dense]
        z -= z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1))
        loss = float(np.mean(lse - z[rows, y_index])) + 0.5 * penalty * float(np.vdot(w, w))
        g = (np.exp(z - lse[:, None]) - onehot) / n
        g32 = g.astype(np.float32)
        grad_w = np.empty_like(w)
        if d_dense:
            grad_w[:d_dense] = dense.T @ g32
        grad_w[d_dense:] = sparse_t @ g32
        grad_w += penalty * w
        return loss, np.concatenate([grad_w.ravel(), g.sum(axis=0)])

    theta0 = np.zeros(d * k + k) if start is None else np.concatenate([start[0].ravel(), start[1]])
    result = minimize(
        objective,
        theta0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": config.max_iter, "gtol": 1e-7, "ftol": config.tolerance},
    )
    return result.x[: d * k].reshape(d, k).copy(), result.x[d * k :].copy()


def head_logits(weights: tuple[np.ndarray, np.ndarray], dense: np.ndarray, sparse: sp.csr_matrix) -> np.ndarray:
    coef, intercept = weights
    d_dense = dense.shape[1]
    z = sparse @ coef[d_dense:] + intercept
    if d_dense:
        z += dense @ coef[:d_dense]
    return np.asarray(z)


def _sklearn_head(coef: np.ndarray, intercept: np.ndarray, labels: Sequence[str]) -> LogisticRegression:
    """A LogisticRegression holding our weights, so that its `predict_proba` is the reference; with two labels
    scikit-learn keeps one row (label 1 minus label 0), whose sigmoid equals the two-column softmax."""
    head = LogisticRegression()
    head.classes_ = np.array(labels)
    if len(labels) == 2:
        head.coef_ = (coef[:, 1] - coef[:, 0])[None, :]
        head.intercept_ = np.array([intercept[1] - intercept[0]])
    else:
        head.coef_ = np.ascontiguousarray(coef.T)
        head.intercept_ = intercept.copy()
    head.n_features_in_ = coef.shape[0]
    head.n_iter_ = np.array([0])
    return head


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


def wilson_lower_bound(accuracy: float, n: int, z: float = WILSON_Z) -> float:
    """The lower end of the Wilson score interval for a proportion measured on n trials."""
    if n == 0:
        return 0.0
    centre = accuracy + z * z / (2 * n)
    spread = z * math.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def choose_threshold(rows: Sequence[ThresholdRow], *, target_accuracy: float = 0.95) -> tuple[float, str]:
    """The default threshold and the rule that chose it.

    The lowest threshold whose auto-routed issues were at least `target_accuracy` right, at the lower end of
    a one-sided 90 % Wilson interval (so a threshold measured on few routed issues must do better than the
    target), and that still routes `MIN_AUTO_ROUTED` examples. With fewer than `MIN_EXAMPLES_FOR_THRESHOLD`
    held-out examples one mistake moves accuracy by more than a point, so the fixed `FALLBACK_THRESHOLD` is
    used instead; if no threshold reaches the target, the highest one, so that doubtful issues go to triage
    rather than astray.
    """
    if not rows:
        return FALLBACK_THRESHOLD, "fallback: no threshold candidates"
    if rows[0].total < MIN_EXAMPLES_FOR_THRESHOLD:
        return FALLBACK_THRESHOLD, f"fallback: fewer than {MIN_EXAMPLES_FOR_THRESHOLD} examples to measure on"
    for row in sorted(rows, key=lambda r: r.threshold):
        if (
            row.accuracy is not None
            and row.routed >= MIN_AUTO_ROUTED
            and wilson_lower_bound(row.accuracy, row.routed) >= target_accuracy
        ):
            return row.threshold, (
                f"lowest threshold whose cross-validated auto-route accuracy is >= {target_accuracy:.0%} "
                "at the 90 % lower bound"
            )
    highest = max(rows, key=lambda r: r.threshold)
    return highest.threshold, f"no threshold reached {target_accuracy:.0%}; the most cautious candidate"


def export(trained: TrainedModel, version: str, *, threshold: float | None = None) -> serving.Model:
    """The numpy-only serving model for a trained pipeline; refuses settings that serving cannot reproduce."""
    union = trained.pipeline.named_steps["features"]
    if union.transformer_weights:
        raise ValueError("feature weights are not exported")
    blocks: list[serving.TextFeatures | serving.Embeddings] = []
    for name, transformer in union.transformer_list:
        if isinstance(transformer, EmbeddingFeatures):
            blocks.append(serving.Embeddings(dimensions=DIMENSIONS, encoder=ENCODER_NAME))
        else:
            blocks.append(_export_vectorizer(name, transformer))
    if trained.coef is None or trained.intercept is None:
        classifier = trained.pipeline.named_steps["model"]
        coef, intercept = classifier.coef_.T, classifier.intercept_
    else:
        coef, intercept = trained.coef, trained.intercept
    return serving.Model(
        version=version,
        labels=trained.labels,
        features=blocks,
        coef=coef,
        intercept=intercept,
        threshold=trained.threshold if threshold is None else threshold,
        max_chars=MAX_CHARS,
        info=trained.report.as_dict(),
        encoder=trained.encoder,
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
    model: serving.Model,
    examples: Sequence[tuple[str, str]],
    *,
    threshold: float | None = None,
    min_coverage: float = 0.8,
) -> Evaluation:
    """Accuracy, macro-F1, auto-route coverage/accuracy at a threshold (overall and per type), and the accuracy
    of auto-routed issues at the highest threshold that still routes `min_coverage` of them."""
    threshold = model.threshold if threshold is None else threshold
    truth = [label for _, label in examples]
    predictions = model.predict_many([text for text, _ in examples])
    predicted = [p.label for p in predictions]
    correct = np.array([p == t for p, t in zip(predicted, truth, strict=True)])
    confidences = np.array([p.confidence for p in predictions])
    row = threshold_table(confidences, correct, [threshold])[0]
    every_label = sorted(set(truth) | set(model.labels))
    routed = confidences >= threshold
    per_label = []
    for label in sorted(set(truth)):
        own = np.array([t == label for t in truth])
        to_label = routed & np.array([p == label for p in predicted])
        per_label.append(
            LabelScores(
                label=label,
                support=int(own.sum()),
                coverage=float((routed & own).sum() / own.sum()),
                routed_to=int(to_label.sum()),
                precision=float(correct[to_label].mean()) if to_label.any() else None,
            )
        )
    return Evaluation(
        n_examples=len(examples),
        accuracy=float(correct.mean()),
        macro_f1=float(f1_score(truth, predicted, labels=every_label, average="macro", zero_division=0)),
        threshold=threshold,
        coverage=row.coverage,
        auto_accuracy=row.accuracy,
        routed=row.routed,
        per_label=tuple(per_label),
        at_coverage=accuracy_at_coverage(confidences, correct, min_coverage),
    )


def accuracy_at_coverage(confidences: np.ndarray, correct: np.ndarray, min_coverage: float) -> ThresholdRow | None:
    """Auto-routing at the highest confidence threshold that still routes at least `min_coverage` of the issues."""
    if not len(confidences):
        return None
    ordered = np.sort(confidences)[::-1]
    needed = max(1, math.ceil(min_coverage * len(confidences)))
    threshold = float(ordered[needed - 1])
    return threshold_table(confidences, correct, [threshold])[0]


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
