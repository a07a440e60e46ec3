"""Reading the issue search's sources: entry partitions and the opened-issues index, one bounded
Query at a time, and the issues and customers of a page by BatchGetItem (decision 0027)."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb import schema
from chalicelib.adapters.dynamodb.access import issue_pk
from chalicelib.adapters.dynamodb.issues import _issue
from chalicelib.adapters.dynamodb.models import CustomerItem, IssueItem, SearchEntryItem
from chalicelib.domain.issue_search import CUSTOMER, NAME, TYPE, WORD, Narrowing, SearchEntries, Source
from chalicelib.domain.issues import Customer, Issue

_ENTRY_PARTITIONS = {WORD: schema.WORD_KEY, NAME: schema.NAME_KEY, CUSTOMER: schema.CUSTOMER_KEY}


class IssueSearchRepository:
    """The issue search's reads; no Scan, and each call one request (or one BatchGetItem of 100 keys)."""

    def entries(self, source: Source, since: str, until: str, limit: int, narrowing: Narrowing) -> SearchEntries:
        """Up to `limit` entries of the source with a position in [since, until), newest first; the
        narrowing the entries carry is applied by the Query's filter (it still reads what it drops)."""
        if source.kind == TYPE:
            return self._opened(source.value, since, until, limit, narrowing)
        prefix = schema.SEARCH_ENTRY_SK
        conditions = [
            (SearchEntryItem.type_id, narrowing.type_id),
            (SearchEntryItem.channel, narrowing.channel),
        ]
        iterator = SearchEntryItem.query(
            f"{_ENTRY_PARTITIONS[source.kind]}{source.value}",
            SearchEntryItem.sk.between(f"{prefix}{since}", f"{prefix}{until}"),
            filter_condition=_filter(conditions),
            scan_index_forward=False,
            page_size=limit,
        )
        return _entries(next(iterator.page_iter), "sk", prefix, until)

    def _opened(self, type_id: str, since: str, until: str, limit: int, narrowing: Narrowing) -> SearchEntries:
        conditions = [
            (IssueItem.channel, narrowing.channel),
            (IssueItem.status, narrowing.status),
            (IssueItem.current_step, narrowing.step),
        ]
        iterator = IssueItem.opened_issues.query(
            f"{schema.OPENED_ISSUES_KEY}{type_id}",
            IssueItem.gsi5sk.between(since, until),
            filter_condition=_filter(conditions),
            scan_index_forward=False,
            page_size=limit,
        )
        return _entries(next(iterator.page_iter), "gsi5sk", "", until)

    def issues(self, issue_ids: list[str]) -> list[Issue]:
        """The issues that exist among these, in no particular order."""
        keys = [(issue_pk(i), schema.ISSUE_SK) for i in dict.fromkeys(issue_ids)]
        return [_issue(item) for item in IssueItem.batch_get(keys)]

    def customers(self, customer_ids: list[str]) -> dict[str, Customer]:
        keys = [(f"{schema.CUSTOMER_KEY}{i}", schema.CUSTOMER_SK) for i in dict.fromkeys(customer_ids)]
        found = (
            Customer(i.pk.removeprefix(schema.CUSTOMER_KEY), i.email, i.name, i.segment)
            for i in CustomerItem.batch_get(keys)
        )
        return {customer.id: customer for customer in found}


def _filter(conditions: list[tuple[Any, str]]) -> Any:
    wanted = [attribute == value for attribute, value in conditions if value]
    combined = None
    for condition in wanted:
        combined = condition if combined is None else combined & condition
    return combined


def _entries(page: dict[str, Any], sort_key: str, prefix: str, until: str) -> SearchEntries:
    """A Query's page as entries; the entry at `until` itself (a cursor's last entry, which the
    inclusive BETWEEN returns again) is left out."""
    found = []
    for item in page.get("Items", []):
        at = item[sort_key]["S"].removeprefix(prefix)
        if at != until:
            found.append((at, item["issue_id"]["S"] if "issue_id" in item else _issue_id(item)))
    last = page.get("LastEvaluatedKey")
    more = last[sort_key]["S"].removeprefix(prefix) if last else None
    return SearchEntries(found, more, int(page.get("ScannedCount", 0)))


def _issue_id(item: dict[str, Any]) -> str:
    return item[schema.PARTITION_KEY]["S"].removeprefix(schema.ISSUE_KEY)
