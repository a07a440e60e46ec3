"""The OpenAPI 3.1 document of the app, built from the app's own routes and `operations.OPERATIONS`.

The paths, methods, path parameters, request media types and descriptions come from `app.routes`
(each route's entry and its view's docstring); the schemas, errors and security from the table. A
route the table does not describe is still listed, as undescribed (`undescribed` names them, and a
test fails on any); the error answers are those of `api/errors.py:STATUS`.
"""

from __future__ import annotations

import inspect
from http import HTTPStatus
from typing import Any

from chalice import Chalice
from chalice.app import RouteEntry

from chalicelib.api.errors import STATUS
from chalicelib.api.openapi.operations import (
    ADMINS,
    AGENTS,
    CUSTOMERS,
    JSON,
    LOCAL,
    OPERATIONS,
    OPS,
    PAGES,
    REFERENCE,
    Operation,
    Parameter,
)
from chalicelib.api.openapi.schemas import COMPONENTS, STRING, ref
from chalicelib.domain.errors import TooManyRequests, Unauthenticated, ValidationFailed

OPENAPI_VERSION = "3.1.0"
#: The API's own version: the project's (pyproject.toml); routes are added, none changed incompatibly.
API_VERSION = "0.1.0"
BEARER = "bearerAuth"
UNDESCRIBED = "Undescribed"
_TAGS = {
    CUSTOMERS: "Open issues and read the types a customer can report; no account.",
    AGENTS: "Sign in, work the task queue, read and act on issues. Bearer token (POST /auth/login).",
    ADMINS: "Issue types as data, roles and teams, segments, the classifier. Bearer token of an admin.",
    OPS: "Customer-service numbers. Bearer token of ops or an admin.",
    PAGES: "The server-rendered HTML pages of customers, outside parties, agents (the desk) and ops; each answers its "
    "problems with a page.",
    REFERENCE: "This document.",
    LOCAL: "What only the local stage (`make run`) serves.",
}


def build(app: Chalice) -> dict[str, Any]:
    """The document of every route of `app`."""
    paths: dict[str, dict[str, Any]] = {}
    for path, methods in sorted(app.routes.items()):
        for method, entry in sorted(methods.items()):
            described = OPERATIONS.get((method, path))
            paths.setdefault(path, {})[method.lower()] = (
                _operation(entry, described) if described else _undescribed(entry)
            )
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": f"{app.app_name.capitalize()} API",
            "version": API_VERSION,
            "description": "Generated from the app's routes (`chalicelib/api/openapi`). Errors: 400 "
            '`{"errors": [{"field", "message"}]}`, the others `{"message"}`.',
        },
        "tags": [{"name": name, "description": text} for name, text in _TAGS.items()],
        "paths": paths,
        "components": {
            "schemas": COMPONENTS,
            "responses": {error_name(status): _error_answer(status) for status in sorted(set(STATUS.values()))},
            "securitySchemes": {
                BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The `id_token` of POST /auth/login (Cognito).",
                }
            },
        },
    }


def undescribed(app: Chalice) -> list[tuple[str, str]]:
    """The routes of `app` that `OPERATIONS` does not describe, as (method, path)."""
    return sorted((m, p) for p, methods in app.routes.items() for m in methods if (m, p) not in OPERATIONS)


def stale(app: Chalice) -> list[tuple[str, str]]:
    """The entries of `OPERATIONS` that name no route of `app`."""
    return sorted(key for key in OPERATIONS if key[0] not in app.routes.get(key[1], {}))


def status_of_error(kind: type[Exception]) -> int:
    """The status `STATUS` gives an error class (or its nearest base)."""
    return next(STATUS[base] for base in kind.__mro__ if base in STATUS)


def _operation(entry: RouteEntry, described: Operation) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": _operation_id(entry),
        "summary": described.summary,
        "tags": [described.tag],
        "security": [{BEARER: []}] if described.bearer else [],
        "parameters": [*_path_parameters(entry), *(_parameter(p) for p in described.parameters)],
        "responses": _answers(described),
    }
    if description := inspect.getdoc(entry.view_function):
        operation["description"] = description
    if described.request is not None:
        media = (entry.content_types or [JSON])[0]
        operation["requestBody"] = {
            "required": described.request_required,
            "content": {media: {"schema": described.request}},
        }
    if not operation["parameters"]:
        del operation["parameters"]
    return operation


def _undescribed(entry: RouteEntry) -> dict[str, Any]:
    return {
        "operationId": _operation_id(entry),
        "summary": f"{entry.method} {entry.uri_pattern}",
        "description": "Not described yet: add it to chalicelib/api/openapi/operations.py.",
        "tags": [UNDESCRIBED],
        "parameters": _path_parameters(entry),
        "responses": {"default": {"description": "Not described yet"}},
    }


def _operation_id(entry: RouteEntry) -> str:
    return f"{entry.view_function.__module__.rsplit('.', 1)[-1]}.{entry.view_name}"


def _path_parameters(entry: RouteEntry) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {**STRING, "minLength": 1}} for name in entry.view_args
    ]


def _parameter(parameter: Parameter) -> dict[str, Any]:
    return {
        "name": parameter.name,
        "in": parameter.where,
        "required": parameter.required,
        "description": parameter.description,
        "schema": parameter.schema,
    }


def _answers(described: Operation) -> dict[str, Any]:
    answers: dict[str, Any] = {
        str(status): {
            "description": HTTPStatus(status).phrase,
            "content": {media: {"schema": schema} for media, schema in by_media.items()},
        }
        for status, by_media in described.answers.items()
    }
    for status, headers in described.answer_headers.items():
        answers[str(status)]["headers"] = {
            name: {"description": text, "required": True, "schema": STRING} for name, text in headers.items()
        }
    errors = (Unauthenticated, *described.errors) if described.bearer else described.errors
    for kind in errors:
        status = status_of_error(kind)
        answers[str(status)] = {"$ref": f"#/components/responses/{error_name(status)}"}
    if described.page:
        answers["default"] = {
            "description": "A page saying what went wrong, or where to go next (303)",
            "content": {"text/html": {"schema": STRING}},
        }
    return dict(sorted(answers.items()))


def error_name(status: int) -> str:
    """The first error class `STATUS` gives `status`: the name of that status's answer in `components`."""
    return next(kind.__name__ for kind, code in STATUS.items() if code == status)


def _error_answer(status: int) -> dict[str, Any]:
    kinds = [kind for kind, code in STATUS.items() if code == status]
    answer: dict[str, Any] = {
        "description": HTTPStatus(status).phrase,
        "content": {JSON: {"schema": ref("ValidationErrors" if ValidationFailed in kinds else "Message")}},
    }
    if Unauthenticated in kinds:
        answer["headers"] = {"WWW-Authenticate": {"required": True, "schema": {"const": "Bearer"}}}
    if TooManyRequests in kinds:
        answer["headers"] = {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1}}}
    return answer
