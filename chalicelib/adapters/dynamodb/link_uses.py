"""Uses of single-use links in the single table: one item per use id, put only if absent."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import PutError

from chalicelib.adapters.dynamodb.access import get_or_none
from chalicelib.adapters.dynamodb.models import LinkUseItem

_KEY = "LINKUSE#"
_SK = "USED"


class LinkUseRepository:
    def use_once(self, use_id: str, at: datetime, keep_until: datetime) -> bool:
        """Record the use; False, nothing written, when the item is there already (a second use)."""
        item = LinkUseItem(f"{_KEY}{use_id}", _SK, used_at=at, expires_at=int(keep_until.timestamp()))
        try:
            item.save(condition=LinkUseItem.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def used(self, use_id: str) -> bool:
        return get_or_none(LinkUseItem, f"{_KEY}{use_id}", _SK, consistent_read=True) is not None
