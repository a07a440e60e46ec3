"""The workflow's emails to the customer: the acknowledgement, `email_customer` steps and reminders.

Each is a template rendered in the sandbox of `domain/templates.py`: the type's own (a step's, a
reminder's, the type's acknowledgement), or our acknowledgement (`acknowledgement.yaml`) when the
type has none. An email whose template fails is put on the timeline instead, and the workflow goes on.

Every one is in the customer's language (`Customer.language`): the type's texts through
`type_texts.in_language`, ours from `acknowledgement.<lang>.yaml` (English: `acknowledgement.yaml`),
and the moment we received the report in the customer's time zone, named.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from chalicelib import locales
from chalicelib.domain import tasks as rules
from chalicelib.domain.issue_types import IssueType, Step
from chalicelib.domain.issues import EMAIL as EMAIL_CHANNEL
from chalicelib.domain.issues import Customer, Issue
from chalicelib.domain.templates import TemplateFailed, render
from chalicelib.domain.type_texts import in_language
from chalicelib.mail.threading import subject_without_prefixes
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.notifications import ACKNOWLEDGEMENT, NotificationService, once_key
from chalicelib.services.ports import IssueRepository, TaskRepository
from chalicelib.services.status_links import StatusLinks
from chalicelib.services.workflow.lookups import customer_of, issue_type_of
from chalicelib.services.workflow.task_timeline import TaskTimeline

#: Our acknowledgement, for a type without its own: `subject` and `body` templates.
ACKNOWLEDGEMENT_TEMPLATE = Path(__file__).with_name("acknowledgement.yaml")


class CustomerEmails:
    def __init__(
        self,
        *,
        issues: IssueRepository,
        tasks: TaskRepository,
        issue_types: IssueTypeService,
        notifications: NotificationService,
        timeline: TaskTimeline,
        status_links: StatusLinks | None = None,
    ):
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._notifications = notifications
        self._timeline = timeline
        #: The customer's status page of an issue, given in our acknowledgement.
        self._status_links = status_links

    def acknowledge(self, issue: Issue, once: str | None = None) -> None:
        """Tell the customer their report came in: in the type's own words if it has them, else ours.
        `once`: the workflow's token; a redelivered message (SQS delivers at least once) sends nothing."""
        if issue.run > 1:
            return  # the customer was answered when the issue first came in; it only changed type
        customer = customer_of(self._issues, issue)
        stored_type = issue_type_of(self._types, issue)
        t = locales.customer_texts(customer, _zone_of(stored_type))
        issue_type = in_language(stored_type, t.language)
        if issue_type.acknowledgement is not None:  # in the type's own words, e.g. to a customer who reported nothing
            self.email_from_template(
                issue, issue_type, issue_type.acknowledgement, ACKNOWLEDGEMENT, once, customer=customer
            )
            return
        # An internal type's name and field labels are written for our team: the customer reads neither.
        shown = issue_type.fields if issue_type.public else ()
        context = {
            "issue": {"reference": issue.reference},
            "customer": {"name": customer.name},
            "type_name": issue_type.customer_name,
            "shown": [(spec.label, spec.display(issue.fields[spec.id])) for spec in shown if spec.id in issue.fields],
            "status_link": self._status_links.link_for(issue.id) if self._status_links else "",
            "reply_to": self._email_subject(issue) if issue.channel == EMAIL_CHANNEL else "",
            "received": t.moment(issue.created_at),
        }
        template = _acknowledgement(t.language)
        self._send(
            issue, customer, template["subject"], template["body"], context, ACKNOWLEDGEMENT, "acknowledgement", once
        )

    def email_step(self, issue: Issue, step_id: str, once: str | None = None) -> None:
        """An `email_customer` step's email, sent once per `once` (the workflow's token)."""
        customer = customer_of(self._issues, issue)
        issue_type = in_language(issue_type_of(self._types, issue), locales.for_customer(customer))
        step = issue_type.step(step_id)
        self.email_from_template(issue, issue_type, step, step.id, once, customer=customer)

    def email_from_template(
        self,
        issue: Issue,
        issue_type: IssueType,
        step: Step,
        kind: str,
        once: str | None = None,
        *,
        customer: Customer | None = None,
    ) -> None:
        """The step's email to the customer (`kind` names it on the timeline: its step, a reminder...), in
        the customer's language (`issue_type` and `step` are turned into it here when they are not yet).
        A caller that has read the issue's `customer` already passes it, saving a read."""
        customer = customer or customer_of(self._issues, issue)
        language = locales.for_customer(customer)
        if language != locales.DEFAULT:
            issue_type = in_language(issue_type, language)
            step = _same_step(issue_type, step)
        context = self._template_context(issue, issue_type, customer)
        self._send(issue, customer, step.subject, step.body, context, kind, step.name, once)

    def _send(
        self,
        issue: Issue,
        customer: Customer,
        subject: str,
        body: str,
        context: dict[str, Any],
        kind: str,
        name: str,
        once: str | None,
    ) -> None:
        key = once_key(once) if once else None
        if key and self._notifications.already_emailed(issue, key):
            return
        try:
            rendered_subject, rendered_body = render(subject, context).strip(), render(body, context)
        except TemplateFailed as exc:
            self._timeline.note(
                issue,
                "email_failed",
                f"{name}: the email to the customer was not sent",
                None,
                reason=str(exc),
                **({"once": key} if key else {}),
            )
            return
        self._notifications.email_customer(issue, customer, rendered_subject, rendered_body, kind, once=key)

    def _email_subject(self, issue: Issue) -> str:
        """The subject of the customer's email that opened the issue, for the reply to it."""
        if issue.fields.get("subject"):
            return str(issue.fields["subject"])
        opened = next(iter(self._issues.timeline(issue.id)), None)
        email = opened.data.get("email", {}) if opened else {}
        return subject_without_prefixes(str(email.get("subject") or "")) or "your message"

    def _template_context(self, issue: Issue, issue_type: IssueType, customer: Customer) -> dict[str, Any]:
        """What an admin's template can quote: the issue, the customer, the fields and the steps' results."""
        results: dict[str, dict[str, Any]] = {}
        for task in self._tasks.for_issue(issue.id):
            if task.status != rules.COMPLETED:
                continue
            values = dict(task.fields or {})
            for spec in issue_type.step(task.step).fields:
                if spec.id in values:
                    values[f"{spec.id}_label"] = spec.display(values[spec.id])
            values["completed_by"] = task.completed_by
            results[task.step] = values
        return {
            "issue": {
                "id": issue.id,
                "reference": issue.reference,
                "type": issue.type_id,
                "type_name": issue_type.name,
            },
            "customer": {"name": customer.name, "email": customer.email, "segment": customer.segment},
            "fields": issue.fields,
            "shown": {
                spec.id: spec.display(issue.fields[spec.id]) for spec in issue_type.fields if spec.id in issue.fields
            },
            "results": results,
        }


def _zone_of(issue_type: IssueType) -> str:
    """The zone a customer whose own zone we don't know reads times in: the type's first business calendar's."""
    from chalicelib.services.web_forms import form_zone

    return form_zone(issue_type)


def _same_step(issue_type: IssueType, step: Step) -> Step:
    """`step` as `issue_type` has it (in its language): one of its steps, or its acknowledgement."""
    if issue_type.acknowledgement is not None and step.id == issue_type.acknowledgement.id:
        return issue_type.acknowledgement
    return next((candidate for candidate in issue_type.all_steps() if candidate.id == step.id), step)


@lru_cache(maxsize=len(locales.LANGUAGES))
def _acknowledgement(language: str = locales.DEFAULT) -> dict[str, str]:
    """Our acknowledgement in `language` (`acknowledgement.<lang>.yaml`), else in English."""
    import yaml  # on first use: its import costs every function's cold start

    translated = ACKNOWLEDGEMENT_TEMPLATE.with_name(f"acknowledgement.{language}.yaml")
    source = translated if language != locales.DEFAULT and translated.exists() else ACKNOWLEDGEMENT_TEMPLATE
    return yaml.safe_load(source.read_text(encoding="utf-8"))
