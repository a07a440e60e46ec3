"""The API's edge: what every route gets around its view, applied once, where its blueprint is
registered (`register`), instead of by a decorator on each view.

- A form post (a route taking `application/x-www-form-urlencoded`) of a blueprint registered with
  a `FormGuard` must carry the CSRF token of the browser's own form (double-submit cookie,
  `web_tokens.csrf`), or it gets the guard's refusal and the view never runs.
- The domain errors of `errors.MAPPED` a view raises become the blueprint's answer: the JSON
  shaper's for the API, a page shaper's for the browser; both take the status from `errors.STATUS`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalice import Blueprint, Chalice, Response

from chalicelib.api.errors import MAPPED, ErrorShaper, json_error
from chalicelib.api.pages import form_cookie, form_values, reload_page
from chalicelib.bootstrap import services
from chalicelib.web_tokens import csrf

FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class FormGuard:
    """The CSRF check of a blueprint's form posts: the scope its tokens are made for (from the
    route's path parameters), and what a post without a valid token gets instead."""

    scope: Callable[[Mapping[str, str]], str]
    refused: Callable[[Mapping[str, str]], Response] = lambda _params: reload_page()


def fixed_scope(scope: str) -> FormGuard:
    """A guard whose pages' forms all share one scope (e.g. every status page's)."""
    return FormGuard(scope=lambda _params: scope)


def register(
    app: Chalice, blueprint: Blueprint, errors: ErrorShaper = json_error, forms: FormGuard | None = None
) -> None:
    """Register `blueprint` on `app` with its routes' edge: `forms` guards its form posts, `errors`
    answers the domain errors its views raise."""
    before = {(path, method) for path, methods in app.routes.items() for method in methods}
    app.register_blueprint(blueprint)
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            if (path, method) in before:
                continue
            guard = forms if forms is not None and FORM in (entry.content_types or ()) else None
            entry.view_function = _at_the_edge(app, entry.view_function, errors, guard)


def _at_the_edge(
    app: Chalice, view: Callable[..., Any], errors: ErrorShaper, guard: FormGuard | None
) -> Callable[..., Any]:
    @functools.wraps(view)
    def edge(**params: str) -> Any:
        try:
            if guard is not None and (refusal := _forged(app, guard, params)) is not None:
                return refusal
            return view(**params)
        except MAPPED as exc:
            shaped = errors(exc)
            if shaped is None:
                raise
            return shaped

    return edge


def _forged(app: Chalice, guard: FormGuard, params: Mapping[str, str]) -> Response | None:
    """The guard's refusal when the post's token is not that of the browser's own form; None when it is."""
    request = app.current_request
    submitted = str(form_values(request.raw_body, set()).get(csrf.FIELD, ""))
    secret = services().link_secret()
    if csrf.valid(secret, form_cookie(request.headers), guard.scope(params), submitted):
        return None
    return guard.refused(params)
