"""Agents' replies to the customer by email, in the issue's thread, and links to what customers attached."""

from __future__ import annotations

from typing import Any

from chalicelib import locales
from chalicelib.domain import free_text
from chalicelib.domain.agents import Agent
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.type_texts import in_language
from chalicelib.services.access import IssueAccess
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.notifications import NotificationService
from chalicelib.services.ports import IssueRepository, ObjectStore

AGENT_REPLY = "agent_reply"
#: How long an agent's link to an attachment works.
ATTACHMENT_LINK_SECONDS = 300


class ReplyService:
    def __init__(
        self,
        issues: IssueRepository,
        issue_types: IssueTypeService,
        notifications: NotificationService,
        store: ObjectStore,
        access: IssueAccess,
        clock: Clock = utc_now,
    ):
        self._access = access
        self._clock = clock
        self._issues = issues
        self._types = issue_types
        self._notifications = notifications
        self._store = store

    def reply(self, issue_id: str, body: Any, agent: Agent) -> dict[str, Any]:
        """Email the agent's text to the customer; their answer threads back to this issue."""
        agent.require_any_role()
        body = free_text.clean(body, "body", free_text.MESSAGE_LENGTH)
        issue = self._access.require_visible(agent, issue_id)
        customer = self._issues.customer(issue.customer_id)
        if customer is None:
            raise NotFound(f"issue {issue_id} has no customer")
        if not self._notifications.can_reach(customer.email):
            raise Conflict(f"mail to {customer.email} bounces; reach the customer another way")
        t = locales.customer_texts(customer)
        issue_type = in_language(self._types.version(issue.type_id, issue.type_version).issue_type, t.language)
        # An internal type's name (e.g. "Message to classify") is for our team, not the customer's inbox.
        topic = (
            issue.fields.get("subject")
            or issue_type.customer_name
            or t("your issue %(reference)s", reference=issue.reference)
        )
        subject = f"Re: {topic}"
        sent = self._notifications.email_customer(
            issue, customer, subject, body.strip() + "\n", AGENT_REPLY, automatic=False, actor=agent.username
        )
        if sent:  # the customer is answered: their issue's tasks no longer show "customer replied"
            now = self._clock()
            self._issues.change(issue, lambda current: current.answered(now))
        return {"issue_id": issue.id, "reference": issue.reference, "to": customer.email, "sent": sent}

    def attachment_link(self, issue_id: str, key: str, agent: Agent) -> dict[str, Any]:
        """A short-lived download link to an attachment of one of the issue's messages."""
        agent.require_any_role()
        issue = self._access.require_visible(agent, issue_id)
        for event in self._issues.timeline(issue.id):
            found = [*event.data.get("email", {}).get("attachments", []), *event.data.get("attachments", [])]
            for attachment in found:
                if attachment.get("key") == key:
                    url = self._store.download_link(key, attachment["name"], ATTACHMENT_LINK_SECONDS)
                    return {"name": attachment["name"], "url": url, "expires_in": ATTACHMENT_LINK_SECONDS}
        raise NotFound(f"issue {issue_id} has no attachment {key}")
