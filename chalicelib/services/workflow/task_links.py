"""The signed links through which outside parties (holders by email address) answer their task."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.domain.tasks import Task
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.ports import Secret
from chalicelib.web_tokens.signed_links import sign, verify

#: How long an outside party's link to a task form stays valid.
LINK_LIFETIME = timedelta(days=14)


class TaskLinks:
    def __init__(self, secret: Secret, public_url: str, clock: Clock = utc_now):
        self._secret = secret
        self._public_url = public_url.rstrip("/")
        self._clock = clock

    def link_for(self, task: Task) -> str:
        """The signed link an outside party uses to answer a task."""
        token = sign({"task": task.id, "holder": task.holder}, self._secret(), self._clock() + LINK_LIFETIME)
        return f"{self._public_url}/t/{token}"

    def payload(self, token: str) -> dict[str, Any]:
        """What a genuine, unexpired link says (task, holder); LinkInvalid or LinkExpired otherwise."""
        return verify(token, self._secret(), self._clock())
