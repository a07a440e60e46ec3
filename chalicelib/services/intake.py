"""Opening an issue: validate the report, store it with its customer, start its workflow.

The issue, its reference, its first timeline event, a new customer and the idempotency key are
written in one transaction; the workflow execution is named after the issue, so neither a retried
request nor a retried start can open a second issue or a second workflow.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain import kpi_events
from chalicelib.domain.errors import Conflict, FieldError, ValidationFailed
from chalicelib.domain.fields import MAX_TEXT_LENGTH, FieldSpec, validate_values
from chalicelib.domain.issue_types import IssueType
from chalicelib.domain.issues import (
    EMAIL,
    WEB,
    Customer,
    Issue,
    TimelineEvent,
    new_id,
    new_reference,
    normalise_email,
)
from chalicelib.services.classification import AUTO, TRIAGE_TYPE, ClassificationService
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.issue_types import IssueTypeService, LoadedType
from chalicelib.services.kpi_recorder import KpiRecorder
from chalicelib.services.ports import DuplicateKey, IssueRepository, MailRepository, WorkflowEngine
from chalicelib.services.records import InboundRecord, NewIssue, Receipt, ThreadEntry
from chalicelib.workflows.compiler import execution_input

_CUSTOMER_FIELDS = (
    FieldSpec(id="email", label="Email", type="email", required=True),
    FieldSpec(id="name", label="Name", type="text", max=200),
)
_ATTEMPTS = 4
#: Who opened an issue the customer did not report (e.g. service recovery): the timeline's actor,
#: by which the status page tells the customer "we opened this" rather than "you reported".
CASEFLOW = "caseflow"
MAX_IDEMPOTENCY_KEY_LENGTH = 200


@dataclass(frozen=True)
class Opened:
    """The answer to an intake request; `replayed` when an earlier identical request made it."""

    issue: Issue
    replayed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.issue.id,
            "reference": self.issue.reference,
            "status": self.issue.status,
            "type": self.issue.type_id,
            "type_version": self.issue.type_version,
        }


@dataclass(frozen=True)
class EmailOpening:
    """An email that opens an issue: who wrote, what, and the receipt stored with the issue."""

    sender: str
    sender_name: str
    subject: str
    text: str
    #: The email as the timeline shows it (from, subject, Message-ID, attachments, ...).
    details: dict[str, Any]
    receipt: Receipt
    entry: ThreadEntry | None
    auto_reply_blocked: str = ""

    def inbound(self, issue_id: str) -> InboundRecord:
        return InboundRecord(replace(self.receipt, issue_id=issue_id), self.entry)


class IntakeService:
    def __init__(
        self,
        issues: IssueRepository,
        issue_types: IssueTypeService,
        engine: WorkflowEngine,
        email_type: str = "general-enquiry",
        mail: MailRepository | None = None,
        classifier: ClassificationService | None = None,
        clock: Clock = utc_now,
        kpis: KpiRecorder | None = None,
    ):
        self._issues = issues
        self._types = issue_types
        self._engine = engine
        self._email_type = email_type
        self._mail = mail
        self._classifier = classifier
        self._clock = clock
        self._kpis = kpis or KpiRecorder()

    def open_issue(
        self,
        request: Any,
        idempotency_key: str | None = None,
        channel: str = WEB,
        *,
        language: str = "",
        time_zone: str = "",
    ) -> Opened:
        """Open an issue from `{"type", "customer": {"email", "name"}, "fields": {...}}`. `language` and
        `time_zone`: what the customer reported in (a web form), remembered on them for later emails."""
        if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
            raise ValidationFailed(
                [FieldError("Idempotency-Key", f"must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters")]
            )
        request_hash = _hash(request)
        if idempotency_key and (earlier := self._replay(idempotency_key, request_hash)):
            return earlier
        if isinstance(request, Mapping) and "type" not in request and "text" in request:
            return self._open_free_text(request, idempotency_key, request_hash, channel)
        loaded, customer_values, fields = self._validate(request)
        email = normalise_email(customer_values["email"])
        return self._store(
            loaded,
            Customer("", email, customer_values.get("name", ""), language=language, time_zone=time_zone),
            fields,
            channel,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
        )

    def open_internal(self, type_id: str, customer: Customer, fields: dict[str, Any], channel: str, key: str) -> Opened:
        """Open an issue Caseflow itself raises for a customer (e.g. service recovery); `key` makes it once."""
        loaded = self._types.current(type_id)
        cleaned = validate_values(loaded.issue_type.fields, fields, self._clock())
        request_hash = _hash({"type": type_id, "customer": customer.email, "fields": cleaned})
        if earlier := self._replay(key, request_hash):
            return earlier
        reporter = Customer(id="", email=customer.email, name=customer.name)
        return self._store(
            loaded, reporter, cleaned, channel, idempotency_key=key, request_hash=request_hash, opened_by=CASEFLOW
        )

    def _open_free_text(
        self, request: Mapping[str, Any], idempotency_key: str | None, request_hash: str, channel: str
    ) -> Opened:
        """`{"customer", "text"}`: the classifier chooses the type, or the issue goes to triage."""
        errors: list[FieldError] = []
        customer_values: dict[str, Any] = {}
        try:
            customer_values = validate_values(_CUSTOMER_FIELDS, request.get("customer"), self._clock(), "customer")
        except ValidationFailed as exc:
            errors.extend(exc.errors)
        text = request.get("text")
        limit = MAX_TEXT_LENGTH["long_text"]
        if not isinstance(text, str) or not text.strip():
            errors.append(FieldError("text", "is required: what happened, in your own words"))
        elif len(text) > limit:
            errors.append(FieldError("text", f"must be at most {limit} characters"))
        if errors:
            raise ValidationFailed(errors)
        loaded, fields, classification = self._route(text.strip())
        email = normalise_email(customer_values["email"])
        return self._store(
            loaded,
            Customer(id="", email=email, name=customer_values.get("name", "")),
            fields,
            channel,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            classification=classification,
        )

    def open_from_email(self, email: EmailOpening) -> Opened:
        """Open an issue from a message that continues no issue: of the type the classifier chooses,
        in triage when it is not sure, or of the email type while no model exists.

        The message's receipt is written with the issue, so a second delivery finds it; a race
        with that second delivery returns the issue the first one opened.
        """
        subject = email.subject.strip()[: MAX_TEXT_LENGTH["text"]] or "(no subject)"
        text = email.text.strip()[: MAX_TEXT_LENGTH["long_text"]] or "(no text)"
        reporter = Customer(id="", email=email.sender, name=email.sender_name)
        routed = self._route(f"{subject}\n\n{text}", text, subject)
        if routed[2] is None:
            loaded = self._types.current(self._email_type)
            fields = validate_values(loaded.issue_type.fields, {"subject": subject, "message": text}, self._clock())
            return self._store(loaded, reporter, fields, EMAIL, email=email)
        loaded, fields, classification = routed
        return self._store(loaded, reporter, fields, EMAIL, email=email, classification=classification)

    def _route(
        self, text: str, customer_words: str | None = None, subject: str | None = None
    ) -> tuple[LoadedType, dict[str, Any], dict[str, Any] | None]:
        """The type for a customer's own words: the classifier's choice when it is sure, else triage.

        Only the type's free-text field (and a subject field, if it has one) is filled: the rest
        are asked along the process.
        """
        public = {t.id for t in self._types.list_current() if t.public}
        verdict = self._classifier.classify(text, public) if self._classifier else None
        chosen = verdict.label if verdict and verdict.routed == AUTO else TRIAGE_TYPE
        loaded = self._types.current(chosen)
        fields = carried_fields(loaded.issue_type, {}, customer_words or text, subject, self._clock())
        return loaded, fields, verdict.as_dict() if verdict else None

    def _store(
        self,
        loaded: Any,
        reporter: Customer,
        fields: dict[str, Any],
        channel: str,
        *,
        idempotency_key: str | None = None,
        request_hash: str = "",
        email: EmailOpening | None = None,
        classification: dict[str, Any] | None = None,
        opened_by: str | None = None,
    ) -> Opened:
        """Store the issue and start its workflow; `opened_by` is who opened it when not the reporter."""
        for _ in range(_ATTEMPTS):
            customer = self._issues.customer_by_email(reporter.email)
            is_new = customer is None
            if customer is None:
                customer = Customer(
                    new_id(), reporter.email, reporter.name, language=reporter.language, time_zone=reporter.time_zone
                )
            else:
                customer = self._remember_locale(customer, reporter)
            now = self._clock()
            issue_id = new_id()
            published = loaded.published
            issue = Issue.open(
                id=issue_id,
                reference=new_reference(),
                type_id=published.type_id,
                type_version=published.version,
                channel=channel,
                customer_id=customer.id,
                fields=fields,
                created_at=now,
                execution_arn=self._engine.execution_arn(published.state_machine_arn, issue_id),
                auto_reply_blocked=email.auto_reply_blocked if email else "",
                classification=classification,
            )
            data: dict[str, Any] = {"channel": channel, "fields": fields}
            if classification is not None:
                data["classification"] = classification
            if email is not None:
                data["email"] = email.details
            who = reporter.name or reporter.email
            how = f"opened for {who}" if opened_by else f"{who} reported"
            opened_event = TimelineEvent(
                now,
                "issue_opened",
                f"{how}: {loaded.issue_type.name}",
                actor=opened_by or reporter.email,
                data=data,
            )
            inbound = email.inbound(issue_id) if email else None
            try:
                self._issues.create(
                    NewIssue(issue, customer, is_new, opened_event, idempotency_key, request_hash, inbound)
                )
            except DuplicateKey:
                if idempotency_key and (earlier := self._replay(idempotency_key, request_hash)):
                    return earlier
                if email and (earlier := self._received_before(email)):
                    return earlier
                continue  # a reference or a new customer's address was taken meanwhile: try again
            self.start_workflow(issue, customer)
            self._kpis.record_all(_opening_events(issue, classification))
            return Opened(issue)
        raise Conflict("could not store the issue; please retry")

    def _remember_locale(self, customer: Customer, reporter: Customer) -> Customer:
        """A known customer who reported in a language (or from a zone) other than the one remembered:
        remember the new one before the workflow writes to them."""
        language = reporter.language if reporter.language and reporter.language != customer.language else ""
        zone = reporter.time_zone if reporter.time_zone and reporter.time_zone != customer.time_zone else ""
        if not (language or zone):
            return customer
        self._issues.set_customer_locale(customer.id, language, zone)
        return replace(customer, language=language or customer.language, time_zone=zone or customer.time_zone)

    def _received_before(self, email: EmailOpening) -> Opened | None:
        receipt = self._mail.receipt(email.receipt.ses_id, email.receipt.message_id) if self._mail else None
        issue = self._issues.get(receipt.issue_id) if receipt and receipt.issue_id else None
        return self.ensure_started(issue.id) if issue else None

    def ensure_started(self, issue_id: str) -> Opened | None:
        """Start the issue's workflow if an interrupted intake stored it without starting it."""
        issue = self._issues.get(issue_id)
        customer = self._issues.customer(issue.customer_id) if issue else None
        if issue is None or customer is None:
            return None
        self.start_workflow(issue, customer)
        return Opened(issue, replayed=True)

    def _validate(self, request: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
        if not isinstance(request, Mapping):
            raise ValidationFailed([FieldError("body", "must be a JSON object")])
        errors: list[FieldError] = []
        loaded = None
        try:
            loaded = self._types.current_public(request.get("type"))
        except ValidationFailed as exc:
            errors.extend(exc.errors)
        customer_values: dict[str, Any] = {}
        try:
            customer_values = validate_values(_CUSTOMER_FIELDS, request.get("customer"), self._clock(), "customer")
        except ValidationFailed as exc:
            errors.extend(exc.errors)
        fields: dict[str, Any] = {}
        if loaded is not None:
            try:
                fields = validate_values(loaded.issue_type.fields, request.get("fields"), self._clock())
            except ValidationFailed as exc:
                errors.extend(exc.errors)
        if errors:
            raise ValidationFailed(errors)
        return loaded, customer_values, fields

    def _replay(self, key: str, request_hash: str) -> Opened | None:
        recorded = self._issues.idempotent_request(key)
        if recorded is None:
            return None
        issue_id, recorded_hash = recorded
        if recorded_hash != request_hash:
            raise Conflict("this Idempotency-Key was already used for a different request")
        return self.ensure_started(issue_id)

    def move_to_next_run(self, issue: Issue, transition: Callable[[Issue], Issue]) -> Issue:
        """Store the issue as `transition` (a change of type, a reopening) moves it to its next run,
        with the execution that will run it (`<id>-<run>`). Returns the issue as it now is; the
        transition's refusal (TransitionRefused) propagates. `start_run` then starts that run."""
        return self._issues.change(issue, lambda current: self._with_execution(transition(current)))

    def start_run(self, issue: Issue, event: TimelineEvent) -> None:
        """Record `event` and run the issue's process from the start as its current run (after
        `move_to_next_run`, and after the earlier run's tasks are out of the way)."""
        self._issues.add_event(issue, event)
        customer = self._issues.customer(issue.customer_id)
        if customer is not None:
            self.start_workflow(issue, customer)

    def _with_execution(self, issue: Issue) -> Issue:
        loaded = self._types.version(issue.type_id, issue.type_version)
        arn = self._engine.execution_arn(loaded.published.state_machine_arn, issue.execution_name)
        return issue.with_execution(arn)

    def start_workflow(self, issue: Issue, customer: Customer) -> None:
        """Start the issue's workflow, named after the issue (and its run): a retried start starts nothing."""
        loaded = self._types.version(issue.type_id, issue.type_version)
        self._engine.start(
            loaded.published.state_machine_arn,
            issue.execution_name,
            execution_input(
                loaded.issue_type,
                issue_id=issue.id,
                version=issue.type_version,
                fields=issue.fields,
                segment=customer.segment,
            ),
        )


def _opening_events(issue: Issue, classification: dict[str, Any] | None) -> list[kpi_events.KpiEvent]:
    at = issue.created_at
    found = [kpi_events.issue_opened(issue.id, issue.type_id, issue.channel, at)]
    if classification is not None:
        automatic = classification.get("routed") == AUTO
        found.append(kpi_events.classification(issue.id, issue.type_id, issue.channel, at, automatic))
    return found


def carried_fields(
    issue_type: IssueType, earlier: Mapping[str, Any], words: str, subject: str | None, now: Any
) -> dict[str, Any]:
    """The values an issue brings into a type chosen for it: the fields of the same id that are valid
    there, the customer's own words in its free-text field, and the subject in a subject field."""
    values = {spec.id: earlier[spec.id] for spec in issue_type.fields if spec.id in earlier}
    free_text = issue_type.free_text_field
    if free_text is not None and free_text.id not in values:
        values[free_text.id] = words[: MAX_TEXT_LENGTH[free_text.type]]
    if subject and issue_type.field("subject") is not None and "subject" not in values:
        values["subject"] = subject[: MAX_TEXT_LENGTH["text"]]
    kept = {}
    for name, value in values.items():
        try:
            kept.update(validate_values(issue_type.fields, {name: value}, now, partial=True))
        except ValidationFailed:
            continue  # a value the new type does not accept stays on the timeline, not in its fields
    return kept


def _hash(request: Any) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()
