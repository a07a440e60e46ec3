"""Customers' "My issues" pages: ask for a link by email, then open the list of all one's issues.

`/my-issues` takes an email address and answers the same whether or not we know it. The link in the
email (`/my-issues/<token>`) shows a button, and the list comes with its post: mail scanners that
fetch every link in an email would otherwise use up a single-use link before the customer clicks.
The pages' forms share one CSRF scope (`FORMS`); a used, expired or bad link gets a page saying so,
with the form that asks for a new one (`PROBLEMS`).
"""

from __future__ import annotations

import math

from chalice import Blueprint, Response

from chalicelib.api.edge import fixed_scope
from chalicelib.api.errors import ProblemPage, problem_pages, status_of
from chalicelib.api.pages import form_values, page
from chalicelib.api.status_pages import customer_page
from chalicelib.bootstrap import services
from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.services.customer_issues import Limited, LinkUsed
from chalicelib.web_tokens.signed_links import LinkExpired, LinkInvalid

customer_issue_pages = Blueprint(__name__)
_FORM = "application/x-www-form-urlencoded"
MY_ISSUES = "my-issues"
_REQUEST = "my_issues_request.html"


def _guarded(status_code: int, template: str, headers: dict[str, str] | None = None, **context: object) -> Response:
    request = customer_issue_pages.current_request
    return customer_page(request.headers, MY_ISSUES, status_code, template, extra_headers=headers, **context)


@customer_issue_pages.route("/my-issues", methods=["GET"])
def ask_for_link() -> Response:
    return _guarded(200, _REQUEST, title="See all your issues")


@customer_issue_pages.route("/my-issues", methods=["POST"], content_types=[_FORM])
def send_link() -> Response:
    request = customer_issue_pages.current_request
    email = form_values(request.raw_body, set()).get("email", "")
    address = ((request.context or {}).get("identity") or {}).get("sourceIp") or "unknown"
    try:
        outcome = services().customer_issues.request_link(email, address)
    except ValidationFailed as exc:
        error = exc.errors[0].message
        return _guarded(status_of(exc), _REQUEST, title="See all your issues", error=error, email=email)
    if isinstance(outcome, Limited):
        minutes = max(1, math.ceil(outcome.retry_after.total_seconds() / 60))
        paragraphs = [
            "We have had many requests from your connection or for this email address in a short time, "
            "so we are pausing new ones for a while. A link we sent earlier still works once, for 30 minutes.",
            f"Please try again after {outcome.retry_at:%H:%M} UTC (in about {minutes} "
            f"{'minute' if minutes == 1 else 'minutes'}).",
        ]
        return page(
            429,
            "form_problem.html",
            extra_headers={"Retry-After": str(max(1, math.ceil(outcome.retry_after.total_seconds())))},
            title="Too many requests for now",
            paragraphs=paragraphs,
            action_href="/my-issues",
            action_text="Back to the form",
        )
    return page(
        200,
        "message.html",
        title="Check your email",
        message=f"If we have issues for {outcome.email}, we have sent a link to it. It may take a few minutes; "
        "the link works once, for 30 minutes.",
    )


@customer_issue_pages.route("/my-issues/{token}", methods=["GET"])
def show_link(token: str) -> Response:
    """The link from the email: a button that opens the list (a GET uses nothing up)."""
    services().customer_issues.check(token)
    return _guarded(200, "my_issues_open.html")


@customer_issue_pages.route("/my-issues/{token}", methods=["POST"], content_types=[_FORM])
def list_issues(token: str) -> Response:
    """Uses the link, once, and lists the customer's issues with their status pages."""
    return page(200, "my_issues.html", listed=services().customer_issues.open(token))


def _bad_link(title: str, message: str) -> ProblemPage:
    """A link that cannot open the list: why, and the form that asks for a new one."""
    return lambda _exc, status: _guarded(status, _REQUEST, title=title, message=message)


FORMS = fixed_scope(MY_ISSUES)
PROBLEMS = problem_pages(
    {
        LinkUsed: _bad_link(
            "This link was already used", "Each link to your issues works once, so that nobody else can use it."
        ),
        LinkExpired: _bad_link("This link has expired", "Each link to your issues works for 30 minutes."),
        LinkInvalid: _bad_link("This link does not work", "Check that it was copied whole."),
        NotFound: _bad_link("This link does not work", "Check that it was copied whole."),
    }
)
