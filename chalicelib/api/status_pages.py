"""Customers' status pages and survey answers: signed links, no account.

A bad or expired status link gets a page that offers a new one by email, and says the same thing
whether or not the address or the issue exists.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.pages import forged_form, form_values, guarded_page, page, posting_to
from chalicelib.bootstrap import services
from chalicelib.domain.errors import Conflict, NotFound, ValidationFailed
from chalicelib.web_tokens.signed_links import LinkExpired, LinkInvalid

status_pages = Blueprint(__name__)
_FORM = "application/x-www-form-urlencoded"
_BAD_LINK = (LinkInvalid, LinkExpired, NotFound)
STATUS = "status"
SURVEY = "survey"


def _guarded(
    status_code: int, template: str, scope: str, headers: dict[str, str] | None = None, **context: object
) -> Response:
    config = services().config
    request_headers = status_pages.current_request.headers
    secure = config.public_url.startswith("https://")
    return guarded_page(
        request_headers, config.link_secret, scope, secure, status_code, template, extra_headers=headers, **context
    )


def _forged(values: dict[str, object], scope: str) -> Response | None:
    return forged_form(status_pages.current_request.headers, services().config.link_secret, scope, values)


def _bad_status_link(exc: Exception) -> Response:
    if isinstance(exc, LinkExpired):
        return _guarded(410, "status_problem.html", STATUS, title="This link has expired", message="It worked 90 days.")
    return _guarded(404, "status_problem.html", STATUS, title="This link does not work", message="Check the link.")


def _status_page(token: str, status_code: int = 200, **context: object) -> Response:
    """The status page, with a form to upload a file straight to S3 when the issue's type takes files."""
    view = services().status_pages.view(token)
    upload = view["upload"]
    headers = posting_to(upload["url"]) if upload else None
    return _guarded(status_code, "status.html", STATUS, headers, view=view, upload=upload, **context)


@status_pages.route("/s/{token}", methods=["GET"])
def show_status(token: str) -> Response:
    try:
        return _status_page(token)
    except _BAD_LINK as exc:
        return _bad_status_link(exc)


@status_pages.route("/s/{token}/uploaded", methods=["GET"])
def file_uploaded(token: str) -> Response:
    """Where S3 sends the customer after an upload: the file is checked and put on the issue."""
    key = (status_pages.current_request.query_params or {}).get("key")
    try:
        services().status_pages.record_upload(token, key)
    except _BAD_LINK as exc:
        return _bad_status_link(exc)
    except ValidationFailed as exc:
        return _status_page(token, 400, upload_error=exc.errors[0].message)
    return _status_page(token, notice="Thank you, we have your file.")


@status_pages.route("/s/{token}", methods=["POST"], content_types=[_FORM])
def reply_on_status_page(token: str) -> Response:
    """The customer writes to us from the status page, exactly as by email."""
    values = form_values(status_pages.current_request.raw_body, set())
    message = values.get("message", "")
    if forged := _forged(values, STATUS):
        return forged
    try:
        services().status_pages.reply(token, message)
    except _BAD_LINK as exc:
        return _bad_status_link(exc)
    except ValidationFailed as exc:
        return _status_page(token, 400, error=exc.errors[0].message, message=message)
    return _status_page(token, notice="Thank you, we have your message.")


@status_pages.route("/s", methods=["POST"], content_types=[_FORM])
def new_status_link() -> Response:
    values = form_values(status_pages.current_request.raw_body, set())
    email = values.get("email", "")
    if forged := _forged(values, STATUS):
        return forged
    try:
        services().status_pages.send_new_link(email)
    except ValidationFailed as exc:
        return _guarded(400, "status_problem.html", STATUS, title="Get a new link", message=exc.errors[0].message)
    return page(
        200,
        "message.html",
        title="Check your email",
        message=f"If we have an issue for {email}, we have emailed it a new link. It may take a few minutes.",
    )


def _bad_survey_link(exc: Exception) -> Response:
    if isinstance(exc, Conflict):
        return page(409, "message.html", title="You have answered already", message=str(exc))
    if isinstance(exc, LinkExpired):
        return page(410, "message.html", title="This survey has closed", message="Thank you all the same.")
    return page(404, "message.html", title="This link does not work", message="Check that it was copied whole.")


@status_pages.route("/survey/{token}", methods=["GET"])
def answer_survey(token: str) -> Response:
    """One click records the score the link carries; clicking again changes nothing."""
    try:
        return _guarded(200, "survey.html", SURVEY, answer=services().surveys.answer(token))
    except (*_BAD_LINK, Conflict) as exc:
        return _bad_survey_link(exc)


@status_pages.route("/survey/{token}", methods=["POST"], content_types=[_FORM])
def comment_on_survey(token: str) -> Response:
    values = form_values(status_pages.current_request.raw_body, set())
    comment = values.get("comment", "")
    if forged := _forged(values, SURVEY):
        return forged
    surveys = services().surveys
    try:
        answer = surveys.comment(token, comment)
    except (*_BAD_LINK, Conflict) as exc:
        return _bad_survey_link(exc)
    except ValidationFailed as exc:
        return _guarded(400, "survey.html", SURVEY, answer=surveys.answer(token), error=exc.errors[0].message)
    return page(200, "survey.html", answer=answer, commented=True)
