"""The help centre (`/help`): published articles, searchable, each on its page; and
what report forms need of them: the articles that may answer what a customer types (JSON, for the
form's script), and "This answered my question" (a deflection: nothing filed).

Customer pages, in the customer's language (`customer_locale.page_locale`, switched with `?lang=`):
the help centre lists and searches the articles in that language, or in every language with `?all=1`.

Plain HTML without JavaScript, under the pages' strict CSP. An article's HTML is rendered from its
Markdown and sanitised when shown (`markup.markdown.to_html`), so it is marked safe for Jinja2 there
and nowhere else.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

from chalice import Blueprint, Response
from markupsafe import Markup

from chalicelib.api.customer_locale import PageLocale, request_locale
from chalicelib.api.edge import FormGuard
from chalicelib.api.errors import json_error, json_response, problem_pages
from chalicelib.api.pages import client_address, page
from chalicelib.bootstrap import services
from chalicelib.domain.articles import QUERY_LENGTH
from chalicelib.domain.errors import NotFound, TooManyRequests
from chalicelib.domain.type_texts import LANGUAGE_NAMES
from chalicelib.markup import markdown
from chalicelib.services.web_forms import Deflected, parse_form

help_pages = Blueprint(__name__)
_FORM = "application/x-www-form-urlencoded"
_YEAR = 365 * 24 * 3600
HOME = "/help"
#: The report form's script that offers articles as the customer types (the form works without it).
DEFLECTION_SCRIPT = (Path(__file__).parent / "static" / "deflection.js").read_bytes()
DEFLECTION_SCRIPT_PATH = "/assets/deflection.js"
DEFLECTION_SCRIPT_URL = f"{DEFLECTION_SCRIPT_PATH}?v={hashlib.sha256(DEFLECTION_SCRIPT).hexdigest()[:12]}"


def _locale() -> PageLocale:
    """The language of this request's page (`customer_locale.page_locale`): its chrome, its switcher,
    and the articles listed by default."""
    return request_locale(help_pages.current_request)


def _every_language() -> bool:
    """Whether the customer asked for the articles in every language (`?all=1`), not only the page's."""
    return (help_pages.current_request.query_params or {}).get("all") == "1"


def _scope(path: str, every: bool, query: str = "") -> dict[str, Any]:
    """The link between the articles in the page's language and those in every language; the
    language switcher (`?lang=`) keeps `all` as it keeps `q`."""
    params = "&".join(part for part in (query, "all=1") if part)
    return {
        "every_language": every,
        "every_language_href": f"{path}?{params}",
        "page_language_href": path + (f"?{query}" if query else ""),
    }


@help_pages.route(HOME, methods=["GET"])
def help_home() -> Response:
    locale = _locale()
    every = _every_language()
    articles = [
        {"slug": a.slug, "title": a.title, "summary": a.summary(), "languages": a.languages}
        for a in services().articles.published(None if every else locale.language)
    ]
    return page(
        200,
        "help.html",
        extra_headers=locale.headers(),
        articles=articles,
        language_names=LANGUAGE_NAMES,
        **_scope(HOME, every),
        **locale.context(),
    )


@help_pages.route(HOME + "/search", methods=["GET"])
def help_search() -> Response:
    locale = _locale()
    every = _every_language()
    asked = ((help_pages.current_request.query_params or {}).get("q") or "").strip()[:QUERY_LENGTH]
    found = services().articles.search(asked, None if every else locale.language) if asked else []
    return page(
        200,
        "help_search.html",
        extra_headers=locale.headers(),
        query=asked,
        found=found,
        **_scope(HOME + "/search", every, f"q={quote(asked)}" if asked else ""),
        **locale.context(),
    )


@help_pages.route(HOME + "/{slug}", methods=["GET"])
def help_article(slug: str) -> Response:
    locale = _locale()
    article = services().articles.article(slug)
    return page(
        200,
        "help_article.html",
        extra_headers=locale.headers(),
        article=article,
        body=Markup(markdown.to_html(article.body)),  # noqa: S704 - rendered with raw HTML off, then sanitised by nh3
        language_names=LANGUAGE_NAMES,
        **locale.context(),
    )


# --- what report forms need ---------------------------------------------------------------------


@help_pages.route("/report/{type_id}/articles", methods=["GET"])
def suggested_articles(type_id: str) -> Response:
    """At most three published articles that may answer what is typed in the type's form (`q`)."""
    request = help_pages.current_request
    text = ((request.query_params or {}).get("q") or "")[:QUERY_LENGTH]
    address = client_address(request)
    try:
        found = services().web_forms.suggest(type_id, text, address)
    except (NotFound, TooManyRequests) as exc:  # JSON for the form's script, on a blueprint of pages
        return json_error(exc)
    articles = [{key: a[key] for key in ("slug", "title", "summary", "url")} for a in found]
    return json_response(200, {"articles": articles}, {"Cache-Control": "no-store"})


@help_pages.route("/report/{type_id}/answered", methods=["POST"], content_types=[_FORM])
def answered(type_id: str) -> Response:
    """ "This answered my question" on a report form: a deflection counted once per form; nothing filed."""
    outcome = services().web_forms.answered(type_id, parse_form(help_pages.current_request.raw_body))
    if not isinstance(outcome, Deflected):
        return _reload(type_id)
    locale = _locale()
    return page(
        200,
        "deflected.html",
        extra_headers=locale.headers(),
        type_id=type_id,
        type_name=outcome.issue_type.name,
        article=outcome.article,
        **locale.context(),
    )


@help_pages.route(DEFLECTION_SCRIPT_PATH, methods=["GET"])
def deflection_script() -> Response:
    headers = {
        "Content-Type": "text/javascript; charset=utf-8",
        "Cache-Control": f"public, max-age={_YEAR}, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body=DEFLECTION_SCRIPT.decode(), status_code=200, headers=headers)


def _reload(type_id: str) -> Response:
    locale = _locale()
    t = locale.texts
    return page(
        403,
        "form_problem.html",
        extra_headers=locale.headers(),
        title=t("Please reload the form"),
        paragraphs=[
            t(
                "For your safety we accept a form only from the page that showed it, and this one could not be "
                "checked: it may have been open for a long time, or cookies may be blocked."
            ),
            t("Nothing was sent."),
        ],
        action_href=f"/report/{type_id}",
        action_text=t("Reload the form"),
        **locale.context(),
    )


def _not_found(_exc: Exception, status: int) -> Response:
    locale = _locale()
    t = locale.texts
    return page(
        status,
        "form_problem.html",
        extra_headers=locale.headers(),
        title=t("We can't find that page"),
        paragraphs=[t("The address may be mistyped, or the article is no longer published.")],
        action_href=HOME,
        action_text=t("See all help articles"),
        **locale.context(),
    )


def _forged(params: dict[str, str] | Any) -> Response:
    services().web_forms.form_type(params["type_id"])  # an unknown form is still a 404
    return _reload(params["type_id"])


#: "This answered my question" carries the token of its report form (scoped to the type).
FORMS = FormGuard(scope=lambda params: params["type_id"], refused=_forged)
PROBLEMS = problem_pages({NotFound: _not_found})
