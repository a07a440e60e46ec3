"""The one place where domain errors become HTTP responses, and where request bodies are read."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from chalice import Response

from chalicelib.domain import free_text
from chalicelib.domain.errors import Conflict, FieldError, Forbidden, NotFound, Unauthenticated, ValidationFailed

_STATUS = {NotFound: 404, Conflict: 409, Forbidden: 403}
#: No request of Caseflow's nests deeper than an issue type's definition does.
MAX_JSON_DEPTH = 32


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
