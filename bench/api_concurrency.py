"""How many concurrent requests the local API answers.

    python -m bench.api_concurrency [--requests 200] [--path /issue-types] [--base http://127.0.0.1:8000]

Without `--base` it starts the embedded stack (`python -m chalicelib.local`) on free ports; with it, it
uses a stack already running there. All requests are released at once, each on its own connection,
and each outcome is counted: an HTTP status, or the connection error it ended in.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

from harness import Embedded


def burst(base: str, path: str, count: int, timeout: float = 120) -> Counter[str]:
    """Send `count` GET requests at once, each on a new connection; count the outcomes."""
    start = threading.Barrier(count)

    def one(_: int) -> str:
        start.wait()
        try:
            return str(requests.get(f"{base}{path}", timeout=timeout).status_code)
        except requests.RequestException as exc:
            return type(exc).__name__

    with ThreadPoolExecutor(max_workers=count) as pool:
        return Counter(pool.map(one, range(count)))


def report(outcomes: Counter[str], count: int, seconds: float) -> str:
    answered = sum(n for outcome, n in outcomes.items() if outcome.isdigit())
    detail = ", ".join(f"{outcome}: {n}" for outcome, n in sorted(outcomes.items()))
    return f"{answered} of {count} concurrent requests answered in {seconds:.1f} s ({detail})"


def errors(log: str) -> list[str]:
    """The distinct exceptions behind the stack's error responses, most frequent first."""
    found: Counter[str] = Counter()
    for line in log.splitlines():
        if '"exception"' not in line:
            continue
        try:
            record = json.loads(line[line.index("{") :])
        except ValueError:
            continue
        found[str(record.get("exception", "")).strip().splitlines()[-1][:200]] += 1
    return [f"{n} x {line}" for line, n in found.most_common(10)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--path", default="/issue-types")
    parser.add_argument("--base", help="a running stack's API, e.g. http://127.0.0.1:8000")
    args = parser.parse_args()
    if args.base:
        began = time.monotonic()
        print(report(burst(args.base, args.path, args.requests), args.requests, time.monotonic() - began))
        return
    embedded = Embedded()
    try:
        with embedded:
            began = time.monotonic()
            outcomes = burst(embedded.base, args.path, args.requests)
            print(report(outcomes, args.requests, time.monotonic() - began))
            if any(outcome.startswith("5") for outcome in outcomes):
                print("the stack's errors:", *errors(embedded.log_text()), sep="\n  ")
    finally:
        embedded.cleanup()


if __name__ == "__main__":
    main()
