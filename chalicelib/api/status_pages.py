"""Customers' status pages: a signed link, no account.

A bad or expired status link gets a page that offers a new one by email, and says the same thing
whether or not the address or the issue exists. The pages' forms share one CSRF scope (`FORMS`).
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.edge import fixed_scope
from chalicelib.api.errors import ProblemPage, problem_pages, status_of
from chalicelib.api.pages import form_values, guarded_page, page, posting_to
from chalicelib.bootstrap import services
from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.web_tokens.signed_links import LinkExpired, LinkInvalid

status_pages = Blueprint(__name__)
_FORM = "application/x-www-form-urlencoded"
STATUS = "status"


def customer_page(
    request_headers: Any,
    scope: str,
    status_code: int,
    template: str,
    /,
    *,
    extra_headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """A page of the customers' site whose forms carry a CSRF token of `scope`; Secure cookie over HTTPS."""
    built = services()
    secure = built.config.public_url.startswith("https://")
    headers = extra_headers
    return guarded_page(
        request_headers, built.link_secret(), scope, secure, status_code, template, extra_headers=headers, **context
    )


def _guarded(status_code: int, template: str, headers: dict[str, str] | None = None, **context: object) -> Response:
    return customer_page(
        status_pages.current_request.headers, STATUS, status_code, template, extra_headers=headers, **context
    )


def _status_page(token: str, status_code: int = 200, **context: object) -> Response:
    """The status page, with a form to upload a file straight to S3 when the issue's type takes files."""
    view = services().status_pages.view(token)
    upload = view["upload"]
    headers = posting_to(upload["url"]) if upload else None
    return _guarded(status_code, "status.html", headers, view=view, upload=upload, **context)


@status_pages.route("/s/{token}", methods=["GET"])
def show_status(token: str) -> Response:
    return _status_page(token)


@status_pages.route("/s/{token}/uploaded", methods=["GET"])
def file_uploaded(token: str) -> Response:
    """Where S3 sends the customer after an upload: the file is checked and put on the issue."""
    key = (status_pages.current_request.query_params or {}).get("key")
    try:
        services().status_pages.record_upload(token, key)
    except ValidationFailed as exc:
        return _status_page(token, status_of(exc), upload_error=exc.errors[0].message)
    return _status_page(token, notice="Thank you, we have your file.")


@status_pages.route("/s/{token}", methods=["POST"], content_types=[_FORM])
def reply_on_status_page(token: str) -> Response:
    """The customer writes to us from the status page, exactly as by email."""
    message = form_values(status_pages.current_request.raw_body, set()).get("message", "")
    try:
        services().status_pages.reply(token, message)
    except ValidationFailed as exc:
        return _status_page(token, status_of(exc), error=exc.errors[0].message, message=message)
    return _status_page(token, notice="Thank you, we have your message.")


@status_pages.route("/s", methods=["POST"], content_types=[_FORM])
def new_status_link() -> Response:
    email = form_values(status_pages.current_request.raw_body, set()).get("email", "")
    try:
        services().status_pages.send_new_link(email)
    except ValidationFailed as exc:
        return _guarded(status_of(exc), "status_problem.html", title="Get a new link", message=exc.errors[0].message)
    return page(
        200,
        "message.html",
        title="Check your email",
        message=f"If we have an issue for {email}, we have emailed it a new link. It may take a few minutes.",
    )


def _bad_link(title: str, message: str) -> ProblemPage:
    """A bad link's page, with the form that asks for a new one."""
    return lambda _exc, status: _guarded(status, "status_problem.html", title=title, message=message)


FORMS = fixed_scope(STATUS)
PROBLEMS = problem_pages(
    {
        LinkExpired: _bad_link("This link has expired", "It worked 90 days."),
        LinkInvalid: _bad_link("This link does not work", "Check the link."),
        NotFound: _bad_link("This link does not work", "Check the link."),
    }
)
