"""What the services need from the outside world. Adapters implement these; bootstrap wires them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Protocol

from chalicelib.domain.issue_types import PublishedType
from chalicelib.domain.issues import Customer, Issue, TimelineEvent
from chalicelib.domain.tasks import Task


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

    def user_email(self, username: str) -> str | None: ...


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


class IssueRepository(Protocol):
    """Issues, their customers and timelines."""

    def customer_by_email(self, email: str) -> Customer | None: ...

    def customer(self, customer_id: str) -> Customer | None: ...

    def set_customer_segment(self, customer_id: str, segment: str) -> None: ...

    def create(self, new: NewIssue) -> None:
        """Write everything of a new issue at once; DuplicateKey if a unique key is taken."""

    def idempotent_request(self, key: str) -> tuple[str, str] | None: ...

    def get(self, issue_id: str) -> Issue | None: ...

    def update(self, issue_id: str, **changes: Any) -> None: ...

    def add_event(self, issue: Issue, event: TimelineEvent) -> None: ...

    def timeline(self, issue_id: str) -> list[TimelineEvent]: ...

    def customer_history(self, customer_id: str, limit: int = 100) -> list[dict[str, Any]]: ...


class TaskRepository(Protocol):
    """Human tasks; `change` applies a decision under optimistic locking."""

    def get(self, issue_id: str, step: str) -> Task | None: ...

    def change(self, issue_id: str, step: str, decide: Callable[[Task | None], Task | None]) -> Task | None: ...

    def for_issue(self, issue_id: str) -> list[Task]: ...

    def open_for_holders(self, holders: Iterable[str]) -> list[Task]:
        """Open tasks held by any of these holder keys (`role:hr`, `user:sam`), soonest due first."""


class IssueTypeRepository(Protocol):
    """Published issue type versions and the catalogue of current ones."""

    def current(self, type_id: str) -> PublishedType | None: ...

    def all_current(self) -> list[PublishedType]: ...

    def version(self, type_id: str, version: int) -> PublishedType | None: ...

    def versions(self, type_id: str) -> list[tuple[PublishedType, datetime]]: ...

    def save_version(self, published: PublishedType, now: datetime) -> None: ...


class Outbox(Protocol):
    """The local copies of sent emails (dev stage only)."""

    def messages(self) -> list[dict[str, str]]: ...
