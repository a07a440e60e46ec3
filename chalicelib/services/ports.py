"""What the services need from the outside world. Adapters implement these; bootstrap wires them."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

from chalicelib.domain.issues import Customer, Issue, TimelineEvent


class WorkflowEngine(Protocol):
    def create_state_machine(self, name: str, definition: dict[str, Any]) -> str: ...

    def execution_arn(self, state_machine_arn: str, execution_name: str) -> str: ...

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str: ...

    def send_success(self, token: str, output: dict[str, Any]) -> bool: ...


class Mailer(Protocol):
    sender: str

    def send(self, to: list[str], subject: str, body: str, headers: dict[str, str] | None = None) -> EmailMessage: ...


class Directory(Protocol):
    def login(self, username: str, password: str) -> dict[str, Any]: ...

    def role_member_emails(self, role: str) -> list[str]: ...


class TokenVerifier(Protocol):
    def verify(self, token: str) -> dict[str, Any]: ...


class DuplicateKey(Exception):
    """A conditional write found the key taken: an idempotency key, a reference, an address."""

    def __init__(self, reasons: list[str | None]):
        super().__init__(str(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class NewIssue:
    issue: Issue
    customer: Customer
    customer_is_new: bool
    first_event: TimelineEvent
    idempotency_key: str | None
    request_hash: str
