"""What admins do: define issue types (validated, then published as versions) and set customer segments."""

from __future__ import annotations

import re
from typing import Any

from chalicelib.domain import free_text
from chalicelib.domain.agents import Agent
from chalicelib.domain.errors import FieldError, NotFound, ValidationFailed
from chalicelib.domain.issues import normalise_email
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.ports import IssueRepository
from chalicelib.workflows.compiler import compile_issue_type

ADMIN_ROLE = "admin"
_SEGMENT_PATTERN = r"^[a-z][a-z0-9-]{0,40}$"


class AdministrationService:
    def __init__(self, issue_types: IssueTypeService, issues: IssueRepository):
        self._types = issue_types
        self._issues = issues

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
        """A dry run: every problem of the definition, or what publishing it would create."""
        agent.require_role(ADMIN_ROLE)
        _, issue_type = self._types.validate(definition)
        states = compile_issue_type(issue_type, "https://sqs.example/queue")["States"]
        return {
            "valid": True,
            "id": issue_type.id,
            "steps": [s.id for s in issue_type.all_steps()],
            "roles": sorted(issue_type.roles()),
            "states": len(states),
        }

    def put_type(self, type_id: str, definition: Any, agent: Agent) -> tuple[bool, dict[str, Any]]:
        """Create or update a type; returns (created, the published version)."""
        agent.require_role(ADMIN_ROLE)
        if not isinstance(definition, dict):
            raise ValidationFailed([FieldError("body", "must be an issue type definition (a JSON object)")])
        if definition.setdefault("id", type_id) != type_id:
            raise ValidationFailed([FieldError("id", f"must match the address: {type_id!r}")])
        before = self._types.catalogue()
        existed = any(p.type_id == type_id for p in before)
        previous = next((p.version for p in before if p.type_id == type_id), 0)
        published = self._types.publish(definition)
        return not existed, {
            "id": published.type_id,
            "version": published.version,
            "published": published.version != previous,
            "state_machine_arn": published.state_machine_arn,
        }

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
