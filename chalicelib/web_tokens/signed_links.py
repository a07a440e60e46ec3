"""Signed, expiring links for people without a seat (e.g. a store manager answering by email).

A link is a JWT (HS256, PyJWT): its payload in the clear, signed, with an `exp`, so the server
needs no table of issued links; single use is enforced by the task the link points to (a completed
task cannot be completed again). The payload says what kind of link it is (status and survey links
carry `for`, task links `task` and `holder`), and each reader refuses what is not its kind.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from chalicelib.domain.errors import DomainError

_ALGORITHM = "HS256"
#: The secret also keys CSRF tokens and Message-IDs; links sign with a key of their own derived from it.
_KEY_LABEL = b"caseflow/signed-links"


class LinkInvalid(DomainError):
    """The link was altered, truncated or signed with another key."""


class LinkExpired(DomainError):
    """The link was genuine but its time is up."""


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def sign(payload: dict[str, Any], secret: str, expires_at: datetime) -> str:
    """A URL-safe token (base64url segments and dots) carrying the payload until `expires_at`."""
    # PyJWT on first use: it imports `cryptography`, a fifth of a second of every function's cold start.
    import jwt

    claims = {**payload, "exp": int(expires_at.timestamp())}
    return jwt.encode(claims, _key(secret), algorithm=_ALGORITHM)


def verify(token: str, secret: str, now: datetime) -> dict[str, Any]:
    """The payload of a genuine, unexpired link; LinkInvalid or LinkExpired otherwise."""
    if not token.isascii():  # anyone can put any character in a URL; a genuine token has none of these
        raise LinkInvalid("this link is not valid; check that it was copied whole")
    import jwt  # on first use, as in `sign`

    try:
        # Expiry is checked below against the caller's clock (PyJWT's check reads the machine's).
        payload = jwt.decode(
            token, _key(secret), algorithms=[_ALGORITHM], options={"require": ["exp"], "verify_exp": False}
        )
    except jwt.PyJWTError as exc:
        raise LinkInvalid("this link is not valid; check that it was copied whole") from exc
    if not isinstance(payload["exp"], int):
        raise LinkInvalid("this link is not valid")
    if payload["exp"] < now.timestamp():
        raise LinkExpired("this link has expired")
    return payload
