"""The embedded stack, `python -m chalicelib.local` (what `make run` starts), as a subprocess on free
ports, driven over HTTP and SMTP: the e2e and browser tests' stack and the benchmarks' that time it.

Use it as a context manager: it is stopped with SIGINT (Ctrl-C, as a user stops it) on exit. Its
log and outbox stay readable until `cleanup()`. Its AWS state is kept in a folder of its own (a
temporary one unless `state_dir` is given): a second stack started on the same folder goes on from
where the first stopped.
"""

from __future__ import annotations

import ctypes
import os
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from harness.driver import Driver
from harness.environment import REGION, ROOT

STARTUP_TIMEOUT_SECONDS = 90
#: prctl's PR_SET_PDEATHSIG: the signal the kernel sends a process when the thread that started it ends.
_PR_SET_PDEATHSIG = 1
#: Looked up before any fork: the child between fork and exec must not import (another thread may
#: have held the import lock at the fork).
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def _stop_with_parent() -> None:
    """In the stack's process before it runs: stop it (SIGTERM, which it handles as Ctrl-C) when the
    test run that started it dies, killed or crashed, so that no stack outlives its run (Linux only)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGTERM))


STOP_TIMEOUT_SECONDS = 30
REQUEST_TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Embedded(Driver):
    """The embedded stack in a subprocess; its own pump delivers the queues."""

    poll_seconds = 0.25

    def __init__(self, startup_timeout: float = STARTUP_TIMEOUT_SECONDS, state_dir: Path | None = None):
        super().__init__()
        self.api_port, self.aws_port, self.smtp_port = free_port(), free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.api_port}"
        self.session = requests.Session()
        self.startup_timeout = startup_timeout
        self.started_in = 0.0
        self.exit_code: int | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="caseflow-stack-")
        self.log_path = Path(self._dir.name) / "caseflow.log"
        self.state_dir = state_dir or Path(self._dir.name) / "state"
        # Beside the state, as `var/outbox` is beside `var/state`: a stack started again on the
        # same state has the mail sent before.
        self.outbox_dir = self.state_dir.parent / "outbox"
        self._process: subprocess.Popen[bytes] | None = None
        self._environment = {
            **os.environ,
            "CASEFLOW_API_PORT": str(self.api_port),
            "CASEFLOW_AWS_PORT": str(self.aws_port),
            "CASEFLOW_SMTP_PORT": str(self.smtp_port),
            "CASEFLOW_OUTBOX_DIR": str(self.outbox_dir),
            "CASEFLOW_STATE_DIR": str(self.state_dir),
        }
        for name in ("CASEFLOW_STAGE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            self._environment.pop(name, None)
        self._clients: dict[str, Any] = {}

    # Starting and stopping

    def __enter__(self) -> Embedded:
        started = time.monotonic()
        with self.log_path.open("w") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "chalicelib.local"],
                cwd=ROOT,
                env=self._environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_stop_with_parent,
            )
        try:
            self._wait_until_up(started)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - started
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_until_up(self, started: float) -> None:
        assert self._process is not None
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"the stack exited early:\n{self.log_text()[-3000:]}")
            try:
                if requests.get(self.url("/issue-types"), timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() - started > self.startup_timeout:
                raise RuntimeError(f"the stack did not start within {self.startup_timeout:.0f} s")
            time.sleep(0.25)

    def stop(self) -> None:
        """Ctrl-C, as a user would stop it; killed if it does not stop in time. Safe to call twice."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.exit_code = process.returncode

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def cleanup(self) -> None:
        self._dir.cleanup()

    # HTTP

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def _send(self, method: str, path: str, body: Any, headers: dict[str, str]) -> requests.Response:
        data = None if body is None else self.raw(body)
        return self.session.request(method, self.url(path), data=data, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS)

    @staticmethod
    def json_of(response: Any) -> Any:
        return response.json()

    @staticmethod
    def text_of(response: Any) -> str:
        return response.text

    # Its AWS (the moto server)

    def aws(self, service: str) -> Any:
        """A boto3 client of the stack's moto server."""
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.client(
                service,
                endpoint_url=f"http://127.0.0.1:{self.aws_port}",
                region_name=REGION,
                aws_access_key_id="local",
                aws_secret_access_key="local",
            )
        return self._clients[service]

    @property
    def sqs(self) -> Any:
        return self.aws("sqs")

    @property
    def sfn(self) -> Any:
        return self.aws("stepfunctions")

    @cached_property
    def queue_url(self) -> str:
        from chalicelib import settings

        name = settings.from_environ(self._environment).task_queue_name
        return self.sqs.get_queue_url(QueueName=name)["QueueUrl"]

    # Mail

    def send_mail(self, message: EmailMessage | bytes, envelope_from: str = "customer@example.com") -> None:
        """Mail support by SMTP, as any mail program would."""
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as smtp:
            if isinstance(message, bytes):
                smtp.sendmail(envelope_from, ["support@caseflow.test"], message)
            else:
                smtp.send_message(message)

    def outbox_messages(self) -> list[dict[str, Any]]:
        """The dev outbox's listing (`GET /dev/outbox`): to, subject and the file of each message sent."""
        return self.json_of(self.get("/dev/outbox"))["messages"]

    def outbox(self, to: str | None = None) -> list[EmailMessage]:
        """The messages sent (to `to`), parsed from the outbox's files in name order."""
        found = []
        for path in sorted(self.outbox_dir.glob("*.eml")):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            if to is None or message["To"] == to:
                found.append(message)
        return found
