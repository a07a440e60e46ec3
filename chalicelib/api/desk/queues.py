"""The desk's home: the agent's queues (`/desk`): mine, my roles' and teams' unclaimed work, and a
lead's team, soonest checkpoint first, narrowed by type, step or overdue as the API's queue is."""

from __future__ import annotations

from datetime import UTC, datetime

from chalice import Blueprint, Response

from chalicelib.api.desk import views
from chalicelib.api.desk.responses import HOME, desk_page, signed_in
from chalicelib.api.errors import status_of
from chalicelib.bootstrap import services
from chalicelib.domain import claims
from chalicelib.domain.assignees import Holder
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.queues import SCOPES

queue_pages = Blueprint(__name__)
_FILTERS = ("scope", "type", "step", "overdue")
_SCOPE_NAMES = {"": "Mine and available", "mine": "Mine", "available": "Available to claim", "team": "My team's"}


@queue_pages.route(HOME, methods=["GET"])
def queues() -> Response:
    who = signed_in(queue_pages)
    params = {k: v for k, v in (queue_pages.current_request.query_params or {}).items() if v and k != "page"}
    chosen = {k: params.get(k, "") for k in _FILTERS}
    status, errors = 200, []
    try:
        found = services().queues.page(who.agent, params)
    except ValidationFailed as exc:
        found, status, errors = {"tasks": [], "counts": None, "next_cursor": None}, status_of(exc), exc.errors
    now = datetime.now(UTC)
    rows = [
        {
            **task,
            "countdown": views.countdown(task, now),
            "held_by": views.holder(task.get("assignee")),
            "claimable": claims.may_claim(who.agent, Holder(task["assignee"]["kind"], task["assignee"]["name"])),
            "replied": views.when(task.get("customer_replied_at"), who.agent.time_zone or "UTC"),
        }
        for task in found["tasks"]
    ]
    types = [(t.id, t.name, [(s.id, s.name) for s in t.all_steps()]) for t in services().issue_types.list_current()]
    return desk_page(
        queue_pages,
        status,
        "desk/queues.html",
        who,
        section="queues",
        rows=rows,
        counts=found.get("counts") or {},
        scopes=[("", _SCOPE_NAMES[""]), *((s, _SCOPE_NAMES[s]) for s in SCOPES)],
        chosen=chosen,
        next_cursor=found.get("next_cursor"),
        types=sorted(types, key=lambda t: t[1]),
        errors=errors,
    )
