"""pynamodb models of the single table. Key prefixes name the item kind (see docs/data-model.md)."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from chalicelib.adapters.dynamodb import schema


class _Meta:
    """Where every item lives: set by `bind`, which the composition root (`bootstrap.build`) calls
    before any item is read or written."""

    table_name: str | None = None
    region: str | None = None
    host: str | None = None
    #: Connections pynamodb's one client keeps (its default is 10). On AWS an invocation is alone in
    #: its process; the embedded stack runs up to 32 API requests and 20 queue invocations at once
    #: on that client, and each connection beyond the pool is discarded with a warning.
    max_pool_connections: int = 32


def bind(table_name: str, region: str, host: str | None) -> None:
    """Point every model at `table_name` in `region`, through `host` (e.g. moto's) when given."""
    _Meta.table_name, _Meta.region, _Meta.host = table_name, region, host


class QueueIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = schema.QUEUE_INDEX
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class CustomerTimelineIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = schema.CUSTOMER_TIMELINE_INDEX
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class ClaimedTasksIndex(GlobalSecondaryIndex):
    """The customer timeline's index, overloaded: tasks claimed from a group (`CLAIMED#<group>`)."""

    class Meta:
        index_name = schema.CUSTOMER_TIMELINE_INDEX
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class DueIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = schema.DUE_INDEX
        projection = AllProjection()

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class OpenIssuesIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = schema.OPEN_ISSUES_INDEX
        projection = IncludeProjection(list(schema.OPEN_ISSUE_ATTRIBUTES))

    gsi4pk = UnicodeAttribute(hash_key=True)
    gsi4sk = UnicodeAttribute(range_key=True)


class OpenedIssuesIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = schema.OPENED_ISSUES_INDEX
        projection = IncludeProjection(list(schema.OPENED_ISSUE_ATTRIBUTES))

    gsi5pk = UnicodeAttribute(hash_key=True)
    gsi5sk = UnicodeAttribute(range_key=True)


class _Item(Model):
    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class IssueItem(_Item):
    """pk=ISSUE#<id>, sk=ISSUE"""

    reference = UnicodeAttribute()
    type_id = UnicodeAttribute()
    type_version = NumberAttribute()
    status = UnicodeAttribute()
    channel = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    fields = JSONAttribute()
    created_at = UTCDateTimeAttribute()
    execution_arn = UnicodeAttribute(default="")
    current_step = UnicodeAttribute(default="")
    priority = UnicodeAttribute(default="normal")
    resolved_at = UTCDateTimeAttribute(null=True)
    auto_reply_blocked = UnicodeAttribute(default="")
    classification = JSONAttribute(null=True)
    run = NumberAttribute(default=1)
    first_resolved_at = UTCDateTimeAttribute(null=True)
    reopenings = NumberAttribute(default=0)
    resolved_with_one_contact = BooleanAttribute(null=True)
    customer_wrote_at = UTCDateTimeAttribute(null=True)
    answered_at = UTCDateTimeAttribute(null=True)
    #: While the issue is open: OPEN#<type> / created at (the backlog).
    gsi4pk = UnicodeAttribute(null=True)
    gsi4sk = UnicodeAttribute(null=True)
    open_issues = OpenIssuesIndex()
    #: Always: OPENED#<type> / search position (the issue search's listings).
    gsi5pk = UnicodeAttribute(null=True)
    gsi5sk = UnicodeAttribute(null=True)
    opened_issues = OpenedIssuesIndex()
    version = VersionAttribute()


class SearchEntryItem(_Item):
    """pk=WORD#<word>, NAME#<word> or CUSTOMER#<id>, sk=OPENED#<search position>: the issue
    search's entry for one word of an issue's text, one word of its customer's name, or its customer."""

    issue_id = UnicodeAttribute()
    type_id = UnicodeAttribute()
    channel = UnicodeAttribute()


class ReferenceItem(_Item):
    """pk=REF#<reference>, sk=REF: keeps references unique and finds an issue by its reference."""

    issue_id = UnicodeAttribute()


class CustomerItem(_Item):
    """pk=CUSTOMER#<id>, sk=CUSTOMER"""

    email = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    segment = UnicodeAttribute(default="standard")
    created_at = UTCDateTimeAttribute()
    #: The customer's language and time zone (domain `Customer`); empty on items written before them.
    language = UnicodeAttribute(default="")
    time_zone = UnicodeAttribute(default="")


class CustomerEmailItem(_Item):
    """pk=EMAIL#<lower-case address>, sk=EMAIL: one customer per address, found by key."""

    customer_id = UnicodeAttribute()


class EventItem(_Item):
    """pk=ISSUE#<id>, sk=EVENT#<ulid>; in the customer's timeline through gsi2."""

    at = UTCDateTimeAttribute()
    kind = UnicodeAttribute()
    text = UnicodeAttribute(default="")
    actor = UnicodeAttribute(default="")
    data = JSONAttribute(default=dict)
    issue_id = UnicodeAttribute()
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    customer_timeline = CustomerTimelineIndex()


class TaskItem(_Item):
    """pk=ISSUE#<id>, sk=TASK#<step>; open tasks are in their holder's queue through gsi1, claimed
    ones also under the group they were claimed from through gsi2, and in the SLA sweep's due index
    through gsi3 while it has a checkpoint (or an untouched claim's return) to act on."""

    task_id = UnicodeAttribute()
    issue_id = UnicodeAttribute()
    step = UnicodeAttribute()
    status = UnicodeAttribute()
    holder = UnicodeAttribute()
    checkpoint = NumberAttribute(default=0)
    level = NumberAttribute(default=0)
    schedule = JSONAttribute(default=list)
    due_at = UTCDateTimeAttribute()
    token = UnicodeAttribute(default="")
    token_entered_at = UTCDateTimeAttribute(null=True)
    delivered_token = UnicodeAttribute(default="")
    breached = BooleanAttribute(default=False)
    fields = JSONAttribute(null=True)
    completed_by = UnicodeAttribute(default="")
    completed_at = UTCDateTimeAttribute(null=True)
    opened_at = UTCDateTimeAttribute(null=True)
    reference = UnicodeAttribute(default="")
    step_name = UnicodeAttribute(default="")
    closed_reason = UnicodeAttribute(default="")
    moves_on = BooleanAttribute(default=False)
    past_holders = JSONAttribute(default=list)
    claimed_from = UnicodeAttribute(default="")
    return_at = UTCDateTimeAttribute(null=True)
    type_id = UnicodeAttribute(default="")
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    queue = QueueIndex()
    #: While claimed: CLAIMED#<group claimed from> / queue position.
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    claimed = ClaimedTasksIndex()
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    due = DueIndex()
    version = VersionAttribute()


class IdempotencyItem(_Item):
    """pk=IDEMPOTENCY#<key>, sk=IDEMPOTENCY: the issue a retried request refers to."""

    issue_id = UnicodeAttribute()
    request_hash = UnicodeAttribute()
    expires_at = NumberAttribute()


class IssueTypeVersionItem(_Item):
    """pk=ISSUETYPE#<id>, sk=VERSION#<000001>: one published, immutable version."""

    type_id = UnicodeAttribute()
    type_version = NumberAttribute()
    definition = JSONAttribute()
    state_machine_arn = UnicodeAttribute()
    published_at = UTCDateTimeAttribute()


class CatalogItem(_Item):
    """pk=CATALOG, sk=ISSUETYPE#<id>: the current version of each type, listed by one Query."""

    type_id = UnicodeAttribute()
    type_version = NumberAttribute()
    definition = JSONAttribute()
    state_machine_arn = UnicodeAttribute()
    version = VersionAttribute()


class ReceivedMailItem(_Item):
    """pk=RECEIVED#ses:<SES message id> or RECEIVED#mid:<Message-ID>, sk=RECEIVED: what became of an
    inbound message, so that a second delivery of it changes nothing (TTL 30 days)."""

    outcome = UnicodeAttribute()
    issue_id = UnicodeAttribute(default="")
    waiting_step = UnicodeAttribute(default="")
    expires_at = NumberAttribute()


class MessageIdItem(_Item):
    """pk=MSGID#<lower-case Message-ID>, sk=MSGID: the issue a message belongs to (email threading)."""

    issue_id = UnicodeAttribute()
    direction = UnicodeAttribute()


class ThreadEntryItem(_Item):
    """pk=ISSUE#<id>, sk=MAIL#<ulid>: one message of an issue's email thread, oldest first."""

    message_id = UnicodeAttribute()
    direction = UnicodeAttribute()
    sender = UnicodeAttribute(default="")
    cc = ListAttribute(of=UnicodeAttribute, default=list)
    at = UTCDateTimeAttribute()


class QuarantinedMailItem(_Item):
    """pk=QUARANTINE, sk=<received at>#<SES message id>: mail kept in S3 that opened no issue."""

    ses_id = UnicodeAttribute()
    received_at = UTCDateTimeAttribute()
    reason = UnicodeAttribute()
    sender = UnicodeAttribute(default="")
    subject = UnicodeAttribute(default="")
    raw_key = UnicodeAttribute()


class AddressStatusItem(_Item):
    """pk=ADDRESS#<lower-case address>, sk=STATUS: whether mail to an address bounces."""

    bouncing = BooleanAttribute(default=False)
    bounced_at = UTCDateTimeAttribute(null=True)
    detail = UnicodeAttribute(default="")


class AutomaticMailItem(_Item):
    """pk=ADDRESS#<lower-case address>, sk=AUTO#<ulid>: one automatic email sent to the address,
    counted by a key-range Query for the per-address cap (TTL: the cap's window)."""

    expires_at = NumberAttribute()


class ModelItem(_Item):
    """pk=CLASSIFIER, sk=MODEL#<version> for each training run; sk=CURRENT for the model in use."""

    version = UnicodeAttribute()
    key = UnicodeAttribute()
    threshold = NumberAttribute()
    trained_at = UTCDateTimeAttribute()
    metrics = JSONAttribute(default=dict)
    promoted = BooleanAttribute(default=False)


class ExampleItem(_Item):
    """pk=EXAMPLES, sk=ISSUE#<id>: an agent's decision about an issue's type, a labelled example."""

    text = UnicodeAttribute()
    label = UnicodeAttribute()
    source = UnicodeAttribute()
    at = UTCDateTimeAttribute()


class SurveyAnswerItem(_Item):
    """pk=ISSUE#<id>, sk=SURVEY#<csat|nps>: the customer's answer to one question about the issue."""

    score = NumberAttribute()
    answered_at = UTCDateTimeAttribute()
    first_answered_at = UTCDateTimeAttribute()
    comment = UnicodeAttribute(default="")


class RecoveryLinkItem(_Item):
    """pk=ISSUE#<id>, sk=RECOVERY: the service-recovery issue an unhappy answer opened (one per issue)."""

    recovery_issue_id = UnicodeAttribute()


class RateLimitItem(_Item):
    """pk=RATE#<key, naming its window>, sk=RATE: an atomic counter of hits, or a set of distinct
    units (e.g. form submissions), for one rate limit's window (TTL: the window's end)."""

    hits = NumberAttribute(null=True)
    units = UnicodeSetAttribute(null=True)
    expires_at = NumberAttribute()


class LinkUseItem(_Item):
    """pk=LINKUSE#<use id>, sk=USED: a single-use link (e.g. a customer's "My issues" link) was
    opened; written once, on condition that it is not there (TTL: the link's expiry)."""

    used_at = UTCDateTimeAttribute()
    expires_at = NumberAttribute()
