"""The stacks benchmarks run on: the embedded stack as a subprocess, or the app on moto in-process.

`Embedded` starts `python -m chalicelib.local` on free ports (the e2e and browser tests use it too), driven
over HTTP. `in_process()` runs the app under `mock_aws` with Step Functions executing, as the
integration tests' `stack` fixture does, with a hand-cranked task queue pump.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
DEMO_PASSWORD = "Caseflow-demo-1"
STARTUP_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Embedded:
    """The embedded stack in a subprocess; use as a context manager, it is stopped with SIGINT on exit."""

    def __init__(self, startup_timeout: float = STARTUP_TIMEOUT_SECONDS):
        self.api_port, self.aws_port, self.smtp_port = free_port(), free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.api_port}"
        self.session = requests.Session()
        self.startup_timeout = startup_timeout
        self.started_in = 0.0
        self.exit_code: int | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="caseflow-bench-")
        self.outbox = Path(self._dir.name) / "outbox"
        self.log_path = Path(self._dir.name) / "caseflow.log"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Embedded:
        env = {
            **os.environ,
            "CASEFLOW_API_PORT": str(self.api_port),
            "CASEFLOW_AWS_PORT": str(self.aws_port),
            "CASEFLOW_SMTP_PORT": str(self.smtp_port),
            "CASEFLOW_OUTBOX_DIR": str(self.outbox),
        }
        for name in ("CASEFLOW_STAGE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            env.pop(name, None)
        started = time.monotonic()
        with self.log_path.open("w") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "chalicelib.local"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
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
                if requests.get(f"{self.base}/issue-types", timeout=1).status_code == 200:
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

    def login(self, username: str) -> dict[str, str]:
        """Authorization headers for a demo agent."""
        response = self.session.post(f"{self.base}/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['id_token']}"}

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, f"{self.base}{path}", timeout=30, **kwargs)


def prepare_in_process_environment() -> None:
    """Fake credentials, a non-dev stage and quiet logs; call before importing any Caseflow module."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "CASEFLOW_STAGE": "bench",
            "CASEFLOW_LINK_SECRET": "bench-link-secret-not-for-production",
        }
    )
    for name in ("AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_PROFILE", "CASEFLOW_OUTBOX_DIR"):
        os.environ.pop(name, None)
    # The handler logs every workflow message at INFO; a benchmark's output is its table.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


class InProcess:
    """The app behind Chalice's test client, on moto in this process, and a hand-cranked task queue pump."""

    def __init__(self, client: Any, queue_url: str, services: Any):
        import boto3

        from chalicelib import settings

        self.client = client
        self.queue_url = queue_url
        self.services = services
        self.queue_name = settings.get().task_queue_name
        self.sqs = boto3.client("sqs")
        self.sfn = boto3.client("stepfunctions")
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            response = self.post("/auth/login", {"username": username, "password": DEMO_PASSWORD})
            assert response.status_code == 200, response.body
            self._tokens[username] = response.json_body["id_token"]
        return self._tokens[username]

    def post(self, path: str, body: Any, username: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if username:
            headers["Authorization"] = f"Bearer {self.token(username)}"
        return self.client.http.post(path, headers=headers, body=json.dumps(body))

    def get(self, path: str, username: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token(username)}"} if username else {}
        return self.client.http.get(path, headers=headers)

    def pump(self) -> int:
        """Deliver the task queue's messages to the SQS handler, as Lambda's event source would."""
        handled = 0
        response = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        for message in response.get("Messages", []):
            event = self.client.events.generate_sqs_event(message_bodies=[message["Body"]], queue_name=self.queue_name)
            self.client.lambda_.invoke("on_task_message", event)
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            handled += 1
        return handled


@contextmanager
def in_process() -> Iterator[InProcess]:
    """Provision moto with the demo agents, publish the seeded types and serve the app in-process."""
    prepare_in_process_environment()
    from chalice.test import Client
    from moto import mock_aws

    from chalicelib.local import moto_patches

    moto_patches.apply()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        from chalicelib import bootstrap, settings
        from chalicelib.local.provision import DEMO_AGENTS, provision

        resources = provision(settings.from_environ(os.environ), DEMO_AGENTS)
        os.environ[settings.USER_POOL_ID] = resources.user_pool_id
        os.environ[settings.USER_POOL_CLIENT_ID] = resources.user_pool_client_id
        settings.get.cache_clear()
        bootstrap.services.cache_clear()
        services = bootstrap.services()
        services.issue_types.publish_seeds()
        from app import app

        try:
            with Client(app, stage_name="dev") as client:
                yield InProcess(client, resources.task_queue_url, services)
        finally:
            bootstrap.services.cache_clear()
