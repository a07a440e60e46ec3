"""Keeps the moto server's state on disk while it serves: restored at start, snapshotted as it changes.

Requests pass a gate (`Gate`): each holds it shared while moto handles it; a snapshot takes it
exclusively, so it sees no request half done. The exclusive hold lasts only a `fork()`: the child
process has the memory as it was at that instant (copy on write), pickles the backends and writes
the file while the server goes on (`aws_state`). Long polls (SQS ReceiveMessage waits up to 20 s)
pass without the gate: a snapshot must not wait for them, and a message received at that instant
is only received again after a restart, as a visibility timeout would have it.

A snapshot of the small services (S3, SQS, Cognito, Secrets Manager) is taken every
`INTERVAL_SECONDS` when a request that may change them was served since the last one, and a last
one of everything when the server stops (SIGTERM, SIGINT). The bulk (DynamoDB, SES's record of
sent mail: `aws_state.BULK`) is snapshotted only once `table_writes_per_snapshot` (a setting)
DynamoDB writes have been journaled since its last snapshot (decision 0049): DynamoDB writes are
journaled as they are answered (`write_journal`) and replayed at start after it. So a `kill -9`
loses no DynamoDB write; it loses the small services' changes the last snapshot missed (at most
about `INTERVAL_SECONDS`, plus the snapshot's own time) and SES's record of mail sent since the
last bulk snapshot (the outbox keeps the mail itself).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from chalicelib import settings
from chalicelib.local import aws_state
from chalicelib.local.write_journal import WriteJournal, is_dynamodb, is_write, replay

log = logging.getLogger("caseflow.local.state")

INTERVAL_SECONDS = 2.0
#: Where the server answers what it restored and when it last saved (for the runtime's log).
STATUS_PATH = "/_caseflow/state"
#: Services whose requests change nothing kept (Step Functions is published again at start-up).
_UNKEPT_SERVICES = ("states",)
_READ_ACTIONS = ("Get", "BatchGet", "Query", "Scan", "Describe", "List")
_LONG_POLLS = ("AmazonSQS.ReceiveMessage",)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Gate:
    """A readers-writer lock: many requests at once, or one snapshot; a waiting snapshot goes first."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._inside = 0
        self._closing = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not self._closing)
            self._inside += 1
        try:
            yield
        finally:
            with self._condition:
                self._inside -= 1
                if not self._inside:
                    self._condition.notify_all()

    def close(self) -> None:
        """Wait until no request is inside, and let none in until `open`."""
        with self._condition:
            self._condition.wait_for(lambda: not self._closing)
            self._closing = True
            self._condition.wait_for(lambda: not self._inside)

    def open(self) -> None:
        with self._condition:
            self._closing = False
            self._condition.notify_all()


def _service(environ: dict[str, Any]) -> str:
    """The service a signed request is for, from its credential scope ("" when unsigned)."""
    credential = environ.get("HTTP_AUTHORIZATION", "").partition("Credential=")[2].split(",")[0].split("/")
    return credential[3] if len(credential) > 3 else ""


def _changes_state(environ: dict[str, Any]) -> bool:
    """Whether a request may change what is kept: a write, or anything not plainly a read."""
    if environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
        return False
    if _service(environ) in _UNKEPT_SERVICES:
        return False
    action = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
    return not action.startswith(_READ_ACTIONS)


_CAN_FORK = hasattr(os, "fork")


_SMALL_SERVICES = tuple(service for service in aws_state.KEPT_SERVICES if service not in aws_state.BULK)


def _write(directory: Path, bulk_from: int | None) -> None:
    """Write the small services' snapshot and, when `bulk_from` is given, the bulk snapshot first
    (covering the journal segments before that number)."""
    if bulk_from is not None:
        _write_one(directory, aws_state.BULK, bulk_from, aws_state.BULK_SNAPSHOT_NAME)
    _write_one(directory, _SMALL_SERVICES, 0, aws_state.SNAPSHOT_NAME)


def _write_one(directory: Path, services: tuple[str, ...], journal_from: int, name: str) -> None:
    started = time.monotonic()
    data = aws_state.capture(services, journal_from)
    pickled = time.monotonic()
    aws_state.write(directory, data, name)
    sys.stderr.write(
        f"snapshot {name}: {len(data) / 1e6:.1f} MB pickled in {pickled - started:.2f} s, "
        f"written in {time.monotonic() - pickled:.2f} s\n"
    )


def _write_in_child(directory: Path, bulk_from: int | None) -> None:
    """In the forked child: write the snapshots and exit, never returning to the server's code."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _write(directory, bulk_from)
        code = 0
    except BaseException as exc:  # noqa: BLE001 - the child must reach _exit whatever happens
        with contextlib.suppress(BaseException):
            sys.stderr.write(f"snapshot failed: {exc!r}\n")
    finally:
        os._exit(code)


class StateKeeper:
    """The state of one moto server process, kept in `directory`."""

    def __init__(
        self,
        directory: Path,
        interval: float = INTERVAL_SECONDS,
        table_writes_per_snapshot: int = settings.Settings.table_writes_per_snapshot,
    ):
        self.directory = directory
        self.interval = interval
        self.table_writes_per_snapshot = table_writes_per_snapshot
        self.gate = Gate()
        self.restored = aws_state.Restored(str(directory))
        #: Requests served that may have changed the small services, and how many a snapshot holds.
        self._changes = 0
        self._saved_changes = 0
        #: Journaled DynamoDB writes (those replayed at start included), and how many the bulk snapshot holds.
        self._writes = 0
        self._saved_writes = 0
        #: Other changes to the bulk (SES's sent mail, DynamoDB changes the journal does not hold), and
        #: how many the bulk snapshot holds.
        self._bulk_changes = 0
        self._saved_bulk_changes = 0
        #: The bulk changed in a way the journal does not hold (restored from a snapshot of the first
        #: format, or a DynamoDB request other than a journaled write): the next snapshot takes it.
        self._bulk_needs_snapshot = False
        self._last: dict[str, Any] = {}
        self._last_bulk: dict[str, Any] = {}
        self._stopped = threading.Event()
        self._snapshotting = threading.Lock()
        self.journal = WriteJournal(directory)
        #: The first journal segment the last good bulk snapshot does not cover.
        self._covered_until = 0

    def restore(self, app: WsgiApp) -> aws_state.Restored:
        """Restore the last good snapshots, then replay on `app` the DynamoDB writes journaled after
        the bulk snapshot."""
        self.restored = aws_state.load(self.directory)
        self.restored.replayed = replay(self.directory, self.restored.journal_from, app)
        self._covered_until = self.restored.journal_from
        self._writes = self.restored.replayed
        self._bulk_needs_snapshot = self.restored.bulk_path is None and self.restored.path is not None
        self.journal.open()
        if self.restored.path or self.restored.bulk_path or self.restored.replayed:
            log.info(
                "restored %s (%.1f MB) in %.2f s, then %d journaled DynamoDB write(s)",
                ", ".join(path for path in (self.restored.bulk_path, self.restored.path) if path),
                self.restored.bytes / 1e6,
                self.restored.seconds,
                self.restored.replayed,
            )
        return self.restored

    def wrap(self, app: WsgiApp) -> WsgiApp:
        """The WSGI app behind the gate, counting the requests that may change state."""

        def gated(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == STATUS_PATH:
                start_response("200 OK", [("Content-Type", "application/json")])
                return [json.dumps(self.status()).encode()]
            if environ.get("HTTP_X_AMZ_TARGET") in _LONG_POLLS:
                return app(environ, start_response)
            with self.gate.shared():
                if is_write(environ):
                    self._writes += 1
                    return self.journal.journaled(app, environ, start_response)
                if _changes_state(environ):
                    if is_dynamodb(environ):
                        self._bulk_changes += 1
                        self._bulk_needs_snapshot = True
                    elif _service(environ) in aws_state.BULK:
                        self._bulk_changes += 1  # SES's record of sent mail: saved with the next bulk snapshot
                    else:
                        self._changes += 1
                return list(app(environ, start_response))

        return gated

    def status(self) -> dict[str, Any]:
        return {
            "restored": asdict(self.restored),
            "last_snapshot": self._last,
            "last_bulk_snapshot": self._last_bulk,
            "unsaved_changes": self.unsaved,
            "journaled_writes": self.journaled,
        }

    @property
    def unsaved(self) -> int:
        """Changes no file holds yet (DynamoDB writes are in the journal as soon as answered)."""
        return self._changes - self._saved_changes

    @property
    def journaled(self) -> int:
        """DynamoDB writes a restart would replay: those since the last bulk snapshot."""
        return self._writes - self._saved_writes

    def start(self) -> None:
        threading.Thread(target=self._run, name="state-snapshots", daemon=True).start()

    def _run(self) -> None:
        """At most one snapshot per interval, and never more often than the last one took."""
        while not self._stopped.wait(max(self.interval, self._last.get("seconds", 0.0))):
            bulk = self._bulk_due()
            if self.unsaved or bulk:
                try:
                    self.snapshot(bulk=bulk)
                except Exception:
                    log.exception("snapshot failed; the next one tries again")

    def _bulk_due(self) -> bool:
        return self._bulk_needs_snapshot or self.journaled >= self.table_writes_per_snapshot

    def snapshot(self, final: bool = False, bulk: bool = False) -> None:
        """Save the small services now, and the bulk too when `bulk`. `final`: everything that
        changed is saved, the bulk included, and the gate stays closed, so nothing changes after."""
        with self._snapshotting:
            bulk = bulk or final
            bulk_unsaved = self.journaled or self._bulk_changes > self._saved_bulk_changes
            if final and not (self.unsaved or bulk_unsaved or self._bulk_needs_snapshot):
                self.gate.close()
                return
            started = time.monotonic()
            self.gate.close()
            changes, writes, bulk_changes = self._changes, self._writes, self._bulk_changes
            needed, self._bulk_needs_snapshot = self._bulk_needs_snapshot, self._bulk_needs_snapshot and not bulk
            try:
                covers = self.journal.rotate() if bulk else None
                if _CAN_FORK:
                    child = os.fork()
                    if child == 0:
                        _write_in_child(self.directory, covers)
                else:
                    _write(self.directory, covers)
            finally:
                paused = time.monotonic() - started
                if not final:
                    self.gate.open()
            if _CAN_FORK:
                _, status = os.waitpid(child, 0)
                if os.waitstatus_to_exitcode(status) != 0:
                    self._bulk_needs_snapshot = self._bulk_needs_snapshot or needed
                    raise RuntimeError(f"the snapshot process failed (wait status {status})")
            self._saved_changes = changes
            done = {
                "at": time.time(),
                "paused_ms": round(paused * 1000, 1),
                "seconds": round(time.monotonic() - started, 3),
            }
            self._last = {**done, "bytes": (self.directory / aws_state.SNAPSHOT_NAME).stat().st_size}
            if covers is not None:
                self._saved_writes, self._saved_bulk_changes = writes, bulk_changes
                # The bulk snapshot before this one stays as the fallback: keep the writes it needs.
                self.journal.discard_before(self._covered_until)
                self._covered_until = covers
                self._last_bulk = {**done, "bytes": (self.directory / aws_state.BULK_SNAPSHOT_NAME).stat().st_size}

    def stop(self) -> None:
        """The last snapshot, if anything changed since the one before; the gate stays closed."""
        self._stopped.set()
        self.snapshot(final=True)
