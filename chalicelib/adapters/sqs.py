"""SQS: the task queue's URL (the compiled state machines send their messages to it), and the jobs queue."""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

import boto3


class TaskQueue:
    def __init__(self, name: str, client: Any = None):
        self._client = client or boto3.client("sqs")
        self.name = name

    @cached_property
    def url(self) -> str:
        return self._client.get_queue_url(QueueName=self.name)["QueueUrl"]


class JobQueue:
    """Background jobs for the function that runs them (e.g. classifier training)."""

    def __init__(self, name: str, client: Any = None):
        self._client = client or boto3.client("sqs")
        self._queue = TaskQueue(name, self._client)

    def submit(self, job: dict[str, Any]) -> None:
        self._client.send_message(QueueUrl=self._queue.url, MessageBody=json.dumps(job))
