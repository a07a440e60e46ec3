"""The admins' help-article pages of the desk (`/desk/admin/articles`): the list, a form for a new
article, each article's form to change it, and deleting it. Each form post calls the article
service as the admin API does (role `admin`, else a 403 page), then goes back to the list saying
what happened (303); on a validation error the form comes back as typed, each error beside its field.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from markupsafe import Markup

from chalicelib.api.desk import views
from chalicelib.api.desk.responses import desk_page, redirect, signed_in
from chalicelib.api.errors import status_of
from chalicelib.api.pages import form_values
from chalicelib.bootstrap import services
from chalicelib.domain.articles import BODY_LENGTH, SLUG_LENGTH, TITLE_LENGTH
from chalicelib.domain.errors import Conflict, FieldError, ValidationFailed
from chalicelib.domain.type_texts import LANGUAGE_NAMES, LANGUAGES
from chalicelib.web_tokens.csrf import FIELD as CSRF_FIELD

article_pages = Blueprint(__name__)
LIST = "/desk/admin/articles"
_FORM = "application/x-www-form-urlencoded"
_MULTI = {"languages", "issue_types"}
_DONE = {"created": "The article is saved.", "saved": "The article is saved.", "deleted": "The article is deleted."}
#: The form's inputs in page order: an error summary links to them.
_INPUTS = ("title", "slug", "body", "languages", "issue_types", "published")


@article_pages.route(LIST, methods=["GET"])
def articles() -> Response:
    who = signed_in(article_pages)
    zone = who.agent.time_zone or "UTC"
    rows = [
        {**article, "updated": views.when(article["updated_at"], zone)}
        for article in services().articles.list_for_admin(who.agent)
    ]
    done = (article_pages.current_request.query_params or {}).get("done", "")
    return desk_page(
        article_pages,
        200,
        "desk/admin_articles.html",
        who,
        section="admin",
        rows=rows,
        notice=_DONE.get(done, ""),
        language_names=LANGUAGE_NAMES,
    )


@article_pages.route(LIST + "/new", methods=["GET"])
def new_article() -> Response:
    who = signed_in(article_pages)
    services().articles.list_for_admin(who.agent)  # admins only: a 403 page for anyone else
    typed = {"languages": ["en"], "published": "yes"}
    return _form(200, who, None, typed, [])


@article_pages.route(LIST, methods=["POST"], content_types=[_FORM])
def create() -> Response:
    who = signed_in(article_pages)
    typed = _typed()
    try:
        created = services().articles.create(_request(typed), who.agent)
    except (ValidationFailed, Conflict) as exc:
        return _form(status_of(exc), who, None, typed, _errors(exc))
    return redirect(f"{LIST}?done=created#article-{created['slug']}", who.cookies)


@article_pages.route(LIST + "/{slug}", methods=["GET"])
def edit(slug: str) -> Response:
    who = signed_in(article_pages)
    article = services().articles.get_for_admin(slug, who.agent)
    typed = {**article, "published": "yes" if article["published"] else "no"}
    return _form(200, who, article, typed, [])


@article_pages.route(LIST + "/{slug}", methods=["POST"], content_types=[_FORM])
def save(slug: str) -> Response:
    who = signed_in(article_pages)
    article = services().articles.get_for_admin(slug, who.agent)
    typed = _typed()
    request = _request(typed)
    request.pop("slug", None)
    try:
        services().articles.replace(slug, request, who.agent)
    except (ValidationFailed, Conflict) as exc:
        return _form(status_of(exc), who, article, typed, _errors(exc))
    return redirect(f"{LIST}?done=saved#article-{slug}", who.cookies)


@article_pages.route(LIST + "/{slug}/delete", methods=["POST"], content_types=[_FORM])
def delete(slug: str) -> Response:
    who = signed_in(article_pages)
    services().articles.delete(slug, who.agent)
    return redirect(f"{LIST}?done=deleted", who.cookies)


def _typed() -> dict[str, Any]:
    typed = form_values(article_pages.current_request.raw_body, _MULTI)
    typed.pop(CSRF_FIELD, None)
    return typed


def _request(typed: dict[str, Any]) -> dict[str, Any]:
    """The article service's request from the form: the API's fields, as the API takes them."""
    request: dict[str, Any] = {
        "title": str(typed.get("title", "")),
        "body": str(typed.get("body", "")).replace("\r\n", "\n"),
        "languages": list(typed.get("languages", [])),
        "issue_types": list(typed.get("issue_types", [])),
        "published": typed.get("published") == "yes",
    }
    if str(typed.get("slug", "")).strip():
        request["slug"] = str(typed["slug"]).strip()
    return request


def _errors(exc: Exception) -> list[FieldError]:
    if isinstance(exc, ValidationFailed):
        return list(exc.errors)
    return [FieldError("slug", str(exc))]


def _form(
    status: int, who: Any, article: dict[str, Any] | None, typed: dict[str, Any], errors: list[FieldError]
) -> Response:
    by_field: dict[str, str] = {}
    for error in errors:
        by_field.setdefault(error.field if error.field in _INPUTS else "title", error.message)
    return desk_page(
        article_pages,
        status,
        "desk/admin_article.html",
        who,
        section="admin",
        article=article,
        typed=typed,
        errors=[{"field": f, "message": m} for f, m in by_field.items()],
        error_for=by_field,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        types=services().articles.type_choices(),
        limits={"title": TITLE_LENGTH, "body": BODY_LENGTH, "slug": SLUG_LENGTH},
        preview=Markup(article["html"]) if article else None,  # noqa: S704 - sanitised by markup.markdown.to_html
    )
