"""Every AWS action Caseflow's code performs is allowed by the role of the function that performs it.

moto enforces no IAM, so a grant missing from the stack passes every other test and fails on a
real account. The session records every botocore call with the Chalice function whose handler made
it, or the workflow role for what a Step Functions execution does (`tests/aws_call_recording.py`);
this module runs after every other test and checks each recorded action against the policies the
synthesized template attaches to that function's role: the role's inline policies and the
AWS::IAM::Policy and ManagedPolicy resources naming it (wildcards, NotAction and unconditional Deny
understood).

Actions only: which resources and conditions a statement names is not checked here (cdk-nag and
review check their scoping). Calls made outside any function (test setup, provisioning, the
harness's waits, the queue pumps that stand in for Lambda's event source mappings) are not checked.
Run alone, or in a session that did not take it, this module takes the pass through every function
of `tests/integration/test_every_function.py` itself, on a stack of its own.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib import settings
from chalicelib.local.aws_calls import API_HANDLER, WORKFLOW_ROLE, AwsCall, AwsCallRecorder, handler_functions
from tests.aws_call_recording import RECORDER
from tests.infra.conftest import Synthesis
from tests.integration import test_every_function

pytestmark = pytest.mark.infra

_SERVERLESS_FUNCTIONS = ("AWS::Serverless::Function", "AWS::Lambda::Function")


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    negated: bool  # NotAction
    conditional: bool

    def matches(self, action: str) -> bool:
        matched = any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in self.actions)
        return matched != self.negated


def allows(statements: Iterable[Statement], action: str) -> bool:
    """Whether the statements allow the action (an unconditional Deny that matches wins)."""
    statements = list(statements)
    denied = any(s.effect == "Deny" and not s.conditional and s.matches(action) for s in statements)
    return not denied and any(s.effect == "Allow" and s.matches(action) for s in statements)


def _statements(document: dict[str, Any]) -> Iterator[Statement]:
    found = document.get("Statement", [])
    for statement in [found] if isinstance(found, dict) else found:
        negated = "NotAction" in statement
        actions = statement["NotAction" if negated else "Action"]
        yield Statement(
            statement.get("Effect", "Allow"),
            (actions,) if isinstance(actions, str) else tuple(actions),
            negated,
            bool(statement.get("Condition")),
        )


def _references(expression: Any) -> Iterator[str]:
    """Logical ids an expression refers to (Ref, Fn::GetAtt), however deep in Fn::Select/Split/Join."""
    if isinstance(expression, dict):
        for key, value in expression.items():
            if key == "Ref" and isinstance(value, str):
                yield value
            elif key == "Fn::GetAtt":
                yield value[0] if isinstance(value, list) else value.split(".")[0]
            else:
                yield from _references(value)
    elif isinstance(expression, list):
        for item in expression:
            yield from _references(item)


def role_statements(synthesis: Synthesis, role: str) -> list[Statement]:
    """The statements of every policy the template attaches to the role (by logical id)."""
    documents = [p["PolicyDocument"] for p in synthesis.resources[role].get("Properties", {}).get("Policies", [])]
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for policy in synthesis.of_type(kind).values():
            if role in set(_references(policy["Properties"].get("Roles", []))):
                documents.append(policy["Properties"]["PolicyDocument"])
    managed = synthesis.resources[role].get("Properties", {}).get("ManagedPolicyArns", [])
    for arn in managed:
        for referenced in _references(arn):
            if synthesis.resources.get(referenced, {}).get("Type") == "AWS::IAM::ManagedPolicy":
                documents.append(synthesis.resources[referenced]["Properties"]["PolicyDocument"])
    return [statement for document in documents for statement in _statements(document)]


def _role_of(synthesis: Synthesis, function: dict[str, Any]) -> str:
    roles = [r for r in _references(function["Properties"].get("Role")) if r in synthesis.of_type("AWS::IAM::Role")]
    assert len(roles) == 1, f"no role of the stack's found for {function['Properties'].get('Role')!r}"
    return roles[0]


def permissions(synthesis: Synthesis, functions: Iterable[str]) -> dict[str, list[Statement]]:
    """What each Chalice function's role allows, and the workflow role's (the one the functions
    hand their state machines), by the recorder's names for them."""
    found: dict[str, list[Statement]] = {}
    lambdas = {name: r for kind in _SERVERLESS_FUNCTIONS for name, r in synthesis.of_type(kind).items()}
    workflow_roles = set()
    for name in functions:
        assert name in lambdas, f"the template has no function {name} (functions: {sorted(lambdas)})"
        properties = lambdas[name]["Properties"]
        own = [s for p in properties.get("Policies", []) if isinstance(p, dict) for s in _statements(p)]
        found[name] = role_statements(synthesis, _role_of(synthesis, lambdas[name])) + own
        variables = properties.get("Environment", {}).get("Variables", {})
        workflow_roles.update(_references(variables.get(settings.WORKFLOW_ROLE_ARN)))
    assert len(workflow_roles) == 1, f"the functions name {len(workflow_roles)} workflow roles: {workflow_roles}"
    found[WORKFLOW_ROLE] = role_statements(synthesis, workflow_roles.pop())
    return found


def _recorded(request: pytest.FixtureRequest) -> list[AwsCall]:
    recorder = request.config.stash.get(RECORDER, None)
    return list(recorder) if recorder is not None else []


@pytest.fixture(scope="module")
def calls(request: pytest.FixtureRequest) -> list[AwsCall]:
    """The session's calls, and the pass through every function if the session did not take it."""
    recorded = _recorded(request)
    tour = test_every_function.__name__.replace(".", "/") + ".py::"
    if any(call.during and call.during.startswith(tour) for call in recorded):
        return recorded
    from harness import in_process

    with in_process() as stack:
        from app import app

        with AwsCallRecorder(app) as own:
            own.during = f"{tour}tour (run by {__name__})"
            test_every_function.tour(stack)
    return recorded + list(own)


@pytest.fixture(scope="module")
def functions() -> set[str]:
    from app import app

    return set(handler_functions(app).values())


def missing(calls: Iterable[AwsCall], allowed: dict[str, list[Statement]]) -> dict[tuple[str, str], str | None]:
    """(function, action) -> a test that made the call, for each action its role does not allow."""
    found: dict[tuple[str, str], str | None] = {}
    for call in calls:
        if call.function is None:
            continue
        for action in call.actions:
            if (call.function, action) not in found and not allows(allowed.get(call.function, []), action):
                found[(call.function, action)] = call.during
    return found


def test_the_session_took_every_function_and_the_workflow_role(calls, functions):
    recorded = {call.function for call in calls if call.actions}
    assert functions | {WORKFLOW_ROLE} <= recorded, f"never called AWS: {sorted(functions - recorded)}"
    assert API_HANDLER in functions


def test_every_action_the_code_performs_is_allowed_to_the_function_that_performs_it(synthesis, calls, functions):
    allowed = permissions(synthesis, functions)
    refused = missing(calls, allowed)
    lines = [f"{function}: {action} (called in {during})" for (function, action), during in sorted(refused.items())]
    assert not refused, "the stack does not allow:\n" + "\n".join(lines)


# --- the check itself -----------------------------------------------------------------------------


def test_wildcards_notaction_and_deny_are_read_as_iam_reads_them():
    read_only = Statement("Allow", ("dynamodb:Get*", "S3:getobject"), False, False)
    assert allows([read_only], "dynamodb:GetItem") and allows([read_only], "s3:GetObject")
    assert not allows([read_only], "dynamodb:PutItem")
    everything_but_iam = Statement("Allow", ("iam:*",), True, False)
    assert allows([everything_but_iam], "states:StopExecution") and not allows([everything_but_iam], "iam:PassRole")
    no_stop = Statement("Deny", ("states:Stop*",), False, False)
    assert not allows([Statement("Allow", ("*",), False, False), no_stop], "states:StopExecution")
    scoped_deny = Statement("Deny", ("states:Stop*",), False, True)
    assert allows([Statement("Allow", ("*",), False, False), scoped_deny], "states:StopExecution")


def test_a_call_the_role_does_not_allow_is_named_with_its_function_and_test():
    call = AwsCall("OnTaskMessage", "states:StopExecution", ("states:StopExecution",), "tests/x.py::test_y")
    outside = AwsCall(None, "dynamodb:CreateTable", ("dynamodb:CreateTable",), "setup")
    allowed = {"OnTaskMessage": [Statement("Allow", ("states:Start*",), False, False)]}
    assert missing([call, outside], allowed) == {("OnTaskMessage", "states:StopExecution"): "tests/x.py::test_y"}
