"""Collecting the problems of a definition (issue type, calendar), each named by its path."""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.domain.errors import FieldError


@dataclass
class DefinitionProblems:
    """Every problem found, so that an admin sees them all at once: `steps[1].deadline: ...`."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))
