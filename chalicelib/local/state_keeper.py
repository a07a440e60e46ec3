"""Keeps the moto server's state on disk while it serves: restored at start, snapshotted as it changes.

Requests pass a gate (`Gate`): each holds it shared while moto handles it; a snapshot takes it
exclusively, so it sees no request half done. The exclusive hold lasts only a `fork()`: the child
process has the memory as it was at that instant (copy on write), pickles the backends and writes
the file while the server goes on (`aws_state`). Long polls (SQS ReceiveMessage waits up to 20 s)
pass without the gate: a snapshot must not wait for them, and a message received at that instant
is only received again after a restart, as a visibility timeout would have it.

A snapshot is taken every `INTERVAL_SECONDS` when a request that may change state was served since
the last one, and a last one when the server stops (SIGTERM, SIGINT). DynamoDB writes are also
journaled as they are answered (`write_journal`) and replayed after the snapshot at start, so a
`kill -9` loses none of them; it loses the other services' changes the last snapshot missed: at
most about `INTERVAL_SECONDS`, plus the snapshot's own time.
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

from chalicelib.local import aws_state
from chalicelib.local.write_journal import WriteJournal, is_write, replay

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


def _changes_state(environ: dict[str, Any]) -> bool:
    """Whether a request may change what is kept: a write, or anything not plainly a read."""
    if environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
        return False
    credential = environ.get("HTTP_AUTHORIZATION", "").partition("Credential=")[2].split(",")[0].split("/")
    if len(credential) > 3 and credential[3] in _UNKEPT_SERVICES:
        return False
    action = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
    return not action.startswith(_READ_ACTIONS)


_CAN_FORK = hasattr(os, "fork")


def _write_in_child(directory: Path, journal_from: int) -> None:
    """In the forked child: write the snapshot and exit, never returning to the server's code."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        started = time.monotonic()
        data = aws_state.capture(journal_from)
        pickled = time.monotonic()
        aws_state.write(directory, data)
        sys.stderr.write(
            f"snapshot: {len(data) / 1e6:.1f} MB pickled in {pickled - started:.2f} s, "
            f"written in {time.monotonic() - pickled:.2f} s\n"
        )
        code = 0
    except BaseException as exc:  # noqa: BLE001 - the child must reach _exit whatever happens
        with contextlib.suppress(BaseException):
            sys.stderr.write(f"snapshot failed: {exc!r}\n")
    finally:
        os._exit(code)


class StateKeeper:
    """The state of one moto server process, kept in `directory`."""

    def __init__(self, directory: Path, interval: float = INTERVAL_SECONDS):
        self.directory = directory
        self.interval = interval
        self.gate = Gate()
        self.restored = aws_state.Restored(str(directory))
        self._changes = 0
        self._saved_changes = 0
        self._last: dict[str, Any] = {}
        self._stopped = threading.Event()
        self._snapshotting = threading.Lock()
        self.journal = WriteJournal(directory)
        #: The first journal segment the last good snapshot does not cover.
        self._covered_until = 0

    def restore(self, app: WsgiApp) -> aws_state.Restored:
        """Restore the last good snapshot, then replay on `app` the DynamoDB writes journaled after it."""
        self.restored = aws_state.load(self.directory)
        self.restored.replayed = replay(self.directory, self.restored.journal_from, app)
        self._covered_until = self.restored.journal_from
        self.journal.open()
        if self.restored.path or self.restored.replayed:
            log.info(
                "restored %s (%.1f MB) in %.2f s, then %d journaled DynamoDB write(s)",
                self.restored.path,
                self.restored.bytes / 1e6,
                self.restored.seconds,
                self.restored.replayed,
            )
        if self.restored.replayed:
            # The next snapshot then covers the replayed writes, and their old segments can go.
            self._changes += 1
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
                if _changes_state(environ):
                    self._changes += 1
                if is_write(environ):
                    return self.journal.journaled(app, environ, start_response)
                return list(app(environ, start_response))

        return gated

    def status(self) -> dict[str, Any]:
        return {"restored": asdict(self.restored), "last_snapshot": self._last, "unsaved_changes": self.unsaved}

    @property
    def unsaved(self) -> int:
        return self._changes - self._saved_changes

    def start(self) -> None:
        threading.Thread(target=self._run, name="state-snapshots", daemon=True).start()

    def _run(self) -> None:
        """At most one snapshot per interval, and never more often than the last one took: on a
        large state under steady traffic, snapshots use at most half a core."""
        while not self._stopped.wait(max(self.interval, self._last.get("seconds", 0.0))):
            if self.unsaved:
                try:
                    self.snapshot()
                except Exception:
                    log.exception("snapshot failed; the next one tries again")

    def snapshot(self, final: bool = False) -> None:
        """Save the state now. `final`: the gate stays closed, so nothing changes after it."""
        with self._snapshotting:
            if final and not self.unsaved:
                self.gate.close()
                return
            started = time.monotonic()
            self.gate.close()
            changes = self._changes
            try:
                covers = self.journal.rotate()
                if _CAN_FORK:
                    child = os.fork()
                    if child == 0:
                        _write_in_child(self.directory, covers)
                else:
                    aws_state.write(self.directory, aws_state.capture(covers))
            finally:
                paused = time.monotonic() - started
                if not final:
                    self.gate.open()
            if _CAN_FORK:
                _, status = os.waitpid(child, 0)
                if os.waitstatus_to_exitcode(status) != 0:
                    raise RuntimeError(f"the snapshot process failed (wait status {status})")
            self._saved_changes = changes
            # The snapshot before this one stays as the fallback: keep the writes it needs.
            self.journal.discard_before(self._covered_until)
            self._covered_until = covers
            self._last = {
                "at": time.time(),
                "paused_ms": round(paused * 1000, 1),
                "seconds": round(time.monotonic() - started, 3),
                "bytes": (self.directory / aws_state.SNAPSHOT_NAME).stat().st_size,
            }

    def stop(self) -> None:
        """The last snapshot, if anything changed since the one before; the gate stays closed."""
        self._stopped.set()
        self.snapshot(final=True)
