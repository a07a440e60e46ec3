"""Internal notes: what agents write to each other on an issue.

A note is on the agents' timeline only: never in an email to the customer, on the status page or
in a survey (those show only the kinds they list). `@username` in a note emails that person, with
the note and the issue's reference; an unknown name is reported back, not guessed.
"""

from __future__ import annotations

import re
from typing import Any

from chalicelib.domain import free_text
from chalicelib.domain.agents import Agent
from chalicelib.domain.errors import NotFound
from chalicelib.domain.issues import TimelineEvent
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.notifications import NotificationService
from chalicelib.services.ports import IssueRepository

INTERNAL_NOTE = "internal_note"
#: A mention: `@` and a username, not preceded by a word character (so an email address is none).
_MENTION = re.compile(r"(?<![\w.+-])@([A-Za-z0-9][A-Za-z0-9._-]{0,127})")


def mentions(text: str) -> list[str]:
    """The usernames `text` mentions, once each, in order; a trailing full stop is punctuation."""
    found: list[str] = []
    for name in (m.rstrip(".") for m in _MENTION.findall(text)):
        if name and name not in found:
            found.append(name)
    return found


class NoteService:
    def __init__(self, issues: IssueRepository, notifications: NotificationService, clock: Clock = utc_now):
        self._issues = issues
        self._notifications = notifications
        self._clock = clock

    def add(self, issue_id: str, text: Any, agent: Agent) -> dict[str, Any]:
        """Put the agent's note on the issue's timeline and email each person it mentions."""
        agent.require_any_role()
        text = free_text.clean(text, "text", free_text.MESSAGE_LENGTH)
        issue = self._issues.get(issue_id)
        if issue is None:
            raise NotFound(f"no issue {issue_id}")
        named = mentions(text)
        addresses = {name: self._notifications.user_email(name) for name in named}
        notified = [name for name, address in addresses.items() if address]
        event = TimelineEvent(self._clock(), INTERNAL_NOTE, text, actor=agent.username, data={"mentions": notified})
        self._issues.add_event(issue, event)
        for name in notified:
            subject = f"{agent.username} mentioned you on {issue.reference}"
            body = f"{agent.username} wrote on {issue.reference}:\n\n{text}\n"
            self._notifications.notify_addresses(issue, [str(addresses[name])], subject, body)
        return {**event.as_dict(), "unknown_mentions": [name for name in named if name not in notified]}
