"""Does locally what AWS event sources do: delivers task queue messages to the app's SQS handler.

Messages go to the handler in Lambda's SQS event format, one per invocation (the function's batch
size), several invocations at once as Lambda would run them. A message is deleted only when the
handler returns; otherwise it comes back after the visibility timeout and, after the queue's
maximum receives, moves to the dead-letter queue.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3

log = logging.getLogger("caseflow.pump")
#: Concurrent invocations, as Lambda scales a queue's consumers (a receive returns at most 10).
CONCURRENCY = 10
#: While this file exists, a pausable pump leaves its queue alone: `make demo-data` (bench.demo_month)
#: then handles the task queue itself, on its simulated clock.
PAUSE_FILE = Path(__file__).resolve().parents[2] / "var" / "pump.paused"
Handler = Callable[[dict[str, Any], Any], Any]


def lambda_sqs_event(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": hashlib.md5(message["Body"].encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        ]
    }


class LambdaContext:
    """What a handler may read of its Lambda context."""

    function_name = "caseflow-local"
    memory_limit_in_mb = 512
    aws_request_id = "local"
    invoked_function_arn = "arn:aws:lambda:local:123456789012:function:caseflow-local"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


class QueuePump:
    def __init__(self, queue_url: str, handler: Handler, region: str, wait_seconds: int = 1, pausable: bool = False):
        self._sqs = boto3.client("sqs")
        self._queue_url = queue_url
        self._queue_arn = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self._handler = handler
        self._region = region
        self._wait = wait_seconds
        self._pausable = pausable
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="queue-pump", daemon=True)
        self._workers = ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="invocation")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._wait + 5)
        self._workers.shutdown(wait=True, cancel_futures=True)

    def pump_once(self) -> int:
        """Deliver what the queue holds now; returns the number of messages handled."""
        response = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=self._wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return sum(self._workers.map(self._invoke, response.get("Messages", [])))

    def _invoke(self, message: dict[str, Any]) -> int:
        try:
            self._handler(lambda_sqs_event(message, self._queue_arn, self._region), LambdaContext())
        except Exception:
            log.exception("task message %s failed; it will be retried", message["MessageId"])
            return 0
        self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        return 1

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._pausable and PAUSE_FILE.exists():
                self._stop.wait(0.5)
                continue
            try:
                self.pump_once()
            except Exception:
                log.exception("polling the task queue failed")
                self._stop.wait(1)


class NightlyJobs:
    """EventBridge's nightly schedule, locally: every 24 hours after start, queue a training run.

    (On AWS the schedule invokes the training function itself; here the jobs queue's pump runs it.)
    """

    PERIOD_SECONDS = 24 * 3600

    def __init__(self, classification: Any, stop: threading.Event):
        self._classification = classification
        self._stop = stop
        self._thread = threading.Thread(target=self._run, name="nightly-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.PERIOD_SECONDS):
            self._classification.queue_training("nightly")


class HourlySchedule:
    """EventBridge's hourly schedule, locally: at each whole hour, the same handler AWS invokes."""

    def __init__(self, handler: Callable[[dict[str, Any]], Any], stop: threading.Event):
        self._handler = handler
        self._stop = stop
        self._thread = threading.Thread(target=self._run, name="hourly-schedule", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(3600 - time.time() % 3600):
            try:
                self._handler({"source": "aws.events", "detail-type": "Scheduled Event"})
            except Exception:
                log.exception("the hourly schedule failed; it runs again next hour")
