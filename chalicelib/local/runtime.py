"""The embedded default: Caseflow and its AWS services on one machine, started by `make run`.

One process tree: a moto server (Step Functions executions really interpreted, the other services'
state kept in CASEFLOW_STATE_DIR across runs: `state_keeper`) as a child process, and in this
process the provisioning, the issue types' publication (their state machines created again on a
kept state), the Chalice app served over HTTP (`api_server`), and the event sources: queue pumps
and schedules (`pump`).
Every boto3 client reaches moto through AWS_ENDPOINT_URL, so the production code paths are the
ones that run. Ctrl-C (or SIGTERM) stops everything.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from chalicelib import settings

log = logging.getLogger("caseflow.local")
ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 60
#: The moto server saves its state as it stops: a demo month (100,000 items) takes a few seconds.
STOP_TIMEOUT_SECONDS = 60
MOTO_LOG_NAME = "moto-server.log"


def local_environment() -> dict[str, str]:
    """Variables this process and its moto child need, on top of the user's own (and that other
    commands working on the running stack, such as `make demo-data`, need too)."""
    own = settings.from_environ(os.environ)
    aws_port = own.aws_port
    return {
        settings.STAGE: settings.DEV_STAGE,
        settings.REGION: own.region,
        settings.ENDPOINT_URL: f"http://127.0.0.1:{aws_port}",
        settings.OUTBOX_DIR: own.outbox_dir or str(ROOT / "var" / "outbox"),
        settings.STATE_DIR: own.state_dir or str(ROOT / "var" / "state"),
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        # moto's Step Functions interpreter calls SQS, DynamoDB, ... on this port.
        "MOTO_PORT": str(aws_port),
    }


def _die_with_parent() -> None:
    """Linux: the moto server gets SIGTERM if this process dies without stopping it."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start_moto(port: int, state_dir: str | None = None) -> subprocess.Popen:
    """Start the moto server in its own session, so that Ctrl-C reaches only us: we stop the pump
    and the API first, then the server they use. It restores the state kept in `state_dir` before
    it answers; its own log (errors, snapshots) is that folder's moto-server.log."""
    log_file: Any = subprocess.DEVNULL
    if state_dir:
        Path(state_dir).mkdir(parents=True, exist_ok=True)
        log_file = (Path(state_dir) / MOTO_LOG_NAME).open("w")
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "chalicelib.local.moto_server", "-H", "127.0.0.1", "-p", str(port)],
            env=os.environ.copy(),
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    finally:
        if log_file is not subprocess.DEVNULL:
            log_file.close()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    base = f"http://127.0.0.1:{port}"
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the moto server exited with code {process.returncode}; is port {port} free?")
        try:
            urllib.request.urlopen(f"{base}/moto-api/", timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.terminate()
                raise RuntimeError("the moto server did not start") from None
            time.sleep(0.1)
    request = urllib.request.Request(
        f"{base}/moto-api/config",
        data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=5).close()
    return process


def stop_moto(process: subprocess.Popen) -> None:
    """SIGTERM: the server saves its state and exits; killed if it takes too long."""
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        log.warning("the moto server did not stop within %d s; killed (its last snapshot stays)", STOP_TIMEOUT_SECONDS)
        process.kill()
        process.wait()


def state_status(port: int) -> dict[str, Any]:
    """What the moto server restored at start and when it last saved (`state_keeper`)."""
    from chalicelib.local.state_keeper import STATUS_PATH

    with urllib.request.urlopen(f"http://127.0.0.1:{port}{STATUS_PATH}", timeout=5) as response:
        return json.loads(response.read())


def _describe_state(config: settings.Settings) -> bool:
    """Log where the AWS state is and what was restored; whether a kept state was restored."""
    restored = state_status(config.aws_port)["restored"]
    for aside in restored["set_aside"]:
        log.warning("the kept AWS state %s could not be read: set aside, not restored", aside)
    paths = [path for path in (restored["bulk_path"], restored["path"]) if path]
    if paths:
        log.info(
            "AWS state restored from %s (%.1f MB in %.1f s), then %d journaled DynamoDB write(s)",
            " and ".join(paths),
            restored["bytes"] / 1e6,
            restored["seconds"],
            restored["replayed"],
        )
        return True
    log.info("AWS state starts empty in %s", config.state_dir)
    return False


def _clear_outbox(directory: str) -> None:
    """The outbox mirrors SES's sent mail: kept with the AWS state, cleared when that starts empty."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.eml"):
        old.unlink()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("botocore", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.update(local_environment())
    config = settings.from_environ(os.environ)
    started = time.monotonic()
    stop = threading.Event()
    for stopping_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stopping_signal, lambda *_: stop.set())
    moto = start_moto(config.aws_port, config.state_dir)
    pump = server = relay = jobs_pump = None
    try:
        if not _describe_state(config):
            _clear_outbox(config.outbox_dir or "")
        from chalicelib.local.provision import DEMO_AGENTS, DEMO_PASSWORD, provision

        resources = provision(config)
        os.environ[settings.USER_POOL_ID] = resources.user_pool_id
        os.environ[settings.USER_POOL_CLIENT_ID] = resources.user_pool_client_id
        settings.get.cache_clear()

        import app as app_module
        from chalicelib.bootstrap import services
        from chalicelib.events.inbound_email import on_inbound_email
        from chalicelib.events.jobs import on_job
        from chalicelib.events.task_queue import on_task_message
        from chalicelib.local.api_server import serve_api
        from chalicelib.local.pause import PumpPause
        from chalicelib.local.pump import QueuePump, schedules
        from chalicelib.local.smtp import InboundMailRelay
        from chalicelib.mail.threading import SupportAddress

        republished = services().issue_types.republish_versions()
        published = services().issue_types.publish_seeds()
        log.info(
            "state machines: %d published version(s) created again, %d seeded type(s) current",
            len(republished),
            len(published),
        )
        # The kept state has the issues but no executions (decision 0038): each open issue's
        # workflow starts again at its step (decision 0039), before the pump delivers what the
        # lost executions left on the queue (their messages are then ignored as stale).
        resumed = services().resumption.resume_all()
        log.info(
            "found %d open issue(s) with %d open task(s): %d process(es) resumed at their step, "
            "%d still running, %d could not be resumed (their errors are logged above)",
            resumed.resumed + resumed.running + resumed.failed,
            resumed.open_tasks,
            resumed.resumed,
            resumed.running,
            resumed.failed,
        )

        # Started first: a pause left by an interrupted `make demo-data` is cleared (and said so) at once.
        pump = QueuePump(
            resources.task_queue_url,
            on_task_message,
            config.region,
            pause=PumpPause.of_stack(config.aws_port),
            function_name="on_task_message",
        )
        pump.start()
        # Isolated: the training job runs in a child process of low priority, not on this one's GIL.
        jobs_pump = QueuePump(resources.jobs_queue_url, on_job, config.region, function_name="on_job", isolated=True)
        jobs_pump.start()
        for schedule in schedules(app_module.app, config.stage, config.region, stop):
            schedule.start()
        # The first request and the first invocations find botocore's data read (decision 0040).
        from chalicelib.local.pump import warm_clients

        warm_clients()
        if services().classification.ensure_model():
            log.info("training the classifier's first model in a background process (about 10 s)")
        relay = InboundMailRelay(
            config.smtp_port,
            SupportAddress(config.support_address),
            config.mail_bucket,
            on_inbound_email,
            resources.inbound_dead_letter_queue_url,
        )
        relay.start()
        server = serve_api(app_module.app, config.api_port, stage=config.stage)
        log.info(
            "Caseflow is up in %.1f s: API http://127.0.0.1:%s, AWS (moto) http://127.0.0.1:%s, "
            "mail to %s by SMTP on 127.0.0.1:%s, "
            "issue types %s, outbox %s (GET /dev/outbox), AWS state kept in %s (make clean-data empties it). "
            "Demo agents %s, password %s. Ctrl-C stops.",
            time.monotonic() - started,
            config.api_port,
            config.aws_port,
            config.support_address,
            config.smtp_port,
            ", ".join(f"{p.type_id} v{p.version}" for p in published),
            config.outbox_dir,
            config.state_dir,
            ", ".join(f"{user} ({role})" for user, role in DEMO_AGENTS.items()),
            DEMO_PASSWORD,
        )
        while not stop.wait(0.5):
            pass
    finally:
        log.info("stopping")
        if server is not None:
            server.stop()
        if relay is not None:
            relay.stop()
        for running in (pump, jobs_pump):
            if running is not None:
                running.stop()
        stop_moto(moto)
        log.info("stopped")
    return 0
