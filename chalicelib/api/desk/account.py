"""The agent's own account in the desk (`/desk/account`): who they are, and two-step sign-in
(an authenticator app's code after the password), which they turn on and off themselves.

Turning it on takes two posts: `setup` asks Cognito for a new app's secret and shows it to type
into the app; `verify` sends the first code the app shows, and only then does sign-in ask for it.
The secret is shown once and never posted back: Cognito keeps it between the two.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api import sessions
from chalicelib.api.desk.responses import desk_page, redirect, signed_in
from chalicelib.api.errors import status_of
from chalicelib.api.pages import form_values
from chalicelib.bootstrap import services
from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.services.two_step import NewApp, looks_like_code

account_pages = Blueprint(__name__)
ACCOUNT = "/desk/account"
_FORM = "application/x-www-form-urlencoded"
#: What the account page says after a change (`?done=` of the redirect to it).
_DONE = {"on": "Two-step sign-in is on.", "off": "Two-step sign-in is off."}
#: The secret is shown in blocks of this many characters, easier to type.
_BLOCK = 4
_WRONG_CODE = "That is not the code your app shows now. Check the key you typed, then enter the new code."


@account_pages.route(ACCOUNT, methods=["GET"])
def account() -> Response:
    who = signed_in(account_pages)
    two_step = services().two_step.is_on(_access_token())
    done = (account_pages.current_request.query_params or {}).get("done", "")
    return desk_page(
        account_pages,
        200,
        "desk/account.html",
        who,
        section="account",
        roles=sorted(who.agent.roles),
        two_step=two_step,
        notice=_DONE.get(done, ""),
    )


@account_pages.route(f"{ACCOUNT}/mfa/setup", methods=["POST"], content_types=[_FORM])
def set_up_app() -> Response:
    who = signed_in(account_pages)
    app = services().two_step.start(_access_token(), who.agent.username)
    return _app_form(200, who, app, [])


@account_pages.route(f"{ACCOUNT}/mfa/verify", methods=["POST"], content_types=[_FORM])
def verify_app() -> Response:
    who = signed_in(account_pages)
    code = str(form_values(account_pages.current_request.raw_body, set()).get("code", "")).strip()
    try:
        services().two_step.finish(_access_token(), code)
    except ValidationFailed as exc:
        message = _WRONG_CODE if looks_like_code(code) else "Enter the 6 digits your app shows."
        return _app_form(status_of(exc), who, None, [FieldError("code", message)])
    return redirect(f"{ACCOUNT}?done=on", who.cookies)


@account_pages.route(f"{ACCOUNT}/mfa/off", methods=["POST"], content_types=[_FORM])
def turn_off() -> Response:
    who = signed_in(account_pages)
    services().two_step.stop(_access_token())
    return redirect(f"{ACCOUNT}?done=off", who.cookies)


def _access_token() -> str:
    return sessions.access_token(account_pages.current_request.headers)


def _app_form(status: int, who: sessions.SignedIn, app: NewApp | None, errors: list[FieldError]) -> Response:
    """The page to add the app: its key (only right after `setup`) and the form for its first code."""
    blocks = [app.secret[i : i + _BLOCK] for i in range(0, len(app.secret), _BLOCK)] if app else []
    return desk_page(
        account_pages,
        status,
        "desk/account_app.html",
        who,
        section="account",
        blocks=blocks,
        uri=app.uri if app else "",
        errors=errors,
    )
