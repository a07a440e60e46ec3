"""Pages that exist only on the local (dev) stage: the outbox of sent emails, as JSON for scripts
and as pages to read in a browser (the README's walkthrough follows a task email's link there)."""

from __future__ import annotations

import re

from chalice import Blueprint, Response

from chalicelib.api.errors import json_response
from chalicelib.api.pages import page
from chalicelib.bootstrap import services

dev = Blueprint(__name__)
_LINK = re.compile(r"https?://[^\s<>\"]+")
_ONLY_LOCAL = "the outbox exists only on the local dev stage"


@dev.route("/dev/outbox", methods=["GET"])
def outbox() -> Response:
    outbox = services().outbox
    if outbox is None:
        return json_response(404, {"message": _ONLY_LOCAL})
    return json_response(200, {"messages": outbox.messages()})


@dev.route("/dev/mail", methods=["GET"])
def mail() -> Response:
    """Every email sent, newest first, each a link to read it."""
    outbox = services().outbox
    if outbox is None:
        return page(404, "message.html", title="No outbox here", message=_ONLY_LOCAL)
    return page(200, "dev_mail.html", messages=list(reversed(outbox.messages())))


@dev.route("/dev/mail/{name}", methods=["GET"])
def mail_message(name: str) -> Response:
    """One email as its reader gets it, its links clickable."""
    outbox = services().outbox
    message = outbox.message(name) if outbox is not None else None
    if message is None:
        return page(404, "message.html", title="No such email", message="The outbox has no email of that name.")
    return page(200, "dev_mail_message.html", message=message, parts=_with_links(message["body"]))


def _with_links(text: str) -> list[tuple[str, bool]]:
    """The text in parts, each a link or not, so that the template escapes every part."""
    parts: list[tuple[str, bool]] = []
    at = 0
    for found in _LINK.finditer(text):
        parts += [(text[at : found.start()], False), (found.group(0), True)]
        at = found.end()
    return [*parts, (text[at:], False)]
