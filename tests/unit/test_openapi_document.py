"""The OpenAPI document: every route of the app in it, described, valid OpenAPI 3.1, with the
security and error answers the routes really have."""

from __future__ import annotations

import pytest
from chalice import Blueprint, Chalice
from openapi_spec_validator import validate

from app import app
from chalicelib.api.edge import FORM
from chalicelib.api.errors import STATUS
from chalicelib.api.openapi import document
from chalicelib.api.openapi.operations import JSON

SPEC = document.build(app)
ROUTES = {(method, path) for path, methods in app.routes.items() for method in methods}
DOCUMENTED = {(method.upper(), path) for path, methods in SPEC["paths"].items() for method in methods}
TOKEN_PATHS = ("/agent/", "/admin/", "/ops/kpis")


def _operations():
    for path, methods in SPEC["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def test_every_route_of_the_app_is_in_the_document_and_described():
    assert DOCUMENTED == ROUTES
    missing = document.undescribed(app)
    assert not missing, f"describe these routes in chalicelib/api/openapi/operations.py: {missing}"


def test_no_description_is_left_of_a_route_that_is_gone():
    assert not document.stale(app), "remove these from chalicelib/api/openapi/operations.py"


def test_a_new_route_without_a_description_is_listed_as_undescribed():
    extra = Blueprint(__name__)

    @extra.route("/agent/something-new", methods=["POST"])
    def something_new() -> dict:
        return {}

    probe = Chalice(app_name="probe")
    probe.register_blueprint(extra)
    assert document.undescribed(probe) == [("POST", "/agent/something-new")]
    assert document.build(probe)["paths"]["/agent/something-new"]["post"]["tags"] == [document.UNDESCRIBED]


def test_the_document_is_valid_openapi_3_1():
    assert SPEC["openapi"].startswith("3.1")
    validate(SPEC)


@pytest.mark.parametrize(("method", "path"), sorted(ROUTES), ids=[f"{m} {p}" for m, p in sorted(ROUTES)])
def test_agents_admins_and_ops_routes_take_a_bearer_token_and_the_rest_none(method, path):
    operation = SPEC["paths"][path][method.lower()]
    needs_token = path.startswith(TOKEN_PATHS)
    assert operation["security"] == ([{document.BEARER: []}] if needs_token else [])
    if needs_token:
        assert "401" in operation["responses"]


def test_error_answers_are_those_of_the_one_error_table():
    """Every 4xx is a domain error's (its status from `STATUS`), but the outbox's 404 off the local
    stage and Chalice's own 415 for a form post that is not a form."""
    statuses = {str(status) for status in STATUS.values()}
    for method, path, operation in _operations():
        takes = app.routes[path][method].content_types
        for status, answer in operation["responses"].items():
            if status == "415" and FORM in takes or (path, status) == ("/dev/outbox", "404"):
                continue
            if status.startswith(("4", "5")):
                assert status in statuses, f"{method} {path} answers {status}, which no domain error has"
                assert answer["$ref"].endswith("/" + document.error_name(int(status)))
    invalid = SPEC["components"]["responses"][document.error_name(400)]["content"][JSON]["schema"]
    assert invalid == {"$ref": "#/components/schemas/ValidationErrors"}
    assert SPEC["components"]["schemas"]["FieldError"]["required"] == ["field", "message"]


def test_every_json_route_with_a_body_documents_the_400_that_names_its_fields():
    for method, path, operation in _operations():
        body = operation.get("requestBody", {}).get("content", {})
        if JSON in body:
            assert "400" in operation["responses"], f"{method} {path}"
