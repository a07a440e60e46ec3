"""What every desk page shares: the signed-in agent, the page with its CSRF token and renewed
session cookies, redirects, and the pages for errors a view does not answer itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from chalice import Blueprint, Response

from chalicelib.api import sessions
from chalicelib.api.edge import fixed_scope
from chalicelib.api.errors import problem_pages
from chalicelib.api.pages import form_token, page
from chalicelib.bootstrap import services
from chalicelib.domain.errors import Conflict, Forbidden, NotFound, Unauthenticated

HOME = "/desk"
SIGN_IN = "/desk/sign-in"
#: The scope of every form of the agents' pages (the desk and the ops dashboard).
SCOPE = "desk"
#: Every form post of the desk carries a token of its one CSRF scope.
FORMS = fixed_scope(SCOPE)


def signed_in(blueprint: Blueprint) -> sessions.SignedIn:
    """The agent of the request; Unauthenticated (answered by a way to sign in) when there is none."""
    return sessions.signed_in(blueprint.current_request.headers)


def desk_page(
    blueprint: Blueprint,
    status: int,
    template: str,
    who: sessions.SignedIn | None,
    *,
    extra_headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """A desk page: its forms' CSRF token, the browser's form cookie if it has none, the session's
    renewed cookies, and who is signed in (for the header)."""
    token, form_headers = form_token(
        blueprint.current_request.headers, services().link_secret(), SCOPE, sessions.secure()
    )
    cookies = [*([form_headers["Set-Cookie"]] if form_headers else []), *(who.cookies if who else ())]
    headers: dict[str, Any] = dict(extra_headers or {})
    if cookies:
        headers["Set-Cookie"] = cookies
    agent = who.agent if who else None
    return page(status, template, extra_headers=headers, csrf=token, agent=agent, **context)


def redirect(location: str, cookies: Sequence[str] = ()) -> Response:
    headers: dict[str, Any] = {"Location": location, "Cache-Control": "no-store"}
    if cookies:
        headers["Set-Cookie"] = list(cookies)
    return Response(body="", status_code=303, headers=headers)


def local_path(target: str | None, default: str = HOME) -> str:
    """`target` if it is a path on this site (`/desk…` or `/ops…`), else `default`: a sign-in never
    sends a browser to another site."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target if parts.path.split("/")[1] in ("desk", "ops") else default


def sign_in_first(blueprint: Blueprint) -> Response:
    """Off to sign in, coming back here after: a GET returns to its own address, a form post to
    the page it was sent from (what was typed is lost only when the session ended mid-form)."""
    request = blueprint.current_request
    path = actual_path(request)
    if request.method == "GET":
        back = path
        if request.query_params:
            back += "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in request.query_params.items())
    else:  # pages send no Referer (Referrer-Policy: no-referrer): an issue's action returns to its issue
        back = "/".join(path.split("/")[:4]) if path.startswith("/desk/issues/") else HOME
    back = local_path(back)
    ended = sessions.ended() if sessions.has_session(request.headers) else ()
    return redirect(f"{SIGN_IN}?next={quote(back, safe='/')}", ended)


def actual_path(request: Any) -> str:
    """The path the browser asked for (Chalice's `request.path` is the route's, `{parameters}` and all)."""
    path = request.path
    for name, value in (request.uri_params or {}).items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


def problems(blueprint: Blueprint) -> Any:
    """The desk's pages for the errors its views leave to the edge: sign in for no session, a 403
    or 404 page, a 409 page that says what changed."""

    def shown(title: str) -> Any:
        def answer(exc: Exception, status: int) -> Response:
            who = _who_or_none(blueprint)
            return desk_page(blueprint, status, "desk/problem.html", who, title=title, message=str(exc))

        return answer

    return problem_pages(
        {
            Unauthenticated: lambda _exc, _status: sign_in_first(blueprint),
            Forbidden: shown("You cannot do this"),
            NotFound: shown("Not found"),
            Conflict: shown("This has changed in the meantime"),
        }
    )


def _who_or_none(blueprint: Blueprint) -> sessions.SignedIn | None:
    try:
        return signed_in(blueprint)
    except Unauthenticated:
        return None
