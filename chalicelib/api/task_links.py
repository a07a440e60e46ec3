"""Pages for outside parties without a seat: a signed link opens a step's form, submitting completes it.

The form carries no CSRF token: the signed link in its address is a secret another site cannot
know, so it is registered without a form guard. A link that does not work gets `PROBLEMS`' page.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.errors import problem_pages, status_of
from chalicelib.api.pages import form_values, page
from chalicelib.bootstrap import services
from chalicelib.domain.errors import Conflict, NotFound, ValidationFailed
from chalicelib.web_tokens.signed_links import LinkExpired, LinkInvalid

task_links = Blueprint(__name__)
_FORM = "application/x-www-form-urlencoded"
#: A link whose task was completed, closed or passed on is gone for good: nothing to retry.
_GONE = 410


@task_links.route("/t/{token}", methods=["GET"])
def show_task_form(token: str) -> Response:
    return page(200, "task_form.html", form=services().completions.form_by_link(token), values={}, errors={})


@task_links.route("/t/{token}", methods=["POST"], content_types=[_FORM])
def submit_task_form(token: str) -> Response:
    tasks = services().completions
    form = tasks.form_by_link(token)
    multi = {f["id"] for f in form["step"]["fields"] if f["type"] == "multi_choice"}
    values = form_values(task_links.current_request.raw_body, multi)
    try:
        tasks.complete_by_link(token, values)
    except ValidationFailed as exc:
        errors = {e.field.removeprefix("fields."): e.message for e in exc.errors}
        return page(status_of(exc), "task_form.html", form=form, values=values, errors=errors)
    return page(200, "task_done.html", form=form)


def _link_problem(status: int, title: str, exc: Exception) -> Response:
    return page(status, "link_problem.html", title=title, message=str(exc))


PROBLEMS = problem_pages(
    {
        LinkExpired: lambda exc, status: _link_problem(status, "This link has expired", exc),
        Conflict: lambda exc, _status: _link_problem(_GONE, "This link no longer works", exc),
        LinkInvalid: lambda exc, status: _link_problem(status, "This link is not valid", exc),
        NotFound: lambda exc, status: _link_problem(status, "This link is not valid", exc),
    }
)
