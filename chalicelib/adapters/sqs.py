"""SQS: the task queue's URL, which the compiled state machines send their messages to."""

from __future__ import annotations

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
