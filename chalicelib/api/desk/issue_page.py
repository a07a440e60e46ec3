"""The issue page (`/desk/issues/{reference}`): the customer and their other issues, the whole
timeline, the fields, attachments, where the process stands, and a form for each thing an agent
does here (the current task's form, reply, phone call, note, claim, release, reassign, type,
reopen). Its forms post to `issue_actions`, which render it again, as typed, on an error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from chalice import Blueprint, Response

from chalicelib.api import sessions
from chalicelib.api.desk import views
from chalicelib.api.desk.responses import desk_page, redirect, signed_in
from chalicelib.api.pages import SECURITY_HEADERS
from chalicelib.api.web_forms import field_views
from chalicelib.bootstrap import services
from chalicelib.domain.agents import Agent
from chalicelib.domain.errors import FieldError
from chalicelib.domain.fields import FieldSpec
from chalicelib.domain.process_progress import StepProgress
from chalicelib.reporting.formats import duration
from chalicelib.services.workflow.completions import CONTACT_CHANNELS

issue_pages = Blueprint(__name__)
logger = logging.getLogger(__name__)
#: Task form inputs are named `t-<field>`, checkboxes (several values) `tc-<field>`: the page's
#: other forms have fields of their own.
TASK_FIELD_PREFIX = "t-"
TASK_CHOICES_PREFIX = "tc-"
#: What the page says after an action went through (`?done=`).
DONE = {
    "completed": "Your answer was recorded; the process moves on.",
    "claimed": "The task is yours now.",
    "released": "The task is back in its group's queue.",
    "reassigned": "The task was handed over; its new holder has been emailed.",
    "replied": "Your reply was emailed to the customer.",
    "recorded": "What the customer said is on the timeline.",
    "noted": "Your note is on the timeline, for the team only.",
    "type-confirmed": "The type is confirmed; the classifier learns from it.",
    "type-changed": "The issue moved to its new type's process.",
    "reopened": "The issue is open again; its process starts over.",
}
_CHANNEL_NAMES = {"phone": "Phone", "email": "Email", "chat": "Chat", "in_person": "In person", "letter": "Letter"}


def issue_address(reference: str, done: str = "", anchor: str = "") -> str:
    query = f"?done={done}" if done else ""
    return f"/desk/issues/{quote(reference)}{query}{'#' + anchor if anchor else ''}"


@issue_pages.route("/desk/issues/{reference}", methods=["GET"])
def issue(reference: str) -> Response:
    who = signed_in(issue_pages)
    done = (issue_pages.current_request.query_params or {}).get("done", "")
    return render(who, reference, 200, notice=DONE.get(done, ""))


@issue_pages.route("/desk/tasks/{task_id}", methods=["GET"])
def task_link(task_id: str) -> Response:
    """Where a task email's link opens: the task's issue, at the task."""
    who = signed_in(issue_pages)
    reference = services().issue_workspace.reference_of_task(task_id, who.agent)
    return redirect(issue_address(reference, anchor=f"task-{task_id}"), who.cookies)


def render(
    who: sessions.SignedIn,
    reference: str,
    status: int,
    *,
    form: str = "",
    typed: Mapping[str, Any] | None = None,
    errors: Sequence[FieldError] = (),
    notice: str = "",
) -> Response:
    """The issue page; `form` names the form whose `typed` values and `errors` it shows again."""
    agent = who.agent
    found = services().issue_workspace.page(reference, agent)
    issue = found["issue"]
    zone = agent.time_zone or "UTC"
    now = datetime.now(UTC)
    typed = dict(typed or {})
    messages = {e.field: e.message for e in errors}
    tasks = [
        _task(
            task,
            issue,
            zone,
            now,
            typed if form == f"task-{task['id']}" else {},
            messages if form == f"task-{task['id']}" else {},
        )
        for task in found["open_tasks"]
    ]
    entries = views.timeline(issue["timeline"], zone)
    attachments = [{**a, "image": views.is_image(a)} for a in found["attachments"]]
    image_origins = sorted({_origin(a["url"]) for a in attachments if a["image"] and a["url"]})
    headers = {}
    if image_origins:
        policy = SECURITY_HEADERS["Content-Security-Policy"].replace(
            "img-src 'self'", f"img-src 'self' {' '.join(image_origins)}"
        )
        headers["Content-Security-Policy"] = policy
    return desk_page(
        issue_pages,
        status,
        "desk/issue.html",
        who,
        extra_headers=headers,
        issue=issue,
        title=f"{issue['reference']}: {issue['type_name']}",
        fields=found["facts"],
        opened=views.when(issue["created_at"], zone),
        entries=entries,
        attachments=attachments,
        history=_history(issue["customer_history"], zone),
        similar=_similar(issue["id"], agent, zone),
        tasks=tasks,
        progress=[_step(p, zone) for p in found["progress"]],
        types=found["types"],
        may_reopen=found["may_reopen"],
        channels=[(c, _CHANNEL_NAMES.get(c, c)) for c in CONTACT_CHANNELS],
        form=form,
        typed=typed,
        errors=list(errors),
        summary=_summary(form, errors, tasks),
        notice=notice,
    )


#: The inputs of the page's forms other than a task's, by form and error field: (input id, label).
_INPUTS: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "reply": {"body": ("reply-body", "Your email")},
    "call": {"text": ("call-text", "What the customer said"), "channel": ("call-channel", "How they told us")},
    "note": {"text": ("note-text", "The note")},
    "type": {"type": ("type-choice", "The issue type")},
    "reopen": {"reason": ("reopen-reason", "The reason")},
}


def _summary(form: str, errors: Sequence[FieldError], tasks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The error summary of the form shown again: each problem in words, linked to its input when
    it has one (a conflict has none)."""
    if form.startswith("task-"):
        task = next((t for t in tasks if form == f"task-{t['id']}"), None)
        linked = [(f"#{view.id}", view.error) for view in (task["inputs"] if task else ()) if view.error]
        return linked + [("", f"{field}: {message}") for field, message in (task or {}).get("form_errors", [])]
    if form.startswith("reassign-"):
        inputs = {"to": (f"{form}-name", "Who to hand it to"), "reason": (f"{form}-reason", "The reason")}
    else:
        inputs = _INPUTS.get(form, {})
    summary = []
    for error in errors:
        field = error.field.split(".")[0]
        if field in inputs:
            input_id, label = inputs[field]
            summary.append((f"#{input_id}", f"{label} {error.message}."))
        else:
            summary.append(("", error.message if error.field == "form" else f"{error.field}: {error.message}"))
    return summary


def _task(
    task: dict[str, Any],
    issue: dict[str, Any],
    zone: str,
    now: datetime,
    typed: Mapping[str, Any],
    errors: Mapping[str, str],
) -> dict[str, Any]:
    type_ = services().issue_types.version(issue["type"], issue["type_version"]).issue_type
    specs = type_.step(task["step"]).fields
    values = {key: value if isinstance(value, list) else [value] for key, value in task_answers(typed).items()}
    shown_errors = {field.removeprefix("fields."): message for field, message in errors.items()}
    sentences = _sentences(specs, shown_errors)
    inputs = tuple(
        view for spec in specs for view in field_views([spec], type_, values, sentences, zone, now, _prefix(spec))
    )
    return {
        **task,
        "countdown": views.countdown(task, now),
        "due_words": views.when(task["due_at"], zone),
        "held_by": views.holder(task.get("assignee")),
        "claimed_from_words": views.holder(task.get("claimed_from")),
        "replied": views.when(task.get("customer_replied_at"), zone),
        "inputs": inputs,
        "form_errors": [e for e in shown_errors.items() if e[0] not in {s.id for s in specs}],
    }


def task_answers(typed: Mapping[str, Any]) -> dict[str, Any]:
    """A task form's answers by field id, from its inputs' names."""
    answers = {}
    for name, value in typed.items():
        for prefix in (TASK_CHOICES_PREFIX, TASK_FIELD_PREFIX):
            if name.startswith(prefix):
                answers[name.removeprefix(prefix)] = value
                break
    return answers


def _prefix(spec: FieldSpec) -> str:
    return TASK_CHOICES_PREFIX if spec.type == "multi_choice" else TASK_FIELD_PREFIX


def _sentences(specs: Sequence[FieldSpec], errors: Mapping[str, str]) -> dict[str, str]:
    labels = {spec.id: spec.label for spec in specs}
    return {field: f"{labels[field]} {message}." for field, message in errors.items() if field in labels}


def _step(progress: StepProgress, zone: str) -> dict[str, Any]:
    return {
        "name": progress.step.name,
        "state": progress.state,
        "moment": views.when(progress.moment, zone),
        "by": progress.task.completed_by if progress.task else "",
        "deadline": duration(progress.deadline.total_seconds()) if progress.deadline else "",
        "conditional": progress.conditional,
    }


def _history(entries: list[dict[str, Any]], zone: str) -> list[dict[str, Any]]:
    """The customer's other issues, once each, newest first, with their last event."""
    issues: dict[str, dict[str, Any]] = {}
    for entry in entries:
        reference = entry.get("reference", "")
        issues[entry["issue_id"]] = {
            "reference": reference,
            "at": views.when(entry.get("at"), zone),
            "text": entry.get("text", ""),
        }
    return list(reversed(issues.values()))


def _similar(issue_id: str, agent: Agent, zone: str) -> dict[str, Any]:
    """The nearest resolved issues of the type that the agent may see (decision 0043), and whether they
    can be looked for here; the page shows without them when a read fails."""
    try:
        answer = services().similar_issues.for_agent(issue_id, agent)
    except Exception:
        logger.exception("no similar resolved issues for %s", issue_id)
        return {"found": [], "available": True}
    found = [{**s, "resolved": views.when(s["resolved_at"], zone)} for s in answer["similar"]]
    return {"found": found, "available": answer["encoder_available"]}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
