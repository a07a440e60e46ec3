"""Server-rendered HTML pages: Jinja2 with autoescape, and the security headers every page carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from chalice import Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(("html",)),
)
SECURITY_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def page(status: int, template: str, **context: Any) -> Response:
    return Response(body=_ENV.get_template(template).render(**context), status_code=status, headers=SECURITY_HEADERS)


def form_values(raw: bytes | None, multi: set[str]) -> dict[str, Any]:
    """A urlencoded form as field values: lists for the named multi-value fields, text otherwise."""
    parsed = parse_qs((raw or b"").decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values if name in multi else values[-1] for name, values in parsed.items()}
