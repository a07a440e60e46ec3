"""Compile an issue type into Amazon States Language (JSONPath), one state machine per version.

The customer's acknowledgement comes first, resolution last. Every step, human or automatic, is
an `sqs:sendMessage.waitForTaskToken` Task: our queue handler does the work (or opens the human
task) and resumes the workflow with the token. A human step's
deadline is a real timer (`TimeoutSecondsPath`); `Catch` on `States.Timeout` moves to the next
level of its escalation ladder, and past the last level to a `breached` state that keeps waiting.
Deadlines in seconds travel in the execution input (`$.deadlines`), computed by our code.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.issue_types import EMAIL_CUSTOMER, IssueType, Step

TASK_RESOURCE = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
ACKNOWLEDGE_STATE = "acknowledge"
RESOLVE_STATE = "resolve"
DONE_STATE = "resolved"
#: An automatic step whose handler never answers fails the execution, where alarms see it.
AUTOMATIC_STEP_TIMEOUT_SECONDS = 3600

# Message kinds understood by the task queue handler.
KIND_TASK = "task"
KIND_EMAIL_CUSTOMER = EMAIL_CUSTOMER
KIND_ACKNOWLEDGE = "acknowledge"
KIND_RESOLVE = "resolve"


def state_machine_name(prefix: str, type_id: str, version: int) -> str:
    return f"{prefix}-{type_id}-v{version}"


def level_key(level: int) -> str:
    return f"L{level}"


def level_state(step: Step, level: int) -> str:
    return step.id if level == 0 else f"{step.id}.escalated_{level}"


def breached_state(step: Step) -> str:
    return f"{step.id}.breached"


def deadline_inputs(issue_type: IssueType) -> dict[str, dict[str, int]]:
    """The `$.deadlines` input: seconds per step and level, on a 24/7 clock."""
    return {
        step.id: {level_key(i): int(a.deadline.total_seconds()) for i, a in enumerate(step.levels)}
        for step in issue_type.steps
        if step.levels
    }


def compile_issue_type(issue_type: IssueType, queue_url: str) -> dict[str, Any]:
    entry_names = [step.id for step in issue_type.steps] + [RESOLVE_STATE]
    states: dict[str, Any] = {
        ACKNOWLEDGE_STATE: _wait_for_handler(
            queue_url, {"kind": KIND_ACKNOWLEDGE, "step": ACKNOWLEDGE_STATE}, ACKNOWLEDGE_STATE, entry_names[0]
        )
    }
    for index, step in enumerate(issue_type.steps):
        next_state = entry_names[index + 1]
        if step.levels:
            states.update(_human_step_states(step, next_state, queue_url))
        else:
            states[step.id] = _wait_for_handler(queue_url, {"kind": step.kind, "step": step.id}, step.id, next_state)
    states[RESOLVE_STATE] = _wait_for_handler(
        queue_url, {"kind": KIND_RESOLVE, "step": RESOLVE_STATE}, RESOLVE_STATE, DONE_STATE
    )
    states[DONE_STATE] = {"Type": "Succeed"}
    return {
        "Comment": f"Caseflow issue type {issue_type.id}: {issue_type.name}",
        "StartAt": ACKNOWLEDGE_STATE,
        "States": states,
    }


def _message(queue_url: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "QueueUrl": queue_url,
        "MessageBody": {
            **body,
            "issue_id.$": "$.issue_id",
            "token.$": "$$.Task.Token",
            "entered_at.$": "$$.State.EnteredTime",
        },
    }


def _wait_for_handler(queue_url: str, body: dict[str, Any], step_id: str, next_state: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": TASK_RESOURCE,
        "Parameters": _message(queue_url, body),
        "TimeoutSeconds": AUTOMATIC_STEP_TIMEOUT_SECONDS,
        "ResultPath": f"$.results.{step_id}",
        "Next": next_state,
    }


def _human_step_states(step: Step, next_state: str, queue_url: str) -> dict[str, Any]:
    states: dict[str, Any] = {}
    levels = step.levels
    for level in range(len(levels)):
        deadline_path = f"$.deadlines.{step.id}.{level_key(level)}"
        following = level_state(step, level + 1) if level + 1 < len(levels) else breached_state(step)
        body = {"kind": KIND_TASK, "step": step.id, "level": level, "deadline_seconds.$": deadline_path}
        states[level_state(step, level)] = {
            "Type": "Task",
            "Resource": TASK_RESOURCE,
            "Parameters": _message(queue_url, body),
            "TimeoutSecondsPath": deadline_path,
            "ResultPath": f"$.results.{step.id}",
            "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.last_timeout", "Next": following}],
            "Next": next_state,
        }
    breached = {"kind": KIND_TASK, "step": step.id, "level": len(levels), "breached": True}
    states[breached_state(step)] = {
        "Type": "Task",
        "Resource": TASK_RESOURCE,
        "Parameters": _message(queue_url, breached),
        "ResultPath": f"$.results.{step.id}",
        "Next": next_state,
    }
    return states
