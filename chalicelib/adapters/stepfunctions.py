"""Step Functions: state machines per issue type version, executions per issue, task tokens."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.exceptions import ClientError

#: Errors meaning "this token no longer waits for an answer" (closed, timed out, or answered).
STALE_TOKEN_ERRORS = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}


class StepFunctionsEngine:
    def __init__(self, role_arn: str, client: Any = None):
        self._client = client or boto3.client("stepfunctions")
        self._role_arn = role_arn

    def create_state_machine(self, name: str, definition: dict[str, Any]) -> str:
        """Create the state machine, or return the one of that name (each version is immutable)."""
        try:
            response = self._client.create_state_machine(
                name=name,
                definition=json.dumps(definition),
                roleArn=self._role_arn,
                type="STANDARD",
            )
            return response["stateMachineArn"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "StateMachineAlreadyExists":
                raise
        arn = self._arn_for(name)
        self._client.describe_state_machine(stateMachineArn=arn)
        return arn

    def _arn_for(self, name: str) -> str:
        for page in self._client.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                if machine["name"] == name:
                    return machine["stateMachineArn"]
        raise LookupError(name)

    @staticmethod
    def execution_arn(state_machine_arn: str, execution_name: str) -> str:
        return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{execution_name}"

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        """Start an execution (named after the issue, its run, and a resumption's number); an
        earlier start of the same name is kept."""
        try:
            return self._client.start_execution(
                stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload)
            )["executionArn"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
            return self.execution_arn(state_machine_arn, name)

    def stop(self, execution_arn: str, cause: str) -> None:
        """Stop an execution; one that has already ended is left as it is."""
        try:
            self._client.stop_execution(executionArn=execution_arn, cause=cause[:32000])
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("ExecutionDoesNotExist", "ExecutionAlreadyStopped"):
                raise

    def send_success(self, token: str, output: dict[str, Any]) -> bool:
        """Resume the waiting state; False when the token no longer waits (e.g. it timed out)."""
        try:
            self._client.send_task_success(taskToken=token, output=json.dumps(output))
        except ClientError as exc:
            if exc.response["Error"]["Code"] in STALE_TOKEN_ERRORS:
                return False
            raise
        return True

    def status(self, execution_arn: str) -> str:
        """The execution's status; "" when it does not exist (e.g. lost with a restarted moto)."""
        try:
            return self._client.describe_execution(executionArn=execution_arn)["status"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("ExecutionDoesNotExist", "StateMachineDoesNotExist"):
                raise
            return ""
