"""What the services need from the outside world. Adapters implement these; bootstrap wires them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from email.message import EmailMessage
from typing import Any, Protocol

from chalicelib.domain.agent_groups import Group, Member
from chalicelib.domain.agents import Agent
from chalicelib.domain.articles import Article, Candidate
from chalicelib.domain.issue_search import Narrowing, SearchEntries, Source
from chalicelib.domain.issue_types import PublishedType
from chalicelib.domain.issues import Customer, Issue, TimelineEvent
from chalicelib.domain.kpi_events import KpiEvent
from chalicelib.domain.kpi_rollups import Aggregate, BacklogSnapshot, Bucket, OpenIssue
from chalicelib.domain.measurements import Measurement
from chalicelib.domain.queues import Count, Partition, QueueFilter, Slice
from chalicelib.domain.similarity import Candidates
from chalicelib.domain.tasks import Task
from chalicelib.services.records import (
    InboundRecord,
    ModelRecord,
    NewIssue,
    QuarantinedMail,
    Receipt,
    SurveyAnswer,
    ThreadEntry,
    TrainingRun,
)

#: A secret's value, read when first called: a function that never signs a link never fetches it.
Secret = Callable[[], str]


class WorkflowEngine(Protocol):
    def create_state_machine(self, name: str, definition: dict[str, Any]) -> str: ...

    def execution_arn(self, state_machine_arn: str, execution_name: str) -> str: ...

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str: ...

    def send_success(self, token: str, output: dict[str, Any]) -> bool: ...

    def stop(self, execution_arn: str, cause: str) -> None: ...

    def status(self, execution_arn: str) -> str:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED; "" for an execution that does not exist
        (e.g. lost with the embedded stack's Step Functions)."""
        ...


class UnsendableEmail(Exception):
    """An email that cannot be built or sent as it stands: a header the mail format refuses, or a
    refusal that sending again will not change (SES's sandbox refusing an unverified recipient, a
    paused account). Its message is the reason, for the issue's timeline."""


class MailServiceBusy(Exception):
    """The mail service refused an email for now (throttled, unavailable) after its client's own
    retries: sending it again later may work. Its message is the reason."""


class Mailer(Protocol):
    sender: str

    def send(self, to: list[str], subject: str, body: str, headers: dict[str, str] | None = None) -> EmailMessage:
        """Send a plain-text email and answer it as sent: its Message-ID is the one its recipient
        sees (SES replaces ours), which their reply names. UnsendableEmail or MailServiceBusy when
        it is not sent, so callers can say so."""
        ...


class Directory(Protocol):
    def login(self, username: str, password: str) -> dict[str, Any]: ...

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Fresh tokens for a refresh token (a browser session that outlived its id token)."""

    def answer_mfa(self, username: str, session: str, code: str) -> dict[str, Any]:
        """Tokens for the authenticator code that completes a sign-in `login` answered with
        MfaRequired; Unauthenticated when the code is wrong or the session has expired."""

    def mfa_enabled(self, access_token: str) -> bool:
        """Whether the agent of the access token signs in with an authenticator app's code."""

    def start_totp(self, access_token: str) -> str:
        """A new authenticator app's secret for the agent of the access token (not in use until
        `finish_totp` verifies its first code)."""

    def finish_totp(self, access_token: str, code: str) -> None:
        """Verify the new app's first code and ask for the app's code at every sign-in from now on;
        ValidationFailed on `code` when the code is wrong."""

    def stop_totp(self, access_token: str) -> None:
        """Sign the agent in with the password alone again."""

    def role_member_emails(self, role: str) -> list[str]: ...

    def user_email(self, username: str) -> str | None: ...

    def role_member_time_zones(self, role: str) -> dict[str, str]:
        """Each enabled member's address and time zone (their `zoneinfo`; "" when they have none)."""

    def user_time_zone(self, username: str) -> str:
        """The agent's time zone (their `zoneinfo`); "" when they have none or are unknown."""

    def agent_named(self, username: str) -> Agent | None:
        """The enabled agent of that username with their roles and teams, as if they had signed in;
        None for an unknown or disabled one."""


class AgentGroups(Protocol):
    """Roles and teams as the directory keeps them (Cognito groups), their members, and agents."""

    def groups(self) -> list[Group]: ...

    def group(self, name: str) -> Group | None: ...

    def create_group(self, group: Group) -> None:
        """DuplicateKey if a group of that name exists, whether a role or a team."""

    def members(self, name: str) -> list[Member] | None:
        """The group's agents by username, disabled ones included; None if there is no such group."""

    def agent(self, username: str) -> Member | None: ...

    def add_member(self, name: str, username: str) -> None:
        """Put the agent in the group (again: nothing changes); their next sign-in carries it."""

    def remove_member(self, name: str, username: str) -> None: ...


class TokenVerifier(Protocol):
    def verify(self, token: str) -> dict[str, Any]: ...


class DuplicateKey(Exception):
    """A conditional write found the key taken: an idempotency key, a reference, an address."""

    def __init__(self, reasons: list[str | None]):
        super().__init__(str(reasons))
        self.reasons = reasons


class IssueRepository(Protocol):
    """Issues, their customers and timelines. An issue changes by a domain transition (`Issue.reopen`,
    ...) written with `change`, or `save`, under optimistic locking (decision 0021)."""

    def customer_by_email(self, email: str) -> Customer | None: ...

    def customer(self, customer_id: str) -> Customer | None: ...

    def set_customer_segment(self, customer_id: str, segment: str) -> None: ...

    def set_customer_locale(self, customer_id: str, language: str = "", time_zone: str = "") -> None:
        """Remember the customer's language and/or time zone (an empty one is left as it is)."""

    def create(self, new: NewIssue) -> None:
        """Write everything of a new issue at once; DuplicateKey if a unique key is taken."""

    def idempotent_request(self, key: str) -> tuple[str, str] | None: ...

    def get(self, issue_id: str) -> Issue | None: ...

    def get_many(self, issue_ids: Iterable[str]) -> dict[str, Issue]:
        """The issues that exist among these, by id: one BatchGetItem per 100 (a page of a queue)."""

    def issue_id_by_reference(self, reference: str) -> str | None:
        """The id of the issue with a reference such as CF-7K3Q9."""

    def save(self, issue: Issue) -> Issue:
        """Write the issue, unless it changed since this copy was read (`issue.version`): then
        StaleIssue, nothing written. Returns the issue at its new version."""

    def change(self, issue: Issue, transition: Callable[[Issue], Issue]) -> Issue:
        """Save `transition(issue)` and return it; after a lost race, apply the transition again to
        the issue as it now is (it may refuse: TransitionRefused). Nothing is written if nothing changes."""

    def add_event(self, issue: Issue, event: TimelineEvent) -> None: ...

    def timeline(self, issue_id: str) -> list[TimelineEvent]: ...

    def customer_history(self, customer_id: str, limit: int = 100) -> list[dict[str, Any]]: ...

    def open_issues(self, type_id: str) -> list[OpenIssue]:
        """The type's issues open now, oldest first (the backlog): only the attributes it needs."""


class TaskRepository(Protocol):
    """Human tasks; `change` applies a decision under optimistic locking."""

    def get(self, issue_id: str, step: str) -> Task | None: ...

    def change(self, issue_id: str, step: str, decide: Callable[[Task | None], Task | None]) -> Task | None: ...

    def for_issue(self, issue_id: str) -> list[Task]: ...

    def for_issues(self, steps: Mapping[str, Iterable[str]]) -> dict[str, list[Task]]:
        """The current tasks of several issues at once, given each issue's step ids (those of its
        type); an issue with none is absent. For a page of a queue: one batch read, not one per issue."""

    def archive(self, issue_id: str, run: int) -> None:
        """Keep the tasks of a workflow that ended early (the issue changed type) apart from the next one's."""

    def holders(self, issue_id: str) -> frozenset[str]:
        """Every holder key that holds or held a task of the issue, in its current run or an archived
        one (past holders included): who may see the issue for having worked on it."""

    def queue_slice(self, partition: Partition, after: str | None, limit: int, narrowing: QueueFilter) -> Slice:
        """One bounded read of a queue partition: up to `limit` entries after position `after`
        (None: from the start), in position order; those matching `narrowing` as tasks."""

    def queue_count(self, partition: Partition, narrowing: QueueFilter, cap: int) -> Count:
        """How many open tasks of the partition match, reading at most `cap` entries."""

    def due(self, before: datetime) -> list[Task]:
        """Open tasks whose next checkpoint the SLA sweep can act on falls at or before `before`."""


class IssueTypeRepository(Protocol):
    """Published issue type versions and the catalogue of current ones."""

    def current(self, type_id: str) -> PublishedType | None: ...

    def all_current(self) -> list[PublishedType]: ...

    def version(self, type_id: str, version: int) -> PublishedType | None: ...

    def versions(self, type_id: str) -> list[tuple[PublishedType, datetime]]: ...

    def save_version(self, published: PublishedType, now: datetime) -> None: ...


class MailRepository(Protocol):
    """Email bookkeeping: receipts (exactly once), threads, quarantine, bounces, automatic-mail caps."""

    def receipt(self, ses_id: str, message_id: str | None) -> Receipt | None:
        """The receipt of an earlier delivery of this message, by either key."""

    def receipt_by_message_id(self, message_id: str) -> Receipt | None: ...

    def file_on_issue(self, issue: Issue, event: TimelineEvent, inbound: InboundRecord) -> None:
        """Write the event, the receipt and the thread entry at once; DuplicateKey if received before."""

    def file_without_issue(self, receipt: Receipt, quarantined: QuarantinedMail | None) -> None:
        """Record a message that opened no issue; DuplicateKey if received before."""

    def issue_by_message_id(self, message_id: str) -> str | None: ...

    def thread(self, issue_id: str) -> list[ThreadEntry]:
        """The issue's messages, oldest first."""

    def add_to_thread(self, issue_id: str, entry: ThreadEntry) -> None: ...

    def quarantined(self, limit: int) -> list[QuarantinedMail]:
        """The most recent quarantined messages, newest first."""

    def is_bouncing(self, address: str) -> bool: ...

    def mark_bouncing(self, address: str, at: datetime, detail: str) -> None: ...

    def automatic_mail_count(self, address: str, since: datetime) -> int: ...

    def record_automatic_mail(self, address: str, at: datetime, keep_until: datetime) -> None: ...


class ObjectStore(Protocol):
    """The bucket: raw inbound mail, attachments, classifier models (S3)."""

    def read(self, key: str) -> bytes: ...

    def write(self, key: str, data: bytes, content_type: str) -> None: ...

    def download_link(self, key: str, filename: str, seconds: int) -> str:
        """A short-lived link to one object, e.g. an attachment for an agent."""

    def upload_form(self, key: str, max_bytes: int, redirect: str, seconds: int) -> dict[str, Any]:
        """`{"url", "fields"}` of a form that uploads one file straight to `key` (a presigned POST)."""

    def head(self, key: str, length: int) -> tuple[int, bytes] | None:
        """Size and first bytes of an object, or None."""

    def delete(self, key: str) -> None: ...


class ClassifierRepository(Protocol):
    """The current model, the record of training runs, and agents' labelled examples."""

    def current_model(self) -> ModelRecord | None: ...

    def record_training(self, record: ModelRecord) -> None:
        """Keep the run's record; a promoted model becomes the current one."""

    def trainings(self, limit: int) -> list[ModelRecord]:
        """The latest training runs, newest first."""

    def save_example(self, issue_id: str, text: str, label: str, source: str, at: datetime) -> None:
        """An agent's decision about an issue's type; a later decision about the same issue replaces it."""

    def examples(self) -> list[tuple[str, str]]: ...


class TrainingSlot(Protocol):
    """The training run queued or running now, kept as one item changed only by conditional writes."""

    def claim_training(self, run: TrainingRun, now: datetime) -> TrainingRun:
        """Put `run` in the slot if the slot is free or expired, or holds this same run still queued;
        returns the run the slot holds afterwards (`run`, or the one that was there)."""

    def release_training(self, run_id: str) -> None:
        """Free the slot if the run `run_id` still holds it."""

    def training_run(self, now: datetime) -> TrainingRun | None:
        """The run holding the slot at `now`, if any."""


class ClassifierRecords(ClassifierRepository, TrainingSlot, Protocol):
    """The classifier's models, examples and training slot."""


class SurveyRepository(Protocol):
    """Customers' survey answers per resolved issue, and the recovery issue an unhappy answer opened."""

    def answer(self, issue_id: str, question: str) -> SurveyAnswer | None: ...

    def save(self, issue_id: str, answer: SurveyAnswer) -> None: ...

    def recovery_issue(self, issue_id: str) -> str | None: ...

    def claim_recovery(self, issue_id: str, recovery_issue_id: str) -> bool:
        """Link the recovery issue, once; False if another one was linked first."""


class Metrics(Protocol):
    """CloudWatch metrics of domain events (`chalicelib/domain/measurements.py`)."""

    def record(self, measurements: list[Measurement]) -> None: ...


class JobQueue(Protocol):
    """Background work for a function of its own (e.g. training, which needs scikit-learn)."""

    def submit(self, job: dict[str, Any]) -> None: ...


class Outbox(Protocol):
    """The local copies of sent emails (dev stage only)."""

    def messages(self) -> list[dict[str, str]]: ...

    def message(self, name: str) -> dict[str, str] | None:
        """One message by its name in the listing: headers and plain-text body; None for none."""


class RateLimiter(Protocol):
    """Atomic counters per key (the key names its time window); each expires at `expires_at`."""

    def hit(self, key: str, limit: int, expires_at: datetime, unit: str | None = None) -> bool:
        """Count one hit, or one distinct `unit` (the same unit again counts once); False when over `limit`."""


class LinkUses(Protocol):
    """The uses of single-use links, each recorded once by a conditional write; kept until `keep_until`."""

    def use_once(self, use_id: str, at: datetime, keep_until: datetime) -> bool:
        """Record the link's use; False, nothing written, when it was used before."""

    def used(self, use_id: str) -> bool: ...


class KpiRepository(Protocol):
    """The KPI journal (events by the hour they happened) and the roll-ups folded from it."""

    def append(self, event: KpiEvent) -> None:
        """Keep the event once: a second event with the same key changes nothing."""

    def journal(self, hour: datetime) -> list[KpiEvent]:
        """The events that happened in the UTC hour starting at `hour`."""

    def save_rollup(self, hour: datetime, buckets: dict[Bucket, Aggregate]) -> None:
        """Store one hour's aggregates, replacing what an earlier roll-up of that hour stored."""

    def save_backlog(self, snapshot: BacklogSnapshot) -> None: ...

    def day(self, day: date) -> tuple[dict[Bucket, Aggregate], list[BacklogSnapshot]]:
        """A cohort day's aggregates, summed over the hours that added to it, and the day's
        backlog snapshots, oldest first."""


class IssueSearchIndex(Protocol):
    """The issue search's sources, each read newest first by search position, a bounded piece at a
    time, and the issues and customers of a page read at once (decision 0027)."""

    def entries(self, source: Source, since: str, until: str, limit: int, narrowing: Narrowing) -> SearchEntries:
        """Up to `limit` entries read from a `word`, `name`, `customer` or `type` source with a
        position in [since, until), newest first, less those the narrowing rules out."""

    def issues(self, issue_ids: list[str]) -> list[Issue]:
        """The issues that exist among these, in no particular order."""

    def customers(self, customer_ids: list[str]) -> dict[str, Customer]: ...


class TextEncoder(Protocol):
    """A sentence encoder: each text as a unit vector of `domain.similarity.DIMENSIONS` floats."""

    def encode(self, texts: list[str]) -> list[Any]:
        """One vector per text, in order (anything numpy reads as 384 floats)."""


class SimilarVectors(Protocol):
    """Resolved issues' quantised vectors by type, read whole per type without a Scan (decision 0043)."""

    def put(self, type_id: str, issue_id: str, vector: bytes) -> None:
        """Keep the issue's vector under its type, replacing an earlier one of the same issue."""

    def candidates(self, type_id: str) -> Candidates:
        """Every vector kept under the type, in no particular order (an issue's newer copy last)."""


class ArticleRepository(Protocol):
    """Help articles, all in one item collection: read whole (a few hundred at most), never Scanned."""

    def create(self, article: Article, words: dict[str, int], vector: bytes | None) -> None:
        """Keep a new article with its words and vector; DuplicateKey if its slug is taken."""

    def replace(self, article: Article, words: dict[str, int], vector: bytes | None) -> None:
        """Replace an existing article whole; NotFound if there is none of its slug."""

    def get(self, slug: str) -> Article | None: ...

    def delete(self, slug: str) -> bool:
        """Delete the article; whether there was one."""

    def all(self) -> list[Article]:
        """Every article, by slug."""

    def candidates(self) -> list[Candidate]:
        """What matching reads of every *published* article (words, vector; not the body), by slug."""
