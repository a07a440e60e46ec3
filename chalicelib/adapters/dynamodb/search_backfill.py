"""Index for the issue search the issues written before it existed, or whose entries a failure left
unwritten (decision 0027), in the table the environment names:

    python -m chalicelib.adapters.dynamodb.search_backfill

It scans the table once (a maintenance command, never a request path) and, for every issue, sets
its keys in the opened-issues index (gsi5) and puts its search entries; both are idempotent, so it
may be run again, or stopped and run again, at any time. An issue it updates gets a new version:
a concurrent change of it retries, as for any lost race (decision 0021).
"""

from __future__ import annotations

from chalicelib import settings
from chalicelib.adapters.dynamodb import schema
from chalicelib.adapters.dynamodb.issues import _issue
from chalicelib.adapters.dynamodb.models import CustomerItem, IssueItem, bind
from chalicelib.adapters.dynamodb.search_entries import index_issue, opened_index_keys


def backfill() -> int:
    """Index every issue of the bound table; returns how many there were."""
    names: dict[str, str] = {}
    count = 0
    for item in IssueItem.scan(IssueItem.sk == schema.ISSUE_SK):
        issue = _issue(item)
        keys = opened_index_keys(issue)
        if (item.gsi5pk, item.gsi5sk) != (keys["gsi5pk"], keys["gsi5sk"]):
            item.update(actions=[IssueItem.gsi5pk.set(keys["gsi5pk"]), IssueItem.gsi5sk.set(keys["gsi5sk"])])
        if issue.customer_id not in names:
            customer = CustomerItem.get(f"{schema.CUSTOMER_KEY}{issue.customer_id}", schema.CUSTOMER_SK)
            names[issue.customer_id] = customer.name
        index_issue(issue, names[issue.customer_id])
        count += 1
    return count


def main() -> None:
    config = settings.get()
    bind(config.table_name, config.region, config.endpoint_url)
    print(f"indexed {backfill()} issues in {config.table_name}")


if __name__ == "__main__":
    main()
