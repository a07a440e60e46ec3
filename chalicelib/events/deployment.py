"""Runs after each deploy (a CDK trigger): publishes the seeded issue types' state machines.

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
    return {"published": [f"{p.type_id} v{p.version}" for p in published]}
