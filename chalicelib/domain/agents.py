"""The signed-in agent and what their roles allow."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.errors import Forbidden

#: Roles that exist whatever the issue types: first-line agents, admins, and ops (dashboards).
BUILT_IN_ROLES = ("agent", "admin", "ops")


@dataclass(frozen=True)
class Agent:
    username: str
    email: str
    roles: frozenset[str]

    def require_role(self, role: str) -> None:
        if role not in self.roles:
            raise Forbidden(f"this needs the role {role!r}; you have {', '.join(sorted(self.roles)) or 'none'}")

    def require_any_role(self) -> None:
        if not self.roles:
            raise Forbidden("your account has no role; ask an admin to add you to one")
