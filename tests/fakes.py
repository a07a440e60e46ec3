"""In-memory fakes of the ports (`chalicelib/services/ports.py`), for service tests that run in milliseconds.

Each fake keeps what the DynamoDB, S3, SES, Step Functions, SQS or Cognito adapter keeps, and behaves
like it where the services depend on it: conditional writes raise the same errors (DuplicateKey for
a taken reference, address, idempotency key or receipt; StaleIssue for an issue saved from an old
copy), optimistic locking retries a decision on the fresh state, and queries answer in the
adapter's order (timelines in write order, task queues soonest due first, quarantine newest first).
`tests/integration/test_port_contracts.py` runs the same assertions against the fakes and the
DynamoDB adapters on moto, so that the fakes cannot drift.

Stored values are copies: changing an object after writing it, or one read back, changes nothing
stored, as with a real table.

Beyond the ports, a fake shows what happened (`sent`, `starts`, `submitted`, ...) and may be told to
misbehave (`FakeMailer(refuse=...)`, `interfere`: another writer's change just before ours).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from chalicelib.adapters.ses import build_message, ses_domain
from chalicelib.domain import issue_search as search
from chalicelib.domain import queues
from chalicelib.domain import tasks as task_rules
from chalicelib.domain.agent_groups import Group, Member
from chalicelib.domain.agents import Agent
from chalicelib.domain.assignees import ROLE
from chalicelib.domain.errors import Conflict, FieldError, MfaRequired, NotFound, Unauthenticated, ValidationFailed
from chalicelib.domain.issue_types import PublishedType
from chalicelib.domain.issues import RESOLVED, Customer, Issue, StaleIssue, TimelineEvent
from chalicelib.domain.kpi_events import KpiEvent
from chalicelib.domain.kpi_rollups import Aggregate, BacklogSnapshot, Bucket, OpenIssue
from chalicelib.domain.measurements import Measurement
from chalicelib.domain.queues import Count, Partition, QueueFilter, Slice
from chalicelib.domain.search_words import issue_words, name_words
from chalicelib.domain.tasks import Task
from chalicelib.mail.threading import normalise_message_id
from chalicelib.services.ports import DuplicateKey, MailServiceBusy, UnsendableEmail
from chalicelib.services.records import (
    QUEUED,
    InboundRecord,
    ModelRecord,
    NewIssue,
    QuarantinedMail,
    Receipt,
    SurveyAnswer,
    ThreadEntry,
    TrainingRun,
)

#: As `adapters.dynamodb.access.LOCK_RETRIES`: lost races before an optimistic write gives up.
LOCK_RETRIES = 8
_TAKEN = "ConditionalCheckFailed"


def _copy(value: Any) -> Any:
    return copy.deepcopy(value)


class Clock:
    """A clock a test moves by hand (services take any `() -> datetime`)."""

    def __init__(self, now: datetime | None = None):
        self.now = now or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> datetime:
        self.now += by
        return self.now


class _Interference:
    """Writes that another actor makes just before our next write (to lose an optimistic race)."""

    def __init__(self) -> None:
        self._pending: list[Callable[[], None]] = []

    def interfere(self, change: Callable[[], None]) -> None:
        """Run `change` (which writes through this fake) just before the next write is checked."""
        self._pending.append(change)

    def _before_write(self) -> None:
        while self._pending:
            self._pending.pop(0)()


# Issues, tasks and issue types


class FakeIssueRepository(_Interference):
    """Issues, customers and timelines. `create` is one all-or-nothing write (with the mail fake, for
    an issue an email opened); `save` is conditional on the version the issue was read at."""

    def __init__(self) -> None:
        super().__init__()
        self.issues: dict[str, Issue] = {}
        self.customers: dict[str, Customer] = {}
        self._customer_by_email: dict[str, str] = {}
        self._references: dict[str, str] = {}
        self._idempotency: dict[str, tuple[str, str]] = {}
        self._timelines: dict[str, list[TimelineEvent]] = {}
        #: (customer id, issue id, event), oldest first: the customer's history across issues.
        self._history: list[tuple[str, str, TimelineEvent]] = []
        #: The mail fake that keeps an opening email's receipt and thread entry (set by FakeMailRepository).
        self.mail: FakeMailRepository | None = None

    def customer_by_email(self, email: str) -> Customer | None:
        customer_id = self._customer_by_email.get(email)
        return self.customer(customer_id) if customer_id else None

    def customer(self, customer_id: str) -> Customer | None:
        return _copy(self.customers.get(customer_id))

    def set_customer_segment(self, customer_id: str, segment: str) -> None:
        if customer_id not in self.customers:
            raise NotFound(f"no customer {customer_id}")
        self.customers[customer_id] = replace(self.customers[customer_id], segment=segment)

    def set_customer_locale(self, customer_id: str, language: str = "", time_zone: str = "") -> None:
        if customer_id not in self.customers:
            raise NotFound(f"no customer {customer_id}")
        current = self.customers[customer_id]
        self.customers[customer_id] = replace(
            current, language=language or current.language, time_zone=time_zone or current.time_zone
        )

    def create(self, new: NewIssue) -> None:
        issue, customer = new.issue, new.customer
        checks = [issue.id not in self.issues, issue.reference not in self._references]
        if new.customer_is_new:
            checks += [customer.id not in self.customers, customer.email not in self._customer_by_email]
        if new.idempotency_key:
            checks.append(new.idempotency_key not in self._idempotency)
        if new.inbound is not None:
            if self.mail is None:
                raise AssertionError("an issue opened by email needs a FakeMailRepository(issues)")
            checks += self.mail._receipt_free(new.inbound.receipt)
        if not all(checks):
            raise DuplicateKey([None if free else _TAKEN for free in checks])
        self.issues[issue.id] = replace(issue, version=1)
        self._references[issue.reference] = issue.id
        self._append(issue, new.first_event)
        if new.customer_is_new:
            self.customers[customer.id] = _copy(customer)
            self._customer_by_email[customer.email] = customer.id
        if new.idempotency_key:
            self._idempotency[new.idempotency_key] = (issue.id, new.request_hash)
        if new.inbound is not None and self.mail is not None:
            self.mail._file(issue.id, new.inbound)

    def idempotent_request(self, key: str) -> tuple[str, str] | None:
        return self._idempotency.get(key)

    def get(self, issue_id: str) -> Issue | None:
        return _copy(self.issues.get(issue_id))

    def get_many(self, issue_ids: Iterable[str]) -> dict[str, Issue]:
        return {i: _copy(self.issues[i]) for i in dict.fromkeys(issue_ids) if i in self.issues}

    def issue_id_by_reference(self, reference: str) -> str | None:
        return self._references.get(reference.upper())

    def save(self, issue: Issue) -> Issue:
        self._before_write()
        stored = self.issues.get(issue.id)
        if stored is None or stored.version != issue.version:
            raise StaleIssue(f"issue {issue.reference} was changed meanwhile; try again")
        saved = replace(_copy(issue), version=stored.version + 1)
        self.issues[issue.id] = saved
        return saved

    def change(self, issue: Issue, transition: Callable[[Issue], Issue]) -> Issue:
        current: Issue | None = issue
        for _ in range(LOCK_RETRIES):
            if current is None:
                raise NotFound(f"no issue {issue.id}")
            wanted = transition(current)
            if wanted == current:
                return current
            try:
                return self.save(wanted)
            except StaleIssue:
                current = self.issues.get(issue.id)
        raise Conflict(f"issue {issue.reference} is changing too often; try again")

    def add_event(self, issue: Issue, event: TimelineEvent) -> None:
        self._append(issue, event)

    def timeline(self, issue_id: str) -> list[TimelineEvent]:
        return _copy(self._timelines.get(issue_id, []))

    def customer_history(self, customer_id: str, limit: int = 100) -> list[dict[str, Any]]:
        mine = [(issue_id, event) for cid, issue_id, event in reversed(self._history) if cid == customer_id]
        return [{"issue_id": issue_id, **event.as_dict()} for issue_id, event in mine[:limit]]

    def open_issues(self, type_id: str) -> list[OpenIssue]:
        found = [i for i in self.issues.values() if i.type_id == type_id and i.status != RESOLVED]
        return [OpenIssue(i.type_id, i.channel, i.created_at) for i in sorted(found, key=lambda i: i.created_at)]

    def _append(self, issue: Issue, event: TimelineEvent) -> None:
        kept = _copy(event)
        self._timelines.setdefault(issue.id, []).append(kept)
        self._history.append((issue.customer_id, issue.id, kept))

    # For assertions

    def events(self, issue_id: str, kind: str | None = None) -> list[TimelineEvent]:
        return [e for e in self.timeline(issue_id) if kind is None or e.kind == kind]


class FakeTaskRepository(_Interference):
    """Human tasks under optimistic locking: `change` re-decides on the fresh task after a lost race."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks: dict[tuple[str, str], tuple[Task, int]] = {}
        #: (issue id, run, step) -> the task as it was when its workflow ended early.
        self.archived: dict[tuple[str, int, str], Task] = {}

    def get(self, issue_id: str, step: str) -> Task | None:
        found = self.tasks.get((issue_id, step))
        return found[0] if found else None

    def change(self, issue_id: str, step: str, decide: Callable[[Task | None], Task | None]) -> Task | None:
        for _ in range(LOCK_RETRIES):
            found = self.tasks.get((issue_id, step))
            current, version = found if found else (None, 0)
            wanted = decide(current)
            if wanted is None or wanted == current:
                return current
            self._before_write()
            now_stored = self.tasks.get((issue_id, step))
            if (now_stored[1] if now_stored else 0) != version:
                continue
            self.tasks[(issue_id, step)] = (_copy(wanted), version + 1)
            return wanted
        raise Conflict(f"task {issue_id}/{step} is changing too often; try again")

    def for_issue(self, issue_id: str) -> list[Task]:
        return [task for (iid, _), (task, _) in sorted(self.tasks.items()) if iid == issue_id]

    def for_issues(self, steps: Mapping[str, Iterable[str]]) -> dict[str, list[Task]]:
        found = {issue: [t for t in self.for_issue(issue) if t.step in set(ids)] for issue, ids in steps.items()}
        return {issue: tasks for issue, tasks in found.items() if tasks}

    def archive(self, issue_id: str, run: int) -> None:
        for key in [k for k in self.tasks if k[0] == issue_id]:
            task, _ = self.tasks.pop(key)
            self.archived[(issue_id, run, task.step)] = task

    def holders(self, issue_id: str) -> frozenset[str]:
        current = [task for (iid, _), (task, _) in self.tasks.items() if iid == issue_id]
        archived = [task for (iid, _, _), task in self.archived.items() if iid == issue_id]
        return frozenset(key for task in [*current, *archived] for key in (task.holder, *task.past_holders))

    def queue_slice(self, partition: Partition, after: str | None, limit: int, narrowing: QueueFilter) -> Slice:
        entries = self._partition(partition, narrowing)
        read = [(pos, task) for pos, task in entries if after is None or pos > after][:limit]
        more = len(read) == limit and any(pos > read[-1][0] for pos, _ in entries)
        matching = tuple((pos, task) for pos, task in read if narrowing.matches(task))
        return Slice(matching, read[-1][0] if more else None, len(read))

    def queue_count(self, partition: Partition, narrowing: QueueFilter, cap: int) -> Count:
        read = self._partition(partition, narrowing)
        return Count(sum(1 for _, task in read[:cap] if narrowing.matches(task)), len(read) > cap)

    def _partition(self, partition: Partition, narrowing: QueueFilter) -> list[tuple[str, Task]]:
        """A queue partition's entries in position order, up to the filter's upper position (as a
        key condition would bound the Query)."""
        field = "claimed_from" if partition.kind == queues.CLAIMED else "holder"
        upper = narrowing.upper_position
        entries = [
            (queues.position(t), _copy(t))
            for t, _ in self.tasks.values()
            if t.status == task_rules.OPEN and getattr(t, field) == partition.key
        ]
        return sorted(e for e in entries if upper is None or e[0] < upper)

    def due(self, before: datetime) -> list[Task]:
        found = [t for t, _ in self.tasks.values() if t.next_sweep_at is not None and t.next_sweep_at <= before]
        return sorted(found, key=lambda t: t.next_sweep_at or before)


class FakeIssueTypeRepository:
    """Published versions (immutable: DuplicateKey for a version that exists) and the current ones."""

    def __init__(self) -> None:
        self._versions: dict[tuple[str, int], tuple[PublishedType, datetime]] = {}
        self._current: dict[str, PublishedType] = {}

    def current(self, type_id: str) -> PublishedType | None:
        return _copy(self._current.get(type_id))

    def all_current(self) -> list[PublishedType]:
        return [_copy(self._current[t]) for t in sorted(self._current)]

    def version(self, type_id: str, version: int) -> PublishedType | None:
        found = self._versions.get((type_id, version))
        return _copy(found[0]) if found else None

    def versions(self, type_id: str) -> list[tuple[PublishedType, datetime]]:
        return [self._versions[k] for k in sorted(self._versions) if k[0] == type_id]

    def save_version(self, published: PublishedType, now: datetime) -> None:
        key = (published.type_id, published.version)
        if key in self._versions:
            raise DuplicateKey([_TAKEN])
        kept = _copy(published)
        self._versions[key] = (kept, now)
        self._current[published.type_id] = kept


# Email


class FakeMailRepository:
    """Email bookkeeping. Receipts are exactly once: filing a message received before (by its SES id
    or its Message-ID) raises DuplicateKey and writes nothing. Built on the issues fake, as filing
    on an issue writes its timeline event in the same transaction."""

    def __init__(self, issues: FakeIssueRepository):
        self._issues = issues
        issues.mail = self
        self._receipts: dict[str, Receipt] = {}
        #: issue id -> [(entry, write order)]: sorted by the entry's time (in ms), then write order.
        self._threads: dict[str, list[tuple[ThreadEntry, int]]] = {}
        self._message_ids: dict[str, str] = {}
        self._quarantine: list[QuarantinedMail] = []
        self.bouncing: dict[str, tuple[datetime, str]] = {}
        self._automatic: dict[str, list[datetime]] = {}
        self._writes = 0

    def receipt(self, ses_id: str, message_id: str | None) -> Receipt | None:
        for key in _receipt_keys(ses_id, message_id):
            found = self._receipts.get(key)
            if found is not None:
                return replace(found, ses_id=ses_id, message_id=message_id)
        return None

    def receipt_by_message_id(self, message_id: str) -> Receipt | None:
        found = self._receipts.get(f"mid:{message_id}")
        return replace(found, ses_id="", message_id=message_id) if found else None

    def file_on_issue(self, issue: Issue, event: TimelineEvent, inbound: InboundRecord) -> None:
        free = self._receipt_free(inbound.receipt)
        if not all(free):
            raise DuplicateKey([None, *(None if f else _TAKEN for f in free)])
        self._issues._append(issue, event)
        self._file(issue.id, inbound)

    def file_without_issue(self, receipt: Receipt, quarantined: QuarantinedMail | None) -> None:
        free = self._receipt_free(receipt)
        if not all(free):
            raise DuplicateKey([None if f else _TAKEN for f in free])
        self._keep_receipt(receipt)
        if quarantined is not None:
            self._quarantine.append(
                replace(
                    quarantined,
                    reason=quarantined.reason[:1000],
                    sender=quarantined.sender[:500],
                    subject=quarantined.subject[:1000],
                )
            )

    def issue_by_message_id(self, message_id: str) -> str | None:
        return self._message_ids.get(normalise_message_id(message_id))

    def thread(self, issue_id: str) -> list[ThreadEntry]:
        entries = self._threads.get(issue_id, [])
        ordered = sorted(entries, key=lambda pair: (_to_ms(pair[0].at), pair[1]))
        return [entry for entry, _ in ordered]

    def add_to_thread(self, issue_id: str, entry: ThreadEntry) -> None:
        self._writes += 1
        self._threads.setdefault(issue_id, []).append((entry, self._writes))
        self._message_ids[normalise_message_id(entry.message_id)] = issue_id

    def quarantined(self, limit: int) -> list[QuarantinedMail]:
        ordered = sorted(self._quarantine, key=lambda q: (q.received_at.isoformat(), q.ses_id), reverse=True)
        return ordered[:limit]

    def is_bouncing(self, address: str) -> bool:
        return address in self.bouncing

    def mark_bouncing(self, address: str, at: datetime, detail: str) -> None:
        self.bouncing[address] = (at, detail[:1000])

    def automatic_mail_count(self, address: str, since: datetime) -> int:
        return sum(1 for at in self._automatic.get(address, []) if _to_ms(at) >= _to_ms(since))

    def record_automatic_mail(self, address: str, at: datetime, keep_until: datetime) -> None:
        self._automatic.setdefault(address, []).append(at)

    def _receipt_free(self, receipt: Receipt) -> list[bool]:
        return [key not in self._receipts for key in _receipt_keys(receipt.ses_id, receipt.message_id)]

    def _keep_receipt(self, receipt: Receipt) -> None:
        for key in _receipt_keys(receipt.ses_id, receipt.message_id):
            self._receipts[key] = receipt

    def _file(self, issue_id: str, inbound: InboundRecord) -> None:
        self._keep_receipt(inbound.receipt)
        if inbound.entry is not None:
            self.add_to_thread(issue_id, inbound.entry)


def _receipt_keys(ses_id: str, message_id: str | None) -> list[str]:
    return [f"ses:{ses_id}", *([f"mid:{message_id}"] if message_id else [])]


def _to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class SentMail:
    to: list[str]
    subject: str
    body: str
    headers: dict[str, str]
    message: EmailMessage


class FakeMailer:
    """Builds each email as SES's adapter does (so a header the mail format refuses is UnsendableEmail)
    and keeps it in `sent` instead of sending it. Addresses in `refuse` are refused as unsendable;
    while `busy` is set, every email is refused as SES refuses when throttled. With `ses_region`,
    the email's Message-ID is replaced as SES replaces it (`<id>@<region>.amazonses.com`)."""

    def __init__(self, sender: str = "caseflow@example.com", refuse: Iterable[str] = (), ses_region: str = ""):
        self.sender = sender
        self.refuse = set(refuse)
        self.busy = False
        self.ses_region = ses_region
        self.sent: list[SentMail] = []

    def send(self, to: list[str], subject: str, body: str, headers: dict[str, str] | None = None) -> EmailMessage:
        if refused := self.refuse.intersection(to):
            raise UnsendableEmail(f"the email could not be built: refused {sorted(refused)}")
        if self.busy:
            raise MailServiceBusy("SES refused it (Throttling): Maximum sending rate exceeded.")
        try:
            message = build_message(self.sender, to, subject, body, headers or {})
            message.as_bytes()
        except (ValueError, TypeError, UnicodeError) as exc:
            raise UnsendableEmail(f"the email could not be built: {exc}") from exc
        if self.ses_region:
            del message["Message-ID"]
            message["Message-ID"] = f"<0102019{len(self.sent):09d}-ses@{ses_domain(self.ses_region)}>"
        self.sent.append(SentMail(list(to), subject, body, dict(headers or {}), message))
        return message

    def to(self, address: str) -> list[SentMail]:
        return [m for m in self.sent if address in m.to]


# Workflows, people, storage, queues


@dataclass
class Execution:
    arn: str
    state_machine_arn: str
    name: str
    payload: dict[str, Any]
    stopped: str | None = None


class FakeWorkflowEngine:
    """State machines and executions as Step Functions keeps them: one execution per name (a second
    start of a name starts nothing), task tokens answered once (`send_success` is False for a token
    that no longer waits)."""

    ACCOUNT = "arn:aws:states:us-east-1:123456789012"

    def __init__(self) -> None:
        self.state_machines: dict[str, dict[str, Any]] = {}
        self.executions: dict[str, Execution] = {}
        #: Every start asked for, as (state machine arn, name, payload), a repeated one too.
        self.starts: list[tuple[str, str, dict[str, Any]]] = []
        self.successes: list[tuple[str, dict[str, Any]]] = []
        self.stops: list[tuple[str, str]] = []
        #: Tokens that no longer wait (timed out, answered): send_success answers False.
        self.stale_tokens: set[str] = set()

    def create_state_machine(self, name: str, definition: dict[str, Any]) -> str:
        arn = f"{self.ACCOUNT}:stateMachine:{name}"
        self.state_machines.setdefault(arn, _copy(definition))
        return arn

    @staticmethod
    def execution_arn(state_machine_arn: str, execution_name: str) -> str:
        return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{execution_name}"

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        self.starts.append((state_machine_arn, name, _copy(payload)))
        arn = self.execution_arn(state_machine_arn, name)
        self.executions.setdefault(arn, Execution(arn, state_machine_arn, name, _copy(payload)))
        return arn

    def send_success(self, token: str, output: dict[str, Any]) -> bool:
        if token in self.stale_tokens:
            return False
        self.stale_tokens.add(token)
        self.successes.append((token, _copy(output)))
        return True

    def stop(self, execution_arn: str, cause: str) -> None:
        self.stops.append((execution_arn, cause))
        execution = self.executions.get(execution_arn)
        if execution is not None and execution.stopped is None:
            execution.stopped = cause

    def status(self, execution_arn: str) -> str:
        execution = self.executions.get(execution_arn)
        if execution is None:
            return ""
        return "ABORTED" if execution.stopped is not None else "RUNNING"

    def started_names(self) -> list[str]:
        return [name for _, name, _ in self.starts]


@dataclass
class User:
    password: str
    email: str
    roles: tuple[str, ...] = ()
    enabled: bool = True
    time_zone: str = ""


class FakeDirectory:
    """Agents with passwords, addresses and roles, as Cognito's users and groups. A group exists once
    created or once an agent is added with it (as a role, as Cognito's groups without the team marker)."""

    def __init__(self, users: dict[str, User] | None = None):
        self.users = dict(users or {})
        self.known_groups = {name: Group(name, ROLE) for user in self.users.values() for name in user.roles}
        #: The authenticator code of each agent who has one (their password alone then asks for it).
        self.mfa_codes: dict[str, str] = {}
        #: The agents who have been given a new app's secret and not yet verified its first code.
        self.totp_pending: set[str] = set()

    def add(
        self,
        username: str,
        email: str,
        *roles: str,
        password: str = "secret",
        enabled: bool = True,
        time_zone: str = "",
    ) -> None:
        self.users[username] = User(password, email, roles, enabled, time_zone)
        for name in roles:
            self.known_groups.setdefault(name, Group(name, ROLE))

    def login(self, username: str, password: str) -> dict[str, Any]:
        user = self.users.get(username)
        if user is None or user.password != password or not user.enabled:
            raise Unauthenticated("wrong username or password")
        if username in self.mfa_codes:
            raise MfaRequired(f"mfa-session-of-{username}")
        return {"IdToken": f"id-token-of-{username}", "AccessToken": f"access-token-of-{username}"}

    def answer_mfa(self, username: str, session: str, code: str) -> dict[str, Any]:
        if session != f"mfa-session-of-{username}" or self.mfa_codes.get(username) != code:
            raise Unauthenticated("wrong or expired code")
        return {"IdToken": f"id-token-of-{username}", "AccessToken": f"access-token-of-{username}"}

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        username = refresh_token.removeprefix("refresh-token-of-")
        if username == refresh_token or username not in self.users:
            raise Unauthenticated("the session has ended; sign in again")
        return {"IdToken": f"id-token-of-{username}", "AccessToken": f"access-token-of-{username}"}

    #: The secret every new app is given, and the code such an app shows.
    TOTP_SECRET = "FAKESECRETFORTESTS234567"
    TOTP_CODE = "246810"

    def _holder(self, access_token: str) -> str:
        username = access_token.removeprefix("access-token-of-")
        if username == access_token or username not in self.users:
            raise Unauthenticated("the session has ended; sign in again")
        return username

    def mfa_enabled(self, access_token: str) -> bool:
        return self._holder(access_token) in self.mfa_codes

    def start_totp(self, access_token: str) -> str:
        self.totp_pending.add(self._holder(access_token))
        return self.TOTP_SECRET

    def finish_totp(self, access_token: str, code: str) -> None:
        username = self._holder(access_token)
        if username not in self.totp_pending:
            raise Conflict("no authenticator app is being set up; start again")
        if code != self.TOTP_CODE:
            raise ValidationFailed([FieldError("code", "does not match the app's code")])
        self.totp_pending.discard(username)
        self.mfa_codes[username] = code

    def stop_totp(self, access_token: str) -> None:
        self.mfa_codes.pop(self._holder(access_token), None)

    def role_member_emails(self, role: str) -> list[str]:
        return sorted(u.email for u in self.users.values() if role in u.roles and u.enabled)

    def user_email(self, username: str) -> str | None:
        user = self.users.get(username)
        return user.email if user and user.enabled else None

    def agent_named(self, username: str) -> Agent | None:
        user = self.users.get(username)
        return Agent(username, user.email, frozenset(user.roles)) if user and user.enabled else None

    def groups(self) -> list[Group]:
        return sorted(self.known_groups.values(), key=lambda g: g.name)

    def group(self, name: str) -> Group | None:
        return self.known_groups.get(name)

    def create_group(self, group: Group) -> None:
        if group.name in self.known_groups:
            raise DuplicateKey(["GroupExistsException"])
        self.known_groups[group.name] = group

    def members(self, name: str) -> list[Member] | None:
        if name not in self.known_groups:
            return None
        return [self._member(n) for n in sorted(self.users) if name in self.users[n].roles]

    def agent(self, username: str) -> Member | None:
        return self._member(username) if username in self.users else None

    def add_member(self, name: str, username: str) -> None:
        user = self.users[username]
        if name not in self.known_groups:
            raise NotFound(name)
        if name not in user.roles:
            user.roles = (*user.roles, name)

    def remove_member(self, name: str, username: str) -> None:
        user = self.users[username]
        user.roles = tuple(r for r in user.roles if r != name)

    def _member(self, username: str) -> Member:
        user = self.users[username]
        return Member(username, user.email, user.enabled)

    def role_member_time_zones(self, role: str) -> dict[str, str]:
        return {u.email: u.time_zone for u in self.users.values() if role in u.roles and u.enabled}

    def user_time_zone(self, username: str) -> str:
        user = self.users.get(username)
        return user.time_zone if user else ""


class FakeObjectStore:
    """The bucket: objects by key, and links that name the key (a test can read them)."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    def read(self, key: str) -> bytes:
        if key not in self.objects:
            raise KeyError(f"no object {key}")
        return self.objects[key][0]

    def write(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = (bytes(data), content_type)

    def download_link(self, key: str, filename: str, seconds: int) -> str:
        return f"https://bucket.example/{key}?filename={filename}&expires={seconds}"

    def upload_form(self, key: str, max_bytes: int, redirect: str, seconds: int) -> dict[str, Any]:
        return {
            "url": "https://bucket.example/",
            "fields": {"key": key, "success_action_redirect": redirect},
            "max_bytes": max_bytes,
            "expires": seconds,
        }

    def head(self, key: str, length: int) -> tuple[int, bytes] | None:
        found = self.objects.get(key)
        return (len(found[0]), found[0][:length]) if found else None

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)


class FakeJobQueue:
    """Jobs kept in `submitted`; `failing` makes submit raise, as an unreachable queue would."""

    def __init__(self, failing: bool = False):
        self.submitted: list[dict[str, Any]] = []
        self.failing = failing

    def submit(self, job: dict[str, Any]) -> None:
        if self.failing:
            raise ConnectionError("the jobs queue cannot be reached")
        self.submitted.append(_copy(job))


class FakeRateLimiter:
    """Bounded counters per key: hits over `limit` change nothing; a distinct unit counts once.
    Like the adapter, it reads no clock: the key names its window, `expires_at` only tidies up."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.units: dict[str, set[str]] = {}

    def hit(self, key: str, limit: int, expires_at: datetime, unit: str | None = None) -> bool:
        if unit is None:
            if self.hits.get(key, 0) >= limit:
                return False
            self.hits[key] = self.hits.get(key, 0) + 1
            return True
        units = self.units.setdefault(key, set())
        if unit not in units and len(units) >= limit:
            return False
        units.add(unit)
        return True


# Classifier, surveys, KPIs, metrics


class FakeClassifierRepository:
    """Models, training runs, agents' examples, and the one training slot (claimed like the conditional put)."""

    def __init__(self) -> None:
        self.current: ModelRecord | None = None
        self.runs: dict[str, ModelRecord] = {}
        self.saved_examples: dict[str, tuple[str, str, str, datetime]] = {}
        self.slot: TrainingRun | None = None

    def current_model(self) -> ModelRecord | None:
        return self.current

    def record_training(self, record: ModelRecord) -> None:
        self.runs[record.version] = record
        if record.promoted:
            self.current = record

    def trainings(self, limit: int) -> list[ModelRecord]:
        return [self.runs[v] for v in sorted(self.runs, reverse=True)][:limit]

    def save_example(self, issue_id: str, text: str, label: str, source: str, at: datetime) -> None:
        self.saved_examples[issue_id] = (text, label, source, at)

    def examples(self) -> list[tuple[str, str]]:
        return [(text, label) for _, (text, label, _, _) in sorted(self.saved_examples.items())]

    def claim_training(self, run: TrainingRun, now: datetime) -> TrainingRun:
        held = self.slot
        free = held is None or _epoch(held.expires_at) <= _epoch(now)
        if free or (held.id == run.id and held.state == QUEUED):
            self.slot = run
            return run
        return held

    def release_training(self, run_id: str) -> None:
        if self.slot is not None and self.slot.id == run_id:
            self.slot = None

    def training_run(self, now: datetime) -> TrainingRun | None:
        if self.slot is None or _epoch(self.slot.expires_at) <= _epoch(now):
            return None
        return self.slot


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class FakeSurveyRepository:
    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], SurveyAnswer] = {}
        self.recoveries: dict[str, str] = {}

    def answer(self, issue_id: str, question: str) -> SurveyAnswer | None:
        return self.answers.get((issue_id, question))

    def save(self, issue_id: str, answer: SurveyAnswer) -> None:
        self.answers[(issue_id, answer.question)] = answer

    def recovery_issue(self, issue_id: str) -> str | None:
        return self.recoveries.get(issue_id)

    def claim_recovery(self, issue_id: str, recovery_issue_id: str) -> bool:
        if issue_id in self.recoveries:
            return False
        self.recoveries[issue_id] = recovery_issue_id
        return True


class FakeKpiRepository:
    """The KPI journal (first copy of an event kept), hourly roll-ups replaced per bucket, backlog snapshots."""

    def __init__(self) -> None:
        self._journal: dict[str, dict[str, KpiEvent]] = {}
        #: (cohort day, hour key, type, channel) -> aggregate
        self._rollups: dict[tuple[date, str, str, str], Aggregate] = {}
        self._backlog: dict[tuple[date, str], BacklogSnapshot] = {}

    def append(self, event: KpiEvent) -> None:
        self._journal.setdefault(_hour_key(event.at), {}).setdefault(event.key, _copy(event))

    def journal(self, hour: datetime) -> list[KpiEvent]:
        events = self._journal.get(_hour_key(hour), {})
        return [_copy(events[key]) for key in sorted(events)]

    def save_rollup(self, hour: datetime, buckets: dict[Bucket, Aggregate]) -> None:
        for (day, type_id, channel), aggregate in buckets.items():
            self._rollups[(day, _hour_key(hour), type_id, channel)] = _copy(aggregate)

    def save_backlog(self, snapshot: BacklogSnapshot) -> None:
        key = snapshot.at.strftime("%Y-%m-%dT%H:%M")  # as the adapter's sort key: to the minute, read back as UTC
        at = datetime.fromisoformat(key + "+00:00")
        self._backlog[(snapshot.at.date(), key)] = BacklogSnapshot(at, _copy(snapshot.ages))

    def day(self, day: date) -> tuple[dict[Bucket, Aggregate], list[BacklogSnapshot]]:
        buckets: dict[Bucket, Aggregate] = {}
        for (cohort, _, type_id, channel), aggregate in sorted(self._rollups.items()):
            if cohort == day:
                bucket = (day, type_id, channel)
                buckets[bucket] = buckets.get(bucket, Aggregate()) + aggregate
        snapshots = [_copy(s) for (d, _), s in sorted(self._backlog.items()) if d == day]
        return buckets, snapshots


def _hour_key(hour: datetime) -> str:
    return hour.strftime("%Y-%m-%dT%H")


@dataclass
class FakeMetrics:
    recorded: list[Measurement] = field(default_factory=list)

    def record(self, measurements: list[Measurement]) -> None:
        self.recorded.extend(measurements)

    def names(self) -> list[str]:
        return [m.name for m in self.recorded]


class FakeIssueSearchIndex:
    """The issue search's sources over a FakeIssueRepository's issues and customers, read as the
    adapter reads them: newest first, `limit` entries read at a time (narrowing drops some of
    those), with the position below which a source holds more."""

    def __init__(self, issues: FakeIssueRepository):
        self._issues = issues
        #: Each request, as (operation, what): ("entries", source kind) or ("issues"/"customers", count).
        self.requests: list[tuple[str, Any]] = []

    def entries(
        self, source: search.Source, since: str, until: str, limit: int, narrowing: search.Narrowing
    ) -> search.SearchEntries:
        self.requests.append(("entries", source.kind))
        held = sorted(
            (search.position(i.created_at, i.id), i) for i in self._issues.issues.values() if self._holds(source, i)
        )
        window = [(at, i) for at, i in reversed(held) if since <= at < until]
        read = window[:limit]
        more = read[-1][0] if len(window) > limit else None
        carried = (
            [(narrowing.channel, "channel"), (narrowing.status, "status"), (narrowing.step, "current_step")]
            if source.kind == search.TYPE
            else [(narrowing.type_id, "type_id"), (narrowing.channel, "channel")]
        )
        found = [(at, i.id) for at, i in read if all(not v or getattr(i, a) == v for v, a in carried)]
        return search.SearchEntries(found, more, len(read))

    def _holds(self, source: search.Source, issue: Issue) -> bool:
        if source.kind == search.TYPE:
            return issue.type_id == source.value
        if source.kind == search.CUSTOMER:
            return issue.customer_id == source.value
        if source.kind == search.WORD:
            return source.value in issue_words(issue.fields)
        if source.kind == search.NAME:
            customer = self._issues.customers.get(issue.customer_id)
            return source.value in name_words(customer.name if customer else "")
        raise AssertionError(f"the index has no {source.kind} source")

    def issues(self, issue_ids: list[str]) -> list[Issue]:
        self.requests.append(("issues", len(issue_ids)))
        return [_copy(self._issues.issues[i]) for i in dict.fromkeys(issue_ids) if i in self._issues.issues]

    def customers(self, customer_ids: list[str]) -> dict[str, Customer]:
        self.requests.append(("customers", len(customer_ids)))
        return {i: _copy(self._issues.customers[i]) for i in customer_ids if i in self._issues.customers}


class HashedWordsEncoder:
    """A deterministic stand-in for the sentence encoder (`ports.TextEncoder`): each word of the
    text (lower-cased, letters and digits) adds 1 to one of 384 dimensions chosen by its hash, and
    the vector is L2-normalised. Texts sharing words are near; texts sharing none are orthogonal."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: list[str]) -> list[Any]:
        import re
        import zlib

        import numpy as np

        vectors = []
        for text in texts:
            self.encoded.append(text)
            vector = np.zeros(384, dtype=np.float32)
            for word in re.findall(r"[^\W_]+", text.lower()):
                vector[zlib.crc32(word.encode()) % 384] += 1.0
            norm = float(np.linalg.norm(vector))
            vectors.append(vector / norm if norm else vector)
        return vectors


class FakeSimilarVectors:
    """`ports.SimilarVectors` in memory: vectors by type, one per issue."""

    def __init__(self) -> None:
        self.by_type: dict[str, dict[str, bytes]] = {}

    def put(self, type_id: str, issue_id: str, vector: bytes) -> None:
        self.by_type.setdefault(type_id, {})[issue_id] = vector

    def candidates(self, type_id: str) -> Any:
        from chalicelib.domain.similarity import Candidates

        return Candidates.of(self.by_type.get(type_id, {}).items())
