"""The similar-issues vector store on DynamoDB (moto) and its fake keep the same promises: every
vector of a type is read back once, other types' never; packing singles into blocks loses none,
and a newer single wins over a packed copy (decision 0043)."""

from __future__ import annotations

import pytest

from chalicelib.adapters.dynamodb.similar_issues import SimilarVectorRepository
from chalicelib.domain.similarity import DIMENSIONS, Candidates
from tests.fakes import FakeSimilarVectors


def vector(k: int) -> bytes:
    return bytes([k % 256]) * DIMENSIONS


def as_dict(candidates: Candidates) -> dict[str, bytes]:
    """Each id's vector, the last copy of an id counting (as `rank` does)."""
    v = candidates.vectors
    return {i: v[k * DIMENSIONS : (k + 1) * DIMENSIONS] for k, i in enumerate(candidates.ids)}


@pytest.mark.parametrize("store", ["dynamodb", "fake"])
def test_every_vector_of_the_type_is_read_back_once(table, store):
    vectors = SimilarVectorRepository() if store == "dynamodb" else FakeSimilarVectors()
    vectors.put(f"contract-{store}", "01A", vector(1))
    vectors.put(f"contract-{store}", "01B", vector(2))
    vectors.put(f"contract-{store}", "01A", vector(3))  # resolved again: replaced
    vectors.put(f"contract-other-{store}", "01C", vector(4))
    assert as_dict(vectors.candidates(f"contract-{store}")) == {"01A": vector(3), "01B": vector(2)}
    assert len(vectors.candidates(f"contract-none-{store}")) == 0


def test_singles_are_packed_into_blocks_without_losing_one_and_a_newer_single_wins(table):
    vectors = SimilarVectorRepository(shards=2, block=4)
    wanted = {f"01P{k:03d}": vector(k) for k in range(21)}
    vectors.put_many("packing", list(wanted.items()))
    assert as_dict(vectors.candidates("packing")) == wanted
    first = vectors.last_read
    assert first.packed >= 4 and first.items == 21
    again = vectors.candidates("packing")
    assert as_dict(again) == wanted and len(again) == 21
    assert vectors.last_read.items < 21 and vectors.last_read.packed == 0
    vectors.put("packing", "01P000", vector(200))
    assert as_dict(vectors.candidates("packing"))["01P000"] == vector(200)
    assert vectors.candidates("packing").distinct() == 21
