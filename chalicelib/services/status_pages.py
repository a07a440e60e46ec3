"""What a customer sees of their issue on its status page, and what they can do there.

The page shows the status, the current step under its customer-facing label (never a role or a
person), when we expect to be done, and the customer-visible timeline: what they told us and what
we sent them, never internal events or task answers. A reply there is filed exactly as a reply
by email would be: it resumes a step that waits for the customer, and the issue's holders are told
of it, as of a file the customer adds (`CustomerReplies`, decision 0030).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from chalicelib import locales
from chalicelib.domain import customer_issues as standing
from chalicelib.domain import free_text
from chalicelib.domain.attachments import SNIFF_BYTES, sniff
from chalicelib.domain.errors import FieldError, NotFound, ValidationFailed
from chalicelib.domain.issue_types import IssueType
from chalicelib.domain.issues import RESOLVED, Issue, TimelineEvent, new_id
from chalicelib.domain.type_texts import in_language
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.customer_replies import CustomerReplies
from chalicelib.services.intake import CASEFLOW
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.notifications import NotificationService
from chalicelib.services.ports import IssueRepository, ObjectStore, TaskRepository
from chalicelib.services.status_links import StatusLinks
from chalicelib.services.web_forms import form_zone
from chalicelib.services.workflow.completions import Completions

WEB = "web"
#: Where customers' uploads go in the bucket: `uploads/<issue id>/<ulid>`.
UPLOADS = "uploads/"
UPLOAD_FORM_SECONDS = 3600
#: Timeline events a customer sees, and how each is told.
#: What the status page tells: what the customer did, where their issue went in their words, what we
#: wrote them (the subject: they have the email), never internal steps, notes or whole emails again.
_VISIBLE = {
    "issue_opened", "customer_message", "email_sent", "attachment_added", "task_opened", "issue_resolved",
    "issue_reopened",
}  # fmt: skip
#: What the customer told an agent, who wrote it down (completions.CONTACT_CHANNELS): not "You wrote".
_TOLD_US = {
    "phone": "You told us by phone",
    "chat": "You told us in a chat",
    "in_person": "You told us in person",
    "letter": "You wrote to us by letter",
}
NEW_LINK = "status_link"
#: The same message sent again from the status page this soon is the form sent twice.
RESUBMIT_WINDOW = timedelta(minutes=10)


class StatusPageService:
    def __init__(
        self,
        issues: IssueRepository,
        tasks: TaskRepository,
        issue_types: IssueTypeService,
        task_service: Completions,
        notifications: NotificationService,
        links: StatusLinks,
        store: ObjectStore,
        clock: Clock = utc_now,
        replies: CustomerReplies | None = None,
    ):
        #: Tells the issue's holders that the customer wrote back.
        self._replies = replies
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._task_service = task_service
        self._notifications = notifications
        self._links = links
        self._store = store
        self._clock = clock

    def view(self, token: str, language: str | None = None) -> dict[str, Any]:
        """The status page of the issue a token names; LinkInvalid/LinkExpired for a bad token.
        `language`: the one the page is shown in (else the customer's remembered one); `customer_language`
        and `zone` say what the customer's remembered language and time zone are."""
        issue = self._issue(token)
        customer = self._issues.customer(issue.customer_id)
        remembered = locales.for_customer(customer) if customer and customer.language else ""
        stored_type = self._types.version(issue.type_id, issue.type_version).issue_type
        issue_type = in_language(stored_type, locales.supported(language) or remembered or locales.DEFAULT)
        open_tasks = standing.open_tasks(self._tasks.for_issue(issue.id))
        current = standing.current_step(issue_type, issue, open_tasks)
        waiting_for_customer = any(t.assigned_to.kind == "customer" for t in open_tasks)
        timeline = self._issues.timeline(issue.id)
        return {
            "reference": issue.reference,
            "type_name": issue_type.customer_name,
            "status": issue.status,
            "resolved": issue.status == RESOLVED,
            "opened_at": issue.created_at,
            "resolved_at": issue.resolved_at,
            "current_step": current.label_for_customer if current and issue.status != RESOLVED else None,
            "waiting_for_customer": waiting_for_customer,
            "expected_by": None if issue.status == RESOLVED else standing.expected_by(issue_type, open_tasks),
            "timeline": _told(self._visible(e, issue_type) for e in timeline if e.kind in _VISIBLE),
            "upload": self._upload_form(token, issue, issue_type, len(_attachments(timeline))),
            "customer_language": remembered,
            "zone": (customer.time_zone if customer else "") or form_zone(stored_type),
        }

    def remember_language(self, token: str, language: str) -> bool:
        """The customer switched their status page to `language`: every later email is in it. Returns
        whether it changed; LinkInvalid/LinkExpired for a bad token."""
        chosen = locales.supported(language)
        issue = self._issue(token)
        customer = self._issues.customer(issue.customer_id)
        if chosen is None or customer is None or customer.language == chosen:
            return False
        self._issues.set_customer_locale(customer.id, language=chosen)
        return True

    def _upload_form(self, token: str, issue: Issue, issue_type: IssueType, attached: int) -> dict[str, Any] | None:
        """A form that sends one file straight to S3 (a presigned POST), then back to the status page;
        None when the type takes no attachments, the issue is resolved or has all it may have."""
        rules = issue_type.attachments
        if rules is None or issue.status == RESOLVED or attached >= rules.max_files:
            return None
        key = f"{UPLOADS}{issue.id}/{new_id()}"
        redirect = f"{self._links.public_url}/s/{token}/uploaded"
        form = self._store.upload_form(key, rules.max_bytes, redirect, UPLOAD_FORM_SECONDS)
        return {**form, "label": rules.label, "types": rules.types, "max_mb": rules.max_bytes // (1024 * 1024)}

    def record_upload(self, token: str, key: Any) -> dict[str, Any]:
        """S3 sent the customer back after an upload: check the file and put it on the issue.

        The file is judged by its first bytes and its size, not by what the browser claimed; a file
        that breaks the type's rules is deleted and the customer is told why.
        """
        issue = self._issue(token)
        rules = self._types.version(issue.type_id, issue.type_version).issue_type.attachments
        if rules is None or not isinstance(key, str) or not key.startswith(f"{UPLOADS}{issue.id}/"):
            raise ValidationFailed([FieldError("file", "this upload does not belong to this issue")])
        attached = _attachments(self._issues.timeline(issue.id))
        if any(a.get("key") == key for a in attached):
            return {"key": key, "recorded": False}
        found = self._store.head(key, SNIFF_BYTES)
        if found is None:
            raise ValidationFailed([FieldError("file", "the upload did not arrive; please try again")])
        size, first_bytes = found
        content_type = sniff(first_bytes)
        problem = ""
        if size == 0 or size > rules.max_bytes:
            problem = f"files must be at most {rules.max_bytes // (1024 * 1024)} MB"
        elif content_type not in rules.types:
            problem = "this kind of file is not accepted here; send " + ", ".join(t.split("/")[1] for t in rules.types)
        if problem:
            self._store.delete(key)
            raise ValidationFailed([FieldError("file", problem)])
        name = f"{issue.reference}-{len(attached) + 1}.{content_type.split('/')[1]}"
        attachment = {"name": name, "content_type": content_type, "size": size, "key": key, "inline": False}
        event = TimelineEvent(self._clock(), "attachment_added", name, "customer", {"attachments": [attachment]})
        self._issues.add_event(issue, event)
        if self._replies is not None:
            self._replies.customer_wrote(issue.id, f"(added a file: {name})", once=key, at=event.at)
        return {"key": key, "recorded": True}

    def reply(self, token: str, text: Any) -> dict[str, Any]:
        """The customer writes on the status page: filed as their message, resuming a waiting step."""
        issue = self._issue(token)
        text = free_text.clean(text, "message", free_text.MESSAGE_LENGTH)
        if self._sent_just_now(issue, text):
            return {"resumed_step": None, "repeated": True}
        customer = self._issues.customer(issue.customer_id)
        actor = customer.email if customer else "customer"
        replied = self._task_service.customer_replied(issue.id, text, WEB, actor)
        if self._replies is not None:
            self._replies.customer_wrote(issue.id, text, resumed_step=replied["resumed_step"])
        return replied

    def _sent_just_now(self, issue: Issue, text: str) -> bool:
        """Whether the customer's latest message is this same text from the status page, sent moments
        ago: the form sent twice (a double click, a reload), filed and told once."""
        said = [e for e in self._issues.timeline(issue.id) if e.kind == "customer_message"]
        latest = said[-1] if said else None
        return (
            latest is not None
            and latest.data.get("channel") == WEB
            and latest.text == text
            and self._clock() - latest.at <= RESUBMIT_WINDOW
        )

    def send_new_link(self, email: Any) -> None:
        """Email the status link of the customer's latest issue, if there is one; say nothing either way."""
        if not isinstance(email, str) or "@" not in email or free_text.problem(email, free_text.EMAIL_LENGTH):
            raise ValidationFailed([FieldError("email", "enter the email address you reported with")])
        customer = self._issues.customer_by_email(email.strip().lower())
        if customer is None:
            return
        history = self._issues.customer_history(customer.id, limit=50)
        issue_id = next((e["issue_id"] for e in history if e["kind"] == "issue_opened"), None)
        issue = self._issues.get(issue_id) if issue_id else None
        if issue is None:
            return
        t = locales.customer_texts(customer)
        body = "".join(
            [
                locales.salutation(t, customer.name),
                "\n\n",
                t("Here is a new link to follow your issue %(reference)s:", reference=issue.reference),
                f"\n{self._links.link_for(issue.id)}\n\n",
                t("It works for 90 days."),
                "\n\n",
                t("Caseflow customer service"),
                "\n",
            ]
        )
        subject = t("Your status link for %(reference)s", reference=issue.reference)
        self._notifications.email_customer(issue, customer, subject, body, NEW_LINK)

    def _issue(self, token: str) -> Issue:
        issue = self._issues.get(self._links.issue_in(token))
        if issue is None:
            raise NotFound("this issue no longer exists")
        return issue

    @staticmethod
    def _visible(event: TimelineEvent, issue_type: IssueType) -> dict[str, Any] | None:
        """One timeline entry as the customer reads it: their words, or what we emailed them."""
        if event.kind == "email_sent":
            return {"at": event.at, "who": "us", "title": "We wrote to you", "fixed": True, "text": event.text}
        if event.kind == "task_opened":
            step = next((s for s in issue_type.all_steps() if s.id == event.data.get("task", {}).get("step")), None)
            return {"at": event.at, "who": "us", "title": step.label_for_customer, "text": ""} if step else None
        if event.kind == "issue_resolved":
            return {"at": event.at, "who": "us", "title": "Your issue is resolved", "text": "", "fixed": True}
        if event.kind == "issue_reopened":
            return {"at": event.at, "who": "us", "title": "We reopened your issue", "text": "", "fixed": True}
        if event.kind == "issue_opened":
            if event.actor == CASEFLOW:  # the customer reported nothing; what we wrote them follows
                return {"at": event.at, "who": "us", "title": "We opened this issue", "text": "", "fixed": True}
            email = event.data.get("email") or {}
            values = event.data.get("fields") or {}
            specs = [f for f in issue_type.fields if f.id in values]
            # An internal type's labels are written for our team: the customer reads only their own words.
            shown = [f"{f.label}: {f.display(values[f.id])}" if issue_type.public else str(values[f.id]) for f in specs]
            text = email.get("full_text") or "\n".join(shown)
            return {"at": event.at, "who": "you", "title": "You reported the issue", "text": text, "fixed": True}
        if event.kind == "attachment_added":
            return {"at": event.at, "who": "you", "title": "You added a file", "text": event.text, "fixed": True}
        title = _TOLD_US.get(event.data.get("channel"), "You wrote")
        return {"at": event.at, "who": "you", "title": title, "text": event.text, "fixed": True}


def _told(entries: Iterable[dict[str, Any] | None]) -> list[dict[str, Any]]:
    """The entries worth a line: a step that opens again (escalated, handed on) says nothing new."""
    told: list[dict[str, Any]] = []
    for entry in entries:
        if entry is None or (
            told and not entry.get("fixed") and not entry["text"] and entry["title"] == told[-1]["title"]
        ):
            continue
        told.append(entry)
    return told


def _attachments(timeline: list[TimelineEvent]) -> list[dict[str, Any]]:
    """The files the customer added, from the issue's timeline."""
    return [a for e in timeline if e.kind == "attachment_added" for a in e.data["attachments"]]
