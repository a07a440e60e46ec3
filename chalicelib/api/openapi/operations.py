"""What each route of the app takes and answers, keyed by (method, path) as `app.routes` has them.

A route added to a blueprint needs its entry here: `tests/unit/test_openapi_document.py` fails
while a route of the app has none, or an entry names a route that is gone. The route list, the
path parameters and the view's docstring come from the app itself (`openapi.document`); this table
adds the summary, the schemas (`openapi.schemas`), the domain errors the route can raise (their
statuses come from the one table, `api/errors.py:STATUS`) and whether it takes a bearer token.

Pages (the customers' forms, status and survey pages, the outside parties' task forms, the desk, the ops
dashboard) are listed as well, answering `text/html`: every route is in the document, and a
page's problem is a page too, whatever its status (a `default` answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.api.openapi.schemas import IDEMPOTENCY_KEY, STRING, Schema, obj, ref, wrapped
from chalicelib.domain.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthenticated, ValidationFailed
from chalicelib.domain.issue_search import MAX_LIMIT
from chalicelib.domain.issue_search import STATUSES as SEARCH_STATUSES
from chalicelib.domain.queues import MAX_LIMIT as QUEUE_MAX_LIMIT
from chalicelib.domain.queues import SCOPES as QUEUE_SCOPES

CUSTOMERS, AGENTS, ADMINS, OPS, PAGES, REFERENCE, LOCAL = (
    "Customers",
    "Agents",
    "Admins",
    "Ops",
    "Pages",
    "Reference",
    "Local stage",
)
JSON = "application/json"
HTML = "text/html"
CSS = "text/css"
CSV = "text/csv"
JS = "text/javascript"
Answers = Mapping[int, Mapping[str, Schema]]


@dataclass(frozen=True)
class Parameter:
    """A query parameter or a request header."""

    name: str
    where: str
    description: str
    schema: Schema = field(default_factory=lambda: dict(STRING))
    required: bool = False


@dataclass(frozen=True)
class Operation:
    """One route: its answers by status (a schema per media type), what it takes, and who may call it."""

    summary: str
    tag: str
    answers: Answers
    request: Schema | None = None
    request_required: bool = True
    errors: tuple[type[Exception], ...] = ()
    parameters: tuple[Parameter, ...] = ()
    bearer: bool = False
    #: Headers an answer always carries, by status: name and description.
    answer_headers: Mapping[int, Mapping[str, str]] = field(default_factory=dict)
    #: A page answers its problems with a page, whatever the status: documented as `default`.
    page: bool = False


def json(status: int, schema: Schema) -> Answers:
    return {status: {JSON: schema}}


def with_token(summary: str, tag: str, answers: Answers, **more: Any) -> Operation:
    """A route for signed-in agents: `Authorization: Bearer <id token>`, else 401."""
    return Operation(summary, tag, answers, bearer=True, **more)


def admin(summary: str, answers: Answers, **more: Any) -> Operation:
    """A route for the role `admin`: 403 for anyone else."""
    errors = (Forbidden, *more.pop("errors", ()))
    return with_token(summary, ADMINS, answers, errors=errors, **more)


def page(summary: str, *, form: bool = False, media: str = HTML) -> Operation:
    """A page, or a form post answered by a page (`form`: a post that is not a form is refused by
    Chalice, before any view, with its own JSON 415); `media` for a stylesheet."""
    if not form:
        return Operation(summary, PAGES, {200: {media: STRING}}, page=True)
    answers = {200: {media: STRING}, 415: {JSON: ref("NotAForm")}}
    return Operation(summary, PAGES, answers, request={"type": "object", "additionalProperties": STRING}, page=True)


def query(name: str, description: str, required: bool = False) -> Parameter:
    return Parameter(name, "query", description, required=required)


#: 403 for an account without a role; 404 for what the agent may not see, as for what is not there (decision 0025).
_SEEN = (Forbidden, NotFound)

OPERATIONS: dict[tuple[str, str], Operation] = {
    # The customers' API
    ("GET", "/issue-types"): Operation(
        "The issue types a customer can report, with their fields",
        CUSTOMERS,
        json(200, wrapped("issue_types", ref("IssueTypeSummary"))),
    ),
    ("POST", "/issues"): Operation(
        "Open an issue: of a type, with its fields; or free text, for the classifier to route",
        CUSTOMERS,
        json(201, ref("Opened")),
        request=ref("OpenIssue"),
        errors=(ValidationFailed, Conflict),
        parameters=(
            Parameter("Idempotency-Key", "header", "the same key and body answer the same issue", IDEMPOTENCY_KEY),
        ),
        answer_headers={201: {"Location": "the issue in the agents' API: /agent/issues/{id}"}},
    ),
    # The agents' API
    ("POST", "/auth/login"): Operation(
        "Exchange a username and password for tokens; send the id_token as `Authorization: Bearer …`. "
        "An account with an authenticator app gets a 401 carrying a `session`: then POST /auth/mfa",
        AGENTS,
        json(200, ref("Tokens")),
        request=ref("Login"),
        errors=(ValidationFailed, Unauthenticated),
    ),
    ("POST", "/auth/mfa"): Operation(
        "Exchange the `session` of /auth/login's 401 and the authenticator app's 6-digit code for tokens",
        AGENTS,
        json(200, ref("Tokens")),
        request=ref("MfaAnswer"),
        errors=(ValidationFailed, Unauthenticated),
    ),
    ("GET", "/agent/me"): with_token("The signed-in agent: username, email, roles", AGENTS, json(200, ref("Me"))),
    ("GET", "/agent/tasks"): with_token(
        "A page of the caller's queue, soonest next checkpoint first (`next_cursor` continues; counts on the first)",
        AGENTS,
        json(200, ref("TaskPage")),
        parameters=(
            Parameter(
                "scope",
                "query",
                "mine, available (unclaimed, of the caller's groups), team (a lead's); none: mine and available",
                {"enum": list(QUEUE_SCOPES)},
            ),
            query("type", "an issue type's id"),
            query("step", "a step's id"),
            Parameter("overdue", "query", "true: only tasks past their due time", {"enum": ["true", "false"]}),
            query("due_before", "an ISO 8601 moment with its offset: only tasks due before it"),
            Parameter(
                "limit", "query", "tasks per page", {"type": "integer", "minimum": 1, "maximum": QUEUE_MAX_LIMIT}
            ),
            query("cursor", "the `next_cursor` of the page before, with the same scope, filters and limit"),
        ),
        errors=(ValidationFailed, Forbidden),
    ),
    ("POST", "/agent/tasks/{task_id}/claim"): with_token(
        "Take a task of your role or team: it becomes yours alone (409 if someone took it first)",
        AGENTS,
        json(200, ref("Task")),
        errors=(Forbidden, NotFound, Conflict),
    ),
    ("POST", "/agent/tasks/{task_id}/release"): with_token(
        "Give a claimed task back to the role or team it was claimed from",
        AGENTS,
        json(200, ref("Task")),
        errors=(Forbidden, NotFound, Conflict),
    ),
    ("POST", "/agent/tasks/{task_id}/reassign"): with_token(
        "A lead, supervisor or admin hands a task to a member of its group or to another role or team",
        AGENTS,
        json(200, ref("Task")),
        request=ref("Reassign"),
        errors=(ValidationFailed, Forbidden, NotFound, Conflict),
    ),
    ("GET", "/agent/tasks/{task_id}"): with_token(
        "A task as its holder sees it; 404 for anyone else", AGENTS, json(200, ref("Task")), errors=_SEEN
    ),
    ("POST", "/agent/tasks/{task_id}/complete"): with_token(
        "Complete a task with its step's fields",
        AGENTS,
        json(200, ref("Task")),
        request=ref("CompleteTask"),
        errors=(ValidationFailed, *_SEEN, Conflict),
    ),
    ("GET", "/agent/issues"): with_token(
        "Search the issues the agent may see, newest first, a page at a time (`cursor` continues)",
        AGENTS,
        json(200, ref("IssuePage")),
        parameters=(
            query("reference", "an issue's reference, CF-XXXXX"),
            query("email", "the customer's email address"),
            query("q", "words of the issue's text"),
            query("name", "words of the customer's name"),
            query("type", "an issue type's id"),
            Parameter("status", "query", "open or resolved", {"enum": list(SEARCH_STATUSES)}),
            query("step", "the current step's id"),
            query("holder", "who holds an open task: a username, or role:NAME / team:NAME"),
            query("channel", "the channel the issue came in by"),
            query("opened_after", "an ISO 8601 date or moment"),
            query("opened_before", "an ISO 8601 date or moment"),
            Parameter("limit", "query", "issues per page", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
            query("cursor", "the `cursor` of the page before, with the same criteria"),
        ),
        errors=(ValidationFailed, Forbidden),
    ),
    ("GET", "/agent/issues/{issue_id}"): with_token(
        "An issue: fields, customer, timeline, tasks, the customer's history",
        AGENTS,
        json(200, ref("Issue")),
        errors=_SEEN,
    ),
    ("GET", "/agent/issues/{issue_id}/similar"): with_token(
        "The nearest resolved issues of the issue's type, and how each was resolved",
        AGENTS,
        json(200, ref("SimilarIssues")),
        errors=_SEEN,
    ),
    ("GET", "/agent/issues/by-reference/{reference}"): with_token(
        "An issue found by the reference a customer quotes (CF-XXXXX)",
        AGENTS,
        json(200, ref("Issue")),
        errors=_SEEN,
    ),
    ("POST", "/agent/issues/{issue_id}/customer-messages"): with_token(
        "Record what the customer said (on the phone, in a letter)",
        AGENTS,
        json(201, ref("CustomerMessageRecorded")),
        request=ref("CustomerMessage"),
        errors=(ValidationFailed, *_SEEN, Conflict),
    ),
    ("POST", "/agent/issues/{issue_id}/replies"): with_token(
        "Email the customer in the issue's thread",
        AGENTS,
        json(201, ref("Replied")),
        request=ref("Reply"),
        errors=(ValidationFailed, *_SEEN, Conflict),
    ),
    ("POST", "/agent/issues/{issue_id}/notes"): with_token(
        "An internal note on the agents' timeline; `@username` emails that colleague",
        AGENTS,
        json(201, ref("Noted")),
        request=ref("Note"),
        errors=(ValidationFailed, *_SEEN),
    ),
    ("GET", "/agent/issues/{issue_id}/attachments"): with_token(
        "A five-minute download link to an attachment on the timeline",
        AGENTS,
        json(200, ref("AttachmentLink")),
        parameters=(query("key", "the attachment's `key`, as the timeline lists it", required=True),),
        errors=(ValidationFailed, *_SEEN),
    ),
    ("POST", "/agent/issues/{issue_id}/type"): with_token(
        "Confirm or correct the issue's type",
        AGENTS,
        json(200, ref("TypeSet")),
        request=ref("SetType"),
        errors=(ValidationFailed, *_SEEN, Conflict),
    ),
    ("POST", "/agent/issues/{issue_id}/reopen"): with_token(
        "Reopen a resolved issue",
        AGENTS,
        json(200, ref("Reopened")),
        request=ref("Reopen"),
        request_required=False,
        errors=(ValidationFailed, *_SEEN, Conflict),
    ),
    # The admins' API
    ("GET", "/admin/issue-types"): admin(
        "Every issue type's current version", json(200, wrapped("issue_types", ref("PublishedTypeSummary")))
    ),
    ("POST", "/admin/issue-types/validate"): admin(
        "Dry run of a definition: its steps, roles and states, or every error",
        json(200, ref("Validated")),
        request=ref("IssueTypeDefinition"),
        errors=(ValidationFailed,),
    ),
    ("GET", "/admin/issue-types/{type_id}"): admin(
        "The current version's full definition", json(200, ref("CurrentDefinition")), errors=(NotFound,)
    ),
    ("PUT", "/admin/issue-types/{type_id}"): admin(
        "Create (201) or update (200) a type: validate, compile, publish a version",
        {200: {JSON: ref("Published")}, 201: {JSON: ref("Published")}},
        request=ref("PutDefinition"),
        errors=(ValidationFailed, Conflict),
    ),
    ("GET", "/admin/issue-types/{type_id}/versions"): admin(
        "A type's versions with their state machines",
        json(200, wrapped("versions", ref("Version"))),
        errors=(NotFound,),
    ),
    ("POST", "/admin/issue-types/{type_id}/migrations"): admin(
        "Move running issues to another version of the type, at the step each stands on",
        json(200, ref("Migrated")),
        request=ref("Migration"),
        errors=(ValidationFailed, NotFound),
    ),
    ("GET", "/admin/roles"): admin("Every role with its members", json(200, wrapped("roles", ref("Group")))),
    ("POST", "/admin/roles"): admin(
        "Create a role, without members",
        json(201, ref("Group")),
        request=ref("NewGroup"),
        errors=(ValidationFailed, Conflict),
    ),
    ("PUT", "/admin/roles/{name}/members/{username}"): admin(
        "Put an agent in a role", json(200, ref("Group")), errors=(NotFound,)
    ),
    ("DELETE", "/admin/roles/{name}/members/{username}"): admin(
        "Take an agent out of a role", json(200, ref("Group")), errors=(NotFound,)
    ),
    ("GET", "/admin/teams"): admin("Every team with its members", json(200, wrapped("teams", ref("Group")))),
    ("POST", "/admin/teams"): admin(
        "Create a team, without members",
        json(201, ref("Group")),
        request=ref("NewGroup"),
        errors=(ValidationFailed, Conflict),
    ),
    ("PUT", "/admin/teams/{name}/members/{username}"): admin(
        "Put an agent in a team", json(200, ref("Group")), errors=(NotFound,)
    ),
    ("DELETE", "/admin/teams/{name}/members/{username}"): admin(
        "Take an agent out of a team", json(200, ref("Group")), errors=(NotFound,)
    ),
    ("PUT", "/admin/customers/{email}/segment"): admin(
        "Put a customer in a segment (e.g. vip)",
        json(200, ref("CustomerSegment")),
        request=ref("Segment"),
        errors=(ValidationFailed, NotFound),
    ),
    ("GET", "/admin/quarantine"): admin(
        "Mail kept in S3 that opened no issue", json(200, wrapped("messages", ref("QuarantinedMail")))
    ),
    ("GET", "/admin/classifier"): admin(
        "The classifier's model, training runs and examples", json(200, ref("Classifier"))
    ),
    ("POST", "/admin/classifier/training"): admin(
        "Queue a training run now (one at a time)", json(202, ref("TrainingQueued"))
    ),
    ("POST", "/admin/ops/hourly"): admin(
        "Run the hourly schedule now; `from`/`to` roll up older hours again",
        json(200, ref("HourlyRun")),
        request=ref("HourlyRange"),
        request_required=False,
        errors=(ValidationFailed,),
    ),
    ("GET", "/admin/articles"): admin(
        "Every help article, published or not", json(200, wrapped("articles", ref("Article")))
    ),
    ("POST", "/admin/articles"): admin(
        "Write a help article (Markdown, rendered to sanitised HTML); 409 if its slug is taken",
        json(201, ref("Article")),
        request=ref("NewArticle"),
        errors=(ValidationFailed, Conflict),
        answer_headers={201: {"Location": "the article: /admin/articles/{slug}"}},
    ),
    ("GET", "/admin/articles/{slug}"): admin("One help article", json(200, ref("Article")), errors=(NotFound,)),
    ("PUT", "/admin/articles/{slug}"): admin(
        "Replace a help article whole",
        json(200, ref("Article")),
        request=ref("NewArticle"),
        errors=(ValidationFailed, NotFound),
    ),
    ("DELETE", "/admin/articles/{slug}"): admin(
        "Delete a help article", json(200, obj({"slug": STRING, "deleted": {"type": "boolean"}})), errors=(NotFound,)
    ),
    # Ops
    ("GET", "/ops/kpis"): with_token(
        "The KPIs of a range of days (role ops or admin); `Accept: text/csv` for CSV",
        OPS,
        {200: {JSON: ref("KpiReport"), CSV: STRING}},
        parameters=(
            query("from", "the first day, YYYY-MM-DD (30 days before `to` by default)"),
            query("to", "the last day, YYYY-MM-DD (today by default)"),
            query("type", "one issue type's id"),
            query("channel", "one channel"),
        ),
        errors=(ValidationFailed, Forbidden),
    ),
    # The local stage
    ("GET", "/dev/outbox"): Operation(
        "The emails sent, on the local stage only (404 elsewhere)",
        LOCAL,
        {200: {JSON: ref("Outbox")}, 404: {JSON: ref("Message")}},
    ),
    ("GET", "/dev/mail"): Operation(
        "The emails sent, as a page to read (local stage only)", LOCAL, {200: {HTML: STRING}}, page=True
    ),
    ("GET", "/dev/mail/{name}"): Operation(
        "One email sent, its links clickable (local stage only)", LOCAL, {200: {HTML: STRING}}, page=True
    ),
    # This document
    ("GET", "/openapi.json"): Operation(
        "This document: OpenAPI 3.1, generated from the routes", REFERENCE, {200: {JSON: {"type": "object"}}}
    ),
    ("GET", "/api-docs"): Operation("This document as a page to read", REFERENCE, {200: {HTML: STRING}}),
    # Pages
    ("GET", "/"): page("The customers' home: every issue type they can report"),
    ("GET", "/assets/caseflow.css"): page("The pages' stylesheet", media=CSS),
    ("GET", "/assets/ops-report.css"): page("The ops report's stylesheet", media=CSS),
    ("GET", "/report/{type_id}"): page("A type's form"),
    ("POST", "/report/{type_id}"): page("Send a type's form: its confirmation, or the form with its errors", form=True),
    ("GET", "/s/{token}"): page("The status page of a signed link"),
    ("POST", "/s/{token}"): page("Write to us from the status page", form=True),
    ("GET", "/s/{token}/uploaded"): page("Where S3 sends the customer after a file upload"),
    ("POST", "/s"): page("A new status link by email", form=True),
    ("GET", "/survey/{token}"): page("Record the score the survey link carries"),
    ("POST", "/survey/{token}"): page("Add a comment to a survey answer", form=True),
    ("GET", "/my-issues"): page("Ask for a link to the list of all one's issues"),
    ("POST", "/my-issues"): page("Email a single-use link to one's issues; the same answer if unknown", form=True),
    ("GET", "/my-issues/{token}"): page("The link to one's issues: a button that opens the list (uses nothing up)"),
    ("POST", "/my-issues/{token}"): page("Use the link, once: one's issues with their status pages", form=True),
    ("GET", "/t/{token}"): page("The form of a step assigned to an outside party"),
    ("POST", "/t/{token}"): page("Complete an outside party's step", form=True),
    ("GET", "/help"): page("The help centre: published articles; `lang` filters by language"),
    ("GET", "/help/search"): page("Search the help centre's articles (`q`, `lang`)"),
    ("GET", "/help/{slug}"): page("A published help article"),
    ("GET", "/report/{type_id}/articles"): Operation(
        "At most three published help articles that may answer what is typed in a type's form (`q`)",
        CUSTOMERS,
        json(200, wrapped("articles", ref("SuggestedArticle"))),
        parameters=(query("q", "what the customer has typed so far"),),
        errors=(NotFound, TooManyRequests),
    ),
    ("POST", "/report/{type_id}/answered"): page(
        '"This answered my question" on a report form: a deflection, nothing filed', form=True
    ),
    ("GET", "/assets/deflection.js"): page("The report form's script: help articles as one types", media=JS),
    ("GET", "/assets/zone.js"): page(
        "The report form's script: the browser's time zone, for times in the customer's", media=JS
    ),
    ("GET", "/desk/admin/articles"): page("Admins: the help articles"),
    ("GET", "/desk/admin/articles/new"): page("Admins: the form for a new help article"),
    ("POST", "/desk/admin/articles"): page("Admins: create a help article", form=True),
    ("GET", "/desk/admin/articles/{slug}"): page("Admins: a help article's form, to change or delete it"),
    ("POST", "/desk/admin/articles/{slug}"): page("Admins: save a help article", form=True),
    ("POST", "/desk/admin/articles/{slug}/delete"): page("Admins: delete a help article", form=True),
    ("GET", "/ops"): page("Sends the browser on (303) to the ops dashboard"),
    ("GET", "/ops/sign-in"): page("Sends the browser on (303) to the desk's sign-in, back to the dashboard"),
    ("GET", "/ops/dashboard"): page("The ops dashboard"),
    # The agents' workspace
    ("GET", "/desk/sign-in"): page("The agents' sign-in form; `next`: the page to return to"),
    ("POST", "/desk/sign-in"): page("Sign in to the desk and the ops dashboard", form=True),
    ("POST", "/desk/sign-in/code"): page("The second step of signing in: the authenticator app's code", form=True),
    ("POST", "/desk/sign-out"): page("Sign out", form=True),
    ("GET", "/desk"): page("The agent's queues, with the API's scopes and filters"),
    ("GET", "/desk/search"): page("Search issues; a reference opens its issue"),
    ("GET", "/desk/tasks/{task_id}"): page("A task email's link: on (303) to the task on its issue page"),
    ("GET", "/desk/issues/{reference}"): page("The issue page: timeline, fields, the current task's form, actions"),
    ("POST", "/desk/issues/{reference}/tasks/{task_id}/complete"): page("Answer the task", form=True),
    ("POST", "/desk/issues/{reference}/tasks/{task_id}/reassign"): page("Hand the task over (a lead)", form=True),
    ("POST", "/desk/issues/{reference}/replies"): page("Email the customer in the issue's thread", form=True),
    ("POST", "/desk/issues/{reference}/customer-messages"): page("Record what the customer said", form=True),
    ("POST", "/desk/issues/{reference}/notes"): page("Add an internal note", form=True),
    ("POST", "/desk/issues/{reference}/type"): page("Confirm or change the issue's type", form=True),
    ("POST", "/desk/issues/{reference}/reopen"): page("Reopen the resolved issue", form=True),
    ("POST", "/desk/tasks/{task_id}/claim"): page("Claim a task of one's role or team", form=True),
    ("POST", "/desk/tasks/{task_id}/release"): page("Give a claimed task back", form=True),
    ("GET", "/desk/admin"): page("Admins: the issue types"),
    ("GET", "/desk/admin/types/{type_id}"): page("Admins: a type's versions and its process drawn"),
    ("GET", "/desk/admin/people"): page("Admins: roles and teams with their members"),
    ("GET", "/desk/admin/quarantine"): page("Admins: the quarantined emails"),
    ("GET", "/desk/account"): page("The agent's account: who they are, and two-step sign-in on or off"),
    ("POST", "/desk/account/mfa/setup"): page("A new authenticator app's key and a form for its first code", form=True),
    ("POST", "/desk/account/mfa/verify"): page("Turn two-step sign-in on with the new app's first code", form=True),
    ("POST", "/desk/account/mfa/off"): page("Turn two-step sign-in off", form=True),
}
