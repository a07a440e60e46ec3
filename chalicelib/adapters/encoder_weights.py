"""The sentence encoder's weights for functions that do not carry them in a layer (decision 0041).

The training functions have no room for the 92 MB weights layer beside scikit-learn, so the stack
puts the weights in S3 as one zip. The first run of a cold container unpacks it under /tmp, once per
container and per weights version (the key changes with the content); a warm container reuses it.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

#: The file whose presence says a folder was unpacked completely (it is renamed into place last).
WEIGHTS_FILE = "model.safetensors"


def weights_folder(bucket: str, key: str, client: Any = None, root: str | Path | None = None) -> Path:
    """A local folder holding the weights of `s3://bucket/key` (a zip), downloading it if needed.

    Raises OSError when the object cannot be read or is not a zip of the weights: the caller then
    trains without embeddings and says so."""
    base = Path(root or tempfile.gettempdir())
    folder = base / f"encoder-{hashlib.sha256(f'{bucket}/{key}'.encode()).hexdigest()[:16]}"
    if (folder / WEIGHTS_FILE).is_file():
        return folder
    partial = Path(tempfile.mkdtemp(prefix="encoder-partial-", dir=base))
    try:
        with tempfile.TemporaryFile(dir=base) as archive:
            (client or boto3.client("s3")).download_fileobj(bucket, key, archive)
            archive.seek(0)
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(partial)
        if not (partial / WEIGHTS_FILE).is_file():
            raise OSError(f"s3://{bucket}/{key} holds no {WEIGHTS_FILE}")
        shutil.rmtree(folder, ignore_errors=True)
        partial.rename(folder)
    except (BotoCoreError, ClientError, zipfile.BadZipFile) as error:
        raise OSError(f"the encoder's weights could not be read from s3://{bucket}/{key}: {error}") from error
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return folder
