"""Message templates written by admins in issue type definitions, rendered in a sandbox."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from chalicelib.domain.errors import DomainError

# Plain-text emails: nothing is HTML-escaped here; HTML rendering escapes at its own layer.
# A skipped step has no results: `results.skipped.field` renders empty instead of failing the email.
_ENV = SandboxedEnvironment(autoescape=False, undefined=ChainableUndefined, keep_trailing_newline=True)


def template_problem(source: str) -> str | None:
    """Why a template would not render, or None when it is fine."""
    try:
        _ENV.parse(source)
    except TemplateSyntaxError as exc:
        return f"template error on line {exc.lineno}: {exc.message}"
    return None


class TemplateFailed(DomainError):
    """A template that parses but fails on the values it meets (e.g. a division by zero, a
    forbidden attribute): the message it would have made cannot be sent."""


def render(source: str, context: Mapping[str, Any]) -> str:
    try:
        return _ENV.from_string(source).render(**context)
    except Exception as exc:  # anything an admin's template can raise, sandbox refusals included
        raise TemplateFailed(f"the template could not be rendered: {exc.__class__.__name__}: {exc}") from exc
