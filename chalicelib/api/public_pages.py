"""Customers' web pages: the catalogue of issue types, each type's form, and its confirmation.

Plain HTML forms that work without JavaScript. A form's CSRF token is made and checked at the
edge (`FORMS`, scoped to the type); the other guards (submission id, honeypot, rate limits) and
the intake live in the web form service, the markup decisions in `web_forms.form_view`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from chalice import Blueprint, Response

from chalicelib.api.edge import FormGuard
from chalicelib.api.errors import problem_pages
from chalicelib.api.pages import STYLESHEET, STYLESHEET_PATH, form_token, page
from chalicelib.api.web_forms import form_view, one_line
from chalicelib.bootstrap import services
from chalicelib.domain.errors import NotFound
from chalicelib.services.web_forms import (
    AlreadySent,
    Confirmation,
    FormPage,
    Limited,
    Refused,
    parse_form,
)

public_pages = Blueprint(__name__)
_FORM = "application/x-www-form-urlencoded"
_YEAR = 365 * 24 * 3600


@public_pages.route("/", methods=["GET"])
def home() -> Response:
    types = [{"id": t.id, "name": t.name, "line": one_line(t.description)} for t in services().web_forms.catalogue()]
    return page(200, "home.html", types=types)


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
    return _form(200, services().web_forms.blank_form(type_id, token), cookie_headers)


@public_pages.route("/report/{type_id}", methods=["POST"], content_types=[_FORM])
def send_form(type_id: str) -> Response:
    request = public_pages.current_request
    address = ((request.context or {}).get("identity") or {}).get("sourceIp") or "unknown"
    token, _ = _token(type_id)
    outcome = services().web_forms.submit(type_id, parse_form(request.raw_body), address, token)
    if isinstance(outcome, FormPage):
        return _form(400, outcome)
    if isinstance(outcome, Confirmation):
        return page(
            200,
            "confirmation.html",
            reference=outcome.reference,
            steps=outcome.steps,
            status_link=outcome.status_link,
            emails_customer=outcome.emails_customer,
            attachments=outcome.issue_type.attachments,
        )
    if isinstance(outcome, Refused):
        return _reload_form(outcome.type_id)
    if isinstance(outcome, Limited):
        minutes = max(1, math.ceil(outcome.retry_after.total_seconds() / 60))
        return _problem(
            429,
            "Too many reports for now",
            [
                "We have received many reports from your connection or for your email address in a short time, "
                "so we are pausing new ones for a while.",
                f"Please try again after {outcome.retry_at:%H:%M} UTC (in about {minutes} "
                f"{'minute' if minutes == 1 else 'minutes'}). Your earlier reports have reached us.",
            ],
            f"/report/{outcome.type_id}",
            "Back to the form",
            {"Retry-After": str(max(1, math.ceil(outcome.retry_after.total_seconds())))},
        )
    assert isinstance(outcome, AlreadySent)
    return _problem(
        409,
        "This form was already sent",
        [
            "You sent this form before with different answers, so we did not open a second report.",
            "To report something new or add details, open a new form.",
        ],
        f"/report/{outcome.type_id}",
        "Open a new form",
    )


def _token(type_id: str) -> tuple[str, dict[str, str]]:
    """The CSRF token of this type's form, and the form cookie's headers if the browser has none."""
    config = services().config
    secure = config.public_url.startswith("https://")
    return form_token(public_pages.current_request.headers, services().link_secret(), type_id, secure)


def _form(status: int, form: FormPage, headers: dict[str, str] | None = None) -> Response:
    return page(status, "report_form.html", extra_headers=headers or {}, form=form_view(form))


def _reload_form(type_id: str) -> Response:
    return _problem(
        403,
        "Please reload the form",
        [
            "For your safety we accept a form only from the page that showed it, and this one could not be "
            "checked: it may have been open for a long time, or cookies may be blocked.",
            "Nothing was sent. Reload the form, fill it in again and send it.",
        ],
        f"/report/{type_id}",
        "Reload the form",
    )


def _problem(
    status: int,
    title: str,
    paragraphs: list[str],
    action_href: str,
    action_text: str,
    headers: dict[str, str] | None = None,
) -> Response:
    return page(
        status,
        "form_problem.html",
        extra_headers=headers,
        title=title,
        paragraphs=paragraphs,
        action_href=action_href,
        action_text=action_text,
    )


def _not_found(_exc: Exception, status: int) -> Response:
    return _problem(
        status,
        "We can't find that form",
        ["The address may be mistyped, or this kind of report is no longer taken online."],
        "/",
        "See what you can report",
    )


def _forged(params: Mapping[str, str]) -> Response:
    """A post without its form's token: a form that does not exist is still a 404, as it was before the check."""
    issue_type = services().web_forms.form_type(params["type_id"])
    return _reload_form(issue_type.id)


#: A form's token is scoped to its type: a token of one type's form does not fit another's.
FORMS = FormGuard(scope=lambda params: params["type_id"], refused=_forged)
PROBLEMS = problem_pages({NotFound: _not_found})
