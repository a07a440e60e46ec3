"""Cross-site request forgery protection for server-rendered forms (double-submit cookie).

A browser gets a random cookie with a page; each form carries an HMAC of that cookie and the
form's scope. Another site can make a browser post to us, but can neither read the cookie nor
compute the token, so its post is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

COOKIE = "caseflow_form"
FIELD = "csrf-token"
_WELL_FORMED = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_cookie() -> str:
    return secrets.token_urlsafe(24)


def well_formed(cookie: str | None) -> bool:
    return bool(cookie and _WELL_FORMED.match(cookie))


def token(secret: str, cookie: str, scope: str) -> str:
    """The form's hidden token for a cookie and a scope (e.g. a form type, or a status page)."""
    return hmac.new(secret.encode(), f"form-csrf|{cookie}|{scope}".encode(), hashlib.sha256).hexdigest()


def valid(secret: str, cookie: str | None, scope: str, submitted: str | None) -> bool:
    expected = token(secret, cookie or "", scope).encode()
    # Bytes, not str: compare_digest refuses a str with non-ASCII characters, which anyone can submit.
    return well_formed(cookie) and hmac.compare_digest((submitted or "").encode("utf-8", "replace"), expected)
