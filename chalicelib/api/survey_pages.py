"""The satisfaction survey's pages: one click on a score in the email answers it; a comment may follow.

A signed link, no account; the comment form has a CSRF scope of its own (`FORMS`).
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.edge import fixed_scope
from chalicelib.api.errors import ProblemPage, problem_pages, status_of
from chalicelib.api.pages import form_values, page
from chalicelib.api.status_pages import customer_page
from chalicelib.bootstrap import services
from chalicelib.domain.errors import Conflict, NotFound, ValidationFailed
from chalicelib.web_tokens.signed_links import LinkExpired, LinkInvalid

survey_pages = Blueprint(__name__)
_FORM = "application/x-www-form-urlencoded"
SURVEY = "survey"


def _guarded(status_code: int, template: str, **context: object) -> Response:
    return customer_page(survey_pages.current_request.headers, SURVEY, status_code, template, **context)


@survey_pages.route("/survey/{token}", methods=["GET"])
def answer_survey(token: str) -> Response:
    """One click records the score the link carries; clicking again changes nothing."""
    return _guarded(200, "survey.html", answer=services().surveys.answer(token))


@survey_pages.route("/survey/{token}", methods=["POST"], content_types=[_FORM])
def comment_on_survey(token: str) -> Response:
    comment = form_values(survey_pages.current_request.raw_body, set()).get("comment", "")
    surveys = services().surveys
    try:
        answer = surveys.comment(token, comment)
    except ValidationFailed as exc:
        return _guarded(status_of(exc), "survey.html", answer=surveys.answer(token), error=exc.errors[0].message)
    return page(200, "survey.html", answer=answer, commented=True)


def _message(title: str, message: str | None = None) -> ProblemPage:
    """A survey link's problem: `message`, or the error's own words."""
    return lambda exc, status: page(status, "message.html", title=title, message=message or str(exc))


FORMS = fixed_scope(SURVEY)
PROBLEMS = problem_pages(
    {
        Conflict: _message("You have answered already"),
        LinkExpired: _message("This survey has closed", "Thank you all the same."),
        LinkInvalid: _message("This link does not work", "Check that it was copied whole."),
        NotFound: _message("This link does not work", "Check that it was copied whole."),
    }
)
