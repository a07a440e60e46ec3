"""How soon the first task of a fresh embedded stack opens: `python -m bench.first_task`.

    python -m bench.first_task [--issues 3] [--type demo-quick]

Starts `python -m chalicelib.local` on free ports and, as soon as it answers, files `--issues`
issues one after another (the first while the classifier's first model trains at start-up), each
waiting for its first task. For each: seconds from POST /issues to the `task_opened` event on the
issue's timeline (recorded by the stack, on this machine's clock), and whether the training job
had ended by then (its log line). Target (issue 21): the first one within 1 s.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from harness import Embedded

POLL_SECONDS = 0.05
TIMEOUT_SECONDS = 60.0


def _moment(raw: str) -> datetime:
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


def task_opened_at(stack: Embedded, headers: dict[str, str], issue_id: str) -> datetime:
    """When the issue's first task opened, from its timeline (polled until it has)."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        page = stack.get(f"/agent/issues/{issue_id}", headers=headers)
        assert page.status_code == 200, page.text
        opened = [e for e in page.json()["timeline"] if e["kind"] == "task_opened"]
        if opened:
            return _moment(opened[0]["at"])
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"no task opened on {issue_id} within {TIMEOUT_SECONDS:.0f} s")


def training_done(stack: Embedded) -> bool:
    return '"classifier training"' in stack.log_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=3, help="issues filed one after another")
    parser.add_argument("--type", default="demo-quick", help="a seeded type whose first step is a task")
    args = parser.parse_args()
    stack = Embedded()
    rows = []
    try:
        with stack:
            ada = stack.sign_in("ada")
            for n in range(args.issues):
                sent = datetime.now(UTC)
                filed = stack.post(
                    "/issues",
                    {
                        "type": args.type,
                        "customer": {"email": f"first+{n}@example.com", "name": "First"},
                        "fields": {"summary": "The parcel arrived damaged and nobody answers"},
                    },
                )
                assert filed.status_code == 201, filed.text
                answered = (datetime.now(UTC) - sent).total_seconds()
                opened = (task_opened_at(stack, ada, filed.json()["id"]) - sent).total_seconds()
                rows.append((n + 1, answered, opened, training_done(stack)))
    finally:
        stack.cleanup()
    print(f"First tasks on a fresh embedded stack (start-up {stack.started_in:.1f} s, type {args.type})")
    print(f"{'issue':>5}  {'POST answered (s)':>17}  {'task opened (s)':>15}  training ended by then")
    for number, answered, opened, done in rows:
        print(f"{number:>5}  {answered:>17.2f}  {opened:>15.2f}  {'yes' if done else 'no'}")
    print(f"first task opened {rows[0][2]:.2f} s after POST /issues (target: 1 s or less)")


if __name__ == "__main__":
    main()
