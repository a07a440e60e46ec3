"""Customers' "My issues" pages: ask for a link by email, then open the list of all one's issues.

`/my-issues` takes an email address and answers the same whether or not we know it. The link in the
email (`/my-issues/<token>`) shows a button, and the list comes with its post: mail scanners that
fetch every link in an email would otherwise use up a single-use link before the customer clicks.
The pages' forms share one CSRF scope (`FORMS`); a used, expired or bad link gets a page saying so,
with the form that asks for a new one (`PROBLEMS`).
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import locales
from chalicelib.api.customer_locale import PageLocale, request_locale
from chalicelib.api.edge import FormGuard
from chalicelib.api.errors import ProblemPage, problem_pages, status_of
from chalicelib.api.pages import client_address, form_values, page, reload_page, with_headers
from chalicelib.api.status_pages import customer_page
from chalicelib.bootstrap import services
from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.services.customer_issues import Limited, LinkUsed
from chalicelib.services.rate_limits import whole_minutes, whole_seconds
from chalicelib.web_tokens.signed_links import LinkExpired, LinkInvalid

customer_issue_pages = Blueprint(__name__)
_FORM = "application/x-www-form-urlencoded"
MY_ISSUES = "my-issues"
_REQUEST = "my_issues_request.html"


def _locale() -> PageLocale:
    return request_locale(customer_issue_pages.current_request)


def _guarded(status_code: int, template: str, headers: dict[str, str] | None = None, **context: object) -> Response:
    request = customer_issue_pages.current_request
    locale = _locale()
    return customer_page(
        request.headers, MY_ISSUES, status_code, template, extra_headers=headers, locale=locale, **context
    )


def _page(status_code: int, template: str, headers: dict[str, str] | None = None, **context: object) -> Response:
    locale = _locale()
    return page(
        status_code,
        template,
        extra_headers=with_headers(headers or {}, locale.headers()),
        **context,
        **locale.context(),
    )


@customer_issue_pages.route("/my-issues", methods=["GET"])
def ask_for_link() -> Response:
    return _guarded(200, _REQUEST, title=_locale().texts("See all your issues"))


@customer_issue_pages.route("/my-issues", methods=["POST"], content_types=[_FORM])
def send_link() -> Response:
    request = customer_issue_pages.current_request
    email = form_values(request.raw_body, set()).get("email", "")
    address = client_address(request)
    locale = _locale()
    t = locale.texts
    try:
        outcome = services().customer_issues.request_link(email, address, language=locale.language)
    except ValidationFailed as exc:
        error = locales.validation_message(exc.errors[0].message, locale.language)
        return _guarded(status_of(exc), _REQUEST, title=t("See all your issues"), error=error, email=email)
    if isinstance(outcome, Limited):
        minutes = whole_minutes(outcome.retry_after)
        paragraphs = [
            t(
                "We have had many requests from your connection or for this email address in a short time, "
                "so we are pausing new ones for a while. A link we sent earlier still works once, for 30 minutes."
            ),
            t("Please try again after %(time)s", time=t.moment(outcome.retry_at))
            + " "
            + t.plural("(in about %(num)d minute).", "(in about %(num)d minutes).", minutes),
        ]
        return _page(
            429,
            "form_problem.html",
            {"Retry-After": str(whole_seconds(outcome.retry_after))},
            title=t("Too many requests for now"),
            paragraphs=paragraphs,
            action_href="/my-issues",
            action_text=t("Back to the form"),
        )
    return _page(
        200,
        "message.html",
        title=t("Check your email"),
        message=t(
            "If we have issues for %(email)s, we have sent a link to it. It may take a few minutes; "
            "the link works once, for 30 minutes.",
            email=outcome.email,
        ),
    )


@customer_issue_pages.route("/my-issues/{token}", methods=["GET"])
def show_link(token: str) -> Response:
    """The link from the email: a button that opens the list (a GET uses nothing up)."""
    services().customer_issues.check(token)
    return _guarded(200, "my_issues_open.html")


@customer_issue_pages.route("/my-issues/{token}", methods=["POST"], content_types=[_FORM])
def list_issues(token: str) -> Response:
    """Uses the link, once, and lists the customer's issues with their status pages."""
    request = customer_issue_pages.current_request
    # In the language of the switcher or the browser's cookie, else the customer's remembered one, else
    # Accept-Language; times in the customer's zone.
    listed = services().customer_issues.open(
        token, lambda remembered: request_locale(request, remembered=remembered).language
    )
    locale = request_locale(request, remembered=listed.language, zone=listed.zone)
    headers = with_headers(locale.headers())
    return page(200, "my_issues.html", extra_headers=headers, listed=listed, **locale.context())


def _bad_link(title: str, message: str) -> ProblemPage:
    """A link that cannot open the list: why, and the form that asks for a new one."""

    def shown(_exc: Exception, status: int) -> Response:
        t = _locale().texts
        return _guarded(status, _REQUEST, title=t(title), message=t(message))

    return shown


FORMS = FormGuard(scope=lambda _params: MY_ISSUES, refused=lambda _params: reload_page(_locale().language))
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
