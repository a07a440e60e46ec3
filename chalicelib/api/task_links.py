"""Pages for outside parties without a seat: a signed link opens a step's form, submitting completes it."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.pages import form_values, page
from chalicelib.bootstrap import services
from chalicelib.domain.errors import Conflict, NotFound, ValidationFailed
from chalicelib.web_tokens.signed_links import LinkExpired, LinkInvalid

task_links = Blueprint(__name__)
_FORM = "application/x-www-form-urlencoded"


def _unusable(exc: Exception) -> Response:
    if isinstance(exc, LinkExpired):
        return page(410, "link_problem.html", title="This link has expired", message=str(exc))
    if isinstance(exc, Conflict):
        return page(410, "link_problem.html", title="This link no longer works", message=str(exc))
    return page(404, "link_problem.html", title="This link is not valid", message=str(exc))


@task_links.route("/t/{token}", methods=["GET"])
def show_task_form(token: str) -> Response:
    try:
        form = services().tasks.form_by_link(token)
    except (LinkInvalid, LinkExpired, Conflict, NotFound) as exc:
        return _unusable(exc)
    return page(200, "task_form.html", form=form, values={}, errors={})


@task_links.route("/t/{token}", methods=["POST"], content_types=[_FORM])
def submit_task_form(token: str) -> Response:
    tasks = services().tasks
    try:
        form = tasks.form_by_link(token)
    except (LinkInvalid, LinkExpired, Conflict, NotFound) as exc:
        return _unusable(exc)
    multi = {f["id"] for f in form["step"]["fields"] if f["type"] == "multi_choice"}
    values = form_values(task_links.current_request.raw_body, multi)
    try:
        tasks.complete_by_link(token, values)
    except ValidationFailed as exc:
        errors = {e.field.removeprefix("fields."): e.message for e in exc.errors}
        return page(400, "task_form.html", form=form, values=values, errors=errors)
    except (LinkInvalid, LinkExpired, Conflict, NotFound) as exc:
        return _unusable(exc)
    return page(200, "task_done.html", form=form)
