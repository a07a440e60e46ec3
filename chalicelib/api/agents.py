"""Agents' API: sign-in, the task queue, an issue with its history, completing a task."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.errors import json_body, json_response
from chalicelib.bootstrap import services
from chalicelib.domain.agents import Agent

agents = Blueprint(__name__)


def current_agent(blueprint: Blueprint) -> Agent:
    """The signed-in agent of the request being handled by `blueprint`."""
    return services().auth.agent_from_header(blueprint.current_request.headers.get("authorization"))


def _agent() -> Agent:
    return current_agent(agents)


@agents.route("/auth/login", methods=["POST"])
def login() -> Response:
    return json_response(200, services().auth.login(json_body(agents.current_request.raw_body)))


@agents.route("/auth/mfa", methods=["POST"])
def answer_mfa() -> Response:
    return json_response(200, services().auth.answer_mfa(json_body(agents.current_request.raw_body)))


@agents.route("/agent/me", methods=["GET"])
def me() -> Response:
    agent = _agent()
    shown = {"username": agent.username, "email": agent.email, "roles": sorted(agent.roles)}
    return json_response(200, {**shown, "time_zone": agent.time_zone or None})


@agents.route("/agent/tasks", methods=["GET"])
def my_tasks() -> Response:
    """A page of a queue (`scope` mine, available, team; none: mine and available), with filters,
    soonest checkpoint first; `next_cursor` continues it, `counts` come with the first page."""
    agent = _agent()
    return json_response(200, services().queues.page(agent, agents.current_request.query_params or {}))


@agents.route("/agent/tasks/{task_id}", methods=["GET"])
def task(task_id: str) -> Response:
    """A task as its holder sees it: what the step asks, the issue's facts, the earlier answers."""
    return json_response(200, services().completions.task(task_id, _agent()))


@agents.route("/agent/issues", methods=["GET"])
def search_issues() -> Response:
    """The issues the agent may see that meet the query's criteria, newest first, a page at a time."""
    agent = _agent()
    return json_response(200, services().issue_search.search(agent, agents.current_request.query_params or {}))


@agents.route("/agent/issues/{issue_id}", methods=["GET"])
def issue_details(issue_id: str) -> Response:
    return json_response(200, services().issue_details.for_agent(issue_id, _agent()))


@agents.route("/agent/issues/{issue_id}/similar", methods=["GET"])
def similar_issues(issue_id: str) -> Response:
    """The five nearest resolved issues of the issue's type that the agent may see, nearest first,
    each with how it was resolved: the steps' answers and the reply the customer got."""
    return json_response(200, services().similar_issues.for_agent(issue_id, _agent()))


@agents.route("/agent/issues/by-reference/{reference}", methods=["GET"])
def issue_by_reference(reference: str) -> Response:
    return json_response(200, services().issue_details.by_reference(reference, _agent()))


@agents.route("/agent/tasks/{task_id}/claim", methods=["POST"])
def claim_task(task_id: str) -> Response:
    """A member of the holding role or team takes the task; 409 if someone else took it first."""
    return json_response(200, services().claims.claim(task_id, _agent()))


@agents.route("/agent/tasks/{task_id}/release", methods=["POST"])
def release_task(task_id: str) -> Response:
    """The claimer gives the task back to the role or team they claimed it from."""
    return json_response(200, services().claims.release(task_id, _agent()))


@agents.route("/agent/tasks/{task_id}/reassign", methods=["POST"])
def reassign_task(task_id: str) -> Response:
    """A lead hands the task to a member or to another role or team: `{"to": {"user": "x"}, "reason"}`."""
    agent = _agent()
    return json_response(200, services().claims.reassign(task_id, json_body(agents.current_request.raw_body), agent))


@agents.route("/agent/tasks/{task_id}/complete", methods=["POST"])
def complete_task(task_id: str) -> Response:
    agent = _agent()
    body = json_body(agents.current_request.raw_body)
    fields = body.get("fields") if isinstance(body, dict) else None
    return json_response(200, services().completions.complete(task_id, fields, agent))


@agents.route("/agent/issues/{issue_id}/customer-messages", methods=["POST"])
def record_customer_message(issue_id: str) -> Response:
    """An agent records what the customer said (e.g. on the phone); a step waiting for it resumes."""
    agent = _agent()
    body = json_body(agents.current_request.raw_body)
    body = body if isinstance(body, dict) else {}
    result = services().completions.record_customer_message(issue_id, body.get("text"), body.get("channel"), agent)
    return json_response(201, result)


@agents.route("/agent/issues/{issue_id}/replies", methods=["POST"])
def reply_to_customer(issue_id: str) -> Response:
    """Email the customer in the issue's thread; their answer comes back to this issue."""
    agent = _agent()
    body = json_body(agents.current_request.raw_body)
    text = body.get("body") if isinstance(body, dict) else None
    return json_response(201, services().replies.reply(issue_id, text, agent))


@agents.route("/agent/issues/{issue_id}/notes", methods=["POST"])
def add_note(issue_id: str) -> Response:
    """An internal note for the team: never shown to the customer; `@username` emails that person."""
    agent = _agent()
    body = json_body(agents.current_request.raw_body)
    text = body.get("text") if isinstance(body, dict) else None
    return json_response(201, services().notes.add(issue_id, text, agent))


@agents.route("/agent/issues/{issue_id}/attachments", methods=["GET"])
def attachment_link(issue_id: str) -> Response:
    """A short-lived download link to an attachment, named by its `key` on the timeline."""
    agent = _agent()
    key = (agents.current_request.query_params or {}).get("key", "")
    return json_response(200, services().replies.attachment_link(issue_id, key, agent))


@agents.route("/agent/issues/{issue_id}/type", methods=["POST"])
def set_issue_type(issue_id: str) -> Response:
    """Confirm or correct the issue's type (`{"type"}`): a change moves it to that type's process,
    and the classifier learns from it."""
    agent = _agent()
    body = json_body(agents.current_request.raw_body)
    type_id = body.get("type") if isinstance(body, dict) else None
    return json_response(200, services().issue_type_changes.set_type(issue_id, type_id, agent))


@agents.route("/agent/issues/{issue_id}/reopen", methods=["POST"])
def reopen_issue(issue_id: str) -> Response:
    body = json_body(agents.current_request.raw_body) if agents.current_request.raw_body else {}
    return json_response(200, services().reopenings.reopen_by_agent(issue_id, body, _agent()))
