"""A signed-in browser: the agent's Cognito tokens in HttpOnly, SameSite=Strict cookies (`Secure`
outside dev), shared by the agents' workspace (`/desk`) and the ops dashboard (`/ops`).

The id token, which every request checks, lives for an hour; the refresh token beside it renews
the session for a working day, so that an agent is not signed out mid-task: when the id token has
expired, the refresh token buys a new one and the answer carries it (`SignedIn.cookies`). The
cookies are never read by the JSON API, whose routes take `Authorization: Bearer` only, so another
site cannot make a browser call the API with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.api.pages import cookie_value
from chalicelib.bootstrap import services
from chalicelib.domain.agents import SESSION_HOURS, Agent
from chalicelib.domain.errors import Unauthenticated

SESSION_COOKIE = "caseflow_session"
REFRESH_COOKIE = "caseflow_refresh"
#: How long a browser keeps the refresh token.
REFRESH_SECONDS = SESSION_HOURS * 3600
_ID_TOKEN_SECONDS = 3600


@dataclass(frozen=True)
class SignedIn:
    """The agent a request comes from, and the cookies to send back when their session was renewed."""

    agent: Agent
    cookies: tuple[str, ...] = ()


def secure() -> bool:
    """Whether cookies are sent over HTTPS only: everywhere but the local dev stage."""
    return not services().config.is_dev


def _cookie(name: str, value: str, max_age: int) -> str:
    flags = "; Secure" if secure() else ""
    return f"{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{flags}"


def _id_cookie(tokens: dict[str, Any]) -> str:
    return _cookie(SESSION_COOKIE, tokens["id_token"], int(tokens.get("expires_in") or _ID_TOKEN_SECONDS))


def started(tokens: dict[str, Any]) -> tuple[str, ...]:
    """The cookies of a session that has just signed in (`AuthService.login`'s tokens)."""
    cookies = [_id_cookie(tokens)]
    if tokens.get("refresh_token"):
        cookies.append(_cookie(REFRESH_COOKIE, tokens["refresh_token"], REFRESH_SECONDS))
    return tuple(cookies)


def ended() -> tuple[str, ...]:
    """The cookies that sign a browser out."""
    return (_cookie(SESSION_COOKIE, "", 0), _cookie(REFRESH_COOKIE, "", 0))


def has_session(headers: Any) -> bool:
    return bool(cookie_value(headers, SESSION_COOKIE) or cookie_value(headers, REFRESH_COOKIE))


def signed_in(headers: Any) -> SignedIn:
    """The agent of the session cookie (renewed through the refresh cookie when it has expired), else
    of an `Authorization: Bearer` header; Unauthenticated when there is neither or both are spent."""
    auth = services().auth
    token = cookie_value(headers, SESSION_COOKIE)
    if token:
        try:
            return SignedIn(auth.agent_from_header(f"Bearer {token}"))
        except Unauthenticated:
            pass
    refresh = cookie_value(headers, REFRESH_COOKIE)
    if refresh:
        tokens = auth.refresh(refresh)
        return SignedIn(auth.agent_from_header(f"Bearer {tokens['id_token']}"), (_id_cookie(tokens),))
    return SignedIn(auth.agent_from_header(headers.get("authorization")))


def access_token(headers: Any) -> str:
    """A fresh access token of the signed-in agent, bought with the refresh cookie, for one call to
    their own Cognito account (never kept); Unauthenticated when the browser has no refresh cookie."""
    refresh = cookie_value(headers, REFRESH_COOKIE)
    if not refresh:
        raise Unauthenticated("sign in again to change your account")
    return services().auth.refresh(refresh)["access_token"]
