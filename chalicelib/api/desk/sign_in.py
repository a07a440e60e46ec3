"""Signing in to the desk (and the ops dashboard) with the agents' Cognito account, and out.

An account with an authenticator app signs in in two steps: the password, then the app's 6-digit
code (`/desk/sign-in/code`), the directory's short-lived sign-in session carried between them in
the code form. `next` carries the page to return to (a task email's link, or a page whose session
ended); only paths of this site are followed.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api import sessions
from chalicelib.api.desk.responses import HOME, SIGN_IN, desk_page, local_path, redirect
from chalicelib.api.errors import status_of
from chalicelib.api.pages import form_values
from chalicelib.bootstrap import services
from chalicelib.domain.errors import FieldError, MfaRequired, Unauthenticated, ValidationFailed

sign_in_pages = Blueprint(__name__)
_FORM = "application/x-www-form-urlencoded"
SIGN_IN_CODE = f"{SIGN_IN}/code"


@sign_in_pages.route(SIGN_IN, methods=["GET"])
def sign_in_form() -> Response:
    back = local_path((sign_in_pages.current_request.query_params or {}).get("next"))
    return _form(200, "", back, [])


@sign_in_pages.route(SIGN_IN, methods=["POST"], content_types=[_FORM])
def sign_in() -> Response:
    values = form_values(sign_in_pages.current_request.raw_body, set())
    username = str(values.get("username", "")).strip()
    back = local_path(str(values.get("next", "")))
    try:
        tokens = services().auth.login({"username": username, "password": values.get("password", "")})
    except ValidationFailed as exc:
        errors = [FieldError(e.field, f"Enter your {e.field}.") for e in exc.errors]
        return _form(status_of(exc), username, back, errors)
    except MfaRequired as exc:
        return _code_form(200, username, exc.session, back, [])
    except Unauthenticated as exc:
        return _form(status_of(exc), username, back, [FieldError("password", "Wrong username or password.")])
    return redirect(back, sessions.started(tokens))


@sign_in_pages.route(SIGN_IN_CODE, methods=["POST"], content_types=[_FORM])
def sign_in_with_code() -> Response:
    values = form_values(sign_in_pages.current_request.raw_body, set())
    username = str(values.get("username", ""))
    session = str(values.get("session", ""))
    back = local_path(str(values.get("next", "")))
    answer = {"username": username, "session": session, "code": str(values.get("code", "")).strip()}
    try:
        tokens = services().auth.answer_mfa(answer)
    except ValidationFailed as exc:
        if any(e.field != "code" for e in exc.errors):  # the hidden fields were lost or altered
            return _form(status_of(exc), username, back, [FieldError("username", "Sign in again.")])
        return _code_form(status_of(exc), username, session, back, [FieldError("code", "Enter the 6-digit code.")])
    except Unauthenticated as exc:
        message = "Wrong or expired code. Enter the code your app shows now, or sign in again."
        return _code_form(status_of(exc), username, session, back, [FieldError("code", message)])
    return redirect(back, sessions.started(tokens))


@sign_in_pages.route("/desk/sign-out", methods=["POST"], content_types=[_FORM])
def sign_out() -> Response:
    return redirect(SIGN_IN, sessions.ended())


def _form(status: int, username: str, back: str, errors: list[FieldError]) -> Response:
    return desk_page(
        sign_in_pages, status, "desk/sign_in.html", None, username=username, next=back, errors=errors, home=HOME
    )


def _code_form(status: int, username: str, session: str, back: str, errors: list[FieldError]) -> Response:
    return desk_page(
        sign_in_pages,
        status,
        "desk/sign_in_code.html",
        None,
        username=username,
        session=session,
        next=back,
        errors=errors,
        action=SIGN_IN_CODE,
        restart=SIGN_IN,
    )
