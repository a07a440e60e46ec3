"""Does locally what AWS event sources do: delivers queue messages to the app's SQS handlers, and
invokes the scheduled functions when their EventBridge schedules say.

Messages go to the handler in Lambda's SQS event format, one per invocation (the function's batch
size), several invocations at once as Lambda would run them. A message is deleted only when the
handler returns; otherwise it comes back after the visibility timeout and, after the queue's
maximum receives, moves to the dead-letter queue. Every event is built by `chalicelib.local.events`.

The pump receives again as soon as an invocation slot is free, not when a whole batch has been
handled: one slow handler does not hold back the messages behind it. A pump built `isolated`
invokes its function in a child process of low priority (`python -m chalicelib.local.pump`), as
Lambda runs each function apart: the training job's minutes of scikit-learn then take no turn of
this process's interpreter lock from the API and the task-queue pump (decision 0040).

Every invocation thread is a warm Lambda container: `share_botocore_data` makes the botocore
sessions of this process (pynamodb opens one per thread) read botocore's data files once, not once
per thread, and `warm_clients` reads them at start-up, before the first request needs them.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from chalice import Chalice
from chalice.app import ScheduledEventConfig

from chalicelib.local.events import LambdaContext, scheduled_event, sqs_event
from chalicelib.local.pause import PauseOwner, PumpPause

log = logging.getLogger("caseflow.pump")
#: Concurrent invocations, as Lambda scales a queue's consumers (a receive returns at most 10).
CONCURRENCY = 20
#: The niceness of an isolated invocation's process: it runs when the stack has nothing else to do.
ISOLATED_NICENESS = 15
Handler = Callable[[dict[str, Any], Any], Any]
__all__ = ["CONCURRENCY", "LambdaContext", "QueuePump", "Schedule", "next_run", "schedules"]


class QueuePump:
    """Lambda's SQS event source for one queue and its function.

    With a `pause`, the pump leaves the queue alone while a live process holds the pause, and says
    in the log (as a warning) when a pause begins and ends; a pause whose owner has ended is cleared.
    """

    def __init__(
        self,
        queue_url: str,
        handler: Handler,
        region: str,
        wait_seconds: int = 1,
        pause: PumpPause | None = None,
        function_name: str = "caseflow-local",
        isolated: bool = False,
    ):
        share_botocore_data()
        self._sqs = boto3.client("sqs")
        self._queue_url = queue_url
        self._queue_arn = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self._handler = handler
        self._region = region
        self._wait = wait_seconds
        self._pause = pause
        self._paused_by: PauseOwner | None = None
        self._function_name = function_name
        self._isolated = isolated
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="queue-pump", daemon=True)
        self._workers = ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="invocation")
        self._slots = threading.BoundedSemaphore(CONCURRENCY)
        self._visibility = 0
        if isolated:
            attributes = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])
            self._visibility = int(attributes["Attributes"].get("VisibilityTimeout", "30"))

    def start(self) -> None:
        """Start delivering. The pause is looked at first, so a stale one is cleared before this returns."""
        self.paused()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._wait + 5)
        if self._isolated:
            stop_children()
        self._workers.shutdown(wait=True, cancel_futures=True)

    def paused(self) -> bool:
        """Whether a live process pauses this pump now; a change since the last look is logged."""
        owner = self._pause.owner() if self._pause is not None else None
        if owner != self._paused_by:
            if self._paused_by is not None:
                log.warning("the task-queue pump resumes: the pause by %s has ended", self._paused_by)
            if owner is not None:
                log.warning(
                    "the task-queue pump is PAUSED by %s: no workflow moves on until that process ends (or remove %s)",
                    owner,
                    self._pause.path if self._pause is not None else "",
                )
            self._paused_by = owner
        return owner is not None

    def pump_once(self) -> int:
        """Deliver what the queue holds now; returns the number of messages handled."""
        return sum(self._workers.map(self._invoke, self._receive(10)))

    def _receive(self, most: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=most,
            WaitTimeSeconds=self._wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return response.get("Messages", [])

    def _invoke(self, message: dict[str, Any]) -> int:
        event = sqs_event([message], self._queue_arn, self._region)
        try:
            if self._isolated:
                invoke_apart(
                    self._handler, event, self._function_name, self._region, lambda: self._keep_invisible(message)
                )
            else:
                self._handler(event, LambdaContext(self._function_name, self._region))
        except Exception:
            if self._stop.is_set():
                log.info(
                    "message %s of %s was stopped with the pump; it will be retried",
                    message["MessageId"],
                    self._queue_arn,
                )
                return 0
            log.exception("message %s of %s failed; it will be retried", message["MessageId"], self._queue_arn)
            return 0
        self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        return 1

    def _keep_invisible(self, message: dict[str, Any]) -> float:
        """Keep a message whose isolated invocation still runs from being received again (the local
        queues' visibility timeout is short, to see retries; AWS's jobs queue has six times the
        function's timeout); returns the seconds until this should be done again."""
        if self._visibility > 0:
            self._sqs.change_message_visibility(
                QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=self._visibility
            )
        return max(1.0, self._visibility / 2)

    def _invoke_in_slot(self, message: dict[str, Any]) -> None:
        try:
            self._invoke(message)
        finally:
            self._slots.release()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.paused():
                    self._stop.wait(0.5)
                    continue
                self._deliver_as_slots_free()
            except Exception:
                log.exception("polling %s failed", self._queue_arn)
                self._stop.wait(1)

    def _deliver_as_slots_free(self) -> None:
        """Wait for a free invocation slot, receive at most as many messages as slots are free, and
        start each one's invocation without waiting for the others."""
        if not self._slots.acquire(timeout=0.5):
            return
        free = 1
        while free < 10 and self._slots.acquire(blocking=False):
            free += 1
        try:
            messages = self._receive(free)
        except BaseException:
            for _ in range(free):
                self._slots.release()
            raise
        for _ in range(free - len(messages)):
            self._slots.release()
        for message in messages:
            self._workers.submit(self._invoke_in_slot, message)


_shared_loader: Any = None
_sharing = threading.Lock()
#: The services the app's functions call, whose botocore data `warm_clients` reads at start-up.
APP_SERVICES = ("dynamodb", "sqs", "stepfunctions", "ses", "s3", "cognito-idp", "secretsmanager")


def share_botocore_data() -> None:
    """From now on every new botocore session of this process reads botocore's data files
    (endpoints, service models, about 0.3 s of JSON each) through one loader, which keeps what it
    has read, instead of a loader of its own. Its clients, and those of boto3's default session,
    keep as many connections as the pump runs invocations: one client serves every invocation
    thread here, where on AWS each invocation has its process. Calling it again does nothing."""
    global _shared_loader
    import boto3
    import botocore.config
    import botocore.loaders
    import botocore.session

    with _sharing:
        if _shared_loader is not None:
            return
        _shared_loader = botocore.loaders.create_loader()
        pooled = botocore.config.Config(max_pool_connections=CONCURRENCY)

        def _register_data_loader(session: Any) -> None:
            session._components.lazy_register_component("data_loader", lambda: _shared_loader)
            session.set_default_client_config(pooled)

        botocore.session.Session._register_data_loader = _register_data_loader  # type: ignore[method-assign]
        if boto3.DEFAULT_SESSION is not None:
            boto3.DEFAULT_SESSION._session.set_default_client_config(pooled)


def warm_clients(services: tuple[str, ...] = APP_SERVICES) -> None:
    """Read the botocore data of `services` now (a client of each on a new session), so that the
    first request and the first invocation of each thread find it read."""
    import botocore.session

    share_botocore_data()
    session = botocore.session.get_session()
    for name in services:
        session.create_client(name, region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def _import_path(handler: Any) -> str:
    """`module:name` of a handler (a Chalice event source handler is found by its function)."""
    function = getattr(handler, "func", handler)
    return f"{function.__module__}:{function.__name__}"


def invoke_apart(
    handler: Handler, event: dict[str, Any], function_name: str, region: str, still_running: Callable[[], float]
) -> None:
    """Invoke `handler` with `event` in a child process of low priority (`ISOLATED_NICENESS`), with this
    process's environment and output; `still_running` is called while it runs, as often as it says
    (in seconds). Raises RuntimeError if the invocation fails."""
    child = subprocess.Popen(
        [sys.executable, "-m", "chalicelib.local.pump", _import_path(handler), function_name, region],
        stdin=subprocess.PIPE,
    )
    with _children_lock:
        _children.add(child)
    try:
        given: bytes | None = json.dumps(event).encode()
        while True:
            try:
                child.communicate(given, timeout=still_running())
                break
            except subprocess.TimeoutExpired:
                given = None
    finally:
        with _children_lock:
            _children.discard(child)
    if child.returncode != 0:
        raise RuntimeError(f"the invocation of {function_name} in a child process exited with {child.returncode}")


_children: set[subprocess.Popen[bytes]] = set()
_children_lock = threading.Lock()


def stop_children() -> None:
    """End the isolated invocations still running (their messages come back, as a timed-out Lambda's would)."""
    with _children_lock:
        running = list(_children)
    for child in running:
        if child.poll() is None:
            child.terminate()


_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)")


def _cron_values(field: str, highest: int, expression: str) -> set[int]:
    if field == "*":
        return set(range(highest + 1))
    try:
        values = {int(part) for part in field.split(",")}
    except ValueError:
        raise ValueError(f"the local schedule cannot run {expression!r}: {field!r}") from None
    if not all(0 <= value <= highest for value in values):
        raise ValueError(f"the local schedule cannot run {expression!r}: {field!r} is out of range")
    return values


def next_run(expression: str, after: datetime) -> datetime:
    """When an EventBridge schedule expression fires next after `after` (UTC).

    Handles rates (fired at whole multiples of the period, so an hourly rate fires at each whole
    hour) and crons that name minutes and hours of every day; anything else raises ValueError, so
    that a schedule the local stack cannot keep stops `make run` rather than never running.
    """
    after = after.astimezone(UTC)
    if rate := _RATE.fullmatch(expression):
        unit = rate.group(2).rstrip("s")
        period = int(rate.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[unit]
        if period <= 0:
            raise ValueError(f"the local schedule cannot run {expression!r}")
        seconds = int(after.timestamp()) // period * period + period
        return datetime.fromtimestamp(seconds, UTC)
    cron = _CRON.fullmatch(expression)
    if cron is None:
        raise ValueError(f"the local schedule cannot run {expression!r}")
    minute, hour, day, month, weekday, year = cron.groups()
    if day not in ("*", "?") or weekday not in ("*", "?") or month != "*" or year != "*":
        raise ValueError(f"the local schedule runs crons of every day only, not {expression!r}")
    minutes, hours = _cron_values(minute, 59, expression), _cron_values(hour, 23, expression)
    moment = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while moment.minute not in minutes or moment.hour not in hours:
        moment += timedelta(minutes=1)
    return moment


class Schedule:
    """EventBridge's schedule rule of one function, locally: at each time the expression names, the
    handler AWS invokes, with the event EventBridge sends. A failed run is logged; the next one comes."""

    def __init__(
        self,
        rule_name: str,
        expression: str,
        handler: Handler,
        region: str,
        stop: threading.Event,
        function_name: str = "caseflow-local",
    ):
        next_run(expression, datetime.now(UTC))
        self.rule_name = rule_name
        self.function_name = function_name
        self.expression = expression
        self._handler = handler
        self._region = region
        self._stop = stop
        self._thread = threading.Thread(target=self._run, name=f"schedule-{rule_name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def fire(self, at: datetime) -> Any:
        """Invoke the handler as the rule would at `at`."""
        return self._handler(
            scheduled_event(self.rule_name, at, self._region), LambdaContext(self.function_name, self._region)
        )

    def _run(self) -> None:
        due = datetime.now(UTC)
        while True:
            # From the last run's time at the earliest: a wait that ends a moment early must not run it twice.
            now = datetime.now(UTC)
            due = next_run(self.expression, max(now, due))
            if self._stop.wait((due - now).total_seconds()):
                return
            try:
                self.fire(due)
            except Exception:
                log.exception(
                    "the scheduled run of %s (%s) failed; it runs again next time", self.rule_name, self.expression
                )


def schedules(app: Chalice, stage: str, region: str, stop: threading.Event) -> list[Schedule]:
    """A local schedule for each scheduled function the app declares, with the rule name
    `chalice deploy` gives it (`<app>-<stage>-<function>`)."""
    found = []
    for source in app.event_sources:
        if isinstance(source, ScheduledEventConfig):
            module, _, name = source.handler_string.rpartition(".")
            handler = getattr(importlib.import_module(module), name)
            expression = source.schedule_expression
            text = expression if isinstance(expression, str) else expression.to_string()
            rule_name = f"{app.app_name}-{stage}-{source.name}"
            found.append(Schedule(rule_name, text, handler, region, stop, source.name))
    return found


def _invoke_here(argv: list[str]) -> int:
    """The child process of `invoke_apart`: `python -m chalicelib.local.pump module:name function region`,
    the event on standard input."""
    path, function_name, region = argv
    os.nice(ISOLATED_NICENESS)
    if hasattr(os, "SCHED_IDLE"):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    # Whole lines: the parent writes to the same output, and a block-buffered line would be cut in two.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    module, _, name = path.partition(":")
    handler = getattr(importlib.import_module(module), name)
    handler(json.loads(sys.stdin.buffer.read()), LambdaContext(function_name, region))
    return 0


if __name__ == "__main__":
    sys.exit(_invoke_here(sys.argv[1:]))
