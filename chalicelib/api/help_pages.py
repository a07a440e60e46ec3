"""The help centre (`/help`): published articles, by language, searchable, each on its page; and
what report forms need of them: the articles that may answer what a customer types (JSON, for the
form's script), and "This answered my question" (a deflection: nothing filed).

Plain HTML without JavaScript, under the pages' strict CSP. An article's HTML is rendered from its
Markdown and sanitised when shown (`markup.markdown.to_html`), so it is marked safe for Jinja2 there
and nowhere else.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from chalice import Blueprint, Response
from markupsafe import Markup

from chalicelib.api.edge import FormGuard
from chalicelib.api.errors import json_error, json_response, problem_pages
from chalicelib.api.pages import page
from chalicelib.bootstrap import services
from chalicelib.domain.articles import QUERY_LENGTH
from chalicelib.domain.errors import NotFound, TooManyRequests
from chalicelib.domain.type_texts import LANGUAGE_NAMES, LANGUAGES
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


def _language() -> str | None:
    asked = (help_pages.current_request.query_params or {}).get("lang") or ""
    return asked if asked in LANGUAGES else None


def _languages(chosen: str | None, path: str, extra: str = "") -> list[dict[str, Any]]:
    """The language filter as links: every language, and all of them."""
    links = [
        {"code": "", "name": "All languages", "href": path + (f"?{extra}" if extra else ""), "current": not chosen}
    ]
    for code in LANGUAGES:
        query = f"lang={code}" + (f"&{extra}" if extra else "")
        links.append({"code": code, "name": LANGUAGE_NAMES[code], "href": f"{path}?{query}", "current": chosen == code})
    return links


@help_pages.route(HOME, methods=["GET"])
def help_home() -> Response:
    language = _language()
    articles = [
        {"slug": a.slug, "title": a.title, "summary": a.summary(), "languages": a.languages}
        for a in services().articles.published(language)
    ]
    return page(
        200,
        "help.html",
        articles=articles,
        language=language,
        help_languages=_languages(language, HOME),
        language_names=LANGUAGE_NAMES,
    )


@help_pages.route(HOME + "/search", methods=["GET"])
def help_search() -> Response:
    from urllib.parse import quote

    language = _language()
    asked = ((help_pages.current_request.query_params or {}).get("q") or "").strip()[:QUERY_LENGTH]
    found = services().articles.search(asked, language) if asked else []
    return page(
        200,
        "help_search.html",
        query=asked,
        found=found,
        language=language,
        help_languages=_languages(language, HOME + "/search", f"q={quote(asked)}" if asked else ""),
    )


@help_pages.route(HOME + "/{slug}", methods=["GET"])
def help_article(slug: str) -> Response:
    article = services().articles.article(slug)
    return page(
        200,
        "help_article.html",
        article=article,
        body=Markup(markdown.to_html(article.body)),  # noqa: S704 - rendered with raw HTML off, then sanitised by nh3
        language_names=LANGUAGE_NAMES,
        updated=article.updated_at.strftime("%d %B %Y").lstrip("0"),
    )


# --- what report forms need ---------------------------------------------------------------------


@help_pages.route("/report/{type_id}/articles", methods=["GET"])
def suggested_articles(type_id: str) -> Response:
    """At most three published articles that may answer what is typed in the type's form (`q`)."""
    request = help_pages.current_request
    text = ((request.query_params or {}).get("q") or "")[:QUERY_LENGTH]
    address = ((request.context or {}).get("identity") or {}).get("sourceIp") or "unknown"
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
    return page(200, "deflected.html", type_id=type_id, type_name=outcome.issue_type.name, article=outcome.article)


@help_pages.route(DEFLECTION_SCRIPT_PATH, methods=["GET"])
def deflection_script() -> Response:
    headers = {
        "Content-Type": "text/javascript; charset=utf-8",
        "Cache-Control": f"public, max-age={_YEAR}, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body=DEFLECTION_SCRIPT.decode(), status_code=200, headers=headers)


def _reload(type_id: str) -> Response:
    return page(
        403,
        "form_problem.html",
        title="Please reload the form",
        paragraphs=[
            "For your safety we accept a form only from the page that showed it, and this one could not be "
            "checked: it may have been open for a long time, or cookies may be blocked.",
            "Nothing was sent.",
        ],
        action_href=f"/report/{type_id}",
        action_text="Reload the form",
    )


def _not_found(_exc: Exception, status: int) -> Response:
    return page(
        status,
        "form_problem.html",
        title="We can't find that page",
        paragraphs=["The address may be mistyped, or the article is no longer published."],
        action_href=HOME,
        action_text="See all help articles",
    )


def _forged(params: dict[str, str] | Any) -> Response:
    services().web_forms.form_type(params["type_id"])  # an unknown form is still a 404
    return _reload(params["type_id"])


#: "This answered my question" carries the token of its report form (scoped to the type).
FORMS = FormGuard(scope=lambda params: params["type_id"], refused=_forged)
PROBLEMS = problem_pages({NotFound: _not_found})
