"""The API's reference, as someone writing a client reads it: the OpenAPI document at
GET /openapi.json and the page at GET /api-docs, both public, the page under the pages' strict CSP."""

from __future__ import annotations

import re

from app import app
from chalicelib.api.pages import SECURITY_HEADERS, STYLESHEET_URL


def test_the_document_is_served_without_a_token_and_lists_every_route(stack):
    response = stack.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    spec = response.json_body
    assert spec["openapi"] == "3.1.0"
    listed = {(method.upper(), path) for path, methods in spec["paths"].items() for method in methods}
    assert listed == {(method, path) for path, methods in app.routes.items() for method in methods}
    login = spec["paths"]["/auth/login"]["post"]
    assert login["security"] == []
    assert spec["paths"]["/agent/me"]["get"]["security"] == [{"bearerAuth": []}]


def test_the_reference_page_shows_every_operation_under_the_pages_headers_and_no_script(stack):
    response = stack.get("/api-docs")
    assert response.status_code == 200
    headers = {k.lower(): v for k, v in response.headers.items()}
    assert headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    assert headers["content-type"] == "text/html; charset=utf-8"
    html = response.body.decode()
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert f'href="{STYLESHEET_URL}"' in html
    for path, methods in app.routes.items():
        for method in methods:
            shown = f'<span class="api-method">{method}</span> <code>{path}</code>'
            assert shown in html, f"{method} {path} is not on the page"
    assert 'href="/openapi.json"' in html
    # A reference to a schema is a link to it, on the page.
    linked = set(re.findall(r'<a href="#(schemas-\w+)">', html))
    assert "schemas-Task" in linked
    assert all(f'id="{anchor}"' in html for anchor in linked)
