"""The embedded AWS's state as two files: moto's backends pickled, written safely, read back at start.

What is kept: the backends of the services whose data Caseflow keeps (`KEPT_SERVICES`), in every
account and region moto has created. Step Functions is not: its executions are threads, and the
issue types' state machines are published again at start-up from their stored definitions.

The bulk of the state (`BULK`: DynamoDB's tables, SES's record of sent mail) has a snapshot of
its own (`BULK_SNAPSHOT_NAME`), taken seldom. Nothing of it is lost in between: every DynamoDB
write is journaled as it is answered (`write_journal`) and the journal after the bulk snapshot is
replayed at start; SES's record only mirrors the outbox, and its identities are verified again at
start-up. A month of demo data is about a hundred megabytes, so pickling it every few seconds took
most of a core. The other services' snapshot (`SNAPSHOT_NAME`) is small and frequent (decision 0049).

A snapshot is written to a temporary file, flushed to disk and renamed over the last one, whose
previous copy stays beside it: a crash mid-write leaves the last good snapshot in place. A snapshot
that cannot be read is set aside (`<name>.broken-<time>`), never fatal: the previous one, else
nothing, is restored instead. A snapshot of the first format (every service in one file) is read
as both.
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
#: The services kept in the seldom bulk snapshot.
BULK = ("dynamodb", "ses")
#: The other kept services' snapshot.
SNAPSHOT_NAME = "aws.pickle"
BULK_SNAPSHOT_NAME = "bulk.pickle"
PREVIOUS_SUFFIX = ".previous"
#: 2: the bulk apart from the other services; 1 (still read): every service in `SNAPSHOT_NAME`.
FORMAT_VERSION = 2
_READABLE_FORMATS = (1, 2)


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


def capture(services: tuple[str, ...], journal_from: int = 0) -> bytes:
    """The backends of `services`, pickled, with the first journal segment they do not cover
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
        for service in services
    }
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    with _collector_paused():
        pickler.dump(
            {"format": FORMAT_VERSION, "moto": _moto_version(), "backends": kept, "journal_from": journal_from}
        )
    return buffer.getvalue()


def restore(data: bytes, skip: tuple[str, ...] = ()) -> tuple[int, list[str], int]:
    """Put pickled backends in place of this process's (before it serves), except those of the
    services in `skip`; the number restored, the services restored, and the first journal segment
    the snapshot does not cover.

    Each live backend object takes the restored one's attributes, so whatever holds the live object
    sees the restored state."""
    from moto.backends import get_backend

    with _collector_paused():
        loaded = pickle.loads(data)
    if not isinstance(loaded, dict) or loaded.get("format") not in _READABLE_FORMATS:
        raise ValueError("not a snapshot of this format")
    if loaded.get("moto") != _moto_version():
        raise ValueError(f"made with moto {loaded.get('moto')}, not {_moto_version()} as installed")
    restored = 0
    services = [service for service in loaded["backends"] if service not in skip]
    for service in services:
        backends = get_backend(service)
        for account, regions in loaded["backends"][service].items():
            for region, saved in regions.items():
                live = backends[account][region]
                live.__dict__.clear()
                live.__dict__.update(saved.__dict__)
                restored += 1
    _register_buckets()
    return restored, services, int(loaded.get("journal_from", 0))


def _register_buckets() -> None:
    """moto finds a bucket's owner in a map beside the backends, filled as buckets are created."""
    from moto.s3.models import s3_backends

    for account, partitions in s3_backends.items():
        for partition, backend in partitions.items():
            for name in backend.buckets:
                s3_backends.bucket_accounts[name] = (partition, account)


def write(directory: Path, data: bytes, name: str = SNAPSHOT_NAME) -> Path:
    """Write a snapshot safely: temporary file, fsync, the last one kept as the previous, rename."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    temporary = directory / f"{name}.{os.getpid()}.tmp"
    with temporary.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    if target.exists():
        os.replace(target, target.with_name(name + PREVIOUS_SUFFIX))
    os.replace(temporary, target)
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return target


@dataclass
class Restored:
    """What `load` found: the files restored (None: started empty), and the files set aside."""

    directory: str
    #: The other services' snapshot restored.
    path: str | None = None
    #: The bulk snapshot restored.
    bulk_path: str | None = None
    bytes: int = 0
    backends: int = 0
    seconds: float = 0.0
    set_aside: list[str] = field(default_factory=list)
    #: The first segment of the write journal that the DynamoDB tables restored do not cover.
    journal_from: int = 0
    #: Journaled writes applied after the snapshot.
    replayed: int = 0


def load(directory: Path) -> Restored:
    """Restore the newest readable bulk snapshot, then the other services': for each, the last,
    else the previous; every unreadable one is set aside. Leftover temporary files (a write cut
    short) are removed. The bulk comes from a snapshot of the first format only when there is no
    bulk snapshot."""
    outcome = Restored(str(directory))
    if not directory.is_dir():
        return outcome
    for leftover in directory.glob("*.pickle.*.tmp"):
        leftover.unlink(missing_ok=True)
    bulk = _restore_newest(directory, BULK_SNAPSHOT_NAME, (), outcome)
    if bulk is not None:
        outcome.bulk_path, outcome.journal_from = bulk[0], bulk[2]
    others = _restore_newest(directory, SNAPSHOT_NAME, BULK if bulk else (), outcome)
    if others is not None:
        outcome.path = others[0]
        if set(BULK) & set(others[1]):
            outcome.journal_from = others[2]
    return outcome


def _restore_newest(
    directory: Path, name: str, skip: tuple[str, ...], outcome: Restored
) -> tuple[str, list[str], int] | None:
    """Restore `name`, else its previous copy, setting aside each that cannot be read; the file
    restored, its services, and the first journal segment it does not cover."""
    for path in (directory / name, directory / (name + PREVIOUS_SUFFIX)):
        if not path.exists():
            continue
        started = time.monotonic()
        try:
            data = path.read_bytes()
            backends, services, journal_from = restore(data, skip)
        except Exception as exc:  # noqa: BLE001 - any unreadable snapshot is set aside, whatever broke it
            aside = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
            os.replace(path, aside)
            outcome.set_aside.append(str(aside))
            log.warning("the snapshot %s could not be restored (%s); set aside as %s", path, exc, aside.name)
            continue
        outcome.backends += backends
        outcome.bytes += len(data)
        outcome.seconds += time.monotonic() - started
        return str(path), services, journal_from
    return None
