"""The signed-in agent and what their roles allow."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.assignees import Holder, agent_keys
from chalicelib.domain.errors import Forbidden

#: First-line agents: they work the triage queue.
AGENT_ROLE = "agent"
ADMIN_ROLE = "admin"
#: Reads the KPIs and the ops dashboard.
OPS_ROLE = "ops"
#: Oversees the service: sees every issue, whatever its type (decision 0025).
SUPERVISOR_ROLE = "supervisor"
#: How long an agent stays signed in without typing their password again: a long working day. The
#: browser keeps the refresh token this long, and the pool's app client lets it live no longer.
SESSION_HOURS = 12
#: Roles that exist whatever the issue types: first-line agents, admins, ops (dashboards) and supervisors.
BUILT_IN_ROLES = (AGENT_ROLE, ADMIN_ROLE, OPS_ROLE, SUPERVISOR_ROLE)


@dataclass(frozen=True)
class Agent:
    username: str
    email: str
    roles: frozenset[str]
    #: Their time zone (Cognito's `zoneinfo`, an IANA name); "" when they have none: they read
    #: times in the task's calendar's zone (decision 0030).
    time_zone: str = ""

    def require_role(self, role: str) -> None:
        if role not in self.roles:
            raise Forbidden(f"this needs the role {role!r}; you have {', '.join(sorted(self.roles)) or 'none'}")

    def require_any_role(self) -> None:
        if not self.roles:
            raise Forbidden("your account has no role; ask an admin to add you to one")

    def holder_keys(self) -> list[str]:
        """The task holders this agent answers for: each role or team they are in, and themself."""
        return agent_keys(self.username, self.roles)

    def holds(self, holder_key: str) -> bool:
        """Whether a task held by `holder_key` is this agent's to work: theirs, or their role's or team's."""
        return holder_key in self.holder_keys()

    def require_holder(self, holder_key: str) -> None:
        if not self.holds(holder_key):
            holder = Holder.from_key(holder_key)
            roles = ", ".join(sorted(self.roles)) or "no roles"
            raise Forbidden(f"this task is held by {holder.kind} {holder.name!r}; you have {roles}")
