"""The API's reference: the OpenAPI 3.1 document (GET /openapi.json) and the same document as a
page to read (GET /api-docs), server-rendered with the pages' templates, stylesheet and headers.

Both are built from the app's routes when first asked for (`api/openapi`), and public.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from chalice import Blueprint, Chalice, Response
from markupsafe import Markup, escape

from chalicelib.api.errors import json_response
from chalicelib.api.openapi import document
from chalicelib.api.pages import page

reference = Blueprint(__name__)
_CODE = re.compile(r"`([^`]+)`")
_REF = re.compile(r"&#34;#/components/(schemas|responses)/(\w+)&#34;")


@reference.route("/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    return json_response(200, _document(reference.current_app))


@reference.route("/api-docs", methods=["GET"])
def api_docs() -> Response:
    return page(200, "api_reference.html", **reading(_document(reference.current_app)))


@cache
def _document(app: Chalice) -> dict[str, Any]:
    return document.build(app)


def reading(spec: dict[str, Any]) -> dict[str, Any]:
    """What the reference page shows of the document: its operations by tag, then its schemas."""
    described = {tag["name"]: tag.get("description", "") for tag in spec["tags"]}
    groups: dict[str, list[dict[str, Any]]] = {name: [] for name in described}
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            groups.setdefault(operation["tags"][0], []).append(_operation(path, method, operation))
    return {
        "info": {**spec["info"], "description": with_code(spec["info"].get("description", ""))},
        "tags": [
            {
                "name": name,
                "description": with_code(described.get(name, "")),
                "anchor": _anchor("tag", name),
                "operations": ops,
            }
            for name, ops in groups.items()
            if ops
        ],
        "schemas": [
            {"name": name, "anchor": _anchor("schemas", name), "schema": schema_html(schema)}
            for name, schema in spec["components"]["schemas"].items()
        ],
        "errors": [
            {"name": name, "anchor": _anchor("responses", name), "answer": schema_html(answer)}
            for name, answer in spec["components"]["responses"].items()
        ],
    }


def _operation(path: str, method: str, operation: dict[str, Any]) -> dict[str, Any]:
    body = operation.get("requestBody")
    return {
        "method": method.upper(),
        "path": path,
        "anchor": operation["operationId"].replace(".", "-"),
        "summary": with_code(operation["summary"]),
        "description": with_code(operation.get("description", "")),
        "token": bool(operation.get("security")),
        "parameters": operation.get("parameters", []),
        "request": {"required": body.get("required", False), "content": _content(body)} if body else None,
        "answers": [
            {
                "status": status,
                "description": answer.get("description", ""),
                "content": [_shown("", answer)] if "$ref" in answer else _content(answer),
            }
            for status, answer in operation["responses"].items()
        ],
    }


def _content(part: dict[str, Any]) -> list[dict[str, Any]]:
    return [_shown(media, content["schema"]) for media, content in part.get("content", {}).items()]


def _shown(media: str, schema: Any) -> dict[str, Any]:
    """A schema as the page shows it: a bare reference as a link, any other as JSON to unfold."""
    bare = isinstance(schema, dict) and list(schema) == ["$ref"]
    return {"media": media, "link": schema_html(schema) if bare else None, "schema": schema_html(schema)}


def with_code(text: str) -> Markup:
    """Text with its `code` spans (as the document's Markdown has them) shown as code."""
    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(text))))


def schema_html(schema: Any) -> Markup:
    """A schema as indented JSON, its references links to the schema or answer they name; a bare
    reference as the link alone."""
    if isinstance(schema, dict) and list(schema) == ["$ref"]:
        kind, name = schema["$ref"].rsplit("/", 2)[-2:]
        return Markup(f'<a href="#{_anchor(kind, name)}">{escape(name)}</a>')
    escaped = str(escape(json.dumps(schema, indent=2, ensure_ascii=False)))
    return Markup(_REF.sub(lambda m: f'<a href="#{_anchor(m[1], m[2])}">{m[2]}</a>', escaped))


def _anchor(kind: str, name: str) -> str:
    return f"{kind}-{re.sub(r'[^A-Za-z0-9]+', '-', name).strip('-')}"
