"""Roles and teams for admins: list them with their members, create them, add and remove members;
and, for a definition being validated or published, which of the holders it names have nobody."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.domain.agent_groups import Group, Member, new_group, unstaffed_warning
from chalicelib.domain.agents import ADMIN_ROLE, Agent
from chalicelib.domain.assignees import EMAIL, Holder, NamedHolder
from chalicelib.domain.errors import Conflict, FieldError, NotFound
from chalicelib.services.ports import AgentGroups, DuplicateKey

#: The most roles, teams and agents one definition's warnings look up (one directory call each).
MAX_LOOKUPS = 100


class AgentGroupService:
    """Roles and teams are the directory's groups (Cognito); a member's next sign-in carries a change."""

    def __init__(self, groups: AgentGroups):
        self._groups = groups

    def list(self, kind: str, agent: Agent) -> list[dict[str, Any]]:
        """Every role (or team) with its members."""
        agent.require_role(ADMIN_ROLE)
        return [self._view(g, self._groups.members(g.name) or []) for g in self._groups.groups() if g.kind == kind]

    def create(self, kind: str, request: Any, agent: Agent) -> dict[str, Any]:
        """A new role or team, without members; Conflict if the name is taken by either."""
        agent.require_role(ADMIN_ROLE)
        group = new_group(request, kind)
        try:
            self._groups.create_group(group)
        except DuplicateKey as exc:
            taken = self._groups.group(group.name)
            raise Conflict(f"{taken.kind if taken else 'a group'} {group.name!r} exists already") from exc
        return self._view(group, [])

    def add_member(self, kind: str, name: str, username: str, agent: Agent) -> dict[str, Any]:
        """Put an agent in a role or team (again: no change); they hold its tasks from their next sign-in."""
        agent.require_role(ADMIN_ROLE)
        group = self._existing(kind, name)
        if self._groups.agent(username) is None:
            raise NotFound(f"no agent {username!r}")
        self._groups.add_member(group.name, username)
        return self._view(group, self._groups.members(group.name) or [])

    def remove_member(self, kind: str, name: str, username: str, agent: Agent) -> dict[str, Any]:
        """Take an agent out of a role or team (not in it: no change); their next sign-in goes without it."""
        agent.require_role(ADMIN_ROLE)
        group = self._existing(kind, name)
        if self._groups.agent(username) is None:
            raise NotFound(f"no agent {username!r}")
        self._groups.remove_member(group.name, username)
        return self._view(group, self._groups.members(group.name) or [])

    def unstaffed(self, named: Iterable[NamedHolder]) -> list[FieldError]:
        """A warning for each place a definition names a role, team or agent that nobody answers for.

        Each holder is looked up once however often it is named, and at most `MAX_LOOKUPS` of them
        (a directory call each); outside parties (email) never are."""
        counts: dict[Holder, tuple[bool, int]] = {}
        warnings = []
        unchecked = set()
        for each in named:
            if each.holder.kind == EMAIL:
                continue
            if each.holder not in counts and len(counts) < MAX_LOOKUPS:
                counts[each.holder] = self._staffing(each.holder)
            if each.holder not in counts:
                unchecked.add(each.holder)
            elif warning := unstaffed_warning(each, *counts[each.holder]):
                warnings.append(warning)
        if unchecked:
            message = f"names more than {MAX_LOOKUPS} roles, teams and agents; {len(unchecked)} were not checked"
            warnings.append(FieldError("body", message))
        return warnings

    def _staffing(self, holder: Holder) -> tuple[bool, int]:
        if holder.is_group:
            members = self._groups.members(holder.name)
            return members is not None, sum(m.enabled for m in members or [])
        found = self._groups.agent(holder.name)
        return found is not None, int(bool(found and found.enabled))

    def _existing(self, kind: str, name: str) -> Group:
        group = self._groups.group(name)
        if group is None:
            raise NotFound(f"no {kind} {name!r}")
        if group.kind != kind:
            raise NotFound(f"no {kind} {name!r}; {name!r} is a {group.kind}")
        return group

    @staticmethod
    def _view(group: Group, members: list[Member]) -> dict[str, Any]:
        return {
            "name": group.name,
            "description": group.description,
            "members": [m.as_dict() for m in members],
        }
