"""The KPI journal, the hourly roll-ups and the backlog snapshots in the single table, by key only.

- journal: `KPIJOURNAL#<YYYY-MM-DDTHH>#<shard>` / `<event key>`: one item per KPI event, in one of
  the JOURNAL_SHARDS partitions of the hour it happened, chosen by a hash of its key (so a retried
  event lands on its first copy, which the conditional put keeps). The roll-up reads every shard.
- roll-up: `KPI#<cohort day>` / `HOUR#<YYYY-MM-DDTHH>#<type>#<channel>`: what one hour's events
  add to a cohort day, replaced whole by each roll-up of that hour.
- backlog: `KPI#<day>` / `BACKLOG#<YYYY-MM-DDTHH:MM>`: open issues' ages per type and channel.
"""

from __future__ import annotations

import json
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError

from chalicelib.adapters.dynamodb.models import _Item
from chalicelib.domain.kpi_events import KpiEvent
from chalicelib.domain.kpi_rollups import Aggregate, BacklogSnapshot, Bucket

JOURNAL = "KPIJOURNAL#"
#: About 6.2 events per issue: at 100 issues/s one hour's key would take 620 writes/s of DynamoDB's
#: 1,000 per partition key; 16 shards take about 39 each, room for ten times that load, and the
#: roll-up reads 16 queries at once, each a sixteenth of the hour.
JOURNAL_SHARDS = 16
#: Shards read at once: fewer than the 10 HTTP connections pynamodb's client keeps open.
JOURNAL_READERS = 8
DAY = "KPI#"
HOUR = "HOUR#"
BACKLOG = "BACKLOG#"
#: Long enough to roll any hour up again after a fix; the roll-ups themselves are kept.
JOURNAL_LIFETIME = timedelta(days=400)


class KpiJournalItem(_Item):
    event = JSONAttribute()
    expires_at = NumberAttribute()


class KpiDayItem(_Item):
    """A roll-up (`HOUR#…`: aggregate) or a backlog snapshot (`BACKLOG#…`: ages) of a day."""

    aggregate = JSONAttribute(null=True)
    rolled_at = UTCDateTimeAttribute(null=True)
    #: JSON {"<type>|<channel>": [ages in seconds]}
    ages = UnicodeAttribute(null=True)


def _hour_key(hour: datetime) -> str:
    return hour.strftime("%Y-%m-%dT%H")


def journal_shard(event_key: str) -> int:
    """The journal shard of an event: the same every time for the same key (crc32, unlike Python's
    `hash`, does not change between processes)."""
    return zlib.crc32(event_key.encode()) % JOURNAL_SHARDS


def _journal_partition(hour: datetime, shard: int) -> str:
    return f"{JOURNAL}{_hour_key(hour)}#{shard:02d}"


def _query(partition: str) -> list[KpiJournalItem]:
    return list(KpiJournalItem.query(partition, consistent_read=True))


class KpiRepository:
    #: Queries and items read since the process started (the roll-up benchmark reports them).
    reads = {"queries": 0, "items": 0}

    def append(self, event: KpiEvent) -> None:
        item = KpiJournalItem(
            _journal_partition(event.at, journal_shard(event.key)),
            event.key,
            event=event.as_dict(),
            expires_at=int((event.at + JOURNAL_LIFETIME).timestamp()),
        )
        try:
            item.save(condition=KpiJournalItem.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def journal(self, hour: datetime) -> list[KpiEvent]:
        """The hour's events in key order, its shards queried in parallel."""
        partitions = [_journal_partition(hour, shard) for shard in range(JOURNAL_SHARDS)]
        with ThreadPoolExecutor(max_workers=JOURNAL_READERS) as pool:
            shards = list(pool.map(_query, partitions))
        items = sorted((item for shard in shards for item in shard), key=lambda item: item.sk)
        self._count(items, queries=len(shards))
        return [KpiEvent.from_dict(item.event) for item in items]

    def save_rollup(self, hour: datetime, buckets: dict[Bucket, Aggregate]) -> None:
        now = datetime.now(hour.tzinfo)
        with KpiDayItem.batch_write() as batch:
            for (day, type_id, channel), aggregate in buckets.items():
                sort_key = f"{HOUR}{_hour_key(hour)}#{type_id}#{channel}"
                batch.save(
                    KpiDayItem(f"{DAY}{day.isoformat()}", sort_key, aggregate=aggregate.as_dict(), rolled_at=now)
                )

    def save_backlog(self, snapshot: BacklogSnapshot) -> None:
        ages = {f"{type_id}|{channel}": values for (type_id, channel), values in snapshot.ages.items()}
        KpiDayItem(
            f"{DAY}{snapshot.at.date().isoformat()}",
            f"{BACKLOG}{snapshot.at.strftime('%Y-%m-%dT%H:%M')}",
            ages=json.dumps(ages, separators=(",", ":")),
        ).save()

    def day(self, day: date) -> tuple[dict[Bucket, Aggregate], list[BacklogSnapshot]]:
        """A cohort day's aggregates (summed over the hours that added to it) and its backlog
        snapshots, oldest first: one Query."""
        items = list(KpiDayItem.query(f"{DAY}{day.isoformat()}"))
        self._count(items)
        buckets: dict[Bucket, Aggregate] = {}
        snapshots = []
        for item in items:
            if item.sk.startswith(HOUR):
                type_id, _, channel = item.sk.removeprefix(HOUR).split("#", 1)[1].partition("#")
                aggregate = Aggregate.from_dict(item.aggregate or {})
                summed = buckets.setdefault((day, type_id, channel), Aggregate())
                summed += aggregate
            elif item.sk.startswith(BACKLOG):
                ages = {tuple(k.split("|", 1)): [int(a) for a in v] for k, v in json.loads(item.ages or "{}").items()}
                at = datetime.fromisoformat(item.sk.removeprefix(BACKLOG) + "+00:00")
                snapshots.append(BacklogSnapshot(at, ages))  # type: ignore[arg-type]
        return buckets, snapshots

    def _count(self, items: list, queries: int = 1) -> None:
        KpiRepository.reads["queries"] += queries
        KpiRepository.reads["items"] += len(items)
