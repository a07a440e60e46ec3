"""Compile an issue type into Amazon States Language (JSONPath), one state machine per version.

The customer's acknowledgement comes first, resolution last. Work happens in our queue handler:
every state that needs it is an `sqs:sendMessage.waitForTaskToken` Task, and the handler
resumes the workflow with the token. A timed step (an agent's task, or waiting for the customer)
has an `open` state, whose handler creates the task and answers with the step's timers computed
on its business calendar, then one waiting state per checkpoint: each waits for the completion
with `TimeoutSecondsPath` set to the time until the next checkpoint, and `Catch` on
`States.Timeout` moves to the next waiting state, whose message tells the handler that the
checkpoint (a warning, the deadline, an escalation level) has been reached. A step's `when` is a
`Choice` that skips it; a parallel step is a `Parallel` state whose branches all must finish.

Every state machine can be entered at a step (decision 0039): its first state is a `Choice` on
the input's optional `resume_at` (a step id), falling through to the acknowledgement when it is
absent or empty; each parallel branch starts with its own `Choice` on
`resume_branches.<step>.b<i>` (a step of the branch, `done` for a branch that finished, empty for
its start). The input then carries the answers so far (`execution_input`), so the `when`s ahead
decide as they would have.

An execution's state holds only what its `Choice` states read (`StateReads`): the issue's fields
and the steps' answers live in DynamoDB, and a state or a task's output may not pass 256 KiB.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain import conditions as cond
from chalicelib.domain.deadlines import timer_key
from chalicelib.domain.issue_types import (
    EMAIL_CUSTOMER,
    PARALLEL,
    RESOLVE,
    RESOLVE_TARGET,
    TIMED_KINDS,
    IssueType,
    Step,
)

TASK_RESOURCE = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
ACKNOWLEDGE_STATE = "acknowledge"
RESOLVE_STATE = "resolve"
DONE_STATE = "resolved"
ENTER_STATE = "enter"
#: The execution input's keys that enter a workflow at a step (absent: from the start).
RESUME_AT = "resume_at"
RESUME_BRANCHES = "resume_branches"
#: A branch's entry that says the branch has finished.
BRANCH_DONE = "done"
#: An automatic state whose handler never answers fails the execution, where alarms see it.
HANDLER_TIMEOUT_SECONDS = 3600

# Message kinds understood by the task queue handler.
KIND_ACKNOWLEDGE = "acknowledge"
KIND_OPEN = "open"
KIND_WAIT = "wait"
KIND_MOVE_ON = "move_on"
KIND_EMAIL_CUSTOMER = EMAIL_CUSTOMER
KIND_RESOLVE = "resolve"


def state_machine_name(prefix: str, type_id: str, version: int) -> str:
    return f"{prefix}-{type_id}-v{version}"


def wait_state(step: Step, checkpoint: int) -> str:
    return f"{step.id}.wait_{checkpoint}"


def move_on_state(step: Step) -> str:
    return f"{step.id}.move_on"


@dataclass(frozen=True)
class StateReads:
    """What an issue type's `Choice` states read: the issue fields (`$.fields`) and each step's
    answers (`$.results.<step>.fields`), each with whether its value is compared or only its presence."""

    fields: Mapping[str, bool]
    results: Mapping[str, Mapping[str, bool]]

    def issue_fields(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The issue's fields as the execution's input carries them."""
        return _kept(self.fields, values)

    def task_output(self, step_id: str, values: Mapping[str, Any] | None) -> dict[str, Any]:
        """A completed task's answers as the workflow receives them (`SendTaskSuccess`'s output)."""
        return {"fields": _kept(self.results.get(step_id, {}), values or {})}


def state_reads(issue_type: IssueType) -> StateReads:
    """What the `Choice` states compiled from this issue type read, from its steps' `when`s."""
    fields: dict[str, bool] = {}
    results: dict[str, dict[str, bool]] = {}
    for step in issue_type.all_steps():
        for condition in step.when.conditions if step.when else ():
            compared = condition.operator != cond.IS_SET
            if condition.subject == cond.FIELD:
                fields[condition.ref] = fields.get(condition.ref, False) or compared
            elif condition.subject == cond.RESULT:
                step_id, _, field_id = condition.ref.partition(".")
                read = results.setdefault(step_id, {})
                read[field_id] = read.get(field_id, False) or compared
    return StateReads(fields, results)


def _kept(read: Mapping[str, bool], values: Mapping[str, Any]) -> dict[str, Any]:
    """The values some Choice reads; one read only for its presence becomes `true`, so that a long
    answer (the customer's reply) never travels."""
    return {key: values[key] if compared else True for key, compared in read.items() if key in values}


def execution_input(
    issue_type: IssueType,
    *,
    issue_id: str,
    version: int,
    fields: Mapping[str, Any],
    segment: str,
    answers: Mapping[str, Mapping[str, Any] | None] | None = None,
    resume_at: str = "",
    branches: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """An execution's input: what its `Choice` states read of the issue (its fields, the customer's
    segment) and of the steps' answers so far (`answers`: step id -> the fields it was completed
    with), and, to enter at a step rather than at the start, `resume_at` with the positions of that
    parallel step's branches (`branches`: index -> a step of the branch, or BRANCH_DONE)."""
    reads = state_reads(issue_type)
    done = answers or {}
    results = {step_id: reads.task_output(step_id, values) for step_id, values in done.items()}
    payload: dict[str, Any] = {
        "issue_id": issue_id,
        "type": issue_type.id,
        "type_version": version,
        "fields": reads.issue_fields(fields),
        "customer": {"segment": segment},
        "results": results,
    }
    # A branch's answers as the steps after its parallel step read them, should the workflow be
    # entered past it.
    parallel = {
        step.id: {
            f"b{index}": {inner.id: results[inner.id] for inner in branch if inner.id in results}
            for index, branch in enumerate(step.branches)
        }
        for step in issue_type.steps
        if step.kind == PARALLEL and any(inner.id in results for branch in step.branches for inner in branch)
    }
    if parallel:
        payload["parallel"] = parallel
    # Always present ("" for the start): moto logs an ERROR for every absent path a Choice tests.
    payload[RESUME_AT] = resume_at
    entered = {
        step.id: {
            f"b{index}": (branches or {}).get(index, "") if step.id == resume_at else ""
            for index in range(len(step.branches))
        }
        for step in issue_type.steps
        if step.kind == PARALLEL
    }
    if entered:
        payload[RESUME_BRANCHES] = entered
    return payload


def compile_issue_type(issue_type: IssueType, queue_url: str) -> dict[str, Any]:
    compiler = _Compiler(issue_type, queue_url)
    states: dict[str, Any] = {}
    first = compiler.sequence(issue_type.steps, RESOLVE_STATE, states, branch_path=None)
    states[ACKNOWLEDGE_STATE] = compiler.handler_state({"kind": KIND_ACKNOWLEDGE, "step": ACKNOWLEDGE_STATE}, first)
    states[ACKNOWLEDGE_STATE]["ResultPath"] = "$.results.acknowledge"
    states[RESOLVE_STATE] = compiler.handler_state({"kind": KIND_RESOLVE, "step": RESOLVE_STATE}, DONE_STATE)
    states[DONE_STATE] = {"Type": "Succeed"}
    targets = {step.id: compiler.entry(step) for step in issue_type.steps}
    targets[RESOLVE_STATE] = RESOLVE_STATE
    states.update(entry_states(ENTER_STATE, f"$.{RESUME_AT}", targets, ACKNOWLEDGE_STATE))
    return {
        "Comment": f"Caseflow issue type {issue_type.id}: {issue_type.name}",
        "StartAt": ENTER_STATE,
        "States": states,
    }


def entry_states(name: str, path: str, targets: Mapping[str, str], start: str) -> dict[str, Any]:
    """A `Choice` named `name` that goes to `start` unless `path` is present, then one that goes to
    the state `targets` maps its value to (`""`: `start` too); a value no step has fails the
    execution (where alarms see it) rather than run the process again from its start."""
    which, unknown = f"{name}.step", f"{name}.unknown"
    choices = [{"Variable": path, "StringEquals": value, "Next": state} for value, state in targets.items()]
    return {
        name: {"Type": "Choice", "Choices": [{"Variable": path, "IsPresent": True, "Next": which}], "Default": start},
        which: {
            "Type": "Choice",
            "Choices": [*choices, {"Variable": path, "StringEquals": "", "Next": start}],
            "Default": unknown,
        },
        unknown: {"Type": "Fail", "Error": "Caseflow.UnknownStep", "Cause": f"{path} names no step here"},
    }


class _Compiler:
    def __init__(self, issue_type: IssueType, queue_url: str):
        self.type = issue_type
        self.queue_url = queue_url
        self.top_ids = [s.id for s in issue_type.steps]
        # Where each step's completion lands in the execution's data, for conditions on results.
        self.branch_of: dict[str, str] = {}
        for step in issue_type.steps:
            for index, branch in enumerate(step.branches):
                for inner in branch:
                    self.branch_of[inner.id] = f"{step.id}.b{index}"

    def sequence(self, steps: tuple[Step, ...], after: str, states: dict[str, Any], branch_path: str | None) -> str:
        """Add the states of `steps` run one after another, then `after`; return the first state."""
        entries = [self.entry(step) for step in steps] + [after]
        for index, step in enumerate(steps):
            following = entries[index + 1]
            if step.when:
                states[f"{step.id}.when"] = {
                    "Type": "Choice",
                    "Choices": [{**self.rule(step.when, branch_path), "Next": step.id}],
                    "Default": following,
                }
            states.update(self.step_states(step, following))
        return entries[0]

    def entry(self, step: Step) -> str:
        return f"{step.id}.when" if step.when else step.id

    def step_states(self, step: Step, following: str) -> dict[str, Any]:
        if step.kind in TIMED_KINDS:
            return self.timed_states(step, following)
        if step.kind == RESOLVE:
            return {step.id: {"Type": "Pass", "Next": RESOLVE_STATE}}
        if step.kind == PARALLEL:
            return {step.id: self.parallel_state(step, following)}
        state = self.handler_state({"kind": step.kind, "step": step.id}, following)
        state["ResultPath"] = None
        return {step.id: state}

    def handler_state(self, body: dict[str, Any], following: str) -> dict[str, Any]:
        return {
            "Type": "Task",
            "Resource": TASK_RESOURCE,
            "Parameters": self.message(body),
            "TimeoutSeconds": HANDLER_TIMEOUT_SECONDS,
            "Next": following,
        }

    def message(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "QueueUrl": self.queue_url,
            "MessageBody": {
                **body,
                "issue_id.$": "$.issue_id",
                "execution.$": "$$.Execution.Id",
                "token.$": "$$.Task.Token",
                "entered_at.$": "$$.State.EnteredTime",
            },
        }

    def timed_states(self, step: Step, following: str) -> dict[str, Any]:
        points = step.checkpoints()
        last = len(points) - 1
        moves_on = points[last].branch is not None
        last_wait = last - 1 if moves_on else last
        states: dict[str, Any] = {}
        # The segment the issue was filed with, so deadlines and `when` branches agree on it.
        opening = self.handler_state(
            {"kind": KIND_OPEN, "step": step.id, "segment.$": "$.customer.segment"}, wait_state(step, 0)
        )
        opening["ResultPath"] = f"$.timers.{step.id}"
        states[step.id] = opening
        for index in range(last_wait + 1):
            state = {
                "Type": "Task",
                "Resource": TASK_RESOURCE,
                "Parameters": self.message({"kind": KIND_WAIT, "step": step.id, "checkpoint": index}),
                "ResultPath": f"$.results.{step.id}",
                "Next": following,
            }
            if index < last:
                state["TimeoutSecondsPath"] = f"$.timers.{step.id}.{timer_key(index)}"
                after_timeout = wait_state(step, index + 1) if index < last_wait else move_on_state(step)
                state["Catch"] = [{"ErrorEquals": ["States.Timeout"], "ResultPath": None, "Next": after_timeout}]
            states[wait_state(step, index)] = state
        if moves_on:
            target = points[last].branch
            following = RESOLVE_STATE if target == RESOLVE_TARGET else self.entry(self.type.step(target))
            move_on = self.handler_state({"kind": KIND_MOVE_ON, "step": step.id, "checkpoint": last}, following)
            move_on["ResultPath"] = None
            states[move_on_state(step)] = move_on
        return states

    def parallel_state(self, step: Step, following: str) -> dict[str, Any]:
        branches = []
        for index, branch in enumerate(step.branches):
            states: dict[str, Any] = {}
            done = f"{step.id}.b{index}.done"
            first = self.sequence(branch, done, states, branch_path=f"{step.id}.b{index}")
            states[done] = {"Type": "Pass", "OutputPath": "$.results", "End": True}
            # Entered at the parallel step, each branch goes on from where it was (or ends at once).
            enter = f"{step.id}.b{index}.enter"
            targets = {inner.id: self.entry(inner) for inner in branch}
            targets[BRANCH_DONE] = done
            path = f"$.{RESUME_BRANCHES}.{step.id}.b{index}"
            states.update(entry_states(enter, path, targets, first))
            branches.append({"StartAt": enter, "States": states})
        return {
            "Type": "Parallel",
            "Branches": branches,
            # Each branch ends with its results; ArrayGetItem (not `$[i]`, which moto reads as a list) names them.
            "ResultSelector": {f"b{i}.$": f"States.ArrayGetItem($, {i})" for i in range(len(branches))},
            "ResultPath": f"$.parallel.{step.id}",
            "Next": following,
        }

    # Conditions

    def rule(self, when: cond.When, inside: str | None) -> dict[str, Any]:
        rules = [self.condition_rule(c, inside) for c in when.conditions]
        return rules[0] if len(rules) == 1 else {"And": rules}

    def subject_path(self, condition: cond.Condition, inside: str | None) -> str:
        """`inside` names the parallel branch being compiled: its own steps' results are local."""
        if condition.subject == cond.FIELD:
            return f"$.fields.{condition.ref}"
        if condition.subject == cond.CUSTOMER:
            return f"$.customer.{condition.ref}"
        step_id, _, field_id = condition.ref.partition(".")
        branch = self.branch_of.get(step_id)
        if branch and branch != inside:
            parallel_id, _, index = branch.partition(".")
            return f"$.parallel.{parallel_id}.{index}.{step_id}.fields.{field_id}"
        return f"$.results.{step_id}.fields.{field_id}"

    def condition_rule(self, condition: cond.Condition, inside: str | None) -> dict[str, Any]:
        path = self.subject_path(condition, inside)
        present = {"Variable": path, "IsPresent": True}
        operator, value = condition.operator, condition.value
        if operator == cond.IS_SET:
            return present if value else {"Not": present}
        if operator in (cond.IN, cond.NOT_IN):
            any_of = {"Or": [_compare(path, cond.EQUALS, v) for v in value]} if len(value) > 1 else None
            test = any_of or _compare(path, cond.EQUALS, value[0])
            holds = {"And": [present, test]}
            return holds if operator == cond.IN else {"Not": holds}
        if operator == cond.NOT_EQUALS:
            return {"Not": {"And": [present, _compare(path, cond.EQUALS, value)]}}
        return {"And": [present, _compare(path, operator, value)]}


_COMPARISONS = {
    cond.EQUALS: "Equals",
    cond.GREATER_THAN: "GreaterThan",
    cond.LESS_THAN: "LessThan",
    cond.AT_LEAST: "GreaterThanEquals",
    cond.AT_MOST: "LessThanEquals",
}


def _compare(path: str, operator: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"Variable": path, "BooleanEquals": value}
    family = "Numeric" if isinstance(value, (int, float)) else "String"
    return {"Variable": path, f"{family}{_COMPARISONS[operator]}": value}
