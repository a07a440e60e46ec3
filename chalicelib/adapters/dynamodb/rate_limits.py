"""Rate limits in the single table: one item per key and window, counted by a conditional UpdateItem.

The condition makes the count atomic and bounded: a hit over the limit fails the condition and
changes nothing, so a flood neither grows the item nor needs a read first.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import size

from chalicelib.adapters.dynamodb.models import RateLimitItem

_SK = "RATE"


class RateLimitRepository:
    def hit(self, key: str, limit: int, expires_at: datetime, unit: str | None = None) -> bool:
        """Count a hit (or a distinct unit); False when the window already holds `limit` of them."""
        item = RateLimitItem(f"RATE#{key}", _SK)
        expiry = RateLimitItem.expires_at.set(int(expires_at.timestamp()))
        if unit is None:
            action = RateLimitItem.hits.add(1)
            condition = RateLimitItem.hits.does_not_exist() | (RateLimitItem.hits < limit)
        else:
            action = RateLimitItem.units.add({unit})
            condition = (
                RateLimitItem.units.does_not_exist()
                | RateLimitItem.units.contains(unit)
                | (size(RateLimitItem.units) < limit)
            )
        try:
            item.update(actions=[action, expiry], condition=condition)
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True


def _condition_failed(exc: UpdateError) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"
