"""Message templates written by admins in issue type definitions, rendered in a sandbox."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import DomainError

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment


@cache
def _environment() -> SandboxedEnvironment:
    """The sandbox, built on first use: importing Jinja2 is a tenth of a second of every function's cold start."""
    from jinja2 import ChainableUndefined
    from jinja2.sandbox import SandboxedEnvironment

    # Plain-text emails: nothing is HTML-escaped here; HTML rendering escapes at its own layer.
    # A skipped step has no results: `results.skipped.field` renders empty instead of failing the email.
    return SandboxedEnvironment(autoescape=False, undefined=ChainableUndefined, keep_trailing_newline=True)


def template_problem(source: str) -> str | None:
    """Why a template would not render, or None when it is fine."""
    from jinja2 import TemplateSyntaxError

    try:
        _environment().parse(source)
    except TemplateSyntaxError as exc:
        return f"template error on line {exc.lineno}: {exc.message}"
    return None


class TemplateFailed(DomainError):
    """A template that parses but fails on the values it meets (e.g. a division by zero, a
    forbidden attribute): the message it would have made cannot be sent."""


def render(source: str, context: Mapping[str, Any]) -> str:
    try:
        return _environment().from_string(source).render(**context)
    except Exception as exc:  # anything an admin's template can raise, sandbox refusals included
        raise TemplateFailed(f"the template could not be rendered: {exc.__class__.__name__}: {exc}") from exc
