"""Internal notes: what agents write to each other on an issue.

A note is on the agents' timeline only: never in an email to the customer, on the status page or
in a survey (those show only the kinds they list). `@username` in a note emails that person, with
the note and the issue's reference. An unknown name is reported back, not guessed; so is someone
who may not see the issue, who is not emailed (a mention does not open an issue to its reader).
"""

from __future__ import annotations

import re
from typing import Any

from chalicelib.domain import free_text
from chalicelib.domain.agents import Agent
from chalicelib.domain.issues import TimelineEvent
from chalicelib.services.access import IssueAccess
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.notifications import NotificationService
from chalicelib.services.ports import Directory, IssueRepository

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
    def __init__(
        self,
        issues: IssueRepository,
        notifications: NotificationService,
        access: IssueAccess,
        directory: Directory,
        clock: Clock = utc_now,
    ):
        self._access = access
        self._directory = directory
        self._issues = issues
        self._notifications = notifications
        self._clock = clock

    def add(self, issue_id: str, text: Any, agent: Agent) -> dict[str, Any]:
        """Put the agent's note on the issue's timeline and email each person it mentions."""
        agent.require_any_role()
        text = free_text.clean(text, "text", free_text.MESSAGE_LENGTH)
        issue = self._access.require_visible(agent, issue_id)
        named = {name: self._directory.agent_named(name) for name in mentions(text)}
        readers = {name: who for name, who in named.items() if who and who.email and self._access.visible(who, issue)}
        mentioned = {"mentions": list(readers)}
        event = TimelineEvent(self._clock(), INTERNAL_NOTE, text, actor=agent.username, data=mentioned)
        self._issues.add_event(issue, event)
        for reader in readers.values():
            subject = f"{agent.username} mentioned you on {issue.reference}"
            body = f"{agent.username} wrote on {issue.reference}:\n\n{text}\n"
            self._notifications.notify_addresses(issue, [reader.email], subject, body)
        return {
            **event.as_dict(),
            "unknown_mentions": [name for name, who in named.items() if who is None],
            "mentions_who_cannot_see_it": [name for name, who in named.items() if who and name not in readers],
        }
