"""Published issue type versions and the catalogue of current ones, in the single table."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.adapters.dynamodb import schema
from chalicelib.adapters.dynamodb.access import get_or_none
from chalicelib.adapters.dynamodb.models import CatalogItem, IssueTypeVersionItem
from chalicelib.domain.errors import Conflict
from chalicelib.domain.issue_types import PublishedType
from chalicelib.services.ports import DuplicateKey


class IssueTypeRepository:
    """Published issue type versions and the catalogue of current ones."""

    def current(self, type_id: str) -> PublishedType | None:
        item = get_or_none(CatalogItem, schema.CATALOG, _type_key(type_id))
        return self._published(item) if item else None

    def all_current(self) -> list[PublishedType]:
        return [self._published(i) for i in CatalogItem.query(schema.CATALOG)]

    def version(self, type_id: str, version: int) -> PublishedType | None:
        item = get_or_none(IssueTypeVersionItem, _type_key(type_id), _version_key(version))
        return self._published(item) if item else None

    def versions(self, type_id: str) -> list[tuple[PublishedType, datetime]]:
        """Every published version of a type, oldest first, with when it was published."""
        items = IssueTypeVersionItem.query(_type_key(type_id), IssueTypeVersionItem.sk.startswith(schema.VERSION_KEY))
        return [(self._published(i), i.published_at) for i in items]

    def save_version(self, published: PublishedType, now: datetime) -> None:
        """Record a new version and make it current; DuplicateKey if that version exists."""
        key = _type_key(published.type_id)
        catalog = get_or_none(CatalogItem, schema.CATALOG, key, consistent_read=True)
        try:
            IssueTypeVersionItem(
                key,
                _version_key(published.version),
                type_id=published.type_id,
                type_version=published.version,
                definition=published.definition,
                state_machine_arn=published.state_machine_arn,
                published_at=now,
            ).save(condition=IssueTypeVersionItem.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise DuplicateKey(["ConditionalCheckFailed"]) from exc
            raise
        item = catalog or CatalogItem(schema.CATALOG, key)
        item.type_id = published.type_id
        item.type_version = published.version
        item.definition = published.definition
        item.state_machine_arn = published.state_machine_arn
        try:
            item.save()
        except (PutError, UpdateError) as exc:
            raise Conflict(f"issue type {published.type_id} was published concurrently") from exc

    @staticmethod
    def _published(item: CatalogItem | IssueTypeVersionItem) -> PublishedType:
        return PublishedType(item.type_id, int(item.type_version), item.definition, item.state_machine_arn)


def _type_key(type_id: str) -> str:
    """An issue type's versions' pk, and its catalogue entry's sk."""
    return f"{schema.ISSUE_TYPE_KEY}{type_id}"


def _version_key(version: int) -> str:
    return f"{schema.VERSION_KEY}{version:06d}"
