"""What an agent does on the issue page: answer the current task, claim, release or reassign it,
reply to the customer, record a call, add a note, confirm or change the type, reopen.

Each is a form post that calls one service as the API's route does. It then goes back to the
issue page saying what happened (303, so a reload sends nothing twice); on a validation error or
a conflict it shows the page again with the form as typed and the error beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.desk.issue_page import TASK_CHOICES_PREFIX, issue_address, render, task_answers
from chalicelib.api.desk.responses import redirect, signed_in
from chalicelib.api.errors import status_of
from chalicelib.api.pages import form_values
from chalicelib.bootstrap import services
from chalicelib.domain.errors import Conflict, FieldError, ValidationFailed

issue_actions = Blueprint(__name__)
_FORM = "application/x-www-form-urlencoded"
_ISSUE = "/desk/issues/{reference}"


def _act(reference: str, form: str, done: str, action: Callable[[Any, str, dict[str, Any]], Any]) -> Response:
    """Run `action(agent, issue id, typed values)`; back to the issue saying `done`, or the page
    again with the form `form` as typed and its errors."""
    who = signed_in(issue_actions)
    raw = issue_actions.current_request.raw_body
    typed = form_values(raw, {name for name in form_values(raw, set()) if name.startswith(TASK_CHOICES_PREFIX)})
    typed.pop("csrf-token", None)
    issue_id = services().issue_workspace.issue_id(reference, who.agent)
    try:
        outcome = action(who.agent, issue_id, typed)
    except ValidationFailed as exc:
        return render(who, reference, status_of(exc), form=form, typed=typed, errors=exc.errors)
    except Conflict as exc:
        return render(who, reference, status_of(exc), form=form, typed=typed, errors=[FieldError("form", str(exc))])
    return redirect(issue_address(reference, outcome if isinstance(outcome, str) else done, _anchor(form)), who.cookies)


def _anchor(form: str) -> str:
    return form if form.startswith("task-") else ""


@issue_actions.route(_ISSUE + "/tasks/{task_id}/complete", methods=["POST"], content_types=[_FORM])
def complete(reference: str, task_id: str) -> Response:
    def answer(agent: Any, _issue_id: str, typed: dict[str, Any]) -> None:
        services().completions.complete(task_id, task_answers(typed), agent)

    return _act(reference, f"task-{task_id}", "completed", answer)


@issue_actions.route(_ISSUE + "/tasks/{task_id}/reassign", methods=["POST"], content_types=[_FORM])
def reassign(reference: str, task_id: str) -> Response:
    def hand_over(agent: Any, _issue_id: str, typed: dict[str, Any]) -> None:
        kind = typed.get("kind") if typed.get("kind") in ("user", "role", "team") else "user"
        body = {"to": {kind: str(typed.get("name", "")).strip()}, "reason": typed.get("reason", "")}
        services().claims.reassign(task_id, body, agent)

    return _act(reference, f"reassign-{task_id}", "reassigned", hand_over)


@issue_actions.route(_ISSUE + "/replies", methods=["POST"], content_types=[_FORM])
def reply(reference: str) -> Response:
    return _act(
        reference, "reply", "replied", lambda agent, i, typed: services().replies.reply(i, typed.get("body"), agent)
    )


@issue_actions.route(_ISSUE + "/customer-messages", methods=["POST"], content_types=[_FORM])
def record_call(reference: str) -> Response:
    def record(agent: Any, issue_id: str, typed: dict[str, Any]) -> None:
        services().completions.record_customer_message(issue_id, typed.get("text"), typed.get("channel"), agent)

    return _act(reference, "call", "recorded", record)


@issue_actions.route(_ISSUE + "/notes", methods=["POST"], content_types=[_FORM])
def note(reference: str) -> Response:
    return _act(reference, "note", "noted", lambda agent, i, typed: services().notes.add(i, typed.get("text"), agent))


@issue_actions.route(_ISSUE + "/type", methods=["POST"], content_types=[_FORM])
def set_type(reference: str) -> Response:
    def choose(agent: Any, issue_id: str, typed: dict[str, Any]) -> str:
        moved = services().issue_type_changes.set_type(issue_id, typed.get("type"), agent)
        return "type-changed" if moved["moved"] else "type-confirmed"

    return _act(reference, "type", "type-confirmed", choose)


@issue_actions.route(_ISSUE + "/reopen", methods=["POST"], content_types=[_FORM])
def reopen(reference: str) -> Response:
    def again(agent: Any, issue_id: str, typed: dict[str, Any]) -> None:
        services().reopenings.reopen_by_agent(issue_id, {"reason": typed.get("reason") or None}, agent)

    return _act(reference, "reopen", "reopened", again)


@issue_actions.route("/desk/tasks/{task_id}/claim", methods=["POST"], content_types=[_FORM])
def claim(task_id: str) -> Response:
    """Claim from a queue or the issue page; then on to the task on its issue."""
    who = signed_in(issue_actions)
    claimed = services().claims.claim(task_id, who.agent)
    return redirect(issue_address(claimed["reference"], "claimed", f"task-{task_id}"), who.cookies)


@issue_actions.route("/desk/tasks/{task_id}/release", methods=["POST"], content_types=[_FORM])
def release(task_id: str) -> Response:
    who = signed_in(issue_actions)
    released = services().claims.release(task_id, who.agent)
    return redirect(issue_address(released["reference"], "released"), who.cookies)
