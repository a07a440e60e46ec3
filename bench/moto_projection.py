"""What a Query of the open-issues index costs moto with each item projected from one reading
(`moto_patches`) and with moto's own projection, in one run.

    python -m bench.moto_projection [--issues 300] [--queries 20]

On moto in-process it creates the product's table (`schema.create_table_request`) and puts
`--issues` open issues of one type, each shaped as the stack stores one (about 1 kB: the fields,
the run, the indexes' keys). Then it Queries that type's partition of the open-issues index, as
the hourly backlog snapshot does, `--queries` times with each projection in turn, and prints per
Query the median wall time and how many times moto turned an item into plain JSON. The answers of
both are compared: they must be the same items.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

TYPE_ID = "billing-dispute"


def issue_item(n: int) -> dict[str, Any]:
    created = f"2026-11-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00"
    return {
        "pk": f"ISSUE#{n:026d}",
        "sk": "ISSUE",
        "gsi4pk": f"OPEN#{TYPE_ID}",
        "gsi4sk": f"{created}+00:00",
        "gsi5pk": f"OPENED#{TYPE_ID}",
        "gsi5sk": f"{created}#{n:026d}",
        "type_id": TYPE_ID,
        "type_version": 1,
        "channel": "email" if n % 2 else "web",
        "created_at": f"{created}.000000+0000",
        "status": "open",
        "current_step": "billing_review",
        "customer_id": f"CUSTOMER{n:020d}",
        "reference": f"CF-{n:05d}",
        "priority": "normal",
        "reopenings": 0,
        "version": 3,
        "auto_reply_blocked": "",
        "execution_arn": f"arn:aws:states:us-east-1:123456789012:execution:caseflow-{TYPE_ID}-v1:{n}",
        "run": {"started_at": created, "step": "billing_review", "answers": {"triage": {"ok": True}}},
        "fields": {
            "invoice_number": f"INV-{n:06d}",
            "amount": n % 500,
            "description": "I was charged twice for the same order and would like the second charge refunded. " * 3,
            "order": {"id": f"AA{n:06d}", "placed": created},
        },
    }


def timed_queries(query: Callable[[], list[dict]], times: int) -> tuple[float, list[dict]]:
    walls = []
    for _ in range(times):
        began = time.perf_counter()
        items = query()
        walls.append(time.perf_counter() - began)
    return statistics.median(walls), items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=300)
    parser.add_argument("--queries", type=int, default=20)
    args = parser.parse_args()

    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import dynamo_type

    from chalicelib.adapters.dynamodb.schema import OPEN_ISSUES_INDEX, create_table_request
    from chalicelib.local import moto_patches

    moto_patches.apply()
    patched = dynamo_type.Item.project
    own = patched.__wrapped__
    readings = 0
    to_json = dynamo_type.Item.to_regular_json

    def counted(self: Any) -> Any:
        nonlocal readings
        readings += 1
        return to_json(self)

    dynamo_type.Item.to_regular_json = counted
    with mock_aws():
        table = boto3.resource("dynamodb", region_name="us-east-1").create_table(**create_table_request("bench"))
        with table.batch_writer() as batch:
            for n in range(args.issues):
                batch.put_item(Item=issue_item(n))

        def query() -> list[dict]:
            return table.query(
                IndexName=OPEN_ISSUES_INDEX,
                KeyConditionExpression="gsi4pk = :p",
                ExpressionAttributeValues={":p": f"OPEN#{TYPE_ID}"},
            )["Items"]

        results = {}
        for name, project in (("moto's own projection", own), ("projected from one reading", patched)):
            dynamo_type.Item.project = project
            readings = 0
            wall, items = timed_queries(query, args.queries)
            results[name] = (wall, readings / args.queries / max(len(items), 1), items)
        dynamo_type.Item.project = patched
    dynamo_type.Item.to_regular_json = to_json

    (own_wall, _, own_items), (patched_wall, _, patched_items) = results.values()
    assert own_items == patched_items, "the two projections answered different items"
    print(f"Query of {args.issues} open issues on {OPEN_ISSUES_INDEX}, median of {args.queries}:")
    for name, (wall, per_item, items) in results.items():
        print(f"  {name:28} {wall * 1000:7.1f} ms  {per_item:4.1f} readings as JSON per item  ({len(items)} items)")
    print(f"  ratio {own_wall / patched_wall:.2f}")


if __name__ == "__main__":
    main()
