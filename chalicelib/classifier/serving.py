"""Numpy-only prediction from an exported text classifier.

Importing scikit-learn costs a Lambda cold start about 1.5 s and 120 MB, so the API never does: training
(`training.py`) exports the fitted TF-IDF vectorisers and the linear model to plain arrays, and this module
reproduces scikit-learn's featurisation and `predict_proba` with numpy and the standard library alone.

A model travels as one self-describing blob (`Model.to_bytes`): a compressed `.npz` holding a JSON metadata
entry and numeric arrays, read back with `allow_pickle=False`, so loading a blob never runs code.
Lowercasing, word characters and accent stripping follow Python's Unicode database, so serve on the Python minor version
that trained the model (the training report in `info` records it).
"""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chalicelib.classifier.examples import MAX_CHARS, clean_text

FORMAT = "caseflow-text-classifier"
FORMAT_VERSION = 2
"""2 adds sentence-embedding blocks and float16 coefficients; version 1 blobs (TF-IDF only) still load."""
READABLE_VERSIONS = (1, 2)
DEFAULT_THRESHOLD = 0.6
"""Used when a blob carries no threshold of its own; see `training.choose_threshold` for how one is chosen."""

ANALYZERS = ("word", "char_wb")
ACCENT_STRIPPING = (None, "unicode", "ascii")
NORMS = (None, "l2")
_WHITE_SPACES = re.compile(r"\s\s+")


class ModelFormatError(ValueError):
    """A blob is not a model this code can serve."""


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one text.

    `confidence` is the calibrated probability of `label`; a deployment auto-routes when it is at least the
    threshold and otherwise offers `ranked` (every label, most probable first) to a triage agent.
    """

    label: str
    confidence: float
    ranked: tuple[tuple[str, float], ...]


class Embeddings:
    """A sentence-encoder block: the text's embedding (L2-normalised floats) as dense columns.

    The vectors come from `chalicelib.classifier.encoder` (numpy only), loaded when a model first needs
    it, or given to `Model` (tests, and the training side, which has one already).
    """

    kind = "embedding"

    def __init__(self, *, dimensions: int, encoder: str = "all-MiniLM-L6-v2") -> None:
        if int(dimensions) < 1:
            raise ModelFormatError(f"bad embedding dimensions {dimensions!r}")
        self.dimensions = int(dimensions)
        self.encoder = str(encoder)

    @property
    def n_features(self) -> int:
        """Number of columns this block contributes."""
        return self.dimensions

    def settings(self) -> dict[str, Any]:
        """The block as stored in a blob's metadata."""
        return {"kind": self.kind, "dimensions": self.dimensions, "encoder": self.encoder}


class TextFeatures:
    """One fitted TfidfVectorizer, as data: its analyser settings, vocabulary (in column order) and idf."""

    def __init__(
        self,
        *,
        analyzer: str,
        ngram_range: tuple[int, int],
        vocabulary: Sequence[str],
        idf: np.ndarray | None,
        lowercase: bool = True,
        strip_accents: str | None = None,
        token_pattern: str = r"(?u)\b\w\w+\b",
        sublinear_tf: bool = False,
        norm: str | None = "l2",
    ) -> None:
        if analyzer not in ANALYZERS:
            raise ModelFormatError(f"unsupported analyzer {analyzer!r}; supported: {', '.join(ANALYZERS)}")
        if strip_accents not in ACCENT_STRIPPING:
            raise ModelFormatError(f"unsupported strip_accents {strip_accents!r}")
        if norm not in NORMS:
            raise ModelFormatError(f"unsupported norm {norm!r}")
        low, high = (int(n) for n in ngram_range)
        if not 1 <= low <= high:
            raise ModelFormatError(f"bad ngram_range {ngram_range!r}")
        self.analyzer = analyzer
        self.ngram_range = (low, high)
        self.vocabulary = tuple(vocabulary)
        self.lowercase = bool(lowercase)
        self.strip_accents = strip_accents
        self.token_pattern = token_pattern
        self.sublinear_tf = bool(sublinear_tf)
        self.norm = norm
        self._index = {term: column for column, term in enumerate(self.vocabulary)}
        if len(self._index) != len(self.vocabulary):
            raise ModelFormatError("the vocabulary has duplicate terms")
        if idf is not None:
            idf = np.asarray(idf, dtype=np.float64)
            if idf.shape != (len(self.vocabulary),):
                raise ModelFormatError(f"idf has shape {idf.shape}, expected ({len(self.vocabulary)},)")
        self.idf = idf
        self._tokens = re.compile(token_pattern)
        if self._tokens.groups > 1:
            raise ModelFormatError("token_pattern may capture at most one group")

    kind = "tfidf"

    @property
    def n_features(self) -> int:
        """Number of columns this block contributes."""
        return len(self.vocabulary)

    def settings(self) -> dict[str, Any]:
        """The analyser settings, as stored in a blob's metadata."""
        return {
            "kind": self.kind,
            "analyzer": self.analyzer,
            "ngram_range": list(self.ngram_range),
            "lowercase": self.lowercase,
            "strip_accents": self.strip_accents,
            "token_pattern": self.token_pattern,
            "sublinear_tf": self.sublinear_tf,
            "norm": self.norm,
            "idf": self.idf is not None,
        }

    def preprocess(self, text: str) -> str:
        """Lowercase, then strip accents, in scikit-learn's order."""
        if self.lowercase:
            text = text.lower()
        if self.strip_accents == "unicode":
            if not text.isascii():
                text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
        elif self.strip_accents == "ascii":
            text = unicodedata.normalize("NFKD", text).encode("ASCII", "ignore").decode("ASCII")
        return text

    def analyze(self, text: str) -> list[str]:
        """The terms scikit-learn's analyser yields for this text (before the vocabulary filter)."""
        text = self.preprocess(text)
        low, high = self.ngram_range
        if self.analyzer == "word":
            return _word_ngrams(self._tokens.findall(text), low, high)
        return _char_wb_ngrams(text, low, high)

    def transform(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and TF-IDF values of the text's known terms (one sparse row)."""
        counts: dict[int, int] = {}
        index = self._index
        for term in self.analyze(text):
            column = index.get(term)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        values = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if self.sublinear_tf:
            values = np.log(values) + 1.0
        if self.idf is not None:
            values *= self.idf[columns]
        if self.norm == "l2":
            length = math.sqrt(float(np.dot(values, values)))
            if length > 0.0:
                values /= length
        return columns, values


def _word_ngrams(tokens: list[str], low: int, high: int) -> list[str]:
    """Word n-grams joined by single spaces, as scikit-learn's word analyser builds them."""
    terms = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high, len(tokens)) + 1):
        terms.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return terms


def _char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams inside words padded with one space each side; a word shorter than n counts once."""
    terms: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text).split():
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            offset = 0
            terms.append(padded[offset : offset + n])
            while offset + n < length:
                offset += 1
                terms.append(padded[offset : offset + n])
            if offset == 0:
                break
    return terms


class Model:
    """A trained classifier that predicts with numpy alone (and the numpy sentence encoder, if it has an
    embedding block).

    `labels` are issue type ids; `threshold` is the confidence from which a deployment auto-routes (chosen at
    training time, overridable by the deployment); `max_chars` is the length texts were cut to in training, and
    so are here; `info` is the training report stored with the model. `encoder` is anything with
    `encode(texts) -> (n, dimensions)` array; without one, `Encoder.load()` on first need.
    """

    def __init__(
        self,
        *,
        version: str,
        labels: Sequence[str],
        features: Sequence[TextFeatures | Embeddings],
        coef: np.ndarray,
        intercept: np.ndarray,
        threshold: float = DEFAULT_THRESHOLD,
        max_chars: int = MAX_CHARS,
        info: dict[str, Any] | None = None,
        encoder: Any = None,
    ) -> None:
        self.version = str(version)
        self.labels = tuple(str(label) for label in labels)
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ModelFormatError("a model needs at least two distinct labels")
        if not features:
            raise ModelFormatError("a model needs at least one feature block")
        self.features = tuple(features)
        n_features = sum(block.n_features for block in self.features)
        coef = np.ascontiguousarray(coef, dtype=np.float64)
        intercept = np.asarray(intercept, dtype=np.float64)
        if coef.shape != (n_features, len(self.labels)):
            raise ModelFormatError(f"coef has shape {coef.shape}, expected ({n_features}, {len(self.labels)})")
        if intercept.shape != (len(self.labels),):
            raise ModelFormatError(f"intercept has shape {intercept.shape}, expected ({len(self.labels)},)")
        threshold = float(threshold)
        if not 0.0 <= threshold <= 1.0:
            raise ModelFormatError(f"threshold {threshold} is not a probability")
        if not isinstance(max_chars, int) or max_chars < 1:
            raise ModelFormatError(f"max_chars {max_chars!r} is not a positive integer")
        self.coef = coef
        self.intercept = intercept
        self.threshold = threshold
        self.max_chars = max_chars
        self.info = dict(info or {})
        self._encoder = encoder
        offsets = np.cumsum([0] + [block.n_features for block in self.features])
        self._offsets = tuple(int(o) for o in offsets[:-1])

    def __repr__(self) -> str:
        return f"Model(version={self.version!r}, labels={self.labels!r}, threshold={self.threshold})"

    @property
    def needs_encoder(self) -> bool:
        """True when a block is a sentence embedding."""
        return any(isinstance(block, Embeddings) for block in self.features)

    @property
    def encoder(self) -> Any:
        """The sentence encoder, loaded on first use (numpy only)."""
        if self._encoder is None:
            from chalicelib.classifier.encoder import Encoder

            self._encoder = Encoder.load()
        return self._encoder

    def logits_many(self, texts: Iterable[str]) -> np.ndarray:
        """Raw class scores (calibration folded in), one row per text after `clean_text`; embeddings batched."""
        cleaned = [clean_text(text, self.max_chars) for text in texts]
        scores = np.tile(self.intercept, (len(cleaned), 1))
        if not cleaned:
            return scores
        for block, offset in zip(self.features, self._offsets, strict=True):
            if isinstance(block, Embeddings):
                vectors = np.asarray(self.encoder.encode(cleaned), dtype=np.float64)
                if vectors.shape != (len(cleaned), block.dimensions):
                    raise ModelFormatError(f"the encoder gave {vectors.shape}, expected {block.dimensions} columns")
                scores += vectors @ self.coef[offset : offset + block.dimensions]
                continue
            for row, text in enumerate(cleaned):
                columns, values = block.transform(text)
                if columns.size:
                    scores[row] += values @ self.coef[columns + offset]
        return scores

    def logits(self, text: str) -> np.ndarray:
        """Raw class scores (calibration already folded in) for one text, after `clean_text`."""
        return self.logits_many([text])[0]

    def probabilities(self, text: str) -> np.ndarray:
        """Calibrated probabilities of every label (in `labels` order) for one text."""
        return self.predict_proba([text])[0]

    def predict_proba(self, texts: Iterable[str]) -> np.ndarray:
        """Probabilities for many texts, one row each, columns in `labels` order."""
        scores = self.logits_many(texts)
        if not len(scores):
            return np.empty((0, len(self.labels)))
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, text: str) -> Prediction:
        """The most probable label, its confidence and the full ranking; ValueError for empty text."""
        return self._prediction(self.probabilities(text))

    def predict_many(self, texts: Iterable[str]) -> list[Prediction]:
        """`predict` for each text, in order (embeddings computed in one batch)."""
        return [self._prediction(row) for row in self.predict_proba(texts)]

    def _prediction(self, probabilities: np.ndarray) -> Prediction:
        order = np.argsort(-probabilities, kind="stable")
        ranked = tuple((self.labels[i], float(probabilities[i])) for i in order)
        return Prediction(label=ranked[0][0], confidence=ranked[0][1], ranked=ranked)

    def to_bytes(self) -> bytes:
        """Serialise to one compressed `.npz` blob: JSON metadata plus arrays, nothing pickled.

        Coefficients that are exactly float16 values (training rounds them so) are stored as float16.
        """
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "labels": list(self.labels),
            "threshold": self.threshold,
            "max_chars": self.max_chars,
            "features": [block.settings() for block in self.features],
            "info": self.info,
        }
        half = self.coef.astype(np.float16)
        coef = half if np.array_equal(half.astype(np.float64), self.coef) else self.coef
        arrays: dict[str, np.ndarray] = {
            "meta": np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
            "coef": coef,
            "intercept": self.intercept,
        }
        for i, block in enumerate(self.features):
            if isinstance(block, Embeddings):
                continue
            joined = "".join(block.vocabulary)
            arrays[f"terms_{i}"] = np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8)
            arrays[f"term_ends_{i}"] = np.cumsum([len(term) for term in block.vocabulary], dtype=np.int64)
            if block.idf is not None:
                arrays[f"idf_{i}"] = block.idf
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, *, encoder: Any = None) -> Model:
        """Load a blob written by `to_bytes` (format version 1 or 2); ModelFormatError if it is not one."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            raise ModelFormatError(f"not a model blob: {error}") from error
        try:
            meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
        except (KeyError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ModelFormatError("the blob has no readable metadata") from error
        if meta.get("format") != FORMAT or meta.get("format_version") not in READABLE_VERSIONS:
            raise ModelFormatError(
                f"unsupported blob format {meta.get('format')!r} version {meta.get('format_version')!r}"
                f" (this code reads {FORMAT!r} versions {', '.join(map(str, READABLE_VERSIONS))})"
            )
        try:
            features = [_block(settings, arrays, i) for i, settings in enumerate(meta["features"])]
            return cls(
                version=meta["version"],
                labels=meta["labels"],
                features=features,
                coef=arrays["coef"],
                intercept=arrays["intercept"],
                threshold=meta.get("threshold", DEFAULT_THRESHOLD),
                max_chars=meta["max_chars"],
                info=meta.get("info"),
                encoder=encoder,
            )
        except (KeyError, TypeError) as error:
            raise ModelFormatError(f"incomplete model blob: missing {error}") from error


def _block(settings: dict[str, Any], arrays: dict[str, np.ndarray], i: int) -> TextFeatures | Embeddings:
    kind = settings.get("kind", "tfidf")
    if kind == Embeddings.kind:
        return Embeddings(dimensions=settings["dimensions"], encoder=settings["encoder"])
    if kind != TextFeatures.kind:
        raise ModelFormatError(f"feature block {i}: unknown kind {kind!r}")
    joined = arrays[f"terms_{i}"].tobytes().decode("utf-8", "surrogatepass")
    ends = arrays[f"term_ends_{i}"].tolist()
    if ends and ends[-1] != len(joined):
        raise ModelFormatError(f"feature block {i}: the term offsets do not match the terms")
    starts = [0, *ends[:-1]]
    return TextFeatures(
        analyzer=settings["analyzer"],
        ngram_range=tuple(settings["ngram_range"]),
        vocabulary=[joined[start:end] for start, end in zip(starts, ends, strict=True)],
        idf=arrays[f"idf_{i}"] if settings["idf"] else None,
        lowercase=settings["lowercase"],
        strip_accents=settings["strip_accents"],
        token_pattern=settings["token_pattern"],
        sublinear_tf=settings["sublinear_tf"],
        norm=settings["norm"],
    )
