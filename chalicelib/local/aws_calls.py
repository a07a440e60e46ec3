"""Which AWS calls this process makes, and which Chalice function makes each: what IAM must allow.

An `AwsCallRecorder` sees every botocore API call made in the process while it records (boto3's
clients and PynamoDB's both end in `BaseClient._make_api_call`) and notes, for each, the IAM
actions it needs and the function that made it: the Chalice function whose handler is on the
call stack, by the logical id `chalice package` gives it (`APIHandler` for every route), or None
for calls made outside any handler (test setup, provisioning, the local event sources).

Calls that moto makes while it interprets a Step Functions execution (its service integrations,
such as the task queue's `sqs:SendMessage`) are the workflow role's on AWS: they are recorded as
`WORKFLOW_ROLE`'s. Other calls moto makes while answering a call are AWS's own and not recorded.
The local event sources' own calls (the queue pumps' receive and delete) are made by Lambda's
event source mapping on AWS; they are recorded with function None.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any

from botocore.client import BaseClient
from botocore.model import OperationModel
from chalice import Chalice
from chalice.utils import to_cfn_resource_name

#: The logical id `chalice package` gives the one function behind every route.
API_HANDLER = "APIHandler"
#: Who the calls made by a Step Functions execution are attributed to (the stack's role of that name).
WORKFLOW_ROLE = "WorkflowRole"
_STEP_FUNCTIONS_MODULES = "moto.stepfunctions"

#: Operations whose IAM action is not "<signing name>:<operation>", by (signing name, operation).
IAM_ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "HeadObject"): ("s3:GetObject",),
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    ("s3", "ListObjects"): ("s3:ListBucket",),
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "ListObjectVersions"): ("s3:ListBucketVersions",),
    ("s3", "CopyObject"): ("s3:GetObject", "s3:PutObject"),
    ("s3", "DeleteObjects"): ("s3:DeleteObject",),
    ("s3", "CreateMultipartUpload"): ("s3:PutObject",),
    ("s3", "UploadPart"): ("s3:PutObject",),
    ("s3", "UploadPartCopy"): ("s3:GetObject", "s3:PutObject"),
    ("s3", "CompleteMultipartUpload"): ("s3:PutObject",),
    ("sqs", "SendMessageBatch"): ("sqs:SendMessage",),
    ("sqs", "DeleteMessageBatch"): ("sqs:DeleteMessage",),
    ("sqs", "ChangeMessageVisibilityBatch"): ("sqs:ChangeMessageVisibility",),
    ("dynamodb", "TransactGetItems"): ("dynamodb:GetItem",),
    # Creating or changing a state machine hands it its role: iam:PassRole on that role.
    ("states", "CreateStateMachine"): ("states:CreateStateMachine", "iam:PassRole"),
    ("states", "UpdateStateMachine"): ("states:UpdateStateMachine", "iam:PassRole"),
    ("lambda", "Invoke"): ("lambda:InvokeFunction",),
    ("lambda", "InvokeAsync"): ("lambda:InvokeFunction",),
    ("sts", "GetCallerIdentity"): (),  # needs no permission
}
#: A TransactWriteItems item's kind -> the IAM action it needs (there is no TransactWriteItems action).
_TRANSACTION_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def iam_actions(signing_name: str, operation: str, params: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The IAM actions a signed call needs (`params` decides it for TransactWriteItems only)."""
    if (signing_name, operation) == ("dynamodb", "TransactWriteItems"):
        kinds = {kind for item in (params or {}).get("TransactItems", []) for kind in item}
        return tuple(sorted(_TRANSACTION_ITEM_ACTIONS[kind] for kind in kinds if kind in _TRANSACTION_ITEM_ACTIONS))
    return IAM_ACTIONS.get((signing_name, operation), (f"{signing_name}:{operation}",))


@dataclass(frozen=True)
class AwsCall:
    """One API call: who made it, what it was, what IAM must allow for it.

    `call` is "<signing name>:<operation>" (e.g. "s3:HeadObject"); `actions` are empty for the
    calls AWS does not sign (Cognito's sign-in and token operations), which IAM never sees.
    `during` is the recorder's `during` when the call was made (the plugin puts the test's id there).
    """

    function: str | None
    call: str
    actions: tuple[str, ...]
    during: str | None


def handler_functions(app: Chalice) -> dict[CodeType, str]:
    """The code of each handler `app` registers -> the logical id of its function.

    A route's view and whatever it wraps (`functools.wraps`'s `__wrapped__`) are the API handler's;
    an event handler or plain Lambda function is its own function, named as `chalice package` names it.
    """
    functions: dict[CodeType, str] = {}
    for methods in app.routes.values():
        for entry in methods.values():
            for code in _codes(entry.view_function):
                functions[code] = API_HANDLER
    names = [source.name for source in app.event_sources] + [function.name for function in app.pure_lambda_functions]
    for name in names:
        handler = app.handler_map[name]
        user_handler = getattr(handler, "func", handler)  # an EventSourceHandler wraps the user's function
        user_handler = getattr(user_handler, "_original_func", user_handler)  # a plain Lambda function's wrapper
        for code in _codes(user_handler):
            functions[code] = to_cfn_resource_name(name)
    return functions


def _codes(function: Callable[..., Any]) -> Iterator[CodeType]:
    while function is not None:
        code = getattr(function, "__code__", None)
        if code is not None:
            yield code
        function = getattr(function, "__wrapped__", None)


class AwsCallRecorder:
    """Records the process's botocore API calls while it is entered (`with AwsCallRecorder(app):`).

    Several recorders may record at once (a test's own inside the test session's); each sees every
    call. Thread-safe: the local stack calls AWS from many threads.
    """

    def __init__(self, app: Chalice | Callable[[], Chalice | None] | None = None):
        """Attribute calls to the handlers of `app`: the app, or a function that returns it once it
        is imported (None until then), for a recorder started before anything imports app.py."""
        self._app = app
        self._functions: dict[CodeType, str] | None = None
        self._calls: list[AwsCall] = []
        self._lock = threading.Lock()
        #: Stored with each call (e.g. the running test's id), to say later what made it.
        self.during: str | None = None

    def __enter__(self) -> AwsCallRecorder:
        _hook.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _hook.remove(self)

    def __iter__(self) -> Iterator[AwsCall]:
        with self._lock:
            return iter(list(self._calls))

    def __len__(self) -> int:
        with self._lock:
            return len(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def counts(self) -> Counter[tuple[str | None, str]]:
        """How many times each function made each call: (function, "service:Operation") -> count."""
        return Counter((call.function, call.call) for call in self)

    def by_function(self) -> dict[str, set[str]]:
        """The IAM actions each function's calls need; calls made outside any function are left out."""
        actions: dict[str, set[str]] = {}
        for call in self:
            if call.function is not None:
                actions.setdefault(call.function, set()).update(call.actions)
        return actions

    def calling_function(self) -> str | None:
        """The function whose handler is on this thread's stack now (WORKFLOW_ROLE inside an
        execution), or None outside any handler."""
        return _workflow_or_handler(sys._getframe(1), self._handlers())

    def _handlers(self) -> Mapping[CodeType, str]:
        if self._functions is None:
            app = self._app() if callable(self._app) and not isinstance(self._app, Chalice) else self._app
            if app is None:
                return {}
            self._functions = handler_functions(app)
        return self._functions

    def _record(self, signing_name: str, operation: str, actions: tuple[str, ...], frame: FrameType | None) -> None:
        function = _workflow_or_handler(frame, self._handlers())
        with self._lock:
            self._calls.append(AwsCall(function, f"{signing_name}:{operation}", actions, self.during))


@contextmanager
def one_process_per_function(recorder: AwsCallRecorder) -> Iterator[None]:
    """Give each function its own services inside the block, as each Lambda function has its own process.

    The in-process stack serves every function from one process's services, so what a process
    reads once and keeps (the link secret, a queue's URL) is read, and recorded, by whichever
    function needs it first; on AWS each function that needs it reads it. Calls outside any
    function (the test's own) keep the process's services.
    """
    from chalicelib import bootstrap

    shared = bootstrap.services
    own: dict[str, bootstrap.Services] = {}
    lock = threading.Lock()

    def services() -> bootstrap.Services:
        function = recorder.calling_function()
        if function is None:
            return shared()
        with lock:
            if function not in own:
                own[function] = bootstrap.build(bootstrap.utc_now)
            return own[function]

    importers = [module for module in list(sys.modules.values()) if getattr(module, "services", None) is shared]
    for module in importers:
        module.services = services  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module in importers:
            module.services = shared  # type: ignore[attr-defined]


def _workflow_or_handler(frame: FrameType | None, functions: Mapping[CodeType, str]) -> str | None:
    """WORKFLOW_ROLE if a Step Functions execution makes the call, else the outermost handler's function."""
    found = None
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith(_STEP_FUNCTIONS_MODULES):
            return WORKFLOW_ROLE
        found = functions.get(frame.f_code, found)
        frame = frame.f_back
    return found


class _Hook:
    """The one patch of `BaseClient._make_api_call`, in place while any recorder records."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recorders: list[AwsCallRecorder] = []
        self._original: Callable[..., Any] | None = None
        self._inside = threading.local()

    def add(self, recorder: AwsCallRecorder) -> None:
        with self._lock:
            if not self._recorders:
                self._original = BaseClient._make_api_call
                BaseClient._make_api_call = self._patched()
            self._recorders.append(recorder)

    def remove(self, recorder: AwsCallRecorder) -> None:
        with self._lock:
            self._recorders.remove(recorder)
            if not self._recorders and self._original is not None:
                BaseClient._make_api_call = self._original
                self._original = None

    def _patched(self) -> Callable[..., Any]:
        original = self._original
        hook = self

        def _make_api_call(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
            hook._note(client, operation_name, api_params)
            depth = getattr(hook._inside, "depth", 0)
            hook._inside.depth = depth + 1
            try:
                return original(client, operation_name, api_params)
            finally:
                hook._inside.depth = depth

        return _make_api_call

    def _note(self, client: BaseClient, operation: str, params: dict[str, Any]) -> None:
        frame = sys._getframe(2)  # the caller of the patched _make_api_call
        if getattr(self._inside, "depth", 0) and _workflow_or_handler(frame, {}) != WORKFLOW_ROLE:
            return  # moto calling AWS while it answers a call: AWS's doing, not a function's
        model = client.meta.service_model
        signing_name = model.signing_name
        actions = iam_actions(signing_name, operation, params) if _signed(model.operation_model(operation)) else ()
        with self._lock:
            recorders = list(self._recorders)
        for recorder in recorders:
            recorder._record(signing_name, operation, actions, frame)


def _signed(operation: OperationModel) -> bool:
    """Whether AWS authorizes the operation with IAM (Cognito's sign-in operations are unsigned)."""
    return operation.auth_type != "none" and "smithy.api#noAuth" not in (operation.auth or ())


_hook = _Hook()
