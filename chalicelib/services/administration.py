"""What admins do: define issue types (validated, then published as versions) and set customer segments."""

from __future__ import annotations

import re
from typing import Any

from chalicelib.domain import free_text
from chalicelib.domain.agents import ADMIN_ROLE, Agent
from chalicelib.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from chalicelib.domain.issue_types import IssueType
from chalicelib.domain.issues import normalise_email
from chalicelib.domain.type_texts import languages_of, missing_translations
from chalicelib.services.agent_groups import AgentGroupService
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.ports import IssueRepository
from chalicelib.workflows.compiler import compile_issue_type

_SEGMENT_PATTERN = r"^[a-z][a-z0-9-]{0,40}$"
#: What `GET /admin/issue-types/{id}` answers, which `PUT` takes back as it is.
_ENVELOPE_KEYS = {"id", "version", "definition"}


class AdministrationService:
    def __init__(self, issue_types: IssueTypeService, issues: IssueRepository, groups: AgentGroupService):
        self._types = issue_types
        self._issues = issues
        self._groups = groups

    def list_types(self, agent: Agent) -> list[dict[str, Any]]:
        agent.require_role(ADMIN_ROLE)
        return [
            {
                "id": p.type_id,
                "name": p.definition.get("name"),
                "description": p.definition.get("description", ""),
                "version": p.version,
                "state_machine_arn": p.state_machine_arn,
            }
            for p in self._types.catalogue()
        ]

    def get_type(self, type_id: str, agent: Agent) -> dict[str, Any]:
        agent.require_role(ADMIN_ROLE)
        published = self._types.current_definition(type_id)
        return {"id": type_id, "version": published.version, "definition": published.definition}

    def versions(self, type_id: str, agent: Agent) -> list[dict[str, Any]]:
        agent.require_role(ADMIN_ROLE)
        return self._types.versions(type_id)

    def validate(self, definition: Any, agent: Agent) -> dict[str, Any]:
        """A dry run: every problem of the definition, or what publishing it would create, the
        warnings publishing would give, and per language the customer texts not yet translated."""
        agent.require_role(ADMIN_ROLE)
        _, issue_type = self._types.validate(definition)
        states = compile_issue_type(issue_type, "https://sqs.example/queue")["States"]
        return {
            "valid": True,
            "id": issue_type.id,
            "steps": [s.id for s in issue_type.all_steps()],
            "roles": sorted(issue_type.roles()),
            "states": len(states),
            "warnings": self._warnings(issue_type),
            # Not errors: an untranslated text reads in the default language; admins see what is left.
            "languages": list(languages_of(issue_type)),
            "missing_translations": missing_translations(issue_type),
        }

    def put_type(self, type_id: str, definition: Any, agent: Agent) -> tuple[bool, dict[str, Any]]:
        """Create or update a type from a definition, or from what `get_type` answered (its `version`
        must still be the current one); returns (created, the published version and its warnings)."""
        agent.require_role(ADMIN_ROLE)
        definition = self._unwrapped(type_id, definition)
        if not isinstance(definition, dict):
            raise ValidationFailed([FieldError("body", "must be an issue type definition (a JSON object)")])
        if definition.setdefault("id", type_id) != type_id:
            raise ValidationFailed([FieldError("id", f"must match the address: {type_id!r}")])
        before = self._types.catalogue()
        existed = any(p.type_id == type_id for p in before)
        previous = next((p.version for p in before if p.type_id == type_id), 0)
        _, issue_type = self._types.validate(definition)
        published = self._types.publish(definition)
        return not existed, {
            "id": published.type_id,
            "version": published.version,
            "published": published.version != previous,
            "state_machine_arn": published.state_machine_arn,
            "warnings": self._warnings(issue_type),
        }

    def _unwrapped(self, type_id: str, body: Any) -> Any:
        """The definition inside `{id, version, definition}`; a bare definition as it is (it has no
        `definition` key). An envelope read at an older version than the current one is a lost update."""
        if not isinstance(body, dict) or "definition" not in body:
            return body
        errors = [FieldError(str(k), "unknown key; send a definition, or id, version and definition") for k in body]
        errors = [e for e in errors if e.field not in _ENVELOPE_KEYS]
        if body.get("id", type_id) != type_id:
            errors.append(FieldError("id", f"must match the address: {type_id!r}"))
        version = body.get("version")
        if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
            errors.append(FieldError("version", "must be the version the definition was read at"))
        if errors:
            raise ValidationFailed(errors)
        current = next((p.version for p in self._types.catalogue() if p.type_id == type_id), None)
        if version is not None and version != current:
            raise Conflict(
                f"this definition was read at version {version}; {type_id} is at version {current} now: "
                "read it again and apply your change to that"
            )
        return body["definition"]

    def _warnings(self, issue_type: IssueType) -> list[dict[str, str]]:
        return [w.as_dict() for w in self._groups.unstaffed(issue_type.named_holders)]

    def set_segment(self, email: str, request: Any, agent: Agent) -> dict[str, Any]:
        """Put a customer in a segment (e.g. `vip`); new issues of theirs follow the segment's rules."""
        agent.require_role(ADMIN_ROLE)
        segment = request.get("segment") if isinstance(request, dict) else None
        if not isinstance(segment, str) or not re.match(_SEGMENT_PATTERN, segment):
            raise ValidationFailed([FieldError("segment", "must be a segment name in lower-kebab-case, e.g. vip")])
        found = not free_text.problem(email, free_text.EMAIL_LENGTH)
        customer = self._issues.customer_by_email(normalise_email(email)) if found else None
        if customer is None:
            raise NotFound(f"no customer with the address {email}")
        self._issues.set_customer_segment(customer.id, segment)
        return {"id": customer.id, "email": customer.email, "segment": segment}
