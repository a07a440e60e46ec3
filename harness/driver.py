"""What a test or a benchmark does to a stack, in the same words whichever stack it is.

A `Driver` signs demo agents in, calls the API, reads tasks and issues, waits for something to
happen, drains the task queue and waits until an issue's workflow is idle. Its subclasses say how a
request reaches the app and where the stack's AWS is: `InProcess` (moto in this process, the queue
delivered by the caller) and `Embedded` (`python -m chalicelib.local`, which delivers it itself).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Step Functions history events that end a task's wait for its callback.
_CALLBACK_ENDS = {"TaskSucceeded", "TaskFailed", "TaskTimedOut"}


def until_quiet(pump: Callable[[], int], quiet_rounds: int = 3, pause: float = 0.05) -> int:
    """Call `pump` (which delivers what a queue holds and says how many messages) until it has
    delivered nothing `quiet_rounds` times in a row, pausing after each empty round; the total."""
    handled = quiet = 0
    while quiet < quiet_rounds:
        delivered = pump()
        handled += delivered
        if delivered:
            quiet = 0
        else:
            quiet += 1
            time.sleep(pause)
    return handled


@dataclass(frozen=True)
class WorkflowLook:
    """One look at an issue's workflow: messages on the task queue (waiting or being handled), and
    the execution's status, history length and tasks waiting for their callback."""

    queued: int
    status: str
    events: int
    callbacks: int

    @property
    def at_rest(self) -> bool:
        """Nothing queued, and the execution ended or waits for a callback (a person, the customer, a timer)."""
        return self.queued == 0 and (self.status != "RUNNING" or self.callbacks > 0)


class Driver:
    """Sign in, call the API, wait, drain, watch a workflow: subclasses send the requests."""

    #: Seconds between two looks while waiting.
    poll_seconds = 0.05
    #: The stack's task queue, and boto3 clients of its SQS and Step Functions (set by subclasses).
    queue_url: str
    sqs: Any
    sfn: Any

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}

    # How a request reaches the app

    def _send(self, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
        raise NotImplementedError

    @staticmethod
    def json_of(response: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def text_of(response: Any) -> str:
        raise NotImplementedError

    def pump(self) -> int:
        """Deliver the task queue's waiting messages; 0 where the stack delivers them itself."""
        return 0

    # HTTP

    def request(self, method: str, path: str, body: Any = None, token: str | None = None, headers: Any = None) -> Any:
        """`body` is sent as JSON, unless it is already a string or bytes; `token` as a bearer token."""
        sent = dict(headers or {})
        if body is not None:
            sent = {"Content-Type": "application/json", **sent}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        return self._send(method, path, body, sent)

    def get(self, path: str, token: str | None = None, headers: dict[str, str] | None = None) -> Any:
        return self.request("GET", path, None, token, headers)

    def post(self, path: str, body: Any = None, token: str | None = None, headers: dict[str, str] | None = None) -> Any:
        return self.request("POST", path, body, token, headers)

    def put(self, path: str, body: Any, token: str | None = None, headers: dict[str, str] | None = None) -> Any:
        return self.request("PUT", path, body, token, headers)

    @staticmethod
    def raw(body: Any) -> str | bytes:
        return body if isinstance(body, str | bytes) else json.dumps(body)

    # Agents and customers

    def token(self, username: str) -> str:
        """A demo agent's id token (signed in once, then kept)."""
        if username not in self._tokens:
            from chalicelib.local.provision import DEMO_PASSWORD

            response = self.post("/auth/login", {"username": username, "password": DEMO_PASSWORD})
            assert response.status_code == 200, self.text_of(response)
            self._tokens[username] = self.json_of(response)["id_token"]
        return self._tokens[username]

    def sign_in(self, username: str) -> dict[str, str]:
        """The Authorization header of a demo agent."""
        return {"Authorization": f"Bearer {self.token(username)}"}

    def open_issue(
        self, type_id: str, fields: dict[str, Any], email: str, name: str | None = "Test Customer", **headers: str
    ) -> Any:
        """Post an issue as a customer on the web would (`name=None`: a customer who gives no name)."""
        customer = {"email": email} if name is None else {"email": email, "name": name}
        return self.post("/issues", {"type": type_id, "customer": customer, "fields": fields}, headers=headers)

    def tasks(self, username: str, query: str = "") -> list[dict[str, Any]]:
        """Every task of the agent's queue (`query`: e.g. `scope=team&type=rude-staff`), page after page."""
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = "&".join(p for p in (query, f"cursor={cursor}" if cursor else "") if p)
            response = self.get(f"/agent/tasks?{params}" if params else "/agent/tasks", self.token(username))
            assert response.status_code == 200, self.text_of(response)
            page = self.json_of(response)
            found += page["tasks"]
            cursor = page.get("next_cursor")
            if not cursor:
                return found

    def task_for(self, username: str, issue_id: str, step: str | None = None) -> dict[str, Any] | None:
        """The agent's open task on the issue (at `step`), if they have one now: held by them or by a
        role or team of theirs, as their queue lists it (mine and available), and shown as there.

        Found from the issue's page rather than by walking the agent's whole queue, which grows over
        a test session and would make every wait slower than the last."""
        token = self.token(username)
        page = self.get(f"/agent/issues/{issue_id}", token)
        if page.status_code == 404:
            return None  # not theirs to see, so not in their queue
        assert page.status_code == 200, self.text_of(page)
        keys = self._holder_keys(token)
        for task in self.json_of(page)["tasks"]:
            holder = f"{task['assignee']['kind']}:{task['assignee']['name']}"
            if task["status"] == "open" and holder in keys and step in (None, task["step"]):
                shown = self.get(f"/agent/tasks/{task['id']}", token)
                return self.json_of(shown) if shown.status_code == 200 else None
        return None

    def _holder_keys(self, token: str) -> set[str]:
        """The task holders the agent signed in with `token` answers for: their groups and themself."""
        me = self.json_of(self.get("/agent/me", token))
        return {f"{kind}:{role}" for role in me["roles"] for kind in ("role", "team")} | {f"user:{me['username']}"}

    def wait_for_task(self, username: str, issue_id: str, step: str | None = None, timeout: float = 15) -> Any:
        """The agent's open task on the issue (at `step`), once it has opened."""
        what = f"{username}'s task on {issue_id}"
        return self.wait_for(lambda: self.task_for(username, issue_id, step), timeout, what)

    def issue(self, issue_id: str, username: str = "sue") -> dict[str, Any]:
        """The issue page as `username` sees it; by default a supervisor's, who sees every issue."""
        response = self.get(f"/agent/issues/{issue_id}", self.token(username))
        assert response.status_code == 200, self.text_of(response)
        return self.json_of(response)

    def complete(self, username: str, task: dict[str, Any], fields: dict[str, Any]) -> Any:
        """Complete a task as the agent; its answer."""
        response = self.post(f"/agent/tasks/{task['id']}/complete", {"fields": fields}, self.token(username))
        assert response.status_code == 200, self.text_of(response)
        return self.json_of(response)

    # Waiting

    def wait_for(self, condition: Callable[[], Any], timeout: float = 15, what: str = "condition") -> Any:
        """Look until `condition` returns something true, and return it; the task queue is
        delivered before every look."""
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(self.poll_seconds)

    def queued(self) -> int:
        """Messages on the task queue: waiting, being handled, or delayed."""
        names = [f"ApproximateNumberOfMessages{kind}" for kind in ("", "NotVisible", "Delayed")]
        found = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=names)["Attributes"]
        return sum(int(found.get(name, 0)) for name in names)

    def drain(self, quiet_rounds: int = 3) -> None:
        """Deliver the task queue until it stays empty, so that the workflows have stopped asking
        and a test leaves nothing behind."""

        def busy() -> int:
            return self.pump() or self.queued()

        until_quiet(busy, quiet_rounds, self.poll_seconds)

    def execution_arn(self, issue_id: str) -> str:
        """The issue's workflow execution (named after the issue) on whichever state machine."""
        found = [
            execution["executionArn"]
            for page in self.sfn.get_paginator("list_state_machines").paginate()
            for machine in page["stateMachines"]
            for listed in self.sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"])
            for execution in listed["executions"]
            if execution["name"] == issue_id
        ]
        assert len(found) == 1, found
        return found[0]

    def execution_status(self, issue_id: str) -> str:
        return self.sfn.describe_execution(executionArn=self.execution_arn(issue_id))["status"]

    def look(self, execution_arn: str) -> WorkflowLook:
        events = [
            event["type"]
            for page in self.sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
            for event in page["events"]
        ]
        callbacks = events.count("TaskSubmitted") - sum(events.count(end) for end in _CALLBACK_ENDS)
        status = self.sfn.describe_execution(executionArn=execution_arn)["status"]
        return WorkflowLook(self.queued(), status, len(events), callbacks)

    def wait_idle(self, issue_id: str, timeout: float = 30, quiet_looks: int = 3) -> WorkflowLook:
        """Drain the task queue and wait until the issue's workflow is idle: no message waiting or
        being handled, the execution ended or waiting for a callback, and the same look `quiet_looks`
        times in a row. From then on nothing happens to the issue until a person, the customer or a
        timer acts, so an absence can be asserted."""
        execution = self.execution_arn(issue_id)
        deadline = time.monotonic() + timeout
        previous, quiet = None, 0
        while True:
            delivered = self.pump()
            current = self.look(execution)
            quiet = quiet + 1 if not delivered and current.at_rest and current == previous else 0
            if quiet >= quiet_looks:
                return current
            if time.monotonic() > deadline:
                raise AssertionError(f"the workflow of {issue_id} was not idle within {timeout} s: {current}")
            previous = current
            time.sleep(self.poll_seconds)
