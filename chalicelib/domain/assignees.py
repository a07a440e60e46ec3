"""Who holds a task: a role, a team, a person, an outside party by email, or someone named by a field.

Roles and teams are groups of agents (Cognito groups); a person is one agent by username; an
email address is someone without a seat, who answers through a signed link. A field assignee
takes the holder from an attribute of the option the customer chose (the store's manager of the
chosen store), with a fallback when the option names nobody.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.problems import DefinitionProblems

ROLE = "role"
TEAM = "team"
USER = "user"
EMAIL = "email"
FIELD = "field"
#: The customer holds a "wait for the customer's reply" step.
CUSTOMER = "customer"
DIRECT_KINDS = (ROLE, TEAM, USER, EMAIL)
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
_USERNAME = re.compile(r"^[A-Za-z0-9._@+-]{1,128}$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


@dataclass(frozen=True)
class Holder:
    """A resolved assignee; `key` (`role:hr`, `user:sam`, `email:a@b.example`) indexes the queue."""

    kind: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def is_group(self) -> bool:
        return self.kind in (ROLE, TEAM)

    def describe(self) -> str:
        return self.name if self.kind != TEAM else f"team {self.name}"

    @classmethod
    def from_key(cls, key: str) -> Holder:
        kind, _, name = key.partition(":")
        return cls(kind, name) if name else cls(ROLE, kind)


@dataclass(frozen=True)
class NamedHolder:
    """A direct holder as a definition names it, where (`steps[2].assignee`), and whether it is
    there to act on the task (an assignee, a fallback, a reassignment) or only to be told of it."""

    path: str
    holder: Holder
    notified: bool = False


def is_group_name(value: Any) -> bool:
    """Whether `value` can name a role or a team (a Cognito group): lower-kebab-case."""
    return isinstance(value, str) and bool(_NAME.match(value))


def agent_keys(username: str, groups: Iterable[str]) -> list[str]:
    """The queue keys an agent works from: each of their groups as a role and as a team, and themself."""
    keys = [f"{kind}:{group}" for group in sorted(groups) for kind in (ROLE, TEAM)]
    return [*keys, f"{USER}:{username}"]


@dataclass(frozen=True)
class Assignee:
    """As written in the definition; `resolve` turns it into a Holder for one issue."""

    kind: str
    name: str = ""
    attribute: str = ""
    otherwise: Holder | None = None

    def direct(self) -> Holder | None:
        return Holder(self.kind, self.name) if self.kind in DIRECT_KINDS else None

    def resolve(self, field_values: Mapping[str, Any], options: Mapping[str, str]) -> Holder:
        """`options` maps each option value of the named field to its attribute (e.g. the manager)."""
        if self.kind != FIELD:
            return Holder(self.kind, self.name)
        named = options.get(str(field_values.get(self.name)))
        if named:
            return Holder(EMAIL, named.lower()) if "@" in named else Holder(USER, named)
        assert self.otherwise is not None  # required when parsed
        return self.otherwise


def parse_assignee(raw: Any, path: str, problems: DefinitionProblems) -> Assignee | None:
    """`store-manager` (a role), `{role: x}`, `{team: x}`, `{user: sam}`, `{email: a@b}`, or
    `{field: store, attribute: manager, otherwise: {role: store-manager}}`."""
    if isinstance(raw, str):
        raw = {ROLE: raw}
    if not isinstance(raw, Mapping):
        problems.add(path, "must be a role name or a mapping like {role: hr}")
        return None
    kinds = [k for k in (*DIRECT_KINDS, FIELD) if k in raw]
    if len(kinds) != 1:
        problems.add(path, "needs exactly one of role, team, user, email, field")
        return None
    kind = kinds[0]
    value = raw[kind]
    if kind == FIELD:
        holder = parse_holder(raw.get("otherwise"), f"{path}.otherwise", problems)
        attribute = raw.get("attribute")
        if not isinstance(attribute, str) or not attribute:
            problems.add(f"{path}.attribute", "must name the option attribute that holds the assignee")
            return None
        if not isinstance(value, str) or not value:
            problems.add(f"{path}.field", "must be a field id")
            return None
        return Assignee(FIELD, value, attribute, holder) if holder else None
    holder = parse_holder({kind: value}, path, problems)
    return Assignee(holder.kind, holder.name) if holder else None


def parse_holder(raw: Any, path: str, problems: DefinitionProblems) -> Holder | None:
    """A direct assignee: a role name, or `{role|team|user|email: name}`."""
    if isinstance(raw, str):
        raw = {ROLE: raw}
    if not isinstance(raw, Mapping) or len(raw) != 1 or next(iter(raw)) not in DIRECT_KINDS:
        problems.add(path, "must be a role name or one of {role: x}, {team: x}, {user: x}, {email: x}")
        return None
    kind, value = next(iter(raw.items()))
    pattern = {ROLE: _NAME, TEAM: _NAME, USER: _USERNAME, EMAIL: _EMAIL}[kind]
    if not isinstance(value, str) or not pattern.match(value):
        expected = {ROLE: "a name in lower-kebab-case", TEAM: "a name in lower-kebab-case", USER: "a username"}
        problems.add(f"{path}.{kind}" if kind != ROLE else path, f"must be {expected.get(kind, 'an email address')}")
        return None
    return Holder(kind, value.lower() if kind == EMAIL else value)
