"""The embedded AWS's state as one file: moto's backends pickled, written safely, read back at start.

What is kept: the backends of the services whose data Caseflow keeps (`KEPT_SERVICES`), in every
account and region moto has created. Step Functions is not: its executions are threads, and the
issue types' state machines are published again at start-up from their stored definitions.

A snapshot is written to a temporary file, flushed to disk and renamed over the last one, whose
previous copy stays beside it: a crash mid-write leaves the last good snapshot in place. A snapshot
that cannot be read is set aside (`<name>.broken-<time>`), never fatal: the previous one, else
nothing, is restored instead.
"""

from __future__ import annotations

import copyreg
import gc
import io
import logging
import os
import pickle
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("caseflow.local.state")

#: moto's service names whose backends are kept.
KEPT_SERVICES = ("dynamodb", "s3", "sqs", "cognito-idp", "secretsmanager", "ses")
SNAPSHOT_NAME = "aws.pickle"
PREVIOUS_SUFFIX = ".previous"
FORMAT_VERSION = 1


def _fresh_lock() -> Any:
    return threading.Lock()


def _fresh_rlock() -> Any:
    return threading.RLock()


def _fresh_condition() -> threading.Condition:
    return threading.Condition()


def _private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(pem, password=None)


def _public_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return load_pem_public_key(pem)


def _dynamo_value(kind: str, value: Any) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType

    restored = DynamoType.__new__(DynamoType)
    restored.type, restored.value = kind, value
    return restored


def _dispatch_table() -> dict[type, Any]:
    """How to pickle what moto's backends hold but pickle cannot: locks (a fresh one, unlocked) and
    Cognito's RSA signing key (as PEM; moto's key is a fixed file, so tokens keep verifying). And
    what pickle can but slowly: a DynamoDB item's attributes, a dict subclass that checks the item's
    size on every key set (quadratic per item), are rebuilt in one update, as moto's own copy does;
    each attribute value (a type and a value) goes as a pair: a third smaller, restored faster."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict

    table: dict[type, Any] = dict(copyreg.dispatch_table)
    table[LimitedSizeDict] = lambda attributes: (LimitedSizeDict, (dict(attributes),))
    table[DynamoType] = lambda value: (
        (_dynamo_value, (value.type, value.value))
        if len(value.__dict__) == 2
        else value.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    )
    table[type(threading.Lock())] = lambda _: (_fresh_lock, ())
    table[type(threading.RLock())] = lambda _: (_fresh_rlock, ())
    table[threading.Condition] = lambda _: (_fresh_condition, ())
    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    table[type(private)] = lambda key: (
        _private_key,
        (
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        ),
    )
    table[type(private.public_key())] = lambda key: (
        _public_key,
        (key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),),
    )
    return table


_DISPATCH: dict[type, Any] | None = None


def _moto_version() -> str:
    """Pickled backends are moto's classes as installed: another version may not read them."""
    from importlib.metadata import version

    return version("moto")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pickling a few million objects with the garbage collector on costs five times as much: each
    batch of new objects starts a collection that walks all of them."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def capture(journal_from: int = 0) -> bytes:
    """The kept backends, pickled, with the first journal segment they do not cover
    (`write_journal`). The caller makes sure nothing mutates them meanwhile."""
    global _DISPATCH
    from moto.backends import get_backend

    if _DISPATCH is None:
        _DISPATCH = _dispatch_table()
    kept = {
        service: {
            account: dict(regions.items())
            for account, regions in get_backend(service).items()  # type: ignore[arg-type]
        }
        for service in KEPT_SERVICES
    }
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    with _collector_paused():
        pickler.dump(
            {"format": FORMAT_VERSION, "moto": _moto_version(), "backends": kept, "journal_from": journal_from}
        )
    return buffer.getvalue()


def restore(data: bytes) -> tuple[int, int]:
    """Put pickled backends in place of this process's (before it serves); the number restored,
    and the first journal segment the snapshot does not cover.

    Each live backend object takes the restored one's attributes, so whatever holds the live object
    sees the restored state."""
    from moto.backends import get_backend

    with _collector_paused():
        loaded = pickle.loads(data)
    if not isinstance(loaded, dict) or loaded.get("format") != FORMAT_VERSION:
        raise ValueError("not a snapshot of this format")
    if loaded.get("moto") != _moto_version():
        raise ValueError(f"made with moto {loaded.get('moto')}, not {_moto_version()} as installed")
    restored = 0
    for service, accounts in loaded["backends"].items():
        backends = get_backend(service)
        for account, regions in accounts.items():
            for region, saved in regions.items():
                live = backends[account][region]
                live.__dict__.clear()
                live.__dict__.update(saved.__dict__)
                restored += 1
    _register_buckets()
    return restored, int(loaded.get("journal_from", 0))


def _register_buckets() -> None:
    """moto finds a bucket's owner in a map beside the backends, filled as buckets are created."""
    from moto.s3.models import s3_backends

    for account, partitions in s3_backends.items():
        for partition, backend in partitions.items():
            for name in backend.buckets:
                s3_backends.bucket_accounts[name] = (partition, account)


def write(directory: Path, data: bytes) -> Path:
    """Write a snapshot safely: temporary file, fsync, the last one kept as the previous, rename."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / SNAPSHOT_NAME
    temporary = directory / f"{SNAPSHOT_NAME}.{os.getpid()}.tmp"
    with temporary.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    if target.exists():
        os.replace(target, target.with_name(SNAPSHOT_NAME + PREVIOUS_SUFFIX))
    os.replace(temporary, target)
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return target


@dataclass
class Restored:
    """What `load` found: the file restored (None: started empty), and the files set aside."""

    directory: str
    path: str | None = None
    bytes: int = 0
    backends: int = 0
    seconds: float = 0.0
    set_aside: list[str] = field(default_factory=list)
    #: The first segment of the write journal that the snapshot restored does not cover.
    journal_from: int = 0
    #: Journaled writes applied after the snapshot.
    replayed: int = 0


def load(directory: Path) -> Restored:
    """Restore the newest readable snapshot in `directory`: the last, else the previous; set aside
    every unreadable one. Leftover temporary files (a write cut short) are removed."""
    outcome = Restored(str(directory))
    if not directory.is_dir():
        return outcome
    for leftover in directory.glob(f"{SNAPSHOT_NAME}.*.tmp"):
        leftover.unlink(missing_ok=True)
    for path in (directory / SNAPSHOT_NAME, directory / (SNAPSHOT_NAME + PREVIOUS_SUFFIX)):
        if not path.exists():
            continue
        started = time.monotonic()
        try:
            data = path.read_bytes()
            outcome.backends, outcome.journal_from = restore(data)
        except Exception as exc:  # noqa: BLE001 - any unreadable snapshot is set aside, whatever broke it
            aside = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
            os.replace(path, aside)
            outcome.set_aside.append(str(aside))
            log.warning("the snapshot %s could not be restored (%s); set aside as %s", path, exc, aside.name)
            continue
        outcome.path, outcome.bytes, outcome.seconds = str(path), len(data), time.monotonic() - started
        return outcome
    return outcome
