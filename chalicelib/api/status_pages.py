"""Customers' status pages: a signed link, no account.

A bad or expired status link gets a page that offers a new one by email, and says the same thing
whether or not the address or the issue exists. The pages' forms share one CSRF scope (`FORMS`).
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import locales
from chalicelib.api.customer_locale import PageLocale, request_locale
from chalicelib.api.edge import FormGuard
from chalicelib.api.errors import ProblemPage, problem_pages, status_of
from chalicelib.api.pages import form_values, guarded_page, page, posting_to, reload_page, with_headers
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
    locale: PageLocale | None = None,
    **context: Any,
) -> Response:
    """A page of the customers' site whose forms carry a CSRF token of `scope`; Secure cookie over HTTPS.
    `locale`: the page's language (its texts, switcher and, after a switch, the cookie that keeps it)."""
    built = services()
    secure = built.config.public_url.startswith("https://")
    headers = extra_headers
    if locale is not None:
        headers = with_headers(extra_headers or {}, locale.headers())
        context = {**context, **locale.context()}
    return guarded_page(
        request_headers, built.link_secret(), scope, secure, status_code, template, extra_headers=headers, **context
    )


def _locale(**chosen: Any) -> PageLocale:
    return request_locale(status_pages.current_request, **chosen)


def _guarded(
    status_code: int,
    template: str,
    headers: dict[str, str] | None = None,
    locale: PageLocale | None = None,
    **context: object,
) -> Response:
    request = status_pages.current_request
    locale = locale or _locale()
    return customer_page(
        request.headers, STATUS, status_code, template, extra_headers=headers, locale=locale, **context
    )


def _status_page(token: str, status_code: int = 200, **context: object) -> Response:
    """The status page, with a form to upload a file straight to S3 when the issue's type takes files.

    In the language the customer chose (`?lang=`, which is remembered on them for every later email),
    else the browser's, else the customer's remembered one, else Accept-Language; times in their zone."""
    statuses = services().status_pages
    first = _locale()
    if first.switched:
        statuses.remember_language(token, first.language)
    known = statuses.view(token)
    locale = _locale(remembered=known["customer_language"], zone=known["zone"])
    view = statuses.view(token, locale.language) if locale.language != (known["customer_language"] or "en") else known
    # What the page says back (a notice, the validator's or the upload's problem) in its language.
    for key in ("notice", "error", "upload_error"):
        if context.get(key):
            context[key] = locales.validation_message(str(context[key]), locale.language)
    upload = view["upload"]
    headers = posting_to(upload["url"]) if upload else None
    return _guarded(status_code, "status.html", headers, locale, view=view, upload=upload, **context)


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
    locale = _locale()
    t = locale.texts
    except_message = None
    try:
        services().status_pages.send_new_link(email)
    except ValidationFailed as exc:
        except_message = t(exc.errors[0].message)
    if except_message is not None:
        return _guarded(400, "status_problem.html", None, locale, title=t("Get a new link"), message=except_message)
    message = t(
        "If we have an issue for %(email)s, we have emailed it a new link. It may take a few minutes.", email=email
    )
    return page(200, "message.html", title=t("Check your email"), message=message, **locale.context())


def _t() -> locales.Texts:
    return _locale().texts


def _bad_link(title: str, message: str) -> ProblemPage:
    """A bad link's page, with the form that asks for a new one."""

    def shown(_exc: Exception, status: int) -> Response:
        t = _t()
        return _guarded(status, "status_problem.html", title=t(title), message=t(message))

    return shown


#: A form of these pages without its token is refused in the customer's language.
FORMS = FormGuard(scope=lambda _params: STATUS, refused=lambda _params: reload_page(_locale().language))
PROBLEMS = problem_pages(
    {
        LinkExpired: _bad_link("This link has expired", "It worked 90 days."),
        LinkInvalid: _bad_link("This link does not work", "Check the link."),
        NotFound: _bad_link("This link does not work", "Check the link."),
    }
)
