"""Customers' API: the issue types they can report, and opening an issue."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.errors import json_body, json_response
from chalicelib.bootstrap import services

public = Blueprint(__name__)


@public.route("/issue-types", methods=["GET"])
def list_issue_types() -> Response:
    types = [t for t in services().issue_types.list_current() if t.public]
    return json_response(200, {"issue_types": [t.summary() for t in sorted(types, key=lambda t: t.id)]})


@public.route("/issues", methods=["POST"])
def open_issue() -> Response:
    request = public.current_request
    opened = services().intake.open_issue(
        json_body(request.raw_body), idempotency_key=request.headers.get("idempotency-key")
    )
    return json_response(201, opened.as_dict(), {"Location": f"/agent/issues/{opened.issue.id}"})
