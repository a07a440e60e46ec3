"""Server-rendered HTML pages: Jinja2 with autoescape, and the security headers every page carries."""

from __future__ import annotations

import hashlib
from functools import cache
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from chalice import Response

from chalicelib import locales
from chalicelib.domain import free_text
from chalicelib.domain.fields import MAX_TEXT_LENGTH
from chalicelib.web_tokens import csrf

if TYPE_CHECKING:
    from jinja2 import Environment

#: The pages' one stylesheet, served at STYLESHEET_URL; its content hash in the URL lets browsers cache it for good.
STYLESHEET = (Path(__file__).parent / "static" / "caseflow.css").read_bytes()
STYLESHEET_PATH = "/assets/caseflow.css"
STYLESHEET_URL = f"{STYLESHEET_PATH}?v={hashlib.sha256(STYLESHEET).hexdigest()[:12]}"


@cache
def templates(language: str = locales.DEFAULT) -> Environment:
    """The pages' templates in `language` (`_()` in a template is our catalog's, `chalicelib/locales`),
    loaded on the first page: the JSON API's requests never import Jinja2."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    built = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(("html",)),
        extensions=["jinja2.ext.i18n"],
    )
    built.install_gettext_translations(locales.translations(language), newstyle=True)  # type: ignore[attr-defined]
    built.globals["stylesheet_url"] = STYLESHEET_URL
    # A customer's page passes its own `t` (their zone); a page without one reads times in UTC.
    built.globals["t"] = locales.Texts(language)
    # Text inputs carry the API's limits as `maxlength`, so a browser stops where the server would refuse.
    built.globals["max_lengths"] = {
        **MAX_TEXT_LENGTH,
        "username": free_text.USERNAME_LENGTH,
        "password": free_text.PASSWORD_LENGTH,
        "message": free_text.MESSAGE_LENGTH,
    }
    return built


SECURITY_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def page(status: int, template: str, *, extra_headers: dict[str, str] | None = None, **context: Any) -> Response:
    """A page; in the language `lang` of its context (a customer's page, `customer_locale`), else English."""
    language = locales.supported(context.get("lang")) or locales.DEFAULT
    headers = with_headers(SECURITY_HEADERS, {"Content-Language": language}, extra_headers or {})
    return Response(
        body=templates(language).get_template(template).render(**context),
        status_code=status,
        headers=headers,
    )


def with_headers(*groups: dict[str, Any]) -> dict[str, Any]:
    """Headers of several sources, later ones winning, except that every Set-Cookie is kept (as a list)."""
    merged: dict[str, Any] = {}
    cookies: list[str] = []
    for group in groups:
        for name, value in group.items():
            if name.lower() == "set-cookie":
                cookies += value if isinstance(value, list) else [value]
            else:
                merged[name] = value
    if cookies:
        merged["Set-Cookie"] = cookies[0] if len(cookies) == 1 else cookies
    return merged


def client_address(request: Any) -> str:
    """The address the request came from, as API Gateway saw it: what rate limits count by."""
    return ((request.context or {}).get("identity") or {}).get("sourceIp") or "unknown"


def form_values(raw: bytes | None, multi: set[str]) -> dict[str, Any]:
    """A urlencoded form as field values: lists for the named multi-value fields, text otherwise."""
    parsed = parse_qs((raw or b"").decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values if name in multi else values[-1] for name, values in parsed.items()}


def posting_to(url: str) -> dict[str, str]:
    """Headers for a page whose form posts to another origin (e.g. an upload straight to S3)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    policy = SECURITY_HEADERS["Content-Security-Policy"].replace("form-action 'self'", f"form-action 'self' {origin}")
    return {"Content-Security-Policy": policy}


def cookie_value(headers: Any, name: str) -> str | None:
    """A cookie the browser sent, if any (a malformed Cookie header counts as none)."""
    try:
        morsel = SimpleCookie(headers.get("cookie", "")).get(name)
    except CookieError:
        return None
    return morsel.value if morsel and morsel.value else None


def form_cookie(headers: Any) -> str | None:
    """The CSRF cookie a browser sent (`chalicelib/web_tokens/csrf.py`), if any."""
    return cookie_value(headers, csrf.COOKIE)


def set_form_cookie(value: str, secure: bool) -> dict[str, str]:
    """One cookie for every form of the site: HttpOnly, SameSite=Strict, Secure over HTTPS."""
    flags = "; Secure" if secure else ""
    return {"Set-Cookie": f"{csrf.COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict{flags}"}


def form_token(request_headers: Any, secret: str, scope: str, secure: bool) -> tuple[str, dict[str, str]]:
    """The CSRF token a page's form in `scope` carries, and the headers that give the browser its
    form cookie when it has none yet (the token is bound to that cookie)."""
    cookie = form_cookie(request_headers)
    headers: dict[str, str] = {}
    if not csrf.well_formed(cookie):
        cookie = csrf.new_cookie()
        headers = set_form_cookie(cookie, secure)
    return csrf.token(secret, cookie or "", scope), headers


def guarded_page(
    request_headers: Any,
    secret: str,
    scope: str,
    secure: bool,
    status: int,
    template: str,
    /,
    *,
    extra_headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """A page whose forms carry a CSRF token; the browser gets the form cookie if it has none."""
    token, cookie_headers = form_token(request_headers, secret, scope, secure)
    headers = with_headers(extra_headers or {}, cookie_headers)
    return page(status, template, extra_headers=headers, csrf=token, **context)


def reload_page(language: str = locales.DEFAULT) -> Response:
    """What a form post without the token of the browser's own form gets (see `edge.FormGuard`); a
    customer's page says it in their language."""
    return page(
        403,
        "message.html",
        title=locales.gettext(language, "Please reload the page"),
        message=locales.gettext(
            language, "For your safety we could not accept this form. Reload the page and send it again."
        ),
        lang=language,
    )
