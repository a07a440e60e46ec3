"""How late escalation timers fire on the embedded stack.

    python -m bench.timers [--deadlines 50] [--seconds 3]

Starts `python -m chalicelib.local` on free ports, publishes a one-step issue type whose deadline
is `--seconds` long (a warning at 50 %, escalation level 1 at the deadline, level 2 `--seconds`
later), files one issue per deadline over a few seconds and reads each issue's timeline.
Lateness of a checkpoint = when its timeline event was recorded - the moment it was planned for
(from the task as opened). Step Functions' own history splits it in two: the timer (the wait
state after the checkpoint entered late) and the delivery (the task queue message reaching the
handler, which records the event).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.deadlines import MIN_TIMER_SECONDS
from chalicelib.local.pump import CONCURRENCY
from harness import Embedded

TYPE_ID = "bench-timers"
STEP_ID = "wait"
WARNING_PERCENT = 50
#: Checkpoint index (0 is the opening) -> its row in the report.
CHECKPOINTS = {0: "open (no timer)", 1: f"warning ({WARNING_PERCENT} %)", 2: "deadline = level 1", 3: "level 2"}
TIMED = (1, 2, 3)
POLL_SECONDS = 1.0


def definition(seconds: int) -> dict[str, Any]:
    return {
        "id": TYPE_ID,
        "name": "Timer benchmark",
        "fields": [{"id": "n", "type": "number", "required": True}],
        "steps": [
            {
                "id": STEP_ID,
                "name": "Wait",
                "role": "agent",
                "deadline": f"PT{seconds}S",
                "warnings": [WARNING_PERCENT],
                "fields": [{"id": "x", "type": "text"}],
                "escalation": [
                    {"after": "PT0S", "reassign": "store-manager"},
                    {"after": f"PT{seconds}S", "notify": ["hr"]},
                ],
            }
        ],
    }


@dataclass
class Issue:
    id: str
    filed_at: float
    planned: dict[int, datetime] = field(default_factory=dict)
    recorded: dict[int, datetime] = field(default_factory=dict)
    fired: dict[int, datetime] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return all(index in self.recorded for index in CHECKPOINTS)


def _moment(raw: str) -> datetime:
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


def read_timeline(issue: Issue, timeline: list[dict[str, Any]], seconds: int) -> None:
    """Planned moments from the task as opened; the moment each checkpoint's event was recorded."""
    for event in timeline:
        kind, data, at = event["kind"], event.get("data") or {}, _moment(event["at"])
        if kind == "task_opened" and data.get("step") == STEP_ID:
            due = _moment(data["due_at"])
            issue.planned[0] = due - timedelta(seconds=seconds)
            issue.planned[1] = _moment(data["next_checkpoint_at"])
            issue.planned[2] = due
            issue.planned[3] = due + timedelta(seconds=seconds)
            issue.recorded.setdefault(0, at)
        elif kind == "sla_warning":
            issue.recorded.setdefault(1, at)
        elif kind == "escalated":
            level = data.get("level", data.get("escalation_level"))
            if level in (1, 2):
                issue.recorded.setdefault(1 + level, at)


def read_history(stack: Embedded, issues: list[Issue]) -> None:
    """When each wait state was entered, i.e. when the timer before its checkpoint fired."""
    sfn = stack.sfn
    machines = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if TYPE_ID in m["name"]]
    executions: dict[str, str] = {}
    for arn in machines:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
            executions.update({e["name"]: e["executionArn"] for e in page["executions"]})
    for issue in issues:
        arn = executions.get(issue.id)
        if arn is None:
            continue
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
            for event in page["events"]:
                name = (event.get("stateEnteredEventDetails") or {}).get("name", "")
                if name.startswith(f"{STEP_ID}.wait_") and (index := int(name.rpartition("_")[2])) > 0:
                    issue.fired.setdefault(index, event["timestamp"])  # wait_k follows checkpoint k's timer
                elif name == STEP_ID:  # the opening
                    issue.fired.setdefault(0, event["timestamp"])


def stats(values: Iterable[float]) -> str:
    ordered = sorted(values)
    if not ordered:
        return f"{0:>6}  {'-':>7}  {'-':>7}  {'-':>7}"
    p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]
    return f"{len(ordered):>6}  {statistics.median(ordered):>7.3f}  {p90:>7.3f}  {ordered[-1]:>7.3f}"


def poll(stack: Embedded, headers: dict[str, str], issues: list[Issue], seconds: int) -> None:
    """Read timelines in filing order, stopping at the first incomplete one.

    Checkpoints come due roughly in filing order, and every read loads the stack being measured.
    """
    for issue in issues:
        if issue.complete:
            continue
        if time.monotonic() < issue.filed_at + 2 * seconds:
            return
        details = stack.get(f"/agent/issues/{issue.id}", headers=headers)
        assert details.status_code == 200, details.text
        read_timeline(issue, details.json()["timeline"], seconds)
        if not issue.complete:
            return


def pump_load(log: str) -> tuple[int, float, float]:
    """From the stack's log: task queue messages handled, seconds from the first to the last, and the
    median gap between consecutive ones (about one handler's run while messages queue up)."""
    moments = []
    for line in log.splitlines():
        if line.startswith("{") and '"workflow message"' in line:
            try:
                stamp = json.loads(line).get("timestamp", "")
            except ValueError:
                continue  # a line another process's output cut into
            moments.append(datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f%z"))
    if len(moments) < 2:
        return len(moments), 0.0, 0.0
    gaps = [(b - a).total_seconds() for a, b in zip(moments, moments[1:], strict=False)]
    return len(moments), (moments[-1] - moments[0]).total_seconds(), statistics.median(gaps)


def _spans(issues: list[Issue], end: str, start: str, index: int) -> list[float]:
    """Seconds from `start` to `end` (attributes: planned, fired, recorded) of checkpoint `index`."""
    found = []
    for issue in issues:
        finish, begin = getattr(issue, end).get(index), getattr(issue, start).get(index)
        if finish is not None and begin is not None:
            found.append(round((finish - begin).total_seconds(), 3) + 0.0)
    return found


SECTIONS = (
    ("late: event recorded - planned moment (s)", "recorded", "planned"),
    ("of which timer: the wait state after it entered - planned moment (s)", "fired", "planned"),
    ("of which delivery: event recorded - that state entered (s)", "recorded", "fired"),
)


def report(stack: Embedded, issues: list[Issue], args: argparse.Namespace, took: float, waited_out: bool) -> None:
    print(
        f"Timer lateness on the embedded stack: {len(issues)} issues, deadline {args.seconds} s, "
        f"warning at {WARNING_PERCENT} %, level 2 at deadline + {args.seconds} s (24x7 calendar)"
    )
    print(f"stack start-up {stack.started_in:.1f} s; filed over {args.spread:.1f} s; measured for {took:.1f} s")
    header = f"{'checkpoint':<20}  {'count':>6}  {'median':>7}  {'p90':>7}  {'max':>7}"
    medians: dict[str, float] = {}
    for title, end, start in SECTIONS:
        print(f"\n{title}\n{header}")
        every: list[float] = []
        for index, label in CHECKPOINTS.items():
            values = _spans(issues, end, start, index) if index in TIMED or end != "fired" else []
            if index in TIMED:
                every += values
            print(f"{label:<20}  {stats(values)}")
        print(f"{'all timed':<20}  {stats(every)}")
        medians[end + start] = statistics.median(every) if every else 0.0
    missing = {label: sum(1 for i in issues if k not in i.recorded) for k, label in CHECKPOINTS.items()}
    if waited_out or any(missing.values()):
        print(f"\nnote: not seen before the time limit: {', '.join(f'{k} {v}' for k, v in missing.items() if v)}")
    opened = _spans(issues, "recorded", "fired", 0)
    handled, span, gap = pump_load(stack.log_text())
    print(
        f"\nnote: delivery: a checkpoint's event is recorded a median {medians['recordedfired']:.2f} s after its state "
        "entered (queue + handler); "
        f"the local pump runs up to {CONCURRENCY} handlers at once: {handled} messages "
        f"({handled / max(1, len(issues)):.0f} per issue) in {span:.1f} s, a median {gap:.3f} s apart."
    )
    print(
        f"note: timers: each timer is whole seconds, rounded up, at least {MIN_TIMER_SECONDS} s (deadlines.timers), "
        f"counted from when the opening is handled (median {statistics.median(opened or [0]):.2f} s after the step "
        "opened) or the previous timer fired, so a late opening or a rounded timer makes every later checkpoint late."
    )
    errors = [line for line in stack.log_text().splitlines() if " ERROR " in line or line.startswith("Traceback")]
    errors += [line for line in stack.log_text().splitlines() if line.startswith("{") and '"level":"ERROR"' in line]
    if errors:
        print(f"note: the stack's log has {len(errors)} error lines; first: {errors[0][:200]}")


def wait_for_first_model(stack: Embedded, admin: dict[str, str], limit: float = 300.0) -> str:
    """Wait until a fresh stack has trained its first model (a one-off of start-up, in a process of
    its own that still takes a core), so that what is measured is the timers of a running stack;
    says how long that took, or that it did not come within `limit` seconds."""
    began = time.monotonic()
    while time.monotonic() - began < limit:
        if stack.get("/admin/classifier", headers=admin).json().get("current"):
            return f"the stack's first model trained {time.monotonic() - began:.1f} s after sign-in"
        time.sleep(POLL_SECONDS)
    return f"no first model {limit:.0f} s after sign-in (the training still takes a core)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadlines", type=int, default=50, help="issues filed, one deadline each")
    parser.add_argument("--seconds", type=int, default=3, help="the deadline, and level 2's delay after it")
    parser.add_argument("--spread", type=float, default=3.0, help="seconds over which the issues are filed")
    parser.add_argument("--timeout", type=float, default=0, help="seconds to wait for every checkpoint")
    parser.add_argument(
        "--during-first-training",
        action="store_true",
        help="file the issues at once, while a fresh stack trains its first model, rather than after it",
    )
    args = parser.parse_args()
    timeout = args.timeout or 60 + 4 * args.seconds + args.deadlines
    stack = Embedded()
    try:
        with stack:
            ada = stack.sign_in("ada")
            if not args.during_first_training:
                print(f"{wait_for_first_model(stack, ada)}; now filing", flush=True)
            put = stack.put(f"/admin/issue-types/{TYPE_ID}", definition(args.seconds), headers=ada)
            assert put.status_code in (200, 201), put.text
            issues: list[Issue] = []
            begun = time.monotonic()
            for n in range(args.deadlines):
                time.sleep(max(0.0, begun + n * args.spread / max(1, args.deadlines) - time.monotonic()))
                body = {
                    "type": TYPE_ID,
                    "customer": {"email": f"bench+{n}@example.com", "name": "Bench"},
                    "fields": {"n": n},
                }
                filed = stack.post("/issues", body)
                assert filed.status_code == 201, filed.text
                issues.append(Issue(filed.json()["id"], time.monotonic()))
            waited_out = False
            while not all(i.complete for i in issues):
                if time.monotonic() - begun > timeout:
                    waited_out = True
                    break
                time.sleep(POLL_SECONDS)
                poll(stack, ada, issues, args.seconds)
            took = time.monotonic() - begun
            read_history(stack, issues)
        report(stack, issues, args, took, waited_out)
        if stack.exit_code != 0:
            print(f"note: the stack exited with code {stack.exit_code} on SIGINT")
    finally:
        stack.cleanup()


if __name__ == "__main__":
    main()
