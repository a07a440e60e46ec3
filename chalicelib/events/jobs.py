"""Background jobs: classifier training, nightly and on request. The only functions with the
training layer (scikit-learn); one job per invocation, a failed job is retried, then dead-lettered.
One training runs at a time: a job or a night that finds another run going trains nothing."""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint, Cron
from chalice.app import SQSEvent

from chalicelib.bootstrap import config, services
from chalicelib.observability import logger
from chalicelib.services.records import RETRAIN

jobs = Blueprint(__name__)


class UnknownJob(ValueError):
    """A job this code cannot run; it ends in the jobs' dead-letter queue."""


@jobs.on_sqs_message(queue=config().jobs_queue_name, batch_size=1)
def on_job(event: SQSEvent) -> None:
    for record in event:
        job = json.loads(record.body)
        if job.get("kind") != RETRAIN:
            raise UnknownJob(f"unknown job {job.get('kind')!r}")
        result = services().classifier_training.run_job(job)
        logger.info("classifier training", extra=result)


@jobs.schedule(Cron(0, 3, "*", "*", "?", "*"), name="nightly_retraining")
def nightly_retraining(event: Any) -> None:
    result = services().classifier_training.run_nightly()
    logger.info("classifier training", extra=result)
