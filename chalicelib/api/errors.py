"""The one table of what each domain error means in HTTP, its two shapers (JSON for the API, a
page for the browser), and the reading of JSON request bodies.

The edge (`api/edge.py`) catches the errors of `MAPPED` around every route and hands them to the
route's blueprint's shaper; both shapers take the status from `STATUS`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from chalice import Response

from chalicelib.domain import free_text
from chalicelib.domain.errors import (
    Conflict,
    FieldError,
    Forbidden,
    MfaRequired,
    NotFound,
    TooManyRequests,
    Unauthenticated,
    ValidationFailed,
)
from chalicelib.web_tokens.signed_links import LinkExpired, LinkInvalid

#: Each domain error class and its HTTP status; a subclass has its base's (e.g. `StaleIssue` is a 409).
STATUS: Mapping[type[Exception], int] = {
    ValidationFailed: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    LinkInvalid: 404,
    Conflict: 409,
    LinkExpired: 410,
    TooManyRequests: 429,
}
#: What the edge catches; any other exception is Chalice's 500.
MAPPED: tuple[type[Exception], ...] = tuple(STATUS)
#: No request of Caseflow's nests deeper than an issue type's definition does.
MAX_JSON_DEPTH = 32

#: A page for one kind of error, given the error and its status from `STATUS`.
ProblemPage = Callable[[Exception, int], Response]
#: What a blueprint's routes answer for a domain error; None: not this blueprint's to answer (a 500).
ErrorShaper = Callable[[Exception], Response | None]


def status_of(exc: Exception) -> int:
    """The status of a domain error of `MAPPED`: its class's, else its nearest base's."""
    return next(STATUS[kind] for kind in type(exc).__mro__ if kind in STATUS)


def _closest(exc: Exception, table: Mapping[type[Exception], Any]) -> Any:
    return next((table[kind] for kind in type(exc).__mro__ if kind in table), None)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json", **(headers or {})})


def json_error(exc: Exception) -> Response:
    """The JSON shaper: every field of a ValidationFailed, else the message; a 401 asks for a bearer
    token, or for the authenticator code with the sign-in's session."""
    status = status_of(exc)
    if isinstance(exc, ValidationFailed):
        return json_response(status, {"errors": [e.as_dict() for e in exc.errors]})
    if isinstance(exc, MfaRequired):
        message = f"{exc}: send it with this session to POST /auth/mfa"
        body = {"message": message, "challenge": "SOFTWARE_TOKEN_MFA", "session": exc.session}
        return json_response(status, body, {"WWW-Authenticate": "Bearer"})
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    return json_response(status, {"message": str(exc)}, headers)


def problem_pages(pages: Mapping[type[Exception], ProblemPage]) -> ErrorShaper:
    """The page shaper of a blueprint: the page its table gives the error's class (or nearest base),
    with the status `STATUS` gives it; None for an error the table leaves out."""

    def shape(exc: Exception) -> Response | None:
        problem = _closest(exc, pages)
        return problem(exc, status_of(exc)) if problem else None

    return shape


def json_body(raw: bytes | None) -> Any:
    """The request's JSON body; a 400 naming `body` when it is missing, not JSON, or holds what no
    part of Caseflow can store or send (see `domain.free_text`), naming the value's path."""
    if not raw:
        raise ValidationFailed([FieldError("body", "a JSON object is required")])
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise ValidationFailed([FieldError("body", f"nested more than {MAX_JSON_DEPTH} levels deep")]) from None
    except ValueError as exc:  # not JSON, not UTF-8, NaN, or an integer of thousands of digits
        raise ValidationFailed([FieldError("body", f"not valid JSON: {exc}")]) from None
    _check_values(body)
    return body


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_values(body: Any) -> None:
    """Refuse values at any depth that are too deep or unpaired surrogates (valid JSON, no text)."""
    pending: list[tuple[str, Any, int]] = [("body", body, 0)]
    while pending:
        path, value, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValidationFailed([FieldError("body", f"nested more than {MAX_JSON_DEPTH} levels deep")])
        if isinstance(value, str) and free_text.has_unpaired_surrogate(value):
            raise ValidationFailed([FieldError(path, free_text.UNPAIRED_SURROGATE)])
        if isinstance(value, dict):
            for key, item in value.items():
                if free_text.has_unpaired_surrogate(key):
                    raise ValidationFailed([FieldError(path, f"a key {free_text.UNPAIRED_SURROGATE}")])
                pending.append((key if path == "body" else f"{path}.{key}", item, depth + 1))
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", item, depth + 1) for index, item in enumerate(value))
