"""Roles and teams: named groups of agents (Cognito groups), and what a definition's holders lack.

A role says what an agent may do and which tasks reach them (`hr`); a team is a group of people
who share work (`engineering-oncall`). Both hold tasks the same way: an agent in group `g` works
the tasks of `role:g` and of `team:g` (`assignees.agent_keys`). A group is one or the other, so
that admins see roles and teams apart; its name is unique across both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.domain import free_text
from chalicelib.domain.assignees import EMAIL, ROLE, TEAM, NamedHolder, is_group_name
from chalicelib.domain.errors import FieldError, ValidationFailed

GROUP_KINDS = (ROLE, TEAM)
#: Cognito keeps a group's description in at most 2048 characters, some of them ours (the kind).
DESCRIPTION_LENGTH = 1_000


@dataclass(frozen=True)
class Group:
    name: str
    kind: str
    description: str = ""


@dataclass(frozen=True)
class Member:
    """An agent as the directory knows them; a disabled agent cannot sign in nor act."""

    username: str
    email: str
    enabled: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"username": self.username, "email": self.email, "enabled": self.enabled}


def new_group(request: Any, kind: str) -> Group:
    """A role or team to create from `{"name", "description"}`; ValidationFailed lists every problem."""
    if not isinstance(request, dict):
        raise ValidationFailed([FieldError("body", 'must be a JSON object like {"name": "returns-lead"}')])
    errors = []
    name = request.get("name")
    if not is_group_name(name):
        errors.append(FieldError("name", "must be lower-kebab-case, 1 to 41 characters, e.g. returns-lead"))
    description = request.get("description", "")
    if problem := free_text.problem(description, DESCRIPTION_LENGTH):
        errors.append(FieldError("description", problem))
    unknown = sorted(set(request) - {"name", "description"})
    errors += [FieldError(str(key), "unknown key; give name and description") for key in unknown]
    if errors:
        raise ValidationFailed(errors)
    return Group(name, kind, description.strip())


def unstaffed_warning(named: NamedHolder, exists: bool, members: int) -> FieldError | None:
    """Why the holder named at `named.path` leaves its task with nobody (or its news unread), or None.

    `exists`: the group (or the agent) is in the directory; `members`: its enabled agents (1 for
    an enabled agent). An email address is someone outside, who answers through a link: never a warning.
    """
    holder = named.holder
    if holder.kind == EMAIL or members > 0:
        return None
    consequence = "nobody will be told" if named.notified else "nobody can act on this task"
    if holder.kind not in GROUP_KINDS:
        state = "is disabled" if exists else "does not exist"
        return FieldError(named.path, f"agent {holder.name!r} {state}: {consequence}")
    if not exists:
        advice = f"create it with POST /admin/{holder.kind}s"
        return FieldError(named.path, f"{holder.kind} {holder.name!r} does not exist: {consequence}; {advice}")
    return FieldError(named.path, f"{holder.kind} {holder.name!r} has no members: {consequence}")
