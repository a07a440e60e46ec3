"""Writing the issue search's entries: one per word of an issue's text, per word of its customer's
name, and one in its customer's partition (decision 0027).

Entries are put by key, so writing them again changes nothing: an issue is indexed when it opens
(after its transaction) and again when what it is found by changes (its type, channel or text).
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters.dynamodb import schema
from chalicelib.adapters.dynamodb.models import CustomerItem, SearchEntryItem
from chalicelib.domain.issue_search import position
from chalicelib.domain.issues import Issue
from chalicelib.domain.search_words import issue_words, name_words


def opened_index_keys(issue: Issue) -> dict[str, str]:
    """The issue item's keys in the opened-issues index (gsi5): every issue, per type, by opening."""
    keys = (f"{schema.OPENED_ISSUES_KEY}{issue.type_id}", position(issue.created_at, issue.id))
    return dict(zip(schema.OPENED_ISSUES_INDEX_KEYS, keys, strict=True))


def entry_partitions(issue: Issue, customer_name: str) -> list[str]:
    """The partitions holding the issue's entries: its words, its customer's name words, its customer."""
    return [
        *(f"{schema.WORD_KEY}{w}" for w in issue_words(issue.fields)),
        *(f"{schema.NAME_KEY}{w}" for w in name_words(customer_name)),
        f"{schema.CUSTOMER_KEY}{issue.customer_id}",
    ]


def index_issue(issue: Issue, customer_name: str) -> None:
    """Put every entry of the issue (BatchWriteItem, 25 a request)."""
    _write(issue, entry_partitions(issue, customer_name), [])


def reindex(before: Issue, after: Issue) -> None:
    """After a change of the issue: nothing when what it is found by stayed the same; else put its
    entries again (they carry its type and channel) and delete those of words it no longer has."""
    if (before.type_id, before.channel, before.fields) == (after.type_id, after.channel, after.fields):
        return
    name = _customer_name(after.customer_id)
    old, new = entry_partitions(before, name), entry_partitions(after, name)
    _write(after, new, [pk for pk in old if pk not in set(new)])


def _write(issue: Issue, partitions: list[str], stale: list[str]) -> None:
    sk = f"{schema.SEARCH_ENTRY_SK}{position(issue.created_at, issue.id)}"
    with SearchEntryItem.batch_write() as batch:
        for pk in partitions:
            batch.save(SearchEntryItem(pk, sk, issue_id=issue.id, type_id=issue.type_id, channel=issue.channel))
        for pk in stale:
            batch.delete(SearchEntryItem(pk, sk))


def _customer_name(customer_id: str) -> str:
    try:
        return CustomerItem.get(f"{schema.CUSTOMER_KEY}{customer_id}", schema.CUSTOMER_SK).name
    except DoesNotExist:
        return ""
