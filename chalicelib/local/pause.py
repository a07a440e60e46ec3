"""A pause of `make run`'s task-queue pump that belongs to a live process.

`make demo-data` (bench.demo_month) handles the running stack's task queue itself, on its simulated
clock, so it pauses the stack's own pump for as long as it runs. Each stack has its own pause, named
for the port of its AWS endpoint: a demo on one stack leaves another stack's pump alone (two stacks
from one checkout, on other ports, run side by side).

The pause is a file naming its owner: process id, the process's start time (so that a later process
given the same id is not taken for the owner) and command line. A pause whose owner has ended
(Ctrl-C, a crash, kill -9, a timeout) is no pause: whoever finds it removes it and says so in the
log, so that an interrupted run cannot stop every workflow for good.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType

log = logging.getLogger("caseflow.pump")
#: Where the pauses live: the checkout's var/, beside the demo's metrics log.
PAUSE_DIR = Path(__file__).resolve().parents[2] / "var"
_PROC = Path("/proc")


class PauseHeld(RuntimeError):
    """Another live process holds the pause."""

    def __init__(self, owner: PauseOwner):
        super().__init__(f"the task-queue pump is already paused by {owner}")
        self.owner = owner


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (the state first); None if unreadable."""
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def _start_time(pid: int) -> str | None:
    """When the process started, in clock ticks since boot (field 22 of /proc/<pid>/stat)."""
    fields = _proc_stat(pid)
    return fields[19] if fields and len(fields) > 19 else None


@dataclass(frozen=True)
class PauseOwner:
    """The process that holds a pause."""

    pid: int
    #: None where the system has no /proc: the pid alone then identifies the process.
    started: str | None
    command: str

    @classmethod
    def this_process(cls) -> PauseOwner:
        return cls(os.getpid(), _start_time(os.getpid()), shlex.join(sys.orig_argv))

    def is_alive(self) -> bool:
        """Whether this very process still runs: not ended, not a zombie, not a newer one with its pid."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # another user's process: it exists
        if not _PROC.is_dir():
            return True
        fields = _proc_stat(self.pid)
        if fields is None or fields[0] in ("Z", "X"):
            return False
        return self.started is None or (len(fields) > 19 and fields[19] == self.started)

    def __str__(self) -> str:
        return f"pid {self.pid} ({self.command})"


def _parse(raw: bytes) -> PauseOwner | None:
    """The owner a pause file names; None for one that names none (such as the empty file of old versions)."""
    try:
        data = json.loads(raw)
        pid, started, command = int(data["pid"]), data.get("started"), str(data.get("command", "?"))
    except (ValueError, TypeError, KeyError):
        return None
    if pid <= 0:
        return None
    return PauseOwner(pid, None if started is None else str(started), command)


class PumpPause:
    """The pause file: taken by a process (as a context manager, for as long as the block runs),
    honoured by the pump while its owner lives."""

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def of_stack(cls, aws_port: int, under: Path = PAUSE_DIR) -> PumpPause:
        """The pause of the stack whose AWS endpoint (moto server) listens on `aws_port`."""
        return cls(under / f"pump-{aws_port}.paused")

    def acquire(self) -> None:
        """Pause the pump until `release` or the end of this process; PauseHeld if a live process has paused it."""
        me = PauseOwner.this_process()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and linked into place: nobody ever reads a half-written pause.
        staged = self.path.with_name(f"{self.path.name}.{me.pid}")
        staged.write_text(json.dumps(asdict(me)))
        try:
            while True:
                try:
                    os.link(staged, self.path)
                    return
                except FileExistsError:
                    holder = self.owner()
                    if holder == me:
                        return
                    if holder is not None:
                        raise PauseHeld(holder) from None
        finally:
            staged.unlink(missing_ok=True)

    def release(self) -> None:
        """End this process's pause; one another process holds is left alone."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        if _parse(raw) == PauseOwner.this_process():
            self._remove(raw)

    def owner(self) -> PauseOwner | None:
        """The live process pausing the pump, if any. A pause whose owner has ended is removed, with a warning."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        holder = _parse(raw)
        if holder is not None and holder.is_alive():
            return holder
        if self._remove(raw):
            left_by = holder or "a process that did not record itself (an older version)"
            log.warning(
                "cleared a stale pause of the task-queue pump (%s) left by %s, which has ended", self.path, left_by
            )
        return None

    def _remove(self, raw: bytes) -> bool:
        """Remove the pause file if it still holds `raw`, not a pause taken since it was read."""
        try:
            if self.path.read_bytes() != raw:
                return False
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True

    def __enter__(self) -> PumpPause:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()
