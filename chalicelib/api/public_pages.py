"""Customers' web pages: the catalogue of issue types, each type's form, and its confirmation.

Plain HTML forms that work without JavaScript. A form's CSRF token is made and checked at the
edge (`FORMS`, scoped to the type); the other guards (submission id, honeypot, rate limits) and
the intake live in the web form service, the markup decisions in `web_forms.form_view`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chalice import Blueprint, Response

from chalicelib import locales
from chalicelib.api.customer_locale import PageLocale, page_locale
from chalicelib.api.edge import FormGuard
from chalicelib.api.errors import problem_pages
from chalicelib.api.help_pages import DEFLECTION_SCRIPT_URL
from chalicelib.api.pages import (
    SECURITY_HEADERS,
    STYLESHEET,
    STYLESHEET_PATH,
    client_address,
    form_token,
    page,
    with_headers,
)
from chalicelib.api.web_forms import form_view, one_line
from chalicelib.bootstrap import services
from chalicelib.domain.errors import NotFound
from chalicelib.domain.type_texts import in_language
from chalicelib.services.rate_limits import whole_minutes, whole_seconds
from chalicelib.services.web_forms import (
    LANGUAGE_FIELD,
    ZONE_FIELD,
    AlreadySent,
    Confirmation,
    CustomerLocale,
    FormPage,
    Limited,
    Refused,
    Suggested,
    form_zone,
    parse_form,
)

public_pages = Blueprint(__name__)
_FORM = "application/x-www-form-urlencoded"
_YEAR = 365 * 24 * 3600
#: Fills the report form's hidden time-zone field with the browser's zone (the only script customers get).
ZONE_SCRIPT = (
    "document.addEventListener('DOMContentLoaded',function(){var f=document.getElementById('"
    + ZONE_FIELD
    + "');try{var z=Intl.DateTimeFormat().resolvedOptions().timeZone;if(f&&z){f.value=z;}}catch(e){}});\n"
)
ZONE_SCRIPT_PATH = "/assets/zone.js"
#: The report form runs that one script, from our own origin; no page runs an inline script.
_FORM_POLICY = {
    "Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"].replace(
        "default-src 'none';", "default-src 'none'; script-src 'self'; connect-src 'self';"
    )
}


def _locale(**chosen: Any) -> PageLocale:
    """The language of this request's page (`customer_locale.page_locale`)."""
    secure = services().config.public_url.startswith("https://")
    return page_locale(public_pages.current_request, secure=secure, **chosen)


def _page(status: int, template: str, locale: PageLocale, headers: dict[str, str] | None = None, **context: Any):
    return page(
        status, template, extra_headers=with_headers(headers or {}, locale.headers()), **context, **locale.context()
    )


@public_pages.route("/", methods=["GET"])
def home() -> Response:
    locale = _locale()
    shown = [in_language(t, locale.language) for t in services().web_forms.catalogue()]
    types = [{"id": t.id, "name": t.name, "line": one_line(t.description)} for t in shown]
    return _page(200, "home.html", locale, types=types)


@public_pages.route(ZONE_SCRIPT_PATH, methods=["GET"])
def zone_script() -> Response:
    headers = {
        "Content-Type": "text/javascript; charset=utf-8",
        "Cache-Control": "public, max-age=86400",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body=ZONE_SCRIPT, status_code=200, headers=headers)


@public_pages.route(STYLESHEET_PATH, methods=["GET"])
def stylesheet() -> Response:
    headers = {
        "Content-Type": "text/css; charset=utf-8",
        "Cache-Control": f"public, max-age={_YEAR}, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body=STYLESHEET.decode(), status_code=200, headers=headers)


@public_pages.route("/report/{type_id}", methods=["GET"])
def show_form(type_id: str) -> Response:
    token, cookie_headers = _token(type_id)
    return _form(200, services().web_forms.blank_form(type_id, token), _locale(), cookie_headers)


@public_pages.route("/report/{type_id}", methods=["POST"], content_types=[_FORM])
def send_form(type_id: str) -> Response:
    request = public_pages.current_request
    address = client_address(request)
    token, _ = _token(type_id)
    submitted = parse_form(request.raw_body)
    # The language the form was shown in (its hidden field) and the zone the browser said it is in.
    sent_language = (submitted.get(LANGUAGE_FIELD) or [""])[-1]
    sent_zone = locales.valid_zone((submitted.get(ZONE_FIELD) or [""])[-1]) or ""
    locale = _locale(remembered=sent_language, zone=sent_zone)
    if locales.supported(sent_language):
        locale = replace(locale, language=locales.supported(sent_language) or locale.language)
    customer = CustomerLocale(locale.language, sent_zone)
    outcome = services().web_forms.submit(type_id, submitted, address, token, customer)
    if isinstance(outcome, FormPage):
        return _form(400, outcome, locale)
    if isinstance(outcome, Suggested):  # help articles that may answer it, before anything is filed
        return _form(200, outcome.page, locale, suggestions=outcome.articles)
    t = locale.texts
    if isinstance(outcome, Confirmation):
        shown = in_language(outcome.issue_type, locale.language)
        locale = replace(locale, zone=sent_zone or form_zone(shown))
        return _page(
            200,
            "confirmation.html",
            locale,
            reference=outcome.reference,
            steps=outcome.steps,
            status_link=outcome.status_link,
            emails_customer=outcome.emails_customer,
            attachments=shown.attachments,
        )
    if isinstance(outcome, Refused):
        return _reload_form(outcome.type_id, locale)
    if isinstance(outcome, Limited):
        minutes = whole_minutes(outcome.retry_after)
        return _problem(
            429,
            t("Too many reports for now"),
            [
                t(
                    "We have received many reports from your connection or for your email address in a short "
                    "time, so we are pausing new ones for a while."
                ),
                t("Please try again after %(time)s", time=t.moment(outcome.retry_at))
                + " "
                + t.plural("(in about %(num)d minute).", "(in about %(num)d minutes).", minutes)
                + " "
                + t("Your earlier reports have reached us."),
            ],
            f"/report/{outcome.type_id}",
            t("Back to the form"),
            locale,
            {"Retry-After": str(whole_seconds(outcome.retry_after))},
        )
    assert isinstance(outcome, AlreadySent)
    return _problem(
        409,
        t("This form was already sent"),
        [
            t("You sent this form before with different answers, so we did not open a second report."),
            t("To report something new or add details, open a new form."),
        ],
        f"/report/{outcome.type_id}",
        t("Open a new form"),
        locale,
    )


def _token(type_id: str) -> tuple[str, dict[str, str]]:
    """The CSRF token of this type's form, and the form cookie's headers if the browser has none."""
    config = services().config
    secure = config.public_url.startswith("https://")
    return form_token(public_pages.current_request.headers, services().link_secret(), type_id, secure)


def _form(
    status: int,
    form: FormPage,
    locale: PageLocale,
    headers: dict[str, str] | None = None,
    suggestions: list[dict[str, Any]] | None = None,
) -> Response:
    """The report form in the customer's language: the type's texts, ours, and the validator's messages."""
    shown = replace(form, issue_type=in_language(form.issue_type, locale.language))
    view = form_view(shown, locale.texts)
    return _page(
        status,
        "report_form.html",
        locale,
        with_headers(headers or {}, _FORM_POLICY),
        form=view,
        zone_script_url=ZONE_SCRIPT_PATH,
        suggestions=suggestions or [],
        deflection_script_url=DEFLECTION_SCRIPT_URL,
    )


def _reload_form(type_id: str, locale: PageLocale | None = None) -> Response:
    locale = locale or _locale()
    t = locale.texts
    return _problem(
        403,
        t("Please reload the form"),
        [
            t(
                "For your safety we accept a form only from the page that showed it, and this one could not be "
                "checked: it may have been open for a long time, or cookies may be blocked."
            ),
            t("Nothing was sent. Reload the form, fill it in again and send it."),
        ],
        f"/report/{type_id}",
        t("Reload the form"),
        locale,
    )


def _problem(
    status: int,
    title: str,
    paragraphs: list[str],
    action_href: str,
    action_text: str,
    locale: PageLocale,
    headers: dict[str, str] | None = None,
) -> Response:
    return _page(
        status,
        "form_problem.html",
        locale,
        headers,
        title=title,
        paragraphs=paragraphs,
        action_href=action_href,
        action_text=action_text,
    )


def _not_found(_exc: Exception, status: int) -> Response:
    locale = _locale()
    t = locale.texts
    return _problem(
        status,
        t("We can't find that form"),
        [t("The address may be mistyped, or this kind of report is no longer taken online.")],
        "/",
        t("See what you can report"),
        locale,
    )


def _forged(params: Mapping[str, str]) -> Response:
    """A post without its form's token: a form that does not exist is still a 404, as it was before the check."""
    issue_type = services().web_forms.form_type(params["type_id"])
    return _reload_form(issue_type.id)


#: A form's token is scoped to its type: a token of one type's form does not fit another's.
FORMS = FormGuard(scope=lambda params: params["type_id"], refused=_forged)
PROBLEMS = problem_pages({NotFound: _not_found})
