"""What the ops report (`GET /ops/kpis`, the dashboard) costs to compute from a month of roll-ups,
summed in place and summed as it was before, in one run.

    python -m bench.kpi_report [--issues 5600] [--days 30] [--repeat 3]

Builds the stored aggregates of a month as dense as `make demo-data`'s (9 types, 3 channels, each
issue with its first response, resolution and two tasks' durations), then times
`kpi_rollups.report` over the whole month twice: as it is, and with each sum made as before this
change (a new aggregate per addition, its fields copied through `dataclasses.asdict`). Only the
domain's work is timed: reading the roll-ups from DynamoDB is not. Prints the median of
`--repeat` runs of each, and their ratio.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from chalicelib.domain.kpi_rollups import Aggregate, Bucket, report

TYPES = (
    "rude-staff",
    "late-delivery",
    "damaged-product",
    "billing-dispute",
    "service-outage",
    "general-enquiry",
    "service-recovery",
    "triage",
    "demo-quick",
)
CHANNELS = ("web", "email", "api")


def month(issues: int, days: int, seed: int = 7) -> dict[Bucket, Aggregate]:
    rng = random.Random(seed)
    start = date(2026, 11, 1)
    buckets: dict[Bucket, Aggregate] = {}
    for _ in range(issues):
        key = (start + timedelta(days=rng.randrange(days)), rng.choice(TYPES), rng.choice(CHANNELS))
        found = buckets.setdefault(key, Aggregate())
        found.contacts += 1
        found.first_response_seconds.append(rng.uniform(60, 86_400))
        found.resolved += 1
        found.resolved_one_contact += rng.random() < 0.7
        found.resolution_seconds.append(rng.uniform(3_600, 10 * 86_400))
        for step in ("first_look", f"{key[1]}_decision"):
            found.tasks_opened += 1
            found.tasks_completed += 1
            counts = found.sla.setdefault(step, [0, 0])
            counts[0] += rng.random() < 0.8
            counts[1] += 1
            found.step_completed[step] = found.step_completed.get(step, 0) + 1
            found.step_seconds.setdefault(step, []).append(rng.uniform(600, 3 * 86_400))
        if rng.random() < 0.1:
            level = str(rng.randint(1, 3))
            found.escalations[level] = found.escalations.get(level, 0) + 1
        found.csat_answers += rng.random() < 0.6
    return buckets


def _sum_as_before(self: Aggregate, other: Aggregate) -> Aggregate:
    """An addition as `Aggregate.__add__` made it before: a new aggregate, fields through asdict."""
    merged = Aggregate()
    for name, value in asdict(self).items():
        theirs = getattr(other, name)
        if isinstance(value, list):
            setattr(merged, name, value + theirs)
        elif name == "sla":
            steps = {s: list(v) for s, v in value.items()}
            for step, (met, done) in theirs.items():
                ours = steps.setdefault(step, [0, 0])
                ours[0] += met
                ours[1] += done
            merged.sla = steps
        elif name == "step_seconds":
            merged.step_seconds = {s: value.get(s, []) + theirs.get(s, []) for s in {*value, *theirs}}
        elif isinstance(value, dict):
            setattr(merged, name, {k: value.get(k, 0) + theirs.get(k, 0) for k in {*value, *theirs}})
        else:
            setattr(merged, name, value + theirs)
    return merged


def timed(buckets: dict[Bucket, Aggregate], days: int, repeat: int) -> tuple[float, dict[str, Any]]:
    start = min(key[0] for key in buckets)
    end = start + timedelta(days=days - 1)
    walls, answer = [], {}
    for _ in range(repeat):
        began = time.perf_counter()
        answer = report(buckets, start, end, end)
        walls.append(time.perf_counter() - began)
    return statistics.median(walls), answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=5600)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    buckets = month(args.issues, args.days)
    now, answer = timed(buckets, args.days, args.repeat)
    in_place = Aggregate.__iadd__
    Aggregate.__iadd__ = _sum_as_before  # type: ignore[method-assign]
    try:
        before, answer_before = timed(buckets, args.days, args.repeat)
    finally:
        Aggregate.__iadd__ = in_place  # type: ignore[method-assign]
    assert answer == answer_before, "the two ways of summing gave different reports"
    print(f"report of {args.issues} issues over {args.days} days ({len(buckets)} day, type and channel buckets):")
    print(f"  summed as before   {before * 1000:8.1f} ms")
    print(f"  summed in place    {now * 1000:8.1f} ms")
    print(f"  ratio {before / now:.1f}")


if __name__ == "__main__":
    main()
