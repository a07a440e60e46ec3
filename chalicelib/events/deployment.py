"""Runs after each deploy (a CDK trigger): publishes the seeded issue types' state machines, and
asks for the classifier's first training run if there is no model yet.

The local runtime calls the same service at start-up, so both stages publish through one path.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.bootstrap import services

deployment = Blueprint(__name__)


@deployment.lambda_function(name="publish_issue_types")
def publish_issue_types(event: dict[str, Any], context: Any) -> dict[str, Any]:
    published = services().issue_types.publish_seeds()
    training = services().classification.ensure_model()
    return {"published": [f"{p.type_id} v{p.version}" for p in published], "first_training_queued": training}
