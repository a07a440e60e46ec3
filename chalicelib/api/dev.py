"""Pages that exist only on the local (dev) stage, e.g. the outbox of sent emails."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.errors import json_response
from chalicelib.bootstrap import services

dev = Blueprint(__name__)


@dev.route("/dev/outbox", methods=["GET"])
def outbox() -> Response:
    outbox = services().outbox
    if outbox is None:
        return json_response(404, {"message": "the outbox exists only on the local dev stage"})
    return json_response(200, {"messages": outbox.messages()})
