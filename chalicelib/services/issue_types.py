"""Publishing issue types: validate, compile to a new state machine, record the version.

Seeds at start-up and the admin API use the same `publish`. A version never changes once
published; a running issue keeps the version (and state machine) it started on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from chalicelib.domain.issue_types import (
    IssueType,
    PublishedType,
    parse_issue_type,
    publishing_problems,
    with_shared_calendars,
)
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.ports import DuplicateKey, IssueTypeRepository, WorkflowEngine
from chalicelib.workflows.compiler import compile_issue_type, state_machine_name
from chalicelib.workflows.seeds import load_seed_definitions, load_shared_calendars

#: A definition is stored whole in one DynamoDB item (400 KB) and compiled into one state machine.
MAX_DEFINITION_LENGTH = 100_000


@dataclass(frozen=True)
class LoadedType:
    issue_type: IssueType
    published: PublishedType


class IssueTypeService:
    """`queue_url` is asked for only when publishing, so that cold starts don't pay for it."""

    def __init__(
        self,
        repository: IssueTypeRepository,
        engine: WorkflowEngine,
        queue_url: Callable[[], str],
        state_machine_prefix: str,
        clock: Clock = utc_now,
        dev_seeds: bool = False,
    ):
        self._repository = repository
        self._engine = engine
        self._queue_url = queue_url
        self._prefix = state_machine_prefix
        self._clock = clock
        #: Whether the dev-only seeds (demo-quick) are published: on the dev stage only.
        self._dev_seeds = dev_seeds
        self._versions: dict[tuple[str, int], LoadedType] = {}

    def validate(self, definition: Any) -> tuple[dict[str, Any], IssueType]:
        """The definition as it would be stored, and its parsed type; ValidationFailed lists every problem."""
        # As stored: YAML dates become text, and the shared calendars it names are copied in.
        text = json.dumps(with_shared_calendars(definition, load_shared_calendars()), default=str)
        if len(text) > MAX_DEFINITION_LENGTH:
            raise ValidationFailed(
                [FieldError("body", f"a definition may be at most {MAX_DEFINITION_LENGTH:,} characters")]
            )
        stored = json.loads(text)
        issue_type = parse_issue_type(stored)
        if problems := publishing_problems(issue_type):
            raise ValidationFailed(problems)
        return stored, issue_type

    def publish(self, definition: Any) -> PublishedType:
        """Publish a definition as the type's next version; an unchanged definition publishes nothing."""
        definition, issue_type = self.validate(definition)
        current = self._repository.current(issue_type.id)
        if current and current.definition == definition:
            return current
        version = current.version + 1 if current else 1
        asl = compile_issue_type(issue_type, self._queue_url())
        arn = self._engine.create_state_machine(state_machine_name(self._prefix, issue_type.id, version), asl)
        published = PublishedType(issue_type.id, version, definition, arn)
        try:
            self._repository.save_version(published, self._clock())
        except DuplicateKey as exc:
            raise Conflict(f"issue type {issue_type.id} v{version} was published concurrently") from exc
        return published

    def publish_seeds(self, dev_seeds: bool | None = None) -> list[PublishedType]:
        """Publish the seeded types; the dev-only ones where `dev_seeds` (default: the stage's rule)
        says so. A stack on moto for tests or benchmarks passes True."""
        dev = self._dev_seeds if dev_seeds is None else dev_seeds
        return [self.publish(definition) for definition in load_seed_definitions(dev=dev)]

    def republish_versions(self) -> list[PublishedType]:
        """Create again the state machine of every version ever published, seeded or by an admin,
        from its stored definition: for a stack whose data outlived its Step Functions (the
        embedded one, restarted on a kept state). A state machine keeps its name, so its ARN; one
        that still exists is left as it is."""
        republished = []
        for current in self._repository.all_current():
            for published, _ in self._repository.versions(current.type_id):
                issue_type = self._loaded(published).issue_type
                asl = compile_issue_type(issue_type, self._queue_url())
                name = state_machine_name(self._prefix, published.type_id, published.version)
                arn = self._engine.create_state_machine(name, asl)
                if arn != published.state_machine_arn:
                    raise Conflict(
                        f"issue type {published.type_id} v{published.version}: its state machine is now {arn}, "
                        f"not {published.state_machine_arn} as recorded"
                    )
                republished.append(published)
        return republished

    def current(self, type_id: Any) -> LoadedType:
        """The version new issues of this type start on; ValidationFailed names the `type` field."""
        return self._current(type_id, public_only=False)

    def current_public(self, type_id: Any) -> LoadedType:
        """The version a customer's report of this type starts on. A type customers don't choose
        (e.g. triage) is as unknown to them as a missing one, and the error names only the types
        they may choose: those `GET /issue-types` lists."""
        return self._current(type_id, public_only=True)

    def _current(self, type_id: Any, public_only: bool) -> LoadedType:
        if type_id is None or type_id == "":
            raise ValidationFailed([FieldError("type", "is required")])
        published = self._repository.current(type_id) if isinstance(type_id, str) else None
        loaded = self._loaded(published) if published else None
        if loaded is None or (public_only and not loaded.issue_type.public):
            known = ", ".join(sorted(t.id for t in self.list_current() if t.public or not public_only))
            raise ValidationFailed([FieldError("type", f"unknown issue type {type_id!r}; known types: {known}")])
        return loaded

    def version(self, type_id: str, version: int) -> LoadedType:
        key = (type_id, version)
        if key not in self._versions:
            published = self._repository.version(type_id, version)
            if published is None:
                raise NotFound(f"issue type {type_id} v{version} does not exist")
            self._versions[key] = self._loaded(published)
        return self._versions[key]

    def list_current(self) -> list[IssueType]:
        return [self._loaded(p).issue_type for p in self._repository.all_current()]

    def catalogue(self) -> list[PublishedType]:
        """The current version of every type, for admins."""
        return sorted(self._repository.all_current(), key=lambda p: p.type_id)

    def current_definition(self, type_id: str) -> PublishedType:
        published = self._repository.current(type_id)
        if published is None:
            raise NotFound(f"no issue type {type_id!r}")
        return published

    def versions(self, type_id: str) -> list[dict[str, Any]]:
        found = self._repository.versions(type_id)
        if not found:
            raise NotFound(f"no issue type {type_id!r}")
        return [
            {"version": p.version, "published_at": at.isoformat(), "state_machine_arn": p.state_machine_arn}
            for p, at in found
        ]

    def _loaded(self, published: PublishedType) -> LoadedType:
        key = (published.type_id, published.version)
        if key not in self._versions:
            self._versions[key] = LoadedType(parse_issue_type(published.definition), published)
        return self._versions[key]
