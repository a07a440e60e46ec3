"""The JSON Schemas (2020-12, as OpenAPI 3.1 has them) of what the API's routes take and answer.

Each is a plain dict, named in `COMPONENTS` and referred to with `ref(name)`. Where a schema states
a rule the code already enforces (a length, a kind of field, a channel), the number or list is
taken from the module that enforces it, so the document cannot drift from the validation.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain import free_text
from chalicelib.domain.agent_groups import DESCRIPTION_LENGTH
from chalicelib.domain.articles import BODY_LENGTH, TITLE_LENGTH
from chalicelib.domain.fields import FIELD_TYPES
from chalicelib.domain.issues import PRIORITIES
from chalicelib.domain.queues import QUEUE, SCOPES
from chalicelib.domain.type_texts import LANGUAGES
from chalicelib.services.auth import MFA_SESSION_LENGTH
from chalicelib.services.intake import MAX_IDEMPOTENCY_KEY_LENGTH
from chalicelib.services.workflow.claims import REASON_LENGTH
from chalicelib.services.workflow.completions import CONTACT_CHANNELS
from chalicelib.services.workflow.migrations import MAX_ISSUES

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
OBJECT: Schema = {"type": "object"}
MOMENT: Schema = {"type": "string", "description": "ISO 8601, with its offset"}


def ref(name: str) -> Schema:
    """A reference to the component schema `name` (which must be in `COMPONENTS`)."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def text(limit: int, *, required: bool = True, description: str = "") -> Schema:
    """Text the API refuses above `limit` characters (`domain.free_text`); blank text counts as missing."""
    schema: Schema = {"type": "string", "maxLength": limit}
    if required:
        schema["minLength"] = 1
    if description:
        schema["description"] = description
    return schema


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None, *, closed: bool = False) -> Schema:
    """An object with `required` and `optional` properties; `closed`: the API refuses any other key."""
    schema: Schema = {"type": "object", "properties": {**required, **(optional or {})}, "required": list(required)}
    if closed:
        schema["additionalProperties"] = False
    return schema


def wrapped(key: str, items: Schema) -> Schema:
    """`{key: [items]}`, the shape of every listing."""
    return obj({key: array(items)})


_CUSTOMER = obj(
    {"email": text(free_text.EMAIL_LENGTH)},
    {"name": text(free_text.NAME_LENGTH, required=False)},
)
_LABELLED_VALUE = obj({"id": STRING, "label": STRING, "value": {}})
#: A completed step's answers, as a task's earlier answers and a similar issue's resolution show them.
_STEP_ANSWERS = obj(
    {
        "step": STRING,
        "step_name": STRING,
        "completed_by": nullable(STRING),
        "completed_at": nullable(MOMENT),
        "answers": array(_LABELLED_VALUE),
    }
)
_ASSIGNEE = obj({"kind": STRING, "name": STRING})
_HELD_MOMENT = nullable(
    obj({"utc": MOMENT, "local": MOMENT, "time_zone": STRING}),
)

COMPONENTS: dict[str, Schema] = {
    # Errors: the two shapes of `api/errors.py:json_error`.
    "FieldError": obj({"field": STRING, "message": STRING}),
    "ValidationErrors": obj({"errors": {**array(ref("FieldError")), "minItems": 1}}),
    "Message": obj({"message": STRING}),
    "NotAForm": {
        **obj({"Code": {"const": "UnsupportedMediaType"}, "Message": STRING}),
        "description": "Chalice's answer to a post whose Content-Type the route does not take.",
    },
    # Issue types and their fields (`domain.fields.FieldSpec.as_dict`, `IssueType.summary`).
    "Field": obj(
        {"id": STRING, "label": STRING, "type": {"enum": list(FIELD_TYPES)}, "required": BOOLEAN},
        {
            "help": STRING,
            "pattern": STRING,
            "options": array(obj({"value": STRING, "label": STRING})),
            "min": {},
            "max": {},
            "shown_when": array(OBJECT),
            "required_when": array(OBJECT),
        },
    ),
    "IssueTypeSummary": obj({"id": STRING, "name": STRING, "description": STRING, "fields": array(ref("Field"))}),
    "IssueTypeDefinition": {
        **OBJECT,
        "description": "An issue type as data: see the README, 'Issue types as data: the definition language'.",
    },
    # Customers open issues.
    "OpenIssue": {
        "anyOf": [
            obj({"type": STRING, "customer": _CUSTOMER}, {"fields": OBJECT}),
            obj(
                {
                    "customer": _CUSTOMER,
                    "text": text(free_text.MESSAGE_LENGTH, description="what happened, for the classifier to route"),
                }
            ),
        ]
    },
    "Opened": obj(
        {"id": STRING, "reference": STRING, "status": STRING, "type": STRING, "type_version": INTEGER},
    ),
    # Agents.
    "Login": obj(
        {"username": text(free_text.USERNAME_LENGTH), "password": text(free_text.PASSWORD_LENGTH)},
    ),
    "MfaAnswer": obj(
        {
            "username": text(free_text.USERNAME_LENGTH),
            "session": text(MFA_SESSION_LENGTH, description="the `session` of POST /auth/login's 401"),
            "code": {"type": "string", "pattern": "^[0-9]{6}$", "description": "the authenticator app's code"},
        },
    ),
    "Tokens": obj(
        {
            "id_token": STRING,
            "access_token": STRING,
            "refresh_token": nullable(STRING),
            "expires_in": nullable(INTEGER),
            "token_type": {"const": "Bearer"},
        }
    ),
    "Me": obj({"username": STRING, "email": STRING, "roles": array(STRING)}),
    "Task": obj(
        {
            "id": STRING,
            "issue_id": STRING,
            "reference": STRING,
            "step": STRING,
            "step_name": STRING,
            "role": nullable(STRING),
            "assignee": _ASSIGNEE,
            "claimed_from": nullable(_ASSIGNEE),
            "status": STRING,
            "due_at": MOMENT,
            "next_checkpoint_at": nullable(MOMENT),
            "checkpoints": array(MOMENT),
            "escalation_level": INTEGER,
            "breached": BOOLEAN,
            "fields": nullable(OBJECT),
            "completed_by": nullable(STRING),
            "completed_at": nullable(MOMENT),
            "closed_reason": nullable(STRING),
        },
        {
            "due": _HELD_MOMENT,
            "next_checkpoint": _HELD_MOMENT,
            "customer_replied_at": nullable(MOMENT),
            "customer": nullable(obj({"name": STRING, "email": STRING})),
            "form": obj({"id": STRING, "name": STRING, "kind": STRING, "fields": array(ref("Field"))}),
            "issue": obj(
                {
                    "id": STRING,
                    "reference": STRING,
                    "type": STRING,
                    "type_name": STRING,
                    "channel": STRING,
                    "created_at": MOMENT,
                    "fields": array(_LABELLED_VALUE),
                }
            ),
            "earlier_answers": array(_STEP_ANSWERS),
        },
    ),
    "TimelineEntry": obj({"at": MOMENT, "kind": STRING, "actor": STRING, "text": STRING, "data": OBJECT}),
    "Issue": obj(
        {
            "id": STRING,
            "reference": STRING,
            "type": STRING,
            "type_name": STRING,
            "type_version": INTEGER,
            "status": STRING,
            "priority": {"enum": list(PRIORITIES)},
            "channel": STRING,
            "created_at": MOMENT,
            "resolved_at": nullable(MOMENT),
            "current_step": nullable(obj({"id": STRING, "name": STRING})),
            "classification": nullable(OBJECT),
            "customer_segment": nullable(STRING),
            "fields": OBJECT,
            "field_labels": {"type": "object", "additionalProperties": STRING},
            "customer": nullable(obj({"id": STRING, "email": STRING, "name": STRING})),
            "timeline": array(ref("TimelineEntry")),
            "tasks": array(ref("Task")),
            "customer_history": array(ref("TimelineEntry")),
        }
    ),
    "SimilarIssues": obj(
        {
            "issue_id": STRING,
            "reference": STRING,
            "type": STRING,
            "candidates": {**INTEGER, "description": "resolved issues of the type that were ranked"},
            "encoder_available": {
                "type": "boolean",
                "description": "false where this deployment has no sentence encoder: `similar` is then always empty",
            },
            "similar": array(
                obj(
                    {
                        "id": STRING,
                        "reference": STRING,
                        "similarity": {"type": "number", "description": "cosine of the two texts' vectors"},
                        "resolved_at": nullable(MOMENT),
                        "summary": STRING,
                        "steps": array(_STEP_ANSWERS),
                        "reply": nullable(
                            obj(
                                {"subject": STRING, "body": STRING, "sent_at": nullable(MOMENT), "by": nullable(STRING)}
                            )
                        ),
                    }
                )
            ),
        }
    ),
    "IssuePage": obj(
        {
            "issues": array(
                obj(
                    {
                        "id": STRING,
                        "reference": STRING,
                        "type": STRING,
                        "type_name": STRING,
                        "status": STRING,
                        "channel": STRING,
                        "current_step": nullable(STRING),
                        "opened_at": MOMENT,
                        "customer_name": STRING,
                    }
                )
            ),
            "cursor": nullable(STRING),
        }
    ),
    "TaskPage": obj(
        {
            "scope": {"enum": [*SCOPES, QUEUE]},
            "tasks": array(ref("Task")),
            "next_cursor": nullable(STRING),
            "counts": nullable(
                obj({scope: {"anyOf": [INTEGER, STRING]} for scope in SCOPES}),
            ),
        }
    ),
    "Reassign": obj(
        {
            "to": {
                "anyOf": [obj({kind: STRING}, closed=True) for kind in ("user", "role", "team")],
            },
            "reason": text(REASON_LENGTH),
        },
        closed=True,
    ),
    "CompleteTask": obj({"fields": OBJECT}),
    "CustomerMessage": obj(
        {"text": text(free_text.MESSAGE_LENGTH)},
        {"channel": {"enum": list(CONTACT_CHANNELS)}},
    ),
    "Reply": obj({"body": text(free_text.MESSAGE_LENGTH)}),
    "Replied": obj({"issue_id": STRING, "reference": STRING, "to": STRING, "sent": BOOLEAN}),
    "Note": obj({"text": text(free_text.MESSAGE_LENGTH)}),
    "Noted": {
        "allOf": [ref("TimelineEntry"), obj({"unknown_mentions": array(STRING)})],
    },
    "AttachmentLink": obj({"name": STRING, "url": STRING, "expires_in": INTEGER}),
    "SetType": obj({"type": STRING}),
    "TypeSet": obj(
        {"issue_id": STRING, "type": STRING, "moved": BOOLEAN, "learned": nullable(STRING)},
        {"closed_steps": array(STRING)},
    ),
    "Reopen": obj({}, {"reason": text(free_text.LINE_LENGTH, required=False)}),
    "Reopened": obj({"issue_id": STRING, "reference": STRING, "status": STRING, "run": INTEGER}),
    "CustomerMessageRecorded": obj({"resumed_step": nullable(STRING)}),
    # Admins.
    "PublishedTypeSummary": obj(
        {
            "id": STRING,
            "name": nullable(STRING),
            "description": STRING,
            "version": INTEGER,
            "state_machine_arn": STRING,
        }
    ),
    "CurrentDefinition": obj({"id": STRING, "version": INTEGER, "definition": ref("IssueTypeDefinition")}),
    "PutDefinition": {
        "description": "A bare definition, or what GET answered (`id`, `version`, `definition`): a `version` older "
        "than the current one is a 409, so that nobody overwrites a change they have not seen.",
        "anyOf": [ref("IssueTypeDefinition"), ref("CurrentDefinition")],
    },
    "Validated": obj(
        {
            "valid": {"const": True},
            "id": STRING,
            "steps": array(STRING),
            "roles": array(STRING),
            "states": INTEGER,
            "warnings": array(ref("FieldError")),
            "languages": {
                **array(STRING),
                "description": "the default language first, then those the type translates texts into",
            },
            "missing_translations": {
                "type": "object",
                "additionalProperties": array(STRING),
                "description": "per language, the keys of the customer texts it lacks (`fields.store.label`); "
                "customers read those in the default language",
            },
        }
    ),
    "Published": obj(
        {
            "id": STRING,
            "version": INTEGER,
            "published": BOOLEAN,
            "state_machine_arn": STRING,
            "warnings": array(ref("FieldError")),
        }
    ),
    "Version": obj({"version": INTEGER, "published_at": MOMENT, "state_machine_arn": STRING}),
    "Migration": obj(
        {"from_version": {**INTEGER, "minimum": 1}, "to_version": {**INTEGER, "minimum": 1}},
        {
            "issues": {
                **array({"type": "string", "minLength": 1, "maxLength": 64}),
                "minItems": 1,
                "maxItems": MAX_ISSUES,
                "description": "the issues to move; omitted: every open issue of the type on from_version",
            }
        },
        closed=True,
    ),
    "Migrated": obj(
        {
            "type": STRING,
            "from_version": INTEGER,
            "to_version": INTEGER,
            "moved": array(obj({"issue_id": STRING, "step": STRING})),
            "refused": array(obj({"issue_id": STRING, "reason": STRING})),
        }
    ),
    "NewGroup": obj(
        {"name": {"type": "string", "description": "lower-kebab-case, e.g. returns-lead"}},
        {"description": text(DESCRIPTION_LENGTH, required=False)},
        closed=True,
    ),
    "Group": obj(
        {
            "name": STRING,
            "description": STRING,
            "members": array(obj({"username": STRING, "email": STRING, "enabled": BOOLEAN})),
        }
    ),
    "Segment": obj({"segment": {"type": "string", "description": "lower-kebab-case, e.g. vip"}}),
    "CustomerSegment": obj({"id": STRING, "email": STRING, "segment": STRING}),
    "QuarantinedMail": obj(
        {
            "ses_id": STRING,
            "received_at": MOMENT,
            "reason": STRING,
            "sender": STRING,
            "subject": STRING,
            "raw_key": STRING,
        }
    ),
    "TrainingRun": obj(
        {
            "id": STRING,
            "reason": STRING,
            "state": STRING,
            "queued_at": MOMENT,
            "started_at": nullable(MOMENT),
            "expires_at": MOMENT,
        }
    ),
    "Classifier": obj(
        {
            "current": nullable(OBJECT),
            "threshold_override": nullable({"type": "number"}),
            "examples_from_agents": INTEGER,
            "training": nullable(ref("TrainingRun")),
            "trainings": array(OBJECT),
        }
    ),
    "TrainingQueued": obj({"queued": BOOLEAN, "run": ref("TrainingRun")}),
    "HourlyRange": obj({}, {"from": MOMENT, "to": MOMENT}),
    "HourlyRun": obj({"at": MOMENT, "roll_up": OBJECT, "backlog": obj({"open": INTEGER})}, {"sla_sweep": OBJECT}),
    "KpiReport": {
        **obj(
            {
                "from": STRING,
                "to": STRING,
                "type": nullable(STRING),
                "channel": nullable(STRING),
                "fcr_counted_through": nullable(STRING),
                "totals": OBJECT,
                "backlog": OBJECT,
                "by_type": {"type": "object", "additionalProperties": OBJECT},
                "sla_by_step": array(obj({"type": STRING, "step": STRING, "completed": INTEGER, "on_time": INTEGER})),
                "days": array(OBJECT),
                "rows": array(obj({"date": STRING, "type": STRING, "channel": STRING})),
            }
        ),
        "description": "The KPIs of the days asked for (cohort days; see docs/kpis.md); `rows` are the CSV's.",
    },
    "Outbox": wrapped("messages", OBJECT),
    "NewArticle": obj(
        {
            "title": text(TITLE_LENGTH),
            "body": {**text(BODY_LENGTH), "description": "Markdown; raw HTML is shown as text"},
        },
        {
            "slug": {"type": "string", "description": "lower-kebab-case; made from the title when left out"},
            "languages": {"type": "array", "items": {"type": "string", "enum": list(LANGUAGES)}},
            "issue_types": {
                "type": "array",
                "items": STRING,
                "description": "the issue types it answers; none: offered on every form",
            },
            "published": BOOLEAN,
        },
        closed=True,
    ),
    "Article": obj(
        {
            "slug": STRING,
            "title": STRING,
            "body": STRING,
            "html": {"type": "string", "description": "the body rendered and sanitised"},
            "languages": array(STRING),
            "issue_types": array(STRING),
            "published": BOOLEAN,
            "created_at": MOMENT,
            "updated_at": MOMENT,
            "updated_by": STRING,
        }
    ),
    "SuggestedArticle": obj({"slug": STRING, "title": STRING, "summary": STRING, "url": STRING}),
}

IDEMPOTENCY_KEY: Schema = text(MAX_IDEMPOTENCY_KEY_LENGTH)
