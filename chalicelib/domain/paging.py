"""Pages of a listing: the `limit` a request asks for and the opaque cursor that continues it.

A cursor is the listing's position as compact JSON in URL-safe base64: opaque to clients, who
send back what they were given. It carries the fingerprint of the request's criteria, so that a
cursor is never applied to another question.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from chalicelib.domain.errors import FieldError


def page_limit(value: str, errors: list[FieldError], default: int, most: int) -> int:
    """The `limit` parameter: `default` when absent; a whole number from 1 to `most`, else an error."""
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= most:
        errors.append(FieldError("limit", f"must be a whole number from 1 to {most}"))
        return default
    return int(value)


def encode_cursor(position: Mapping[str, Any]) -> str:
    raw = json.dumps(dict(position), separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any] | None:
    """The position a cursor holds; None for text that is no cursor of ours at all."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return decoded if isinstance(decoded, dict) else None
