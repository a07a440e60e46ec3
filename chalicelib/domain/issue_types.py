"""Issue types as data: the customer's fields and the process of steps that handles the issue.

A definition arrives as plain data (a YAML seed or JSON from the admin API) and is parsed into
these immutable objects; every problem is reported with the path where it occurs
(`steps[1].escalation[0].after: not an ISO-8601 duration`). The language is documented in the
README; `workflows/compiler.py` turns a parsed type into a state machine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from chalicelib.domain import conditions as cond
from chalicelib.domain.assignees import FIELD, USER, Assignee, Holder, NamedHolder, parse_assignee, parse_holder
from chalicelib.domain.attachments import AttachmentRules, parse_attachment_rules
from chalicelib.domain.calendars import ALWAYS, ALWAYS_NAME, BusinessCalendar, parse_calendar
from chalicelib.domain.conditions import When, parse_when
from chalicelib.domain.durations import parse_duration
from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.fields import FieldSpec, parse_field_specs
from chalicelib.domain.problems import DefinitionProblems
from chalicelib.domain.templates import template_problem

HUMAN_TASK = "task"
EMAIL_CUSTOMER = "email_customer"
WAIT_FOR_CUSTOMER = "wait_for_customer"
RESOLVE = "resolve"
PARALLEL = "parallel"
STEP_KINDS = (HUMAN_TASK, EMAIL_CUSTOMER, WAIT_FOR_CUSTOMER, RESOLVE, PARALLEL)
#: Kinds that open a task item with timers (an agent's task, or the customer's turn to reply).
TIMED_KINDS = (HUMAN_TASK, WAIT_FOR_CUSTOMER)
MAX_ESCALATION_LEVELS = 4
#: Names of the states the compiler adds around the steps.
RESERVED_STEP_IDS = ("acknowledge", "resolve", "resolved")
#: The step id of a type's own acknowledgement (the compiler's first state).
ACKNOWLEDGEMENT_ID = RESERVED_STEP_IDS[0]
#: An escalation's `branch` may end the process here.
RESOLVE_TARGET = "resolve"
_TYPE_ID = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
_STEP_ID = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_SEGMENT = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
_ESCALATION_KEYS = {"after", "reassign", "notify", "raise_priority", "branch"}
_TYPE_KEYS = {
    "id",
    "name",
    "description",
    "public",
    "calendar",
    "calendars",
    "fields",
    "attachments",
    "acknowledgement",
    "steps",
    "default_language",
    "translations",
}
_STEP_KEYS = {
    HUMAN_TASK: {
        "role",
        "assignee",
        "deadline",
        "deadline_by_segment",
        "calendar",
        "warnings",
        "fields",
        "escalation",
        "return_after",
    },
    EMAIL_CUSTOMER: {"subject", "body"},
    WAIT_FOR_CUSTOMER: {"remind_after", "close_after", "calendar", "reminder"},
    RESOLVE: set(),
    PARALLEL: {"branches"},
}
_COMMON_STEP_KEYS = {"id", "name", "customer_label", "kind", "when"}
#: What a customer reads about a step that has no `customer_label` of its own: never a role name.
DEFAULT_CUSTOMER_LABELS = {
    HUMAN_TASK: "Our team is looking into it",
    PARALLEL: "Our teams are looking into it",
    WAIT_FOR_CUSTOMER: "Waiting for your reply",
    EMAIL_CUSTOMER: "We are writing to you",
    RESOLVE: "Resolved",
}
#: What the customer wrote, as the result of a wait_for_customer step (`results.<step>.reply`).
REPLY_FIELD = FieldSpec(id="reply", label="The customer's reply", type="long_text")


@dataclass(frozen=True)
class EscalationLevel:
    """What happens `after` the step's deadline has passed by this much (level 1 is the first)."""

    number: int
    after: timedelta
    reassign: Holder | None = None
    notify: tuple[Holder, ...] = ()
    raise_priority: bool = False
    branch: str | None = None

    def describe(self) -> str:
        parts = []
        if self.reassign:
            parts.append(f"reassigned to {self.reassign.describe()}")
        if self.notify:
            parts.append("notified " + ", ".join(h.describe() for h in self.notify))
        if self.raise_priority:
            parts.append("priority raised")
        if self.branch:
            parts.append(f"moved on to {self.branch}")
        return "; ".join(parts) or "recorded"


WARNING = "warning"
BREACH = "breach"
ESCALATION = "escalation"
REMINDER = "reminder"
AUTO_CLOSE = "auto_close"


@dataclass(frozen=True)
class Checkpoint:
    """A moment in an open step's life, counted in business time from its opening.

    Checkpoint 0 is the opening; the others come in a fixed order whatever the deadline's
    length (warnings, the deadline, then the escalation levels), so the compiler can chain one
    timer per checkpoint and our code computes each timer's length when the step opens.
    """

    index: int
    kind: str
    percent: int = 0
    level: EscalationLevel | None = None

    def offset(self, deadline: timedelta, close_after: timedelta | None = None) -> timedelta:
        if self.kind == WARNING:
            return deadline * self.percent / 100
        if self.kind == AUTO_CLOSE:
            return deadline + (close_after or timedelta(0))
        return deadline + (self.level.after if self.level else timedelta(0))

    @property
    def branch(self) -> str | None:
        if self.kind == AUTO_CLOSE:
            return RESOLVE_TARGET
        return self.level.branch if self.level else None


@dataclass(frozen=True)
class Step:
    id: str
    name: str
    kind: str
    assignee: Assignee | None = None
    deadline: timedelta | None = None
    deadline_by_segment: tuple[tuple[str, timedelta], ...] = ()
    calendar: str = ALWAYS_NAME
    warnings: tuple[int, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    escalation: tuple[EscalationLevel, ...] = ()
    when: When | None = None
    subject: str = ""
    body: str = ""
    close_after: timedelta | None = None
    branches: tuple[tuple[Step, ...], ...] = ()
    #: What the customer sees of this step on the status page and the confirmation.
    customer_label: str = ""
    #: A claimed task nobody touches for this long (business time) goes back to the queue it was
    #: claimed from, once per claim (decision 0026); None: a claim is kept until released.
    return_after: timedelta | None = None

    @property
    def label_for_customer(self) -> str:
        return self.customer_label or DEFAULT_CUSTOMER_LABELS[self.kind]

    def deadline_for(self, segment: str) -> timedelta:
        """The step's deadline for a customer segment (VIPs may get a shorter one)."""
        assert self.deadline is not None
        return dict(self.deadline_by_segment).get(segment, self.deadline)

    def checkpoints(self) -> tuple[Checkpoint, ...]:
        """The opening, then every moment that changes something, in order."""
        if self.kind not in TIMED_KINDS:
            return ()
        if self.kind == WAIT_FOR_CUSTOMER:
            return (Checkpoint(0, "open"), Checkpoint(1, REMINDER), Checkpoint(2, AUTO_CLOSE))
        points = [Checkpoint(0, "open")]
        points += [Checkpoint(len(points) + i, WARNING, percent=p) for i, p in enumerate(self.warnings)]
        levels = list(self.escalation)
        if not levels or levels[0].after > timedelta(0):
            points.append(Checkpoint(len(points), BREACH))
        for level in levels:
            points.append(
                Checkpoint(len(points), ESCALATION if level.after or level.number > 1 else BREACH, level=level)
            )
        return tuple(points)

    def holders(self) -> set[Holder]:
        """Every direct holder named by this step (for provisioning groups)."""
        found = set()
        if self.assignee:
            found |= {h for h in (self.assignee.direct(), self.assignee.otherwise) if h}
        for level in self.escalation:
            found |= {h for h in (level.reassign, *level.notify) if h}
        return found


@dataclass(frozen=True)
class IssueType:
    id: str
    name: str
    description: str
    fields: tuple[FieldSpec, ...]
    steps: tuple[Step, ...]
    calendars: Mapping[str, BusinessCalendar] = field(default_factory=dict)
    #: False for types customers don't pick themselves, e.g. triage.
    public: bool = True
    #: What customers may attach (uploaded straight to S3); None: nothing.
    attachments: AttachmentRules | None = None
    #: The first email to the customer in the type's own words (an email step that runs before the
    #: others); None: the standard one, which echoes the customer's report.
    acknowledgement: Step | None = None
    #: Every direct holder the definition names, with its path (`steps[2].assignee`).
    named_holders: tuple[NamedHolder, ...] = ()
    #: The language the definition's own texts are written in (see `type_texts.LANGUAGES`).
    default_language: str = "en"
    #: The customer-facing texts in other languages: language -> key (`fields.store.label`) -> text.
    #: `type_texts.in_language` applies them; a text missing here falls back to the default language.
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def all_steps(self) -> Iterator[Step]:
        """Every step, those inside parallel branches included, in order."""
        for step in self.steps:
            yield step
            for branch in step.branches:
                yield from branch

    def step(self, step_id: str) -> Step:
        for step in self.all_steps():
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def holder_of(self, step: Step, fields: Mapping[str, Any]) -> Holder | None:
        """Who holds a human step's task for an issue with these field values (a field assignee picks
        the chosen option's person, else its fallback); None for a step no agent holds."""
        if step.assignee is None:
            return None
        spec = self.field(step.assignee.name) if step.assignee.kind == FIELD else None
        options = {o.value: o.attribute(step.assignee.attribute) or "" for o in spec.options} if spec else {}
        return step.assignee.resolve(fields, options)

    def calendar(self, name: str) -> BusinessCalendar:
        return ALWAYS if name == ALWAYS_NAME else self.calendars[name]

    def field(self, field_id: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.id == field_id), None)

    @property
    def free_text_field(self) -> FieldSpec | None:
        """Where a customer's own words go when the type was chosen for them (by the classifier or
        an agent): the first long text field, else the first text field."""
        return next((f for f in self.fields if f.type == "long_text"), None) or next(
            (f for f in self.fields if f.type == "text"), None
        )

    @property
    def customer_name(self) -> str:
        """The type's name as a customer may read it: an internal type's name (e.g. "Message to
        classify") is written for our team, so the customer reads none."""
        return self.name if self.public else ""

    def roles(self) -> set[str]:
        """Every group (role or team) that can hold or hear of one of this type's tasks."""
        return {h.name for step in self.all_steps() for h in step.holders() if h.is_group}

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "fields": [f.as_dict() for f in self.fields],
        }


@dataclass(frozen=True)
class PublishedType:
    """A version as stored: the definition as submitted and its state machine."""

    type_id: str
    version: int
    definition: dict[str, Any]
    state_machine_arn: str


def with_shared_calendars(raw: Any, shared: Mapping[str, Any]) -> Any:
    """The definition with every shared calendar it names but does not define copied into it.

    A published version is then self-contained: editing a shared calendar later does not move
    the deadlines of issues already running on that version.
    """
    if not isinstance(raw, Mapping):
        return raw
    names = {raw["calendar"]} if isinstance(raw.get("calendar"), str) else set()
    names |= {s["calendar"] for s in _raw_steps(raw.get("steps")) if isinstance(s.get("calendar"), str)}
    own = raw.get("calendars") if isinstance(raw.get("calendars"), Mapping) else {}
    missing = {n: shared[n] for n in sorted(names) if n not in own and n in shared}
    if not missing:
        return raw
    return {**raw, "calendars": {**own, **missing}}


def _raw_steps(raw: Any) -> Iterator[Mapping[str, Any]]:
    for step in raw if isinstance(raw, list) else []:
        if isinstance(step, Mapping):
            yield step
            for branch in step.get("branches") or []:
                yield from _raw_steps(branch.get("steps") if isinstance(branch, Mapping) else branch)


def parse_issue_type(raw: Any) -> IssueType:
    """Validate a definition and build the issue type; raise ValidationFailed listing every problem."""
    problems = DefinitionProblems()
    if not isinstance(raw, Mapping):
        problems.add("body", "an issue type must be a mapping")
        raise ValidationFailed(problems.errors)
    for key in sorted(set(raw) - _TYPE_KEYS):
        problems.add(str(key), f"unknown key; an issue type has {', '.join(sorted(_TYPE_KEYS))}")
    type_id = raw.get("id")
    if not isinstance(type_id, str) or not _TYPE_ID.match(type_id):
        problems.add("id", "must be lower-kebab-case, 2 to 41 characters")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add("name", "is required")
    calendars = _parse_calendars(raw.get("calendars"), problems)
    default_calendar = _calendar_name(raw.get("calendar", ALWAYS_NAME), "calendar", calendars, problems)
    public = raw.get("public", True)
    if not isinstance(public, bool):
        problems.add("public", "must be true or false")
    fields = parse_field_specs(raw.get("fields"), "fields", problems)
    attachments = parse_attachment_rules(raw.get("attachments"), "attachments", problems)
    parser = _StepParser(problems, calendars, default_calendar, fields)
    steps = parser.sequence(raw.get("steps"), "steps", top_level=True)
    acknowledgement = parser.acknowledgement(raw.get("acknowledgement"))
    parser.check_references(steps)
    # type_texts reads IssueType, so it is imported here rather than at the top.
    from chalicelib.domain import type_texts

    default_language = type_texts.parse_default_language(raw.get("default_language"), problems)
    if problems.errors:
        # Translations name fields and steps: checked against a type that parsed, or their problems
        # would echo the others'. Only their languages are checked now.
        type_texts.parse_translations(raw.get("translations"), None, default_language, problems)
        raise ValidationFailed(problems.errors)
    issue_type = IssueType(
        id=type_id,
        name=name.strip(),
        description=str(raw.get("description", "")).strip(),
        fields=fields,
        steps=steps,
        calendars=calendars,
        public=public,
        attachments=attachments,
        acknowledgement=acknowledgement,
        named_holders=tuple(parser.named),
        default_language=default_language,
    )
    translations = type_texts.parse_translations(raw.get("translations"), issue_type, default_language, problems)
    if problems.errors:
        raise ValidationFailed(problems.errors)
    return replace(issue_type, translations=translations)


def publishing_problems(issue_type: IssueType) -> list[FieldError]:
    """What a new version may not have, though a version stored before the rule still loads.

    A customer's form shows a field's help, never its regular expression: a pattern without help
    would leave the customer guessing the format.
    """
    return [
        FieldError(
            f"fields[{index}].help",
            "a field with a pattern needs help that describes the format in words, "
            "e.g. 'R followed by 8 digits, e.g. R12345678'; customers are never shown the pattern",
        )
        for index, spec in enumerate(issue_type.fields)
        if spec.pattern and not spec.help.strip()
    ]


def _calendar_name(name: Any, path: str, calendars: Mapping[str, Any], problems: DefinitionProblems) -> str:
    """A calendar reference: "24/7" or the name of a calendar the definition has (else a problem)."""
    if not isinstance(name, str):
        problems.add(path, "must be the name of a calendar")
        return ALWAYS_NAME
    if name != ALWAYS_NAME and name not in calendars:
        problems.add(path, f"unknown calendar {name!r}; {_known(calendars)}")
        return ALWAYS_NAME
    return name


def _known(calendars: Mapping[str, Any]) -> str:
    return "known calendars: " + ", ".join([ALWAYS_NAME, *sorted(calendars)])


def _parse_calendars(raw: Any, problems: DefinitionProblems) -> dict[str, BusinessCalendar]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.add("calendars", "must be a mapping of calendar names to calendars")
        return {}
    calendars = {}
    for name, definition in raw.items():
        calendar = parse_calendar(str(name), definition, f"calendars.{name}", problems)
        if calendar is not None:
            calendars[str(name)] = calendar
    return calendars


class _StepParser:
    def __init__(
        self,
        problems: DefinitionProblems,
        calendars: Mapping[str, BusinessCalendar],
        default_calendar: str,
        fields: tuple[FieldSpec, ...],
    ):
        self.problems = problems
        self.calendars = calendars
        self.default_calendar = default_calendar
        self.fields = {f.id: f for f in fields}
        self.seen: dict[str, str] = {}  # step id -> path
        self.paths: dict[str, str] = {}
        self.step_fields: dict[str, tuple[FieldSpec, ...]] = {}
        self.named: list[NamedHolder] = []

    def sequence(self, raw: Any, path: str, top_level: bool) -> tuple[Step, ...]:
        if not isinstance(raw, list) or not raw:
            self.problems.add(path, "must be a non-empty list")
            return ()
        steps = []
        for index, item in enumerate(raw):
            step_path = f"{path}[{index}]"
            if not isinstance(item, Mapping):
                self.problems.add(step_path, "must be a mapping")
                continue
            step = self.step(item, step_path, top_level)
            if step is None:
                continue
            if step.id in self.seen:
                self.problems.add(f"{step_path}.id", f"duplicate step id {step.id!r}")
            self.seen[step.id] = step_path
            steps.append(step)
        return tuple(steps)

    def step(self, item: Mapping[str, Any], path: str, top_level: bool) -> Step | None:
        problems = self.problems
        before = len(problems.errors)
        step_id = item.get("id")
        if not isinstance(step_id, str) or not _STEP_ID.match(step_id):
            problems.add(f"{path}.id", "must be lower_snake_case, starting with a letter")
        elif step_id in RESERVED_STEP_IDS:
            problems.add(f"{path}.id", f"{step_id!r} is reserved; reserved ids: {', '.join(RESERVED_STEP_IDS)}")
        kind = item.get("kind", HUMAN_TASK)
        if kind not in STEP_KINDS:
            problems.add(f"{path}.kind", f"must be one of {', '.join(STEP_KINDS)}")
            return None
        if not top_level and kind in (PARALLEL, RESOLVE, WAIT_FOR_CUSTOMER):
            problems.add(f"{path}.kind", f"a {kind} step cannot be inside a parallel step")
            return None
        for key in sorted(set(item) - _COMMON_STEP_KEYS - _STEP_KEYS[kind]):
            allowed = ", ".join(sorted(_COMMON_STEP_KEYS | _STEP_KEYS[kind]))
            problems.add(f"{path}.{key}", f"unknown key for a {kind} step; use {allowed}")
        name = str(item.get("name") or step_id)
        when = parse_when(item.get("when"), f"{path}.when", problems)
        customer_label = item.get("customer_label", "")
        if not isinstance(customer_label, str) or len(customer_label) > 120:
            problems.add(f"{path}.customer_label", "must be text of at most 120 characters")
            customer_label = ""
        common: dict[str, Any] = {
            "id": step_id,
            "name": name,
            "kind": kind,
            "when": when,
            "customer_label": customer_label.strip(),
        }
        if kind in (EMAIL_CUSTOMER, WAIT_FOR_CUSTOMER):
            subject, body = self._message(item, path, kind)
            common.update(subject=subject, body=body)
        if kind in (EMAIL_CUSTOMER, RESOLVE):
            step = Step(**common)
        elif kind == PARALLEL:
            step = Step(**common, branches=self._branches(item.get("branches"), f"{path}.branches"))
        elif kind == WAIT_FOR_CUSTOMER:
            step = Step(
                **common,
                deadline=self._duration(item.get("remind_after"), f"{path}.remind_after"),
                close_after=self._duration(item.get("close_after"), f"{path}.close_after"),
                # Customers don't keep office hours: a wait runs on the clock unless it names a calendar.
                calendar=self._calendar({"calendar": ALWAYS_NAME, **item}, path),
                fields=(REPLY_FIELD,),
            )
        else:
            step = self._human(item, path, common, top_level)
        if len(problems.errors) > before:
            return None
        self.paths[step_id] = path
        self.step_fields[step_id] = step.fields
        return step

    def _human(self, item: Mapping[str, Any], path: str, common: dict[str, Any], top_level: bool) -> Step:
        if "role" in item and "assignee" in item:
            self.problems.add(f"{path}.assignee", "give either role or assignee, not both")
        key = "assignee" if "assignee" in item else "role"
        assignee = parse_assignee(item.get(key), f"{path}.{key}", self.problems)
        if assignee and assignee.otherwise and assignee.kind == FIELD:
            self.named.append(NamedHolder(f"{path}.{key}.otherwise", assignee.otherwise))
        elif assignee and (direct := assignee.direct()):
            self.named.append(NamedHolder(f"{path}.{key}", direct))
        deadline = self._duration(item.get("deadline"), f"{path}.deadline")
        return Step(
            **common,
            assignee=assignee,
            deadline=deadline,
            deadline_by_segment=self._segment_deadlines(item.get("deadline_by_segment"), path),
            calendar=self._calendar(item, path),
            warnings=self._warnings(item.get("warnings"), f"{path}.warnings"),
            fields=parse_field_specs(item.get("fields"), f"{path}.fields", self.problems),
            escalation=self._escalation(item.get("escalation"), f"{path}.escalation", top_level),
            return_after=(
                self._duration(item["return_after"], f"{path}.return_after") if "return_after" in item else None
            ),
        )

    def acknowledgement(self, raw: Any) -> Step | None:
        """The type's own acknowledgement: `{subject, body}` templates, as an email step's."""
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            self.problems.add("acknowledgement", "must be a mapping with a subject and a body")
            return None
        before = len(self.problems.errors)
        for key in sorted(set(raw) - {"subject", "body"}, key=str):
            self.problems.add(f"acknowledgement.{key}", "unknown key; an acknowledgement has subject and body")
        subject, body = self._message(raw, "acknowledgement", EMAIL_CUSTOMER)
        if len(self.problems.errors) > before:
            return None
        return Step(id=ACKNOWLEDGEMENT_ID, name="Acknowledgement", kind=EMAIL_CUSTOMER, subject=subject, body=body)

    def _message(self, item: Mapping[str, Any], path: str, kind: str) -> tuple[str, str]:
        source = item if kind == EMAIL_CUSTOMER else item.get("reminder")
        base = path if kind == EMAIL_CUSTOMER else f"{path}.reminder"
        if not isinstance(source, Mapping):
            self.problems.add(base, "is required: the reminder's subject and body")
            return "", ""
        texts = []
        for key in ("subject", "body"):
            text = source.get(key)
            if not isinstance(text, str) or not text.strip():
                self.problems.add(f"{base}.{key}", f"is required for a {kind} step")
            elif problem := template_problem(text):
                self.problems.add(f"{base}.{key}", problem)
            texts.append(text if isinstance(text, str) else "")
        return texts[0], texts[1]

    def _branches(self, raw: Any, path: str) -> tuple[tuple[Step, ...], ...]:
        if not isinstance(raw, list) or len(raw) < 2:
            self.problems.add(path, "must be a list of at least two branches, each a list of steps")
            return ()
        branches = []
        for index, branch in enumerate(raw):
            steps_raw = branch.get("steps") if isinstance(branch, Mapping) else branch
            branches.append(self.sequence(steps_raw, f"{path}[{index}]", top_level=False))
        return tuple(branches)

    def _calendar(self, item: Mapping[str, Any], path: str) -> str:
        name = item.get("calendar", self.default_calendar)
        return _calendar_name(name, f"{path}.calendar", self.calendars, self.problems)

    def _duration(self, raw: Any, path: str, allow_zero: bool = False) -> timedelta | None:
        if raw is None:
            self.problems.add(path, "is required")
            return None
        if allow_zero and isinstance(raw, str) and raw.strip() in ("PT0S", "PT0M", "PT0H", "P0D"):
            return timedelta(0)
        try:
            return parse_duration(raw)
        except ValueError as exc:
            self.problems.add(path, str(exc))
            return None

    def _segment_deadlines(self, raw: Any, path: str) -> tuple[tuple[str, timedelta], ...]:
        if raw is None:
            return ()
        if not isinstance(raw, Mapping):
            self.problems.add(f"{path}.deadline_by_segment", "must map customer segments to durations")
            return ()
        found = []
        for segment, duration in raw.items():
            entry = f"{path}.deadline_by_segment.{segment}"
            if not isinstance(segment, str) or not _SEGMENT.match(segment):
                self.problems.add(entry, "a segment name is lower-kebab-case")
            elif parsed := self._duration(duration, entry):
                found.append((segment, parsed))
        return tuple(found)

    def _warnings(self, raw: Any, path: str) -> tuple[int, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.problems.add(path, "must be a list of percentages of the deadline, e.g. [50, 80]")
            return ()
        percents = []
        for index, value in enumerate(raw):
            number = value.rstrip("%").strip() if isinstance(value, str) else value
            try:
                percent = int(number)
            except (TypeError, ValueError):
                percent = -1
            if isinstance(value, bool) or not 0 < percent < 100:
                self.problems.add(f"{path}[{index}]", "must be a percentage between 1 and 99")
                continue
            percents.append(percent)
        if percents != sorted(set(percents)):
            self.problems.add(path, "must be increasing, each percentage once")
        return tuple(percents)

    def _escalation(self, raw: Any, path: str, top_level: bool) -> tuple[EscalationLevel, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.problems.add(path, "must be a list of levels")
            return ()
        if len(raw) > MAX_ESCALATION_LEVELS:
            self.problems.add(path, f"at most {MAX_ESCALATION_LEVELS} levels")
        levels: list[EscalationLevel] = []
        for index, item in enumerate(raw):
            level_path = f"{path}[{index}]"
            if not isinstance(item, Mapping):
                self.problems.add(level_path, "must be a mapping with after and at least one action")
                continue
            unknown = sorted(set(item) - _ESCALATION_KEYS)
            if unknown:
                self.problems.add(
                    f"{level_path}.{unknown[0]}", f"unknown key; use {', '.join(sorted(_ESCALATION_KEYS))}"
                )
                continue
            after = self._duration(item.get("after"), f"{level_path}.after", allow_zero=True)
            level = self._level(item, level_path, index + 1, after)
            if level is None or after is None:
                continue
            if levels and after <= levels[-1].after:
                self.problems.add(f"{level_path}.after", "must be later than the previous level's")
            if level.branch and index != len(raw) - 1:
                self.problems.add(f"{level_path}.branch", "only the last level can move the process on")
            if level.branch and not top_level:
                self.problems.add(f"{level_path}.branch", "not available inside a parallel step")
            levels.append(level)
        return tuple(levels)

    def _level(
        self, item: Mapping[str, Any], path: str, number: int, after: timedelta | None
    ) -> EscalationLevel | None:
        reassign = None
        if "reassign" in item:
            reassign = parse_holder(item["reassign"], f"{path}.reassign", self.problems)
            if reassign:
                self.named.append(NamedHolder(f"{path}.reassign", reassign))
        notify_raw = item.get("notify", [])
        notify_raw = notify_raw if isinstance(notify_raw, list) else [notify_raw]
        parsed = [
            (f"{path}.notify[{i}]", parse_holder(raw, f"{path}.notify[{i}]", self.problems))
            for i, raw in enumerate(notify_raw)
        ]
        notify = tuple(h for _, h in parsed if h)
        self.named += [NamedHolder(where, h, notified=True) for where, h in parsed if h]
        raise_priority = item.get("raise_priority", False)
        if not isinstance(raise_priority, bool):
            self.problems.add(f"{path}.raise_priority", "must be true or false")
        branch = item.get("branch")
        if branch is not None and (not isinstance(branch, str) or not branch):
            self.problems.add(f"{path}.branch", "must be a later step's id or 'resolve'")
        if not (reassign or notify or raise_priority or branch):
            self.problems.add(path, "needs at least one action: reassign, notify, raise_priority or branch")
            return None
        return EscalationLevel(number, after or timedelta(0), reassign, notify, raise_priority is True, branch)

    # Cross-references, checked once every step is known

    def check_references(self, steps: tuple[Step, ...]) -> None:
        order = [s.id for s in steps]
        for position, step in enumerate(steps):
            path = self.paths.get(step.id, "steps")
            earlier = {s.id for before in steps[:position] for s in (before, *[i for b in before.branches for i in b])}
            self._check_step(step, path, earlier, order[position + 1 :])
            for branch in step.branches:
                inside: set[str] = set(earlier)
                for branch_step in branch:
                    self._check_step(branch_step, self.paths.get(branch_step.id, path), inside, [])
                    inside.add(branch_step.id)

    def _check_step(self, step: Step, path: str, earlier: set[str], later: list[str]) -> None:
        if step.when:
            for i, condition in enumerate(step.when.conditions):
                where = f"{path}.when[{i}]" if len(step.when.conditions) > 1 else f"{path}.when"
                self._check_condition(condition, where, earlier)
        if step.assignee and step.assignee.kind == "field":
            spec = self.fields.get(step.assignee.name)
            if spec is None or not spec.options:
                self.problems.add(f"{path}.assignee.field", "must name a choice field of this type")
            else:
                self._name_option_holders(spec, step.assignee.attribute)
        for index, level in enumerate(step.escalation):
            allowed = [*later, RESOLVE_TARGET]
            if level.branch and level.branch not in allowed:
                self.problems.add(
                    f"{path}.escalation[{index}].branch", f"must be a later step or resolve: {', '.join(allowed)}"
                )

    def _name_option_holders(self, spec: FieldSpec, attribute: str) -> None:
        """The agents the options of a field assignee name (the store's manager), where they are named."""
        where = f"fields[{list(self.fields).index(spec.id)}]"
        for index, option in enumerate(spec.options):
            named = option.attribute(attribute)
            found = NamedHolder(f"{where}.options[{index}].{attribute}", Holder(USER, named or ""))
            if named and "@" not in named and found not in self.named:  # two steps may read one field
                self.named.append(found)

    def _check_condition(self, condition: cond.Condition, path: str, earlier: set[str]) -> None:
        if condition.subject == cond.CUSTOMER:
            return
        if condition.subject == cond.FIELD:
            spec = self.fields.get(condition.ref)
            if spec is None:
                self.problems.add(f"{path}.field", f"no customer field {condition.ref!r}")
                return
        else:
            step_id, _, field_id = condition.ref.partition(".")
            if step_id not in earlier:
                self.problems.add(f"{path}.result", f"{step_id!r} is not an earlier step")
                return
            spec = next((f for f in self._step_fields(step_id) if f.id == field_id), None)
            if spec is None:
                self.problems.add(f"{path}.result", f"step {step_id!r} has no field {field_id!r}")
                return
        problem = condition_type_problem(spec, condition)
        if problem:
            self.problems.add(f"{path}.{condition.operator}", problem)

    def _step_fields(self, step_id: str) -> tuple[FieldSpec, ...]:
        return self.step_fields.get(step_id, ())


def condition_type_problem(spec: FieldSpec, condition: cond.Condition) -> str | None:
    """Why a condition's value cannot be compared with this field, or None."""
    if condition.operator == cond.IS_SET:
        return None
    if spec.type == "multi_choice":
        return "conditions on multi_choice fields are not supported; use is_set"
    values = condition.value if isinstance(condition.value, list) else [condition.value]
    if spec.type == "number":
        ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        return None if ok else "must be a number: the field is a number"
    if spec.type == "yes_no":
        if condition.operator not in (cond.EQUALS, cond.NOT_EQUALS):
            return "a yes/no field can only be compared with equals or not_equals"
        return None if all(isinstance(v, bool) for v in values) else "must be true or false: the field is yes/no"
    if not all(isinstance(v, str) for v in values):
        return "must be text: compare a number field to numbers"
    if spec.options:
        allowed = {o.value for o in spec.options}
        wrong = [v for v in values if v not in allowed]
        if wrong and condition.operator not in cond.ORDERING:
            return f"{wrong[0]!r} is not an option of {spec.id}: {', '.join(sorted(allowed))}"
    return None
