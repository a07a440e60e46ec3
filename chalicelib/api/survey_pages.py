"""The satisfaction survey's pages: one click on a score in the email answers it; a comment may follow.

A signed link, no account; the comment form has a CSRF scope of its own (`FORMS`).
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import locales
from chalicelib.api.customer_locale import PageLocale, request_locale
from chalicelib.api.edge import FormGuard
from chalicelib.api.errors import ProblemPage, problem_pages, status_of
from chalicelib.api.pages import form_values, page, reload_page, with_headers
from chalicelib.api.status_pages import customer_page
from chalicelib.bootstrap import services
from chalicelib.domain.errors import Conflict, NotFound, ValidationFailed
from chalicelib.web_tokens.signed_links import LinkExpired, LinkInvalid

survey_pages = Blueprint(__name__)
_FORM = "application/x-www-form-urlencoded"
SURVEY = "survey"


def _locale() -> PageLocale:
    return request_locale(survey_pages.current_request)


def _guarded(status_code: int, template: str, **context: object) -> Response:
    request = survey_pages.current_request
    return customer_page(request.headers, SURVEY, status_code, template, locale=_locale(), **context)


def _page(status_code: int, template: str, **context: object) -> Response:
    locale = _locale()
    return page(status_code, template, extra_headers=with_headers(locale.headers()), **context, **locale.context())


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
        error = locales.validation_message(exc.errors[0].message, _locale().language)
        return _guarded(status_of(exc), "survey.html", answer=surveys.answer(token), error=error)
    return _page(200, "survey.html", answer=answer, commented=True)


def _message(title: str, message: str | None = None) -> ProblemPage:
    """A survey link's problem: `message`, or the error's own words."""

    def shown(exc: Exception, status: int) -> Response:
        t = _locale().texts
        return _page(status, "message.html", title=t(title), message=t(message) if message else _said(exc, t))

    return shown


def _said(exc: Exception, t: locales.Texts) -> str:
    """An error's own words in the page's language (an earlier answer's date in it too)."""
    earlier = getattr(exc, "earlier", None)
    if earlier is not None:
        return t(
            "You answered %(score)s on %(day)s; thank you.", score=earlier.score, day=t.day(earlier.first_answered_at)
        )
    return t(str(exc))


FORMS = FormGuard(scope=lambda _params: SURVEY, refused=lambda _params: reload_page(_locale().language))
PROBLEMS = problem_pages(
    {
        Conflict: _message("You have answered already"),
        LinkExpired: _message("This survey has closed", "Thank you all the same."),
        LinkInvalid: _message("This link does not work", "Check that it was copied whole."),
        NotFound: _message("This link does not work", "Check that it was copied whole."),
    }
)
