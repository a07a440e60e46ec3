"""The task queue's SQS handler: one workflow message per invocation (batch size 1).

A failure leaves the message on the queue to be retried, then in the dead-letter queue; a batch
of one keeps a poison message from dragging healthy ones with it.
"""

from __future__ import annotations

import json

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.bootstrap import config, services
from chalicelib.observability import logger
from chalicelib.services.workflow.messages import parse

task_queue = Blueprint(__name__)


@task_queue.on_sqs_message(queue=config().task_queue_name, batch_size=1)
def on_task_message(event: SQSEvent) -> None:
    for record in event:
        message = json.loads(record.body)
        logger.info(
            "workflow message",
            extra={"issue_id": message.get("issue_id"), "kind": message.get("kind"), "step": message.get("step")},
        )
        services().stepping.handle(parse(message))
