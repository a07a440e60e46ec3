"""State transitions per issue for each seeded issue type, on moto in-process.

    python -m bench.transitions

AWS bills Standard workflows per state transition. For each seeded type (and, where it branches,
each path worth comparing) this files one issue, completes every task as soon as it opens (as a
demo agent who holds it) and answers for the customer when a step waits for them, until the
execution succeeds; then it counts the `...StateEntered` events of the execution's history.
Transitions, unlike timings, are stable between runs.
"""

from __future__ import annotations

import argparse
import copy
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from re import _parser as sre  # type: ignore[attr-defined]
from typing import Any

from chalicelib.domain.issues import WEB, Customer
from harness import InProcess, in_process

PRICE_PER_1000_TRANSITIONS = 0.025
#: Step ids the compiler adds around the steps; not part of the path shown.
FRAME_STATES = ("acknowledge", "resolve", "resolved")
SHORT_WAIT_SUFFIX = "-no-reply"


@dataclass(frozen=True)
class Variant:
    """One path through a type: customer field values and step results that choose the branches."""

    label: str = "only path"
    fields: dict[str, Any] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: False: the customer never replies; the type is published again with 1 s waits, same states.
    reply: bool = True


VARIANTS: dict[str, list[Variant]] = {
    "billing-dispute": [
        Variant("refund <= 100, customer replies", results={"billing_review": {"refund_amount": 0}}),
        Variant("refund > 100: finance approval", results={"billing_review": {"refund_amount": 150}}),
        Variant("no reply: auto-closed", results={"billing_review": {"refund_amount": 0}}, reply=False),
    ],
    "damaged-product": [
        Variant("replacement", results={"assess": {"decision": "replacement"}}),
        Variant("refund", results={"assess": {"decision": "return_and_refund"}}),
    ],
    "general-enquiry": [
        Variant("answered at first contact", results={"answer": {"needs_follow_up": False}}),
        Variant("follow-up, customer replies", results={"answer": {"needs_follow_up": True}}),
        Variant("follow-up, no reply: auto-closed", results={"answer": {"needs_follow_up": True}}, reply=False),
    ],
    "rude-staff": [Variant("store without a named manager", fields={"store": "manchester-arndale"})],
    "service-outage": [
        Variant("sev3", results={"triage": {"severity": "sev3"}}),
        Variant("sev2: engineering fix", results={"triage": {"severity": "sev2"}}),
        Variant("sev1: fix + parallel review", results={"triage": {"severity": "sev1"}}),
    ],
}


# Sample values


def sample_matching(pattern: str) -> str | None:
    """The shortest string a simple regular expression matches (character classes, repeats, groups)."""

    def build(items: Any) -> str:
        out = []
        for op, arg in items:
            if op is sre.LITERAL:
                out.append(chr(arg))
            elif op is sre.IN:
                out.append(build([arg[0]]) if arg[0][0] is not sre.RANGE else chr(arg[0][1][0]))
            elif op is sre.RANGE:
                out.append(chr(arg[0]))
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
                out.append(build(arg[2]) * arg[0])
            elif op is sre.SUBPATTERN:
                out.append(build(arg[-1]))
            elif op is sre.BRANCH:
                out.append(build(arg[1][0]))
            elif op is sre.CATEGORY:
                out.append({sre.CATEGORY_DIGIT: "0", sre.CATEGORY_SPACE: " "}.get(arg, "a"))
            elif op is sre.ANY:
                out.append("a")
        return "".join(out)

    try:
        sample = build(sre.parse(pattern))
    except (re.error, TypeError, IndexError, ValueError):
        return None
    return sample if re.fullmatch(pattern, sample) else None


def sample_value(spec: Any) -> Any:
    """A valid value for a field spec (chalicelib.domain.fields.FieldSpec)."""
    kind = spec.type
    if kind == "choice":
        return spec.options[0].value
    if kind == "multi_choice":
        return [spec.options[0].value]
    if kind == "yes_no":
        return True
    if kind == "number":
        low, high = spec.min, spec.max
        if (low is None or low <= 1) and (high is None or high >= 1):
            return 1
        return low if low is not None else high
    if kind == "date":
        bound = spec.min if spec.min not in (None, "today") else None
        return str(bound) if bound else date.today().isoformat()
    if kind == "datetime":
        return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    if kind == "email":
        return "bench@example.com"
    if kind == "phone":
        return "+44 113 496 0000"
    if spec.pattern and (matched := sample_matching(spec.pattern)):
        return matched
    text = "A benchmark answer, long enough for any minimum length."
    return text[: spec.max] if spec.max else text


def sample_values(specs: Any, overrides: dict[str, Any]) -> dict[str, Any]:
    """Values for every field shown, overrides first; fields hidden by `shown_when` are left out."""
    values: dict[str, Any] = {}
    for spec in specs:
        values[spec.id] = overrides[spec.id] if spec.id in overrides else sample_value(spec)
    return {
        key: value
        for key, value in values.items()
        if not (shown := next(s for s in specs if s.id == key).shown_when) or shown.holds(values)
    }


# Driving one issue


@dataclass
class Run:
    type_id: str
    variant: Variant
    status: str = ""
    issue_id: str = ""
    path: list[str] = field(default_factory=list)
    transitions: int = 0
    events: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)


def without_replies(definition: dict[str, Any]) -> dict[str, Any] | None:
    """The type with every customer wait at 1 s on the 24x7 calendar, or None if it has no wait."""
    changed = copy.deepcopy(definition)
    waits = [s for s in changed["steps"] if s.get("kind") == "wait_for_customer"]
    if not waits:
        return None
    for step in waits:
        step.update(remind_after="PT1S", close_after="PT1S", calendar="24x7")
    changed["id"] = definition["id"] + SHORT_WAIT_SUFFIX
    changed["name"] = definition["name"] + " (waits of 1 s)"
    return changed


def users_by_role() -> dict[str, str]:
    from chalicelib.local.provision import DEMO_AGENTS

    found: dict[str, str] = {}
    for user, role in DEMO_AGENTS.items():
        found.setdefault(role, user)
    return found


def planned_runs(stack: InProcess) -> Iterator[tuple[Run, str]]:
    """A run for each seeded type and variant, with the type id to file it under.

    A no-reply variant files under a copy of its type with 1 s waits, published here. A run that
    cannot be driven comes with an empty type id, its status and problem already set.
    """
    from chalicelib.workflows.seeds import load_seed_definitions

    for definition in load_seed_definitions():
        type_id = definition["id"]
        for variant in VARIANTS.get(type_id, [Variant()]):
            run = Run(type_id, variant)
            if variant.reply:
                yield run, type_id
            elif (quick := without_replies(definition)) is None:
                run.status, run.problems = "skipped", ["no wait_for_customer step"]
                yield run, ""
            else:
                yield run, stack.services.issue_types.publish(quick).type_id


def drive(stack: InProcess, run: Run, type_id: str, number: int, timeout: float) -> None:
    """File the issue, answer every task as it opens, until the execution ends; read its history."""
    loaded = stack.services.issue_types.current(type_id)
    issue_type = loaded.issue_type
    customer = {"email": f"bench+{number}@example.com", "name": "Bench Customer"}
    body = {"type": type_id, "customer": customer, "fields": sample_values(issue_type.fields, run.variant.fields)}
    if issue_type.public:
        filed = stack.post("/issues", body)
        if filed.status_code != 201:
            run.status, run.problems = "not filed", [f"POST /issues {filed.status_code}: {filed.body!r}"]
            return
        issue_id = run.issue_id = filed.json_body["id"]
    else:  # customers cannot file it: Caseflow raises it itself (triage from free text, service recovery from a survey)
        who = Customer(id="", email=customer["email"], name=customer["name"])
        raised = stack.services.intake.open_internal(type_id, who, body["fields"], WEB, f"bench-{number}")
        issue_id = run.issue_id = raised.issue.id
    execution = loaded.published.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{issue_id}"
    holders = users_by_role()
    answered: set[str] = set()
    deadline = time.monotonic() + timeout
    while True:
        stack.pump()
        status = stack.sfn.describe_execution(executionArn=execution)["status"]
        if status != "RUNNING":
            run.status = status
            break
        if time.monotonic() > deadline:
            run.status = "timed out"
            break
        details = stack.get(f"/agent/issues/{issue_id}", stack.token("sue")).json_body  # she sees every type
        for task in details["tasks"]:
            if task["status"] != "open" or task["id"] in answered:
                continue
            answered.add(task["id"])
            answer(stack, run, issue_type, task, holders)
        time.sleep(0.02)
    read_history(stack, run, execution, issue_type)


def answer(stack: InProcess, run: Run, issue_type: Any, task: dict[str, Any], holders: dict[str, str]) -> None:
    kind, name = task["assignee"]["kind"], task["assignee"]["name"]
    if kind == "customer":
        if run.variant.reply:
            body = {"text": "I disagree, please look again.", "channel": "email"}
            response = stack.post(f"/agent/issues/{task['issue_id']}/customer-messages", body, stack.token("sue"))
            if response.status_code != 201:
                run.problems.append(f"customer message for {task['step']}: {response.status_code} {response.body!r}")
        return
    user = name if kind == "user" else holders.get(name)
    if user is None:
        run.problems.append(f"{task['step']}: no demo agent holds {kind} {name}")
        return
    step = issue_type.step(task["step"])
    fields = sample_values(step.fields, run.variant.results.get(step.id, {}))
    response = stack.post(f"/agent/tasks/{task['id']}/complete", {"fields": fields}, stack.token(user))
    if response.status_code != 200:
        run.problems.append(f"completing {task['step']} as {user}: {response.status_code} {response.body!r}")


def read_history(stack: InProcess, run: Run, execution: str, issue_type: Any) -> None:
    kwargs: dict[str, Any] = {"executionArn": execution, "maxResults": 1000}
    entered: list[str] = []
    while True:
        page = stack.sfn.get_execution_history(**kwargs)
        run.events += len(page["events"])
        for event in page["events"]:
            if event["type"].endswith("StateEntered"):
                entered.append(event["stateEnteredEventDetails"]["name"])
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    run.transitions = len(entered)
    for name in entered:
        step_id = name.partition(".")[0]
        if name.endswith(".when") or step_id in FRAME_STATES or step_id in run.path:
            continue
        if not _has_step(issue_type, step_id):
            continue
        run.path.append(step_id)
    run.checkpoints = sum(len(issue_type.step(s).checkpoints()) - 1 for s in run.path if issue_type.step(s).deadline)
    if run.status == "SUCCEEDED" and "resolved" not in entered:
        run.problems.append("succeeded without entering 'resolved'")


def _has_step(issue_type: Any, step_id: str) -> bool:
    """Whether the issue type has the step: the entry states (decision 0039) are no steps."""
    try:
        issue_type.step(step_id)
    except KeyError:
        return False
    return True


# Report


def report(runs: list[Run], took: float) -> None:
    price = PRICE_PER_1000_TRANSITIONS
    print("State transitions per issue (AWS Standard workflows bill each one), moto in-process")
    print(f"price: ${price} per 1,000 transitions, i.e. transitions x ${price} per 1,000 issues\n")
    header = (
        f"{'type':<17} {'variant':<32} {'status':<10} {'transitions':>11} {'history':>8} "
        f"{'$/1k issues':>11} {'timers':>6}  steps run"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        cost = run.transitions * price
        print(
            f"{run.type_id:<17} {run.variant.label:<32} {run.status:<10} {run.transitions:>11} {run.events:>8} "
            f"{cost:>11.3f} {run.checkpoints:>6}  {' > '.join(run.path)}"
        )
    print(
        "\nnote: 'timers' = the checkpoints (warnings, deadline, escalation levels, reminder, auto-close) of the "
        "steps run; every one a task outlives adds one transition (its next wait state)."
    )
    print(
        "note: 'no reply' rows run a copy of the type whose customer waits last 1 s (24x7) instead of days: "
        "the same states, so the same transitions."
    )
    for run in runs:
        for problem in run.problems:
            print(f"problem: {run.type_id} ({run.variant.label}): {problem}")
    print(f"\n{len(runs)} issues driven in {took:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for each execution")
    args = parser.parse_args()
    begun = time.monotonic()
    runs: list[Run] = []
    with in_process(stage="bench") as stack:
        for run, type_id in planned_runs(stack):
            runs.append(run)
            if type_id:
                drive(stack, run, type_id, len(runs), args.timeout)
    report(runs, time.monotonic() - begun)


if __name__ == "__main__":
    main()
