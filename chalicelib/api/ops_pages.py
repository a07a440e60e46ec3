"""Ops' dashboard in the browser: sign in with the agents' Cognito account, then the KPI report with a filter.

The id token lives in an HttpOnly, SameSite=Strict cookie scoped to /ops (an `Authorization: Bearer`
header works too); the KPIs and who may read them are the ops KPI service's, the report's markup
`chalicelib.reporting.html`'s. Pages keep the strict CSP of `pages.py`: the report's stylesheet is
served from here, and its charts are inline SVG without script or style attributes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from http.cookies import CookieError, SimpleCookie
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.edge import fixed_scope
from chalicelib.api.errors import problem_pages, status_of
from chalicelib.api.pages import SECURITY_HEADERS, form_values, guarded_page
from chalicelib.bootstrap import services
from chalicelib.domain.agents import Agent
from chalicelib.domain.errors import FieldError, Forbidden, Unauthenticated, ValidationFailed
from chalicelib.reporting import html
from chalicelib.services.ops_kpis import CHANNELS

ops_pages = Blueprint(__name__)
COOKIE = "caseflow_ops"
SIGN_IN = "/ops/sign-in"
DASHBOARD = "/ops/dashboard"
_SCOPE = "ops"
_FORM = "application/x-www-form-urlencoded"
_YEAR = 365 * 24 * 3600
_FILTERS = ("from", "to", "type", "channel")


# --- cookies and headers -------------------------------------------------------------------------


def _secure() -> bool:
    return not services().config.is_dev


def _session_cookie(value: str, max_age: int) -> str:
    flags = "; Secure" if _secure() else ""
    return f"{COOKIE}={value}; Path=/ops; Max-Age={max_age}; HttpOnly; SameSite=Strict{flags}"


def _session_token() -> str | None:
    try:
        morsel = SimpleCookie(ops_pages.current_request.headers.get("cookie", "")).get(COOKIE)
    except CookieError:
        return None
    return morsel.value if morsel and morsel.value else None


def _agent() -> Agent:
    """The signed-in user: the id token of the cookie, else of the Authorization header."""
    token = _session_token()
    header = f"Bearer {token}" if token else ops_pages.current_request.headers.get("authorization")
    return services().auth.agent_from_header(header)


def _redirect(location: str, cookie: str | None = None) -> Response:
    headers = {"Location": location, "Cache-Control": "no-store"}
    if cookie:
        headers["Set-Cookie"] = cookie
    return Response(body="", status_code=303, headers=headers)


def _guarded(status: int, template: str, **context: Any) -> Response:
    headers = ops_pages.current_request.headers
    return guarded_page(headers, services().config.link_secret, _SCOPE, _secure(), status, template, **context)


# --- sign-in -------------------------------------------------------------------------------------


@ops_pages.route("/ops", methods=["GET"])
def ops_home() -> Response:
    return _redirect(DASHBOARD)


@ops_pages.route(SIGN_IN, methods=["GET"])
def sign_in_form() -> Response:
    return _guarded(200, "ops_sign_in.html", username="", errors=[])


@ops_pages.route(SIGN_IN, methods=["POST"], content_types=[_FORM])
def sign_in() -> Response:
    values = form_values(ops_pages.current_request.raw_body, set())
    username = str(values.get("username", "")).strip()
    try:
        tokens = services().auth.login({"username": username, "password": values.get("password", "")})
    except ValidationFailed as exc:
        errors = [FieldError(e.field, f"Enter your {e.field}.") for e in exc.errors]
        return _guarded(status_of(exc), "ops_sign_in.html", username=username, errors=errors)
    except Unauthenticated as exc:
        errors = [FieldError("password", "Wrong username or password.")]
        return _guarded(status_of(exc), "ops_sign_in.html", username=username, errors=errors)
    return _redirect(DASHBOARD, _session_cookie(tokens["id_token"], int(tokens.get("expires_in") or 3600)))


@ops_pages.route("/ops/sign-out", methods=["POST"], content_types=[_FORM])
def sign_out() -> Response:
    return _redirect(SIGN_IN, _session_cookie("", 0))


# --- the dashboard -------------------------------------------------------------------------------


@ops_pages.route(DASHBOARD, methods=["GET"])
def dashboard() -> Response:
    query = {name: value for name, value in (ops_pages.current_request.query_params or {}).items() if value}
    try:
        agent = _agent()
    except Unauthenticated:
        return _redirect(SIGN_IN, _session_cookie("", 0) if _session_token() else None)
    try:
        report = services().ops_kpis.report_for(agent, query)
    except Forbidden as exc:
        return _guarded(status_of(exc), "ops_forbidden.html", username=agent.username, message=str(exc))
    except ValidationFailed as exc:
        return _dashboard(status_of(exc), agent, query, errors=exc.errors)
    filters = {name: report.get(name) or "" for name in _FILTERS}
    return _dashboard(200, agent, filters, report_body=html.body(report, datetime.now(UTC)))


def _dashboard(
    status: int,
    agent: Agent,
    filters: dict[str, str],
    report_body: str = "",
    errors: list[FieldError] | None = None,
) -> Response:
    """The dashboard page: the filter form (its type list from the catalogue) above the report, or its errors."""
    types = [(p.type_id, p.definition.get("name") or p.type_id) for p in services().issue_types.catalogue()]
    return _guarded(
        status,
        "ops_dashboard.html",
        username=agent.username,
        filters=filters,
        types=types,
        channels=CHANNELS,
        report_stylesheet_url=html.STYLESHEET_URL,
        report_body=report_body,
        errors=errors or [],
    )


@ops_pages.route(html.STYLESHEET_PATH, methods=["GET"])
def report_stylesheet() -> Response:
    headers = {
        "Content-Type": "text/css; charset=utf-8",
        "Cache-Control": f"public, max-age={_YEAR}, immutable",
        "X-Content-Type-Options": SECURITY_HEADERS["X-Content-Type-Options"],
    }
    return Response(body=html.STYLESHEET, status_code=200, headers=headers)


#: Every form post of the ops pages (sign-in, sign-out) carries a token of one CSRF scope.
FORMS = fixed_scope(_SCOPE)
#: The pages answer their errors where they happen (a sign-in form again, a redirect): none left here.
PROBLEMS = problem_pages({})
