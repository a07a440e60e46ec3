"""Similar resolved issues (decision 0043): the quantisation and ranking rules, then the service on
fakes of the ports, the hashed-words encoder standing in for the sentence encoder."""

from __future__ import annotations

import numpy as np
import pytest

from chalicelib.domain import similarity
from chalicelib.domain.errors import NotFound
from chalicelib.workflows import compiler
from tests.fakes import HashedWordsEncoder
from tests.unit.wiring import World, world


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(similarity.DIMENSIONS).astype(np.float32)
    return vector / np.linalg.norm(vector)


def test_a_vector_is_kept_in_384_bytes_and_keeps_its_direction():
    vector = unit(1)
    stored = similarity.quantise(vector)
    assert len(stored) == similarity.DIMENSIONS
    assert max(abs(b) for b in np.frombuffer(stored, dtype=np.int8)) == 127
    assert float(similarity.dequantise(stored) @ vector) > 0.999


def test_quantised_cosines_rank_as_the_exact_ones_do():
    vectors = [unit(seed) for seed in range(200)]
    query = unit(999)
    exact = sorted(range(200), key=lambda k: -float(vectors[k] @ query))[:5]
    stored = similarity.Candidates.of((f"{k:03}", similarity.quantise(v)) for k, v in enumerate(vectors))
    ranked = similarity.rank(query, stored, limit=5)
    assert [int(i) for i, _ in ranked] == exact
    for (_, score), k in zip(ranked, exact, strict=True):
        assert score == pytest.approx(float(vectors[k] @ query), abs=0.01)


def test_a_zero_vector_stays_zero_and_a_wrong_size_is_refused():
    assert similarity.quantise(np.zeros(similarity.DIMENSIONS)) == bytes(similarity.DIMENSIONS)
    with pytest.raises(ValueError):
        similarity.quantise([0.5] * 10)


def test_ranking_leaves_out_the_excluded_and_the_malformed_and_orders_ties_by_id():
    same, opposite = similarity.quantise(unit(3)), similarity.quantise(-unit(3))
    pairs = [("b", same), ("a", same), ("self", same), ("short", b"\x01" * 10), ("c", opposite)]
    candidates = similarity.Candidates.of(pairs)
    assert len(candidates) == 4
    ranked = similarity.rank(unit(3), candidates, exclude={"self"}, limit=5)
    assert [i for i, _ in ranked] == ["a", "b", "c"]
    assert ranked[0][1] == pytest.approx(1.0, abs=0.01) and ranked[2][1] == pytest.approx(-1.0, abs=0.01)
    assert similarity.rank(unit(3), similarity.Candidates([], b""), limit=5) == []
    assert similarity.rank(unit(3), candidates, limit=0) == []
    assert similarity.rank(unit(3), similarity.Candidates.of([("self", same)]), exclude={"self"}, limit=5) == []
    with pytest.raises(ValueError):
        similarity.rank(unit(3), similarity.Candidates(["a", "b"], same), limit=5)


def test_of_an_issue_stored_twice_the_last_copy_counts_once():
    newer, older = similarity.quantise(unit(3)), similarity.quantise(-unit(3))
    candidates = similarity.Candidates.of([("a", older), ("b", older), ("a", newer)])
    assert candidates.distinct() == 2
    ranked = similarity.rank(unit(3), candidates, limit=5)
    assert [i for i, _ in ranked] == ["a", "b"] and ranked[0][1] == pytest.approx(1.0, abs=0.01)


def test_every_write_of_an_issue_goes_to_the_same_shard_and_the_shards_share_the_issues():
    assert similarity.shard_of("01ABC") == similarity.shard_of("01ABC")
    counts = np.bincount([similarity.shard_of(f"01ISSUE{k}") for k in range(4000)], minlength=similarity.SHARDS)
    assert len(counts) == similarity.SHARDS and counts.min() > 0.8 * 4000 / similarity.SHARDS


def test_the_text_is_the_customers_words_then_the_labels_they_chose_and_the_summary_is_one_short_line():
    fields = {"details": "The vase\narrived  broken.", "reason": "double_charge", "invoice": "INV-000001", "n": 3}
    labels = {"reason": {"double_charge": "I was charged twice"}}
    text = similarity.issue_text(fields, ["invoice", "details"], labels)
    assert text == "INV-000001\nThe vase\narrived  broken.\nI was charged twice"
    assert similarity.summary(text) == "INV-000001 The vase arrived broken. I was charged twice"
    long = similarity.summary("word " * 100, limit=50)
    assert len(long) <= 50 and long.endswith("…") and not long.endswith(" …")


# The service, on fakes

ENQUIRY = "general-enquiry"


def _report(message: str, email: str = "ada@example.com") -> dict:
    return {
        "type": ENQUIRY,
        "customer": {"email": email, "name": "Ada"},
        "fields": {"subject": "A question", "message": message},
    }


def _resolved(w: World, message: str, answer: str) -> str:
    issue = w.services.intake.open_issue(_report(message)).issue
    w.workflow_says(issue.id, compiler.KIND_OPEN, step="answer")
    task = w.tasks.get(issue.id, "answer")
    assert task is not None
    w.services.completions.complete(task.id, {"answer": answer, "needs_follow_up": False}, w.agent("alice", "agent"))
    w.workflow_says(issue.id, compiler.KIND_RESOLVE)
    return issue.id


def test_a_resolved_issue_is_remembered_and_the_nearest_come_first_with_how_they_were_resolved():
    w = world()
    vase = _resolved(w, "The glass vase in my parcel arrived broken", "We sent a new vase.")
    invoice = _resolved(w, "I was charged twice on my invoice", "Refunded the second charge.")
    _resolved(w, "Are you open on Sunday afternoon", "Yes, 10 to 4.")
    assert len(w.similar_vectors.by_type[ENQUIRY]) == 3
    asked = w.services.intake.open_issue(_report("My parcel came with the vase broken")).issue

    found = w.services.similar_issues.for_agent(asked.id, w.agent("sue", "supervisor"))

    assert found["candidates"] == 3
    assert [s["id"] for s in found["similar"]][:1] == [vase]
    first = found["similar"][0]
    assert first["summary"].startswith("A question The glass vase in my parcel arrived broken")
    assert first["steps"][0]["answers"][0]["value"] == "We sent a new vase."
    assert first["resolved_at"]
    assert invoice in {s["id"] for s in found["similar"]}
    itself = w.services.similar_issues.for_agent(vase, w.agent("sue", "supervisor"))
    assert vase not in {s["id"] for s in itself["similar"]}


def test_no_one_learns_of_an_issue_they_may_not_see_and_a_reopened_one_is_not_listed():
    w = world()
    vase = _resolved(w, "The glass vase in my parcel arrived broken", "We sent a new vase.")
    asked = w.services.intake.open_issue(_report("The vase arrived broken")).issue
    with pytest.raises(NotFound):
        w.services.similar_issues.for_agent(asked.id, w.agent("lee", "logistics"))
    with pytest.raises(NotFound):
        w.services.similar_issues.for_agent("01NOSUCHISSUE", w.agent("sue", "supervisor"))
    w.issues.change(w.issues.get(vase), lambda current: current.reopen())
    assert w.services.similar_issues.for_agent(asked.id, w.agent("sue", "supervisor"))["similar"] == []


def test_a_failing_encoder_never_fails_the_resolution():
    w = world()

    def broken(texts):
        raise RuntimeError("no weights")

    w.encoder.encode = broken  # type: ignore[method-assign]
    issue_id = _resolved(w, "The glass vase arrived broken", "Sent another.")
    assert w.issues.get(issue_id).status == "resolved"
    assert w.similar_vectors.by_type == {}


def test_the_fake_encoder_is_deterministic_and_unit_length():
    encoder = HashedWordsEncoder()
    [a], [b] = encoder.encode(["Vase broken"]), encoder.encode(["vase BROKEN"])
    assert np.allclose(a, b) and float(np.linalg.norm(a)) == pytest.approx(1.0)


def test_the_backfill_keeps_the_vectors_of_resolved_issues_only_and_may_run_again():
    w = world()
    vase = _resolved(w, "The glass vase in my parcel arrived broken", "We sent a new vase.")
    w.services.intake.open_issue(_report("Still open: my vase"))
    w.similar_vectors.by_type.clear()
    assert w.services.similar_issues.backfill(w.search_index, [ENQUIRY, "late-delivery"]) == 1
    assert w.services.similar_issues.backfill(w.search_index, [ENQUIRY]) == 1
    assert list(w.similar_vectors.by_type[ENQUIRY]) == [vase]
