"""Similar resolved issues: the rules of storing a text's vector small and ranking neighbours by it
(decision 0043).

A sentence encoder gives each text a 384-dimension unit vector. A resolved issue's vector is kept
quantised to int8, scaled by its own largest component (384 bytes, no scale stored: the cosine
of two vectors does not depend on their lengths), in one of `SHARDS` partitions of its type. A
lookup reads the type's partitions, ranks every vector by cosine to the asked issue's vector, and
keeps the nearest. No I/O here; numpy is imported when first needed (the API's cold start does not
pay for it).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

#: The encoder's vectors (all-MiniLM-L6-v2).
DIMENSIONS = 384
#: How many neighbours an agent is shown.
NEIGHBOURS = 5
#: Partitions per type, read in parallel: each holds an eighth of the type's vectors.
SHARDS = 8
#: The customer's text, as an agent reads it in a list of neighbours.
SUMMARY_LENGTH = 200
#: The most text of an issue given to the encoder (it reads 128 tokens at most anyway).
TEXT_LENGTH = 2_000
_INT8_MAX = 127
#: Vectors ranked at a time.
_CHUNK = 8192
_SPACES = re.compile(r"\s+")


def shard_of(issue_id: str, shards: int = SHARDS) -> int:
    """The partition of the type an issue's vector is kept in: the same for every write of it."""
    return zlib.crc32(issue_id.encode()) % shards


def quantise(vector: Sequence[float] | Any) -> bytes:
    """A vector as 384 signed bytes, its largest component ±127; a zero vector stays zero."""
    import numpy as np

    values = np.asarray(vector, dtype=np.float32).reshape(-1)
    if values.shape[0] != DIMENSIONS:
        raise ValueError(f"a vector has {DIMENSIONS} dimensions, not {values.shape[0]}")
    largest = float(np.max(np.abs(values))) if values.size else 0.0
    if largest == 0.0 or not np.isfinite(largest):
        return bytes(DIMENSIONS)
    scaled = np.clip(np.rint(values / largest * _INT8_MAX), -_INT8_MAX, _INT8_MAX)
    return scaled.astype(np.int8).tobytes()


def dequantise(stored: bytes) -> np.ndarray:
    """The stored bytes as a unit vector (float32); a zero vector stays zero."""
    import numpy as np

    values = np.frombuffer(stored, dtype=np.int8).astype(np.float32)
    norm = float(np.linalg.norm(values))
    return values / norm if norm else values


@dataclass(frozen=True)
class Candidates:
    """Stored vectors as read: issue ids and their vectors end to end (384 bytes each, in the same
    order). An id may come twice (a packed copy, then the newer single): the last one counts."""

    ids: list[str]
    vectors: bytes

    @staticmethod
    def of(pairs: Iterable[tuple[str, bytes]]) -> Candidates:
        kept = [(i, v) for i, v in pairs if len(v) == DIMENSIONS]
        return Candidates([i for i, _ in kept], b"".join(v for _, v in kept))

    def __len__(self) -> int:
        return len(self.ids)

    def distinct(self) -> int:
        return len(set(self.ids))


def rank(
    query: Sequence[float] | Any,
    candidates: Candidates,
    *,
    exclude: Iterable[str] = (),
    limit: int,
) -> list[tuple[str, float]]:
    """The `limit` candidates nearest to `query` by cosine, nearest first, as (id, similarity);
    ties in id order. Candidates named in `exclude` are left out; of an id that comes twice, the
    last copy counts."""
    import numpy as np

    ids = candidates.ids
    if not ids or limit <= 0:
        return []
    if len(candidates.vectors) != len(ids) * DIMENSIONS:
        raise ValueError(f"{len(ids)} ids but {len(candidates.vectors)} bytes of vectors")
    stored = np.frombuffer(candidates.vectors, dtype=np.int8).reshape(len(ids), DIMENSIONS)
    wanted = np.asarray(query, dtype=np.float32).reshape(-1)
    size = float(np.linalg.norm(wanted))
    wanted = wanted / size if size else wanted
    scores = np.empty(len(ids), dtype=np.float32)
    for start in range(0, len(ids), _CHUNK):  # float32 a chunk at a time: 12 MB, not 150 at 100,000
        matrix = stored[start : start + _CHUNK].astype(np.float32)
        norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))
        norms[norms == 0] = 1.0
        scores[start : start + _CHUNK] = (matrix @ wanted) / norms
    left_out = set(exclude)
    dropped = [k for k, issue_id in enumerate(ids) if issue_id in left_out]
    if len(set(ids)) != len(ids):  # rare: a packed copy and a newer single
        last = {issue_id: k for k, issue_id in enumerate(ids)}
        dropped += [k for k, issue_id in enumerate(ids) if last[issue_id] != k]
    if dropped:
        scores[dropped] = -np.inf
    count = min(limit, len(ids) - len(dropped))
    if count <= 0:
        return []
    nearest = np.argpartition(-scores, count - 1)[:count] if count < len(ids) else np.arange(len(ids))
    chosen = sorted(((ids[k], float(scores[k])) for k in nearest), key=lambda pair: (-pair[1], pair[0]))
    return [pair for pair in chosen if pair[1] != -np.inf][:limit]


def issue_text(fields: dict[str, Any], text_fields: Sequence[str], choice_labels: dict[str, dict[str, str]]) -> str:
    """What the customer told us, as the encoder reads it: their text fields' values in the type's
    order, then the labels of the options they chose (e.g. "I was charged twice")."""
    parts = [str(fields[f]) for f in text_fields if isinstance(fields.get(f), str) and fields[f].strip()]
    for field_id, labels in choice_labels.items():
        chosen = fields.get(field_id)
        if isinstance(chosen, str) and chosen in labels:
            parts.append(labels[chosen])
    return "\n".join(parts)[:TEXT_LENGTH]


def summary(text: str, limit: int = SUMMARY_LENGTH) -> str:
    """The text on one line, cut at a word before `limit` characters with an ellipsis."""
    line = _SPACES.sub(" ", text).strip()
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"
