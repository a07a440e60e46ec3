"""Ops' dashboard in the browser: the KPI report with a filter, for an agent signed in at the desk.

The session is the desk's (`api/sessions.py`: cookies set by `/desk/sign-in`, which sends the
browser back here; an `Authorization: Bearer` header works too); the KPIs and who may read them
are the ops KPI service's, the report's markup `chalicelib.reporting.html`'s. Pages keep the
strict CSP of `pages.py`: the report's stylesheet is served from here, and its charts are inline
SVG without script or style attributes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api import sessions
from chalicelib.api.desk.responses import SCOPE, redirect
from chalicelib.api.desk.responses import SIGN_IN as DESK_SIGN_IN
from chalicelib.api.edge import fixed_scope
from chalicelib.api.errors import problem_pages, status_of
from chalicelib.api.pages import SECURITY_HEADERS, guarded_page
from chalicelib.bootstrap import services
from chalicelib.domain.errors import FieldError, Forbidden, Unauthenticated, ValidationFailed
from chalicelib.reporting import html
from chalicelib.services.ops_kpis import CHANNELS

ops_pages = Blueprint(__name__)
SIGN_IN = "/ops/sign-in"
DASHBOARD = "/ops/dashboard"
_SIGN_IN_FIRST = f"{DESK_SIGN_IN}?next={DASHBOARD}"
_YEAR = 365 * 24 * 3600
_FILTERS = ("from", "to", "type", "channel")


# --- the session: the desk's (`api/sessions.py`), signed in at the desk's sign-in page --------------


def _guarded(status: int, template: str, cookies: tuple[str, ...] = (), **context: Any) -> Response:
    headers = ops_pages.current_request.headers
    extra = {"Set-Cookie": list(cookies)} if cookies else None
    return guarded_page(
        headers,
        services().link_secret(),
        SCOPE,
        sessions.secure(),
        status,
        template,
        extra_headers=extra,
        **context,
    )


@ops_pages.route("/ops", methods=["GET"])
def ops_home() -> Response:
    return redirect(DASHBOARD)


@ops_pages.route(SIGN_IN, methods=["GET"])
def sign_in_form() -> Response:
    """The ops dashboard's old sign-in address: the desk's sign-in, back to the dashboard."""
    return redirect(_SIGN_IN_FIRST)


# --- the dashboard -------------------------------------------------------------------------------


@ops_pages.route(DASHBOARD, methods=["GET"])
def dashboard() -> Response:
    request = ops_pages.current_request
    query = {name: value for name, value in (request.query_params or {}).items() if value}
    try:
        who = sessions.signed_in(request.headers)
    except Unauthenticated:
        return redirect(_SIGN_IN_FIRST, sessions.ended() if sessions.has_session(request.headers) else ())
    agent = who.agent
    try:
        report = services().ops_kpis.report_for(agent, query)
    except Forbidden as exc:
        return _guarded(status_of(exc), "ops_forbidden.html", who.cookies, username=agent.username, message=str(exc))
    except ValidationFailed as exc:
        return _dashboard(status_of(exc), who, query, errors=exc.errors)
    filters = {name: report.get(name) or "" for name in _FILTERS}
    return _dashboard(200, who, filters, report_body=html.body(report, datetime.now(UTC)))


def _dashboard(
    status: int,
    who: sessions.SignedIn,
    filters: dict[str, str],
    report_body: str = "",
    errors: list[FieldError] | None = None,
) -> Response:
    """The dashboard page: the filter form (its type list from the catalogue) above the report, or its errors."""
    types = [(p.type_id, p.definition.get("name") or p.type_id) for p in services().issue_types.catalogue()]
    return _guarded(
        status,
        "ops_dashboard.html",
        who.cookies,
        username=who.agent.username,
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


#: The ops pages post no form of their own (signing out is the desk's), so guard none.
FORMS = fixed_scope(SCOPE)
#: The pages answer their errors where they happen (a sign-in form again, a redirect): none left here.
PROBLEMS = problem_pages({})
