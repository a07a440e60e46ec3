"""Customers' status links: `/s/<token>`, signed for one issue, expiring (default 90 days).

No account and no table of issued links: the token names the issue under an HMAC, so a customer
can follow their issue from any device, and a stranger cannot guess another customer's link.
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.ports import Secret
from chalicelib.web_tokens.signed_links import LinkInvalid, sign, verify

PURPOSE = "status"


class StatusLinks:
    def __init__(
        self, secret: Secret, public_url: str, lifetime: timedelta = timedelta(days=90), clock: Clock = utc_now
    ):
        self._secret = secret
        self.public_url = public_url.rstrip("/")
        self._lifetime = lifetime
        self._clock = clock

    def link_for(self, issue_id: str) -> str:
        """The customer's status page of one issue."""
        token = sign({"issue": issue_id, "for": PURPOSE}, self._secret(), self._clock() + self._lifetime)
        return f"{self.public_url}/s/{token}"

    def issue_in(self, token: str) -> str:
        """The issue a genuine, unexpired status token names; LinkInvalid or LinkExpired otherwise."""
        payload = verify(token, self._secret(), self._clock())
        if payload.get("for") != PURPOSE or not isinstance(payload.get("issue"), str):
            raise LinkInvalid("this link is not a status link")
        return payload["issue"]
