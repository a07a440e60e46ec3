"""The embedded stack as a user meets it: `python -m chalicelib.local` on free ports, driven over HTTP.

One stack serves the module: it takes a few seconds to start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Caseflow-demo-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Running:
    def __init__(self, base: str, outbox: Path):
        self.base = base
        self.outbox = outbox
        self.session = requests.Session()

    def login(self, username: str) -> dict[str, str]:
        response = self.session.post(f"{self.base}/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['id_token']}"}

    def wait_for(self, condition, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            time.sleep(0.25)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")

    def task(self, headers: dict[str, str], issue_id: str):
        tasks = self.session.get(f"{self.base}/agent/tasks", headers=headers).json()["tasks"]
        return next((t for t in tasks if t["issue_id"] == issue_id), None)

    def outbox_messages(self):
        return self.session.get(f"{self.base}/dev/outbox").json()["messages"]


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    api_port, aws_port = free_port(), free_port()
    outbox = tmp_path_factory.mktemp("outbox")
    env = {
        **os.environ,
        "CASEFLOW_API_PORT": str(api_port),
        "CASEFLOW_AWS_PORT": str(aws_port),
        "CASEFLOW_OUTBOX_DIR": str(outbox),
    }
    for name in ("CASEFLOW_STAGE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    log = (tmp_path_factory.mktemp("log") / "caseflow.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "chalicelib.local"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{api_port}"
    stack = Running(base, outbox)
    started = time.monotonic()
    try:
        while True:
            assert process.poll() is None, f"the stack exited early:\n{Path(log.name).read_text()[-3000:]}"
            try:
                if requests.get(f"{base}/issue-types", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() - started < 90, "the stack did not start within 90 s"
            time.sleep(0.25)
        print(f"embedded stack started in {time.monotonic() - started:.1f} s")
        yield stack
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", aws_port)) != 0, "the moto server outlived Ctrl-C"
        assert code == 0, Path(log.name).read_text()[-3000:]


def test_a_newcomer_files_a_report_and_two_agents_resolve_it(running):
    demo = running.session.post(
        f"{running.base}/issues",
        json={"type": "demo-quick", "customer": {"email": "watcher@example.com"}, "fields": {"summary": "Watch me"}},
    )
    assert demo.status_code == 201, demo.text
    opened = running.session.post(
        f"{running.base}/issues",
        json={
            "type": "rude-staff",
            "customer": {"email": "newcomer@example.com", "name": "Nia"},
            "fields": {
                "store": "Leeds Briggate",
                "incident_date": date.today().isoformat(),
                "what_happened": "The cashier laughed at my question.",
            },
        },
        headers={"Idempotency-Key": "e2e-1"},
    )
    assert opened.status_code == 201, opened.text
    issue_id, reference = opened.json()["id"], opened.json()["reference"]

    sam = running.login("sam")
    task = running.wait_for(lambda: running.task(sam, issue_id), 20, "sam's task")
    done = running.session.post(
        f"{running.base}/agent/tasks/{task['id']}/complete",
        json={"fields": {"manager_opinion": "The cashier apologises."}},
        headers=sam,
    )
    assert done.status_code == 200, done.text

    hana = running.login("hana")
    hr_task = running.wait_for(lambda: running.task(hana, issue_id), 20, "hana's task")
    decided = running.session.post(
        f"{running.base}/agent/tasks/{hr_task['id']}/complete",
        json={"fields": {"decision": "coaching", "notes": "Coaching is booked."}},
        headers=hana,
    )
    assert decided.status_code == 200, decided.text

    def outcome():
        return next((m for m in running.outbox_messages() if m["subject"].endswith("our decision")), None)

    message = running.wait_for(outcome, 20, "the outcome email")
    assert message["to"] == "newcomer@example.com" and reference in message["subject"]
    text = Path(message["path"]).read_text()
    assert "Coaching for the employee" in text and "Coaching is booked." in text
    issue_url = f"{running.base}/agent/issues/{issue_id}"
    running.wait_for(
        lambda: running.session.get(issue_url, headers=hana).json()["status"] == "resolved", 20, "resolution"
    )

    # demo-quick's first deadline (20 s) passes while the rest happened: the task moves up.
    manager = running.login("sam")
    demo_id = demo.json()["id"]
    escalated = running.wait_for(lambda: running.task(manager, demo_id), 40, "demo-quick's escalation")
    assert escalated["escalation_level"] == 1 and escalated["role"] == "store-manager"
    running.wait_for(
        lambda: any(
            m["subject"].startswith("Escalated to you") and m["to"] == "sam@agents.caseflow.test"
            for m in running.outbox_messages()
        ),
        10,
        "the escalation email to sam",
    )
