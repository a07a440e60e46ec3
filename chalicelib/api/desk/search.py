"""Searching issues in the desk (`/desk/search`): the API's search with its filters, a page at a
time. A reference typed here (or in the header's box, on every page) goes straight to its issue."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.desk import views
from chalicelib.api.desk.issue_page import issue_address
from chalicelib.api.desk.responses import desk_page, redirect, signed_in
from chalicelib.api.errors import status_of
from chalicelib.bootstrap import services
from chalicelib.domain.errors import FieldError, NotFound, ValidationFailed
from chalicelib.domain.issue_search import STATUSES
from chalicelib.domain.issues import looks_like_reference
from chalicelib.services.ops_kpis import CHANNELS

search_pages = Blueprint(__name__)
#: The criteria the page's form offers (the API's, but `holder`, `step` and `reference`, which
#: the box below takes as `q`).
CRITERIA = ("q", "email", "name", "type", "status", "channel", "opened_after", "opened_before")


@search_pages.route("/desk/search", methods=["GET"])
def search() -> Response:
    who = signed_in(search_pages)
    query = search_pages.current_request.query_params or {}
    chosen = {name: query.get(name, "").strip() for name in CRITERIA}
    params = {name: value for name, value in chosen.items() if value}
    errors: list[FieldError] = []
    if looks_like_reference(chosen["q"]):
        try:
            services().issue_workspace.issue_id(chosen["q"], who.agent)
            return redirect(issue_address(chosen["q"].strip().upper()), who.cookies)
        except NotFound:
            errors = [FieldError("q", f"no issue {chosen['q'].strip().upper()} that you may see")]
    found: dict = {"issues": [], "cursor": None}
    if params and not errors:
        if query.get("cursor"):
            params["cursor"] = query["cursor"]
        try:
            found = services().issue_search.search(who.agent, params)
        except ValidationFailed as exc:
            errors = exc.errors
    zone = who.agent.time_zone or "UTC"
    rows = [{**issue, "opened": views.when(issue["opened_at"], zone)} for issue in found["issues"]]
    types = [(t.id, t.name) for t in services().issue_types.list_current()]
    return desk_page(
        search_pages,
        status_of(ValidationFailed(errors)) if errors and not rows else 200,
        "desk/search.html",
        who,
        section="search",
        chosen=chosen,
        searched=bool(params) and not errors,
        rows=rows,
        cursor=found.get("cursor"),
        types=sorted(types, key=lambda t: t[1]),
        statuses=STATUSES,
        channels=CHANNELS,
        errors=errors,
    )
