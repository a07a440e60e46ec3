"""The single table's key schema, as plain data shared by the models, local provisioning and infra."""

from __future__ import annotations

PARTITION_KEY = "pk"
SORT_KEY = "sk"

# Key prefixes of the issue, task and issue type items: a key's prefix names the item's kind
# (docs/data-model.md). Each is spelled here only.
#: pk of an issue and of everything of it (events, tasks, thread entries): `ISSUE#<id>`.
ISSUE_KEY = "ISSUE#"
#: sk of the issue item itself.
ISSUE_SK = "ISSUE"
#: A task of the issue's current workflow: `TASK#<step>`.
TASK_KEY = "TASK#"
#: Tasks of an issue's earlier workflow, before its type changed or it was reopened: `ARCHIVED#<run>#<step>`.
ARCHIVED_TASK_KEY = "ARCHIVED#"
#: A customer (`CUSTOMER#<id>` / `CUSTOMER`), also the customer timeline index's partition.
CUSTOMER_KEY = "CUSTOMER#"
CUSTOMER_SK = "CUSTOMER"
#: The one customer of an address: `EMAIL#<lower-case address>` / `EMAIL`.
EMAIL_KEY = "EMAIL#"
EMAIL_SK = "EMAIL"
#: An issue by its reference: `REF#<reference>` / `REF`.
REFERENCE_KEY = "REF#"
REFERENCE_SK = "REF"
#: A retried intake's request: `IDEMPOTENCY#<key>` / `IDEMPOTENCY`.
IDEMPOTENCY_KEY = "IDEMPOTENCY#"
IDEMPOTENCY_SK = "IDEMPOTENCY"
#: An issue type's versions (`ISSUETYPE#<id>` / `VERSION#<000001>`), and its catalogue entry's sk.
ISSUE_TYPE_KEY = "ISSUETYPE#"
VERSION_KEY = "VERSION#"
#: The catalogue of current issue types: pk of one entry per type.
CATALOG = "CATALOG"

#: Open tasks of a holder (sparse: only open tasks carry the key), ordered by queue position: the
#: next checkpoint's moment, then the task id (`domain.queues.position`).
QUEUE_INDEX = "gsi1"
QUEUE_INDEX_KEYS = ("gsi1pk", "gsi1sk")
#: The queue index's partition: `QUEUE#<holder key>`.
QUEUE_KEY = "QUEUE#"

#: A customer's history across issues and channels, in time order.
CUSTOMER_TIMELINE_INDEX = "gsi2"
CUSTOMER_TIMELINE_INDEX_KEYS = ("gsi2pk", "gsi2sk")
#: The same index (overloaded) holds open tasks a person claimed, under the group they were claimed
#: from, by queue position: `CLAIMED#<group key>` (a lead's view of the team; decision 0026).
CLAIMED_KEY = "CLAIMED#"

#: Open tasks by the moment of the next checkpoint the SLA sweep can act on (sparse), for the sweep.
DUE_INDEX = "gsi3"
DUE_INDEX_KEYS = ("gsi3pk", "gsi3sk")
#: The due index's partition key is `DUE#<shard>`, shard = a stable hash of the task id modulo this.
#: Every task write rewrites its index entry, so one key for all open tasks would make one hot
#: partition; a few shards spread the writes and cost the hourly sweep one Query each. Changing
#: the number moves tasks between shards: sweep the old shards too until every open task is rewritten.
DUE_SHARDS = 8
#: The due index's partition: `DUE#<shard>`.
DUE_KEY = "DUE#"

#: Issues open now (sparse: resolved issues drop the key), per type, oldest first: the backlog.
OPEN_ISSUES_INDEX = "gsi4"
OPEN_ISSUES_INDEX_KEYS = ("gsi4pk", "gsi4sk")
#: The open-issues index's partition: `OPEN#<type>`.
OPEN_ISSUES_KEY = "OPEN#"
#: All the backlog snapshot reads of an open issue, and so all the open-issues index holds besides
#: its keys: issue updates that leave these alone (most do) then cost the index no write.
OPEN_ISSUE_ATTRIBUTES = ("type_id", "channel", "created_at")

#: Every issue (open or resolved), per type, by the moment it opened: the issue search's listings
#: by type, status, channel, step and opening date (decision 0027).
OPENED_ISSUES_INDEX = "gsi5"
OPENED_ISSUES_INDEX_KEYS = ("gsi5pk", "gsi5sk")
#: The opened-issues index's partition: `OPENED#<type>`; its sort key is a search position (below).
OPENED_ISSUES_KEY = "OPENED#"
#: What a search filters on in the index itself, so that issues that cannot match are never read.
OPENED_ISSUE_ATTRIBUTES = ("type_id", "channel", "status", "current_step")

#: Search entries: one item per word of an issue's text (`WORD#<word>`), per word of its customer's
#: name (`NAME#<word>`), and per issue of a customer (in the customer's partition `CUSTOMER#<id>`),
#: each with sk = `OPENED#<search position>`. A search position is `<created at, UTC, fixed width>#<issue id>`:
#: the same order in every entry partition and in the opened-issues index, newest last.
WORD_KEY = "WORD#"
NAME_KEY = "NAME#"
SEARCH_ENTRY_SK = "OPENED#"

GLOBAL_SECONDARY_INDEXES = {
    QUEUE_INDEX: QUEUE_INDEX_KEYS,
    CUSTOMER_TIMELINE_INDEX: CUSTOMER_TIMELINE_INDEX_KEYS,
    DUE_INDEX: DUE_INDEX_KEYS,
    OPEN_ISSUES_INDEX: OPEN_ISSUES_INDEX_KEYS,
    OPENED_ISSUES_INDEX: OPENED_ISSUES_INDEX_KEYS,
}

#: The non-key attributes an index copies; an index not named here copies whole items (ALL).
INDEX_INCLUDES = {OPEN_ISSUES_INDEX: OPEN_ISSUE_ATTRIBUTES, OPENED_ISSUES_INDEX: OPENED_ISSUE_ATTRIBUTES}

#: Items with this attribute (epoch seconds) are deleted by DynamoDB's TTL, e.g. idempotency records.
TTL_ATTRIBUTE = "expires_at"


def projection(index_name: str) -> dict:
    """The index's CreateTable `Projection`: INCLUDE of its listed attributes, else ALL."""
    included = INDEX_INCLUDES.get(index_name)
    if included is None:
        return {"ProjectionType": "ALL"}
    return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(included)}


def create_table_request(table_name: str) -> dict:
    """The CreateTable parameters of the table, for provisioning outside CloudFormation."""
    key_attributes = [PARTITION_KEY, SORT_KEY] + [k for keys in GLOBAL_SECONDARY_INDEXES.values() for k in keys]
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in key_attributes],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "KeySchema": [
                    {"AttributeName": hash_key, "KeyType": "HASH"},
                    {"AttributeName": range_key, "KeyType": "RANGE"},
                ],
                "Projection": projection(name),
            }
            for name, (hash_key, range_key) in GLOBAL_SECONDARY_INDEXES.items()
        ],
    }
