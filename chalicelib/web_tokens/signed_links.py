"""Signed, expiring links for people without a seat (e.g. a store manager answering by email).

A link carries its payload in the clear and an HMAC-SHA256 over it, so the server needs no table
of issued links; single use is enforced by the task the link points to (a completed task cannot
be completed again).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from chalicelib.domain.errors import DomainError


class LinkInvalid(DomainError):
    """The link was altered, truncated or signed with another key."""


class LinkExpired(DomainError):
    """The link was genuine but its time is up."""


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(payload: dict[str, Any], secret: str, expires_at: datetime) -> str:
    body = _encode(json.dumps({**payload, "exp": int(expires_at.timestamp())}, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_encode(mac)}"


def verify(token: str, secret: str, now: datetime) -> dict[str, Any]:
    """The payload of a genuine, unexpired link; LinkInvalid or LinkExpired otherwise."""
    body, _, signature = token.partition(".")
    expected = _encode(hmac.new(secret.encode(), body.encode("utf-8", "replace"), hashlib.sha256).digest())
    # Bytes, not str: compare_digest refuses a str with non-ASCII characters, which anyone can put in a URL.
    if not body or not hmac.compare_digest(signature.encode("utf-8", "replace"), expected.encode()):
        raise LinkInvalid("this link is not valid; check that it was copied whole")
    try:
        payload = json.loads(_decode(body))
    except ValueError as exc:
        raise LinkInvalid("this link is not valid") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        raise LinkInvalid("this link is not valid")
    if payload["exp"] < now.timestamp():
        raise LinkExpired("this link has expired")
    return payload
