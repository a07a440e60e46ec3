"""The training functions' encoder weights, fetched from S3 (decision 0041): once per container, whole or not at all."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import boto3
import numpy as np
import pytest
from moto import mock_aws

from chalicelib.adapters.encoder_weights import WEIGHTS_FILE, weights_folder
from chalicelib.classifier.encoder import ENCODER_FILES, Encoder, default_model_dir

BUCKET, KEY = "cdk-assets", "0123abcd.zip"


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, data in files.items():
            zipped.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def test_the_weights_are_unpacked_once_and_then_reused(s3, tmp_path: Path) -> None:
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=_zip({WEIGHTS_FILE: b"weights", "config.json": b"{}"}))
    folder = weights_folder(BUCKET, KEY, s3, tmp_path)
    assert (folder / WEIGHTS_FILE).read_bytes() == b"weights"
    s3.delete_object(Bucket=BUCKET, Key=KEY)  # a warm container does not read S3 again
    assert weights_folder(BUCKET, KEY, s3, tmp_path) == folder
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]


@pytest.mark.parametrize(
    "body, reason",
    [(None, "could not be read"), (b"not a zip", "could not be read"), (_zip({"config.json": b"{}"}), "holds no")],
)
def test_missing_or_broken_weights_raise_os_error_and_leave_nothing_half_unpacked(
    s3, tmp_path: Path, body: bytes | None, reason: str
) -> None:
    if body is not None:
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=body)
    with pytest.raises(OSError, match=reason):
        weights_folder(BUCKET, KEY, s3, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_files_the_stack_ships_are_all_the_encoder_needs(tmp_path: Path) -> None:
    """The stack's weights zip holds ENCODER_FILES only; an encoder loaded from them encodes as the package's."""
    for name in ENCODER_FILES:
        (tmp_path / name).symlink_to(default_model_dir() / name)
    text = ["my parcel never arrived"]
    assert np.allclose(Encoder.load(tmp_path).encode(text), Encoder.load().encode(text), atol=1e-6)
