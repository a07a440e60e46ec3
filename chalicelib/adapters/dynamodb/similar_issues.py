"""Resolved issues' vectors for the similar-issues lookup (decision 0043).

A type's vectors are spread over `SHARDS` partitions `SIMILAR#<type id>#<shard>` (the shard from
the issue id's hash), read with one paginated Query each, in parallel threads; never a Scan.

- A resolution writes a *single*: sk `V#<issue id>`, `v` the 384 int8 bytes (about 440 bytes,
  1 write unit).
- A lookup that finds `BLOCK` singles or more in a shard packs each `BLOCK` of them into a
  *block*, sk `B#<hash of their ids>`, `ids` the issue ids (comma-separated) and `v` their vectors
  end to end (about 210 KB), then deletes them. Reading 100,000 vectors is then about 200 items to
  parse, not 100,000: the read units are the same (bytes are bytes), the client's CPU is not.

Two lookups packing at once write the same block (its key is its content's), and a failure between
the block's write and the singles' deletion leaves copies; an issue's vector read twice counts once.
An issue resolved again after its vector was packed gets a single that is never packed, and wins
over the packed copy.
"""

from __future__ import annotations

import hashlib
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pynamodb.attributes import BinaryAttribute, UnicodeAttribute

from chalicelib.adapters.dynamodb.models import _Item
from chalicelib.domain.similarity import SHARDS, Candidates, shard_of

SIMILAR_KEY = "SIMILAR#"
SINGLE = "V#"
PACKED = "B#"
#: Vectors per block: 512 × (384 + 27) bytes ≈ 210 KB, well inside DynamoDB's 400 KB item.
BLOCK = 512


class SimilarVectorItem(_Item):
    """pk=SIMILAR#<type id>#<shard>, sk=V#<issue id>: one resolved issue's quantised vector."""

    vector = BinaryAttribute(attr_name="v", legacy_encoding=False)


class SimilarBlockItem(_Item):
    """pk=SIMILAR#<type id>#<shard>, sk=B#<hash of the ids>: packed vectors, in the order of `ids`."""

    ids = UnicodeAttribute()
    vector = BinaryAttribute(attr_name="v", legacy_encoding=False)


def partition(type_id: str, shard: int) -> str:
    return f"{SIMILAR_KEY}{type_id}#{shard}"


@dataclass
class ReadCost:
    """What the last `candidates` read: items, Query pages, the read units DynamoDB reported, and
    the blocks it packed."""

    items: int = 0
    pages: int = 0
    capacity: float = 0.0
    #: The items' size as DynamoDB counts it (names and values), and the eventually consistent
    #: read units that makes (each page's size rounded up to 4 KB, half a unit per 4 KB).
    bytes: int = 0
    units: float = 0.0
    packed: int = 0
    by_shard: list[int] = field(default_factory=list)


@dataclass
class _Shard:
    singles: dict[str, bytes] = field(default_factory=dict)
    #: The blocks' ids and vectors, as stored.
    blocks: list[tuple[list[str], bytes]] = field(default_factory=list)
    items: int = 0
    pages: int = 0
    units: float = 0.0
    bytes: int = 0
    arithmetic: float = 0.0
    blocks_written: int = 0


class SimilarVectorRepository:
    def __init__(self, shards: int = SHARDS, block: int = BLOCK) -> None:
        self._shards = shards
        self._block = block
        self.last_read = ReadCost()

    def put(self, type_id: str, issue_id: str, vector: bytes) -> None:
        SimilarVectorItem(
            partition(type_id, shard_of(issue_id, self._shards)), f"{SINGLE}{issue_id}", vector=vector
        ).save()

    def put_many(self, type_id: str, vectors: list[tuple[str, bytes]]) -> None:
        """Many singles at once (a backfill, the benchmark): BatchWriteItem, 25 a request."""
        with SimilarVectorItem.batch_write() as batch:
            for issue_id, vector in vectors:
                pk = partition(type_id, shard_of(issue_id, self._shards))
                batch.save(SimilarVectorItem(pk, f"{SINGLE}{issue_id}", vector=vector))

    def candidates(self, type_id: str) -> list[tuple[str, bytes]]:
        """Every vector of the type: the shards' Queries in parallel, each paginated to its end; a
        shard holding `BLOCK` singles or more has them packed into blocks on the way."""
        with ThreadPoolExecutor(max_workers=self._shards) as pool:
            shards = list(pool.map(lambda shard: self._shard(partition(type_id, shard)), range(self._shards)))
        self.last_read = ReadCost(
            items=sum(s.items for s in shards),
            pages=sum(s.pages for s in shards),
            capacity=sum(s.units for s in shards),
            bytes=sum(s.bytes for s in shards),
            units=sum(s.arithmetic for s in shards),
            packed=sum(s.blocks_written for s in shards),
            by_shard=[sum(len(ids) for ids, _ in s.blocks) + len(s.singles) for s in shards],
        )
        # Blocks first, then singles: an issue's single (resolved again) is its last, newer copy.
        ids: list[str] = []
        vectors: list[bytes] = []
        for shard in shards:
            for block_ids, block_vectors in shard.blocks:
                ids.extend(block_ids)
                vectors.append(block_vectors)
        for shard in shards:
            ids.extend(shard.singles)
            vectors.extend(shard.singles.values())
        return Candidates(ids, b"".join(vectors))

    def _shard(self, pk: str) -> _Shard:
        shard = _read(pk)
        # A single that replaces a packed copy (resolved again) stays a single: it is the newer.
        packed = {issue_id for ids, _ in shard.blocks for issue_id in ids} if shard.singles else set()
        singles = sorted((i, v) for i, v in shard.singles.items() if i not in packed)
        for start in range(0, len(singles) - self._block + 1, self._block):
            self._pack(pk, singles[start : start + self._block])
            shard.blocks_written += 1
        return shard

    @staticmethod
    def _pack(pk: str, singles: list[tuple[str, bytes]]) -> None:
        ids = ",".join(i for i, _ in singles)
        name = hashlib.sha256(ids.encode()).hexdigest()[:20]
        SimilarBlockItem(pk, f"{PACKED}{name}", ids=ids, vector=b"".join(v for _, v in singles)).save()
        with SimilarVectorItem.batch_write() as batch:
            for issue_id, _ in singles:
                batch.delete(SimilarVectorItem(pk, f"{SINGLE}{issue_id}"))


def _read(pk: str) -> _Shard:
    """One partition's blocks and singles, page after page (1 MB each), as the raw Query answers
    them: no model object per item."""
    connection: Any = SimilarVectorItem._get_connection()
    shard = _Shard()
    start = None
    while True:
        page = connection.query(pk, exclusive_start_key=start, return_consumed_capacity="TOTAL")
        shard.pages += 1
        shard.units += float((page.get("ConsumedCapacity") or {}).get("CapacityUnits", 0.0))
        page_bytes = 0
        for item in page.get("Items", []):
            shard.items += 1
            sk = item["sk"]["S"]
            vectors = _bytes(item["v"]["B"])
            page_bytes += _size(item)
            if sk.startswith(SINGLE):
                shard.singles[sk.removeprefix(SINGLE)] = vectors
            elif sk.startswith(PACKED):
                shard.blocks.append((item["ids"]["S"].split(","), vectors))
        shard.bytes += page_bytes
        shard.arithmetic += math.ceil(page_bytes / 4096) * 0.5
        start = page.get("LastEvaluatedKey")
        if not start:
            return shard


def _size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it: its attributes' names and values (strings, binaries)."""
    total = 0
    for name, value in item.items():
        [(kind, raw)] = value.items()
        total += len(name) + (len(_bytes(raw)) if kind == "B" else len(str(raw).encode()))
    return total


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    import base64

    return base64.b64decode(value)
