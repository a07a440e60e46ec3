"""`make demo-data` pauses `make run`'s task-queue pump; the pause belongs to its live process only.

An interrupted demo (Ctrl-C, crash, kill -9, timeout) must not leave every workflow stopped: a pause
whose owner has ended is cleared, and the log says so; a live one is honoured, and the log says by whom.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import boto3
import pytest

from chalicelib.local.pause import PauseHeld, PumpPause
from chalicelib.local.pump import QueuePump

ROOT = Path(__file__).resolve().parents[2]
#: A process that takes the pause, says so, and holds it until its stdin closes.
HOLDER = (
    "import sys; from pathlib import Path; from chalicelib.local.pause import PumpPause\n"
    "with PumpPause(Path(sys.argv[1])):\n"
    "    print('paused', flush=True); sys.stdin.readline()\n"
)


class Holder:
    """Another process holding the pause, as `make demo-data` does."""

    def __init__(self, path: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "paused"
        self.pid = self.process.pid

    def finish(self) -> None:
        self.process.communicate("\n")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


def a_queue_with_a_message(name: str) -> str:
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody='{"hello": "world"}')
    return queue


def warnings_naming(caplog, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and text in r.getMessage()]


def test_a_pause_left_by_a_killed_demo_does_not_stop_the_pump(stack, tmp_path, caplog):
    path = tmp_path / "pump.paused"
    holder = Holder(path)
    holder.kill()  # kill -9: no clean-up ran, the file is still there
    assert path.exists()
    delivered = threading.Event()
    pump = QueuePump(
        a_queue_with_a_message("pause-killed"), lambda e, c: delivered.set(), "us-east-1", 0, PumpPause(path)
    )
    pump.start()
    try:
        assert delivered.wait(20), "the pump never delivered: a dead process's pause still stops it"
    finally:
        pump.stop()
    assert not path.exists()
    assert warnings_naming(caplog, f"stale pause of the task-queue pump ({path}) left by pid {holder.pid}")


def test_starting_the_pump_clears_a_stale_pause_at_once_and_says_who_left_it(stack, tmp_path, caplog):
    path = tmp_path / "pump.paused"
    holder = Holder(path)
    holder.kill()
    pump = QueuePump(a_queue_with_a_message("pause-start-up"), lambda e, c: None, "us-east-1", 0, PumpPause(path))
    pump.start()
    try:
        assert not path.exists(), "start-up left the stale pause in place"
        [warning] = warnings_naming(caplog, "stale pause")
        assert f"pid {holder.pid}" in warning and "-c" in warning
    finally:
        pump.stop()


def test_a_pause_whose_pid_now_belongs_to_another_process_is_stale(tmp_path, caplog):
    path = tmp_path / "pump.paused"
    # Our own pid, but a process that started at another time: the pid was reused.
    path.write_text(json.dumps({"pid": os.getpid(), "started": "1", "command": "python -m bench.demo_month"}))
    assert PumpPause(path).owner() is None
    assert not path.exists()
    assert warnings_naming(caplog, f"left by pid {os.getpid()} (python -m bench.demo_month)")


def test_an_empty_pause_file_of_older_versions_is_stale(tmp_path):
    path = tmp_path / "pump.paused"
    path.touch()
    assert PumpPause(path).owner() is None
    assert not path.exists()


def test_while_a_live_process_holds_the_pause_the_pump_waits_and_says_who(stack, tmp_path, caplog):
    path = tmp_path / "pump.paused"
    holder = Holder(path)
    delivered = threading.Event()
    pump = QueuePump(
        a_queue_with_a_message("pause-live"), lambda e, c: delivered.set(), "us-east-1", 0, PumpPause(path)
    )
    try:
        pump.start()
        [paused] = warnings_naming(caplog, "PAUSED")
        assert f"pid {holder.pid}" in paused and "chalicelib.local.pause" in paused, (
            "it names the process and its command"
        )
        assert not delivered.is_set()
        assert PumpPause(path).owner().pid == holder.pid  # a live owner's pause stays

        holder.finish()  # the demo ends: it lifts its pause
        assert delivered.wait(20), "the pump did not resume when the pause ended"
        assert not path.exists()
    finally:
        pump.stop()
        holder.process.kill()
    assert len(warnings_naming(caplog, "PAUSED")) == 1, "the pause is announced once, not at every look"
    assert warnings_naming(caplog, f"resumes: the pause by pid {holder.pid}")
    assert not warnings_naming(caplog, "stale")


def test_a_second_demo_cannot_take_a_pause_a_live_process_holds(tmp_path):
    path = tmp_path / "pump.paused"
    holder = Holder(path)
    try:
        with pytest.raises(PauseHeld, match=f"pid {holder.pid}"), PumpPause(path):
            pass
        assert PumpPause(path).owner().pid == holder.pid, "the failed attempt removed the holder's pause"
    finally:
        holder.finish()
    assert not path.exists()


def test_the_pause_is_lifted_when_its_block_ends_even_by_an_exception(tmp_path):
    path = tmp_path / "pump.paused"
    with pytest.raises(KeyboardInterrupt), PumpPause(path):
        assert PumpPause(path).owner().pid == os.getpid()
        raise KeyboardInterrupt
    assert not path.exists()


def test_a_demo_pauses_the_pump_of_its_own_stack_and_not_another_stacks(tmp_path):
    """Two stacks from one checkout, on other ports: a demo on one leaves the other's pump delivering."""
    holder = Holder(PumpPause.of_stack(5400, under=tmp_path).path)
    try:
        assert PumpPause.of_stack(5400, under=tmp_path).owner().pid == holder.pid
        assert PumpPause.of_stack(5401, under=tmp_path).owner() is None
    finally:
        holder.finish()
    assert PumpPause.of_stack(5400, under=tmp_path).owner() is None
