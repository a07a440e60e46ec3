"""The one place where domain errors become HTTP responses, and where request bodies are read."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from chalice import Response

from chalicelib.domain.errors import Conflict, FieldError, Forbidden, NotFound, Unauthenticated, ValidationFailed

_STATUS = {NotFound: 404, Conflict: 409, Forbidden: 403}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json", **(headers or {})})


def error_response(exc: Exception) -> Response:
    if isinstance(exc, ValidationFailed):
        return json_response(400, {"errors": [e.as_dict() for e in exc.errors]})
    if isinstance(exc, Unauthenticated):
        return json_response(401, {"message": str(exc)}, {"WWW-Authenticate": "Bearer"})
    return json_response(_STATUS[type(exc)], {"message": str(exc)})


def maps_domain_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the domain errors a view raises into their HTTP status codes."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except (ValidationFailed, Unauthenticated, NotFound, Conflict, Forbidden) as exc:
            return error_response(exc)

    return wrapper


def json_body(raw: bytes | None) -> Any:
    """The request's JSON body; a 400 naming `body` when it is missing or not JSON."""
    if not raw:
        raise ValidationFailed([FieldError("body", "a JSON object is required")])
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed([FieldError("body", f"not valid JSON: {exc}")]) from None
