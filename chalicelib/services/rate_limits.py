"""Counting requests in fixed windows, per who asked, for the public forms (reports, "My issues", article
lookups): a request over its window's limit is refused until the window ends.

Keys hold a keyed hash of who asked (a client address, an email address), never the value itself.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

from chalicelib.services.ports import RateLimiter


def over_limit(
    limiter: RateLimiter,
    secret: str,
    now: datetime,
    window: timedelta,
    key: str,
    who: str,
    limit: int,
    unit: str | None = None,
) -> datetime | None:
    """Count one hit (or one distinct `unit`) for `who` under `key` in the window `now` falls in; the
    window's end when that is over `limit`, else None."""
    seconds = int(window.total_seconds())
    number = int(now.timestamp()) // seconds
    ends = datetime.fromtimestamp((number + 1) * seconds, tz=now.tzinfo)
    digest = hmac.new(secret.encode(), who.encode(), hashlib.sha256).hexdigest()[:32]
    return None if limiter.hit(f"{key}#{digest}#{number}", limit, ends, unit) else ends


def whole_seconds(wait: timedelta) -> int:
    """A wait as `Retry-After` gives it: whole seconds, rounded up, at least one."""
    return max(1, math.ceil(wait.total_seconds()))


def whole_minutes(wait: timedelta) -> int:
    """A wait as a page tells it: whole minutes, rounded up, at least one."""
    return max(1, math.ceil(wait.total_seconds() / 60))
