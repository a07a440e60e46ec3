"""An issue type's process drawn as inline SVG, with the same facts as an ordered list.

`process_outline` turns a parsed type into plain data: each step in order with when it runs (in
words), who acts, its deadline and calendar, warnings, escalation levels and, if given, its
figures. `process_svg` draws that outline from top to bottom (parallel branches side by side,
escalations as a ladder beside their step) and `process_list` writes it as an `<ol>` for screen
readers and text browsers; both come from the one outline, so they never disagree.

The SVG carries no `style` attribute and no `<style>` element (the pages' CSP is `style-src
'self'`): its look is the `.process-diagram` block of `static/caseflow.css`, and its text sizes
below must match that block's. Every text is escaped: definitions are admin data.

Figures colour a task's box by its SLA compliance and always write the figures and a word too:
**on target** at ON_TARGET_PERCENT % or more, **at risk** from AT_RISK_PERCENT %, **missing** below
that, and **no figures** when no task with a deadline was completed in the period.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from markupsafe import Markup, escape

from chalicelib.api import condition_words
from chalicelib.domain import issue_types as types
from chalicelib.domain.assignees import EMAIL, FIELD, ROLE, TEAM, USER, Assignee, Holder
from chalicelib.domain.calendars import ALWAYS_NAME
from chalicelib.domain.issue_types import EscalationLevel, IssueType, Step
from chalicelib.domain.kpi_rollups import StepFigures
from chalicelib.reporting import formats

#: Step id -> its figures, as `StepFigures` or as the KPI service returns them (`StepFigures.as_dict`).
Figures = Mapping[str, StepFigures | Mapping[str, Any]]
ON_TARGET_PERCENT = 90
AT_RISK_PERCENT = 75
ON_TARGET = "on-target"
AT_RISK = "at-risk"
MISSING = "missing"
NO_FIGURES = "no-figures"
STATUS_WORDS = {ON_TARGET: "On target", AT_RISK: "At risk", MISSING: "Missing", NO_FIGURES: "No figures"}
KIND_WORDS = {
    types.HUMAN_TASK: "Task",
    types.EMAIL_CUSTOMER: "Email to the customer",
    types.WAIT_FOR_CUSTOMER: "Waiting for the customer",
    types.RESOLVE: "Resolves the issue",
    types.PARALLEL: "Branches in parallel",
}

# Layout, in viewBox units: a fixed 640 wide, scaled to the page's width by CSS.
WIDTH = 640
MARGIN = 12
MAIN_WIDTH = 392
LADDER_X = MARGIN + MAIN_WIDTH + 36
LADDER_WIDTH = WIDTH - MARGIN - LADDER_X
COLUMN_GAP = 14
PAD = 10
GAP = 26
BAR = 6
#: Text sizes of the CSS classes (.pd-name, .pd-text, .pd-small).
NAME_SIZE = 15
TEXT_SIZE = 13
SMALL_SIZE = 12
#: A character's average width as a share of the font size, to wrap lines without measuring them.
CHAR_WIDTH = 0.6
LINE_HEIGHT = 1.3


@dataclass(frozen=True)
class StepOutline:
    """One step as people read it; `status` is "" when no figures were asked for or apply."""

    id: str
    name: str
    kind: str
    condition: str
    details: tuple[str, ...]
    escalations: tuple[str, ...]
    figures: str = ""
    status: str = ""
    branches: tuple[tuple[StepOutline, ...], ...] = ()


@dataclass(frozen=True)
class ProcessOutline:
    type_id: str
    name: str
    start: str
    #: Which email acknowledges the issue when it opens.
    acknowledgement: str
    steps: tuple[StepOutline, ...]
    end: str
    #: Whether the steps carry figures (then the diagram says how boxes are coloured).
    with_figures: bool


# --- the outline ---------------------------------------------------------------------------------


def process_outline(issue_type: IssueType, figures: Figures | None = None) -> ProcessOutline:
    """The type's process as plain data, each task with its figures when `figures` is given
    (step id -> `StepFigures`, or its `as_dict()` as the KPI service returns it)."""
    known = None if figures is None else {k: _step_figures(v) for k, v in figures.items()}
    return ProcessOutline(
        type_id=issue_type.id,
        name=issue_type.name,
        start="Issue opened",
        acknowledgement=f"Acknowledged by {'its own email' if issue_type.acknowledgement else 'the standard email'}",
        steps=tuple(_step_outline(step, issue_type, known) for step in issue_type.steps),
        end="Resolved",
        with_figures=known is not None,
    )


def _step_figures(value: StepFigures | Mapping[str, Any]) -> StepFigures:
    return value if isinstance(value, StepFigures) else StepFigures.from_dict(value)


def _step_outline(step: Step, issue_type: IssueType, figures: Mapping[str, StepFigures] | None) -> StepOutline:
    condition = condition_words.for_team(step.when, issue_type)
    figures_text, status = _figures(step, figures)
    return StepOutline(
        id=step.id,
        name=step.name,
        kind=KIND_WORDS[step.kind],
        condition=f"Only if {condition}; else skipped" if condition else "",
        details=tuple(d for d in (_who(step, issue_type), *_timing(step)) if d),
        escalations=tuple(_escalation(level, issue_type) for level in step.escalation),
        figures=figures_text,
        status=status,
        branches=tuple(tuple(_step_outline(s, issue_type, figures) for s in branch) for branch in step.branches),
    )


def _who(step: Step, issue_type: IssueType) -> str:
    if step.kind == types.EMAIL_CUSTOMER:
        return "Sent automatically"
    if step.kind == types.WAIT_FOR_CUSTOMER:
        return "The customer replies"
    if step.assignee is None:
        return ""
    return f"Who acts: {_assignee(step.assignee, issue_type)}"


def _assignee(assignee: Assignee, issue_type: IssueType) -> str:
    if assignee.kind != FIELD:
        return _holder(Holder(assignee.kind, assignee.name))
    spec = issue_type.field(assignee.name)
    label = spec.label if spec else assignee.name
    otherwise = f", else {_holder(assignee.otherwise)}" if assignee.otherwise else ""
    return f"the {assignee.attribute} of the chosen “{label}”{otherwise}"


def _holder(holder: Holder) -> str:
    prefix = {ROLE: "role ", TEAM: "team ", USER: "agent ", EMAIL: ""}.get(holder.kind, "")
    suffix = " (by emailed link)" if holder.kind == EMAIL else ""
    return f"{prefix}{holder.name}{suffix}"


def _words(duration: timedelta) -> str:
    return formats.duration(duration.total_seconds())


def _calendar(step: Step) -> str:
    return "round the clock" if step.calendar == ALWAYS_NAME else f"in {step.calendar} hours"


def _timing(step: Step) -> list[str]:
    found = []
    if step.kind == types.WAIT_FOR_CUSTOMER and step.deadline:
        closes = f", closed {_words(step.close_after)} later without a reply" if step.close_after else ""
        found.append(f"Reminder after {_words(step.deadline)}{closes} ({_calendar(step)})")
    elif step.deadline:
        segments = "; ".join(f"{segment}: {_words(d)}" for segment, d in step.deadline_by_segment)
        found.append(f"Deadline {_words(step.deadline)} {_calendar(step)}" + (f" ({segments})" if segments else ""))
    if step.warnings:
        found.append("Warnings at " + " and ".join(f"{p} %" for p in step.warnings) + " of the deadline")
    if step.return_after:
        found.append(f"An untouched claim returns to the queue after {_words(step.return_after)}")
    return found


def _escalation(level: EscalationLevel, issue_type: IssueType) -> str:
    when = f"{_words(level.after)} after the deadline" if level.after else "at the deadline"
    actions = []
    if level.reassign:
        actions.append(f"reassigned to {_holder(level.reassign)}")
    if level.notify:
        actions.append("notifies " + ", ".join(_holder(h) for h in level.notify))
    if level.raise_priority:
        actions.append("priority raised")
    if level.branch == types.RESOLVE_TARGET:
        actions.append("the issue is resolved")
    elif level.branch:
        target = next((s.name for s in issue_type.steps if s.id == level.branch), level.branch)
        actions.append(f"moves on to “{target}”")
    return f"Level {level.number}, {when}: {'; '.join(actions)}"


def _in_sentence(escalation: str) -> str:
    """ "Escalation level 1, …" from "Level 1, …", where the level is not under a ladder's heading."""
    return f"Escalation {escalation[0].lower()}{escalation[1:]}"


def _figures(step: Step, figures: Mapping[str, StepFigures] | None) -> tuple[str, str]:
    """The task's figures in words and its status (see the module's thresholds)."""
    if figures is None or step.kind != types.HUMAN_TASK:
        return "", ""
    found = figures.get(step.id, StepFigures())
    percent = found.sla_percent
    if percent is None:
        status = NO_FIGURES
    elif percent >= ON_TARGET_PERCENT:
        status = ON_TARGET
    elif percent >= AT_RISK_PERCENT:
        status = AT_RISK
    else:
        status = MISSING
    parts = [STATUS_WORDS[status]]
    if percent is not None:
        parts.append(f"SLA {formats.percent(percent)} ({found.on_time} of {found.with_deadline} on time)")
    if found.median_seconds is not None:
        parts.append(f"median {formats.duration(found.median_seconds)}")
    parts.append(f"{found.escalations} escalation{'' if found.escalations == 1 else 's'}")
    parts.append(f"{found.completed} completed")
    return " · ".join(parts), status


# --- the list ------------------------------------------------------------------------------------


def process_list(issue_type: IssueType, figures: Figures | None = None) -> Markup:
    """The process as an ordered list: what the diagram shows, for those who cannot see it."""
    outline = process_outline(issue_type, figures)
    items = [f"<li><strong>Start</strong>: {escape(outline.start)}. {escape(outline.acknowledgement)}.</li>"]
    items += [_list_item(step) for step in outline.steps]
    items.append(f"<li><strong>End</strong>: {escape(outline.end)}</li>")
    return Markup('<ol class="process-outline">' + "".join(items) + "</ol>")


def _list_item(step: StepOutline) -> str:
    facts = [step.kind, step.condition, *step.details, *(_in_sentence(e) for e in step.escalations)]
    facts.append(step.figures)
    inner = "".join(f"<li>{escape(fact)}</li>" for fact in facts if fact)
    branches = "".join(
        f"<li>Branch {number}<ol>{''.join(_list_item(s) for s in branch)}</ol></li>"
        for number, branch in enumerate(step.branches, start=1)
    )
    nested = f"<ol>{branches}</ol>" if branches else ""
    return f"<li><strong>{escape(step.name)}</strong><ul>{inner}</ul>{nested}</li>"


# --- the drawing ---------------------------------------------------------------------------------


def process_svg(issue_type: IssueType, figures: Figures | None = None) -> Markup:
    """The process drawn top to bottom as an inline `<svg role="img">` (see the module docstring)."""
    outline = process_outline(issue_type, figures)
    ident = f"process-{outline.type_id}"
    canvas = _Canvas(f"{ident}-arrow")
    centre = MARGIN + MAIN_WIDTH / 2
    bottom = canvas.node(centre, MARGIN, outline.start, outline.acknowledgement)
    for step in outline.steps:
        top = canvas.arrow(centre, bottom, step.condition, MAIN_WIDTH)
        bottom = canvas.parallel(top, step) if step.branches else canvas.main_step(top, step)
    top = canvas.arrow(centre, bottom, "", MAIN_WIDTH)
    height = canvas.node(centre, top, outline.end) + MARGIN
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="process-diagram" id="{escape(ident)}" role="img" '
        f'aria-labelledby="{escape(ident)}-title {escape(ident)}-desc" viewBox="0 0 {WIDTH} {_n(height)}">'
        f'<title id="{escape(ident)}-title">Process of {escape(outline.name)}</title>'
        f'<desc id="{escape(ident)}-desc">{escape(_description(outline))}</desc>'
        f'<defs><marker id="{escape(canvas.marker)}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path class="pd-arrowhead" d="M0,0 L10,5 L0,10 z"/></marker>'
        "</defs>" + "".join(canvas.parts) + "</svg>"
    )


def _description(outline: ProcessOutline) -> str:
    def named(step: StepOutline) -> str:
        if not step.branches:
            return step.name
        branches = "; ".join(", then ".join(s.name for s in branch) for branch in step.branches)
        return f"{step.name} (in parallel: {branches})"

    text = f"From the issue's opening to its resolution: {', then '.join(named(s) for s in outline.steps)}."
    if outline.with_figures:
        text += (
            f" Each task is coloured by its SLA compliance: on target from {ON_TARGET_PERCENT} %, at risk from "
            f"{AT_RISK_PERCENT} %, missing below; its figures are written in it."
        )
    return text + " The list after the diagram gives every detail."


def _n(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _wrap(text: str, width: float, size: int) -> list[str]:
    return textwrap.wrap(text, max(8, int(width / (size * CHAR_WIDTH))), break_long_words=True) or [""]


#: (text, CSS class, font size) of one paragraph of a box.
Paragraph = tuple[str, str, int]


class _Canvas:
    """The SVG elements drawn so far; each method draws at a top edge and returns its bottom edge."""

    def __init__(self, marker: str):
        self.marker = marker
        self.parts: list[str] = []

    def _text(self, x: float, y: float, width: float, paragraphs: Sequence[Paragraph], anchor: str = "") -> float:
        """Wrapped paragraphs from (x, y) as text, one `<tspan>` a line; returns the bottom."""
        middle = ' text-anchor="middle"' if anchor == "middle" else ""
        for text, css, size in paragraphs:
            lines = []
            for line in _wrap(text, width, size):
                y += size * LINE_HEIGHT
                lines.append(f'<tspan x="{_n(x)}" y="{_n(y - size * 0.3)}">{escape(line)}</tspan>')
            self.parts.append(f'<text class="{css}"{middle}>{"".join(lines)}</text>')
        return y

    @staticmethod
    def _height(width: float, paragraphs: Sequence[Paragraph]) -> float:
        return sum(len(_wrap(text, width, size)) * size * LINE_HEIGHT for text, _, size in paragraphs)

    def _rect(self, x: float, y: float, width: float, height: float, css: str, rounded: float = 4) -> None:
        self.parts.append(
            f'<rect class="{css}" x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}" '
            f'rx="{_n(rounded)}"/>'
        )

    def _line(self, x1: float, y1: float, x2: float, y2: float, css: str = "pd-arrow", head: bool = True) -> None:
        end = f' marker-end="url(#{escape(self.marker)})"' if head else ""
        self.parts.append(f'<line class="{css}" x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}"{end}/>')

    def node(self, centre: float, top: float, text: str, detail: str = "") -> float:
        """A rounded start or end node."""
        width = MAIN_WIDTH * 0.8
        paragraphs = [(text, "pd-name", NAME_SIZE)] + ([(detail, "pd-small", SMALL_SIZE)] if detail else [])
        height = self._height(width - 2 * PAD, paragraphs) + 2 * PAD
        self._rect(centre - width / 2, top, width, height, "pd-node", rounded=height / 2)
        self._text(centre, top + PAD, width - 2 * PAD, paragraphs, anchor="middle")
        return top + height

    def arrow(self, x: float, start: float, condition: str, width: float) -> float:
        """An arrow down from `start`, through a label saying when the next step runs; returns its tip."""
        if not condition:
            self._line(x, start, x, start + GAP)
            return start + GAP
        label_width = width * 0.9
        paragraphs = [(condition, "pd-condition-text", SMALL_SIZE)]
        height = self._height(label_width - 2 * PAD, paragraphs) + PAD
        top = start + GAP / 2
        self._line(x, start, x, top, head=False)
        self._rect(x - label_width / 2, top, label_width, height, "pd-condition")
        self._text(x, top + PAD / 2, label_width - 2 * PAD, paragraphs, anchor="middle")
        self._line(x, top + height, x, top + height + GAP / 2)
        return top + height + GAP / 2

    def _paragraphs(self, step: StepOutline, with_escalations: bool) -> list[Paragraph]:
        found: list[Paragraph] = [(step.name, "pd-name", NAME_SIZE), (step.kind, "pd-small", SMALL_SIZE)]
        found += [(detail, "pd-text", TEXT_SIZE) for detail in step.details]
        if with_escalations:
            found += [(_in_sentence(e), "pd-small", SMALL_SIZE) for e in step.escalations]
        if step.figures:
            found.append((step.figures, "pd-figures", TEXT_SIZE))
        return found

    def _box(self, x: float, top: float, width: float, step: StepOutline, with_escalations: bool) -> float:
        paragraphs = self._paragraphs(step, with_escalations)
        height = self._height(width - 2 * PAD, paragraphs) + 2 * PAD
        css = " ".join(c for c in ("pd-step", f"pd-{step.status}" if step.status else "") if c)
        self.parts.append(f'<g data-step="{escape(step.id)}">')
        self._rect(x, top, width, height, css)
        self._text(x + PAD, top + PAD, width - 2 * PAD, paragraphs)
        self.parts.append("</g>")
        return top + height

    def main_step(self, top: float, step: StepOutline) -> float:
        """A step of the main flow, with its escalation ladder beside it."""
        bottom = self._box(MARGIN, top, MAIN_WIDTH, step, with_escalations=False)
        if not step.escalations:
            return bottom
        link = top + 2 * PAD
        self._line(MARGIN + MAIN_WIDTH, link, LADDER_X, link, css="pd-escalation-link")
        rung = self._text(LADDER_X, top, LADDER_WIDTH, [("Escalation", "pd-small", SMALL_SIZE)])
        for number, text in enumerate(step.escalations):
            if number:
                self._line(LADDER_X + LADDER_WIDTH / 2, rung, LADDER_X + LADDER_WIDTH / 2, rung + PAD * 1.5)
                rung += PAD * 1.5
            paragraphs = [(text, "pd-rung-text", SMALL_SIZE)]
            height = self._height(LADDER_WIDTH - 2 * PAD, paragraphs) + PAD
            self._rect(LADDER_X, rung, LADDER_WIDTH, height, "pd-rung")
            self._text(LADDER_X + PAD, rung + PAD / 2, LADDER_WIDTH - 2 * PAD, paragraphs)
            rung += height
        if rung > bottom:  # the flow goes on below the ladder
            self._line(MARGIN + MAIN_WIDTH / 2, bottom, MARGIN + MAIN_WIDTH / 2, rung, head=False)
        return max(bottom, rung)

    def parallel(self, top: float, step: StepOutline) -> float:
        """A parallel step: its branches in columns between a fork bar and a join bar."""
        inner = WIDTH - 2 * MARGIN - 2 * PAD
        paragraphs: list[Paragraph] = [
            (step.name, "pd-name", NAME_SIZE),
            (f"{step.kind}: they run at the same time; the process goes on when all are done", "pd-small", SMALL_SIZE),
        ]
        header = self._height(inner, paragraphs) + 2 * PAD
        frame = len(self.parts)
        self.parts.append("")  # the frame, drawn behind the branches once its height is known
        self._text(MARGIN + PAD, top + PAD, inner, paragraphs)
        fork = top + header
        self._rect(MARGIN + PAD, fork, inner, BAR, "pd-bar", rounded=1)
        count = len(step.branches)
        width = (inner - (count - 1) * COLUMN_GAP) / count
        bottoms = []
        for index, branch in enumerate(step.branches):
            x = MARGIN + PAD + index * (width + COLUMN_GAP)
            bottom = fork + BAR
            for branch_step in branch:
                bottom = self.arrow(x + width / 2, bottom, branch_step.condition, width)
                bottom = self._box(x, bottom, width, branch_step, with_escalations=True)
            bottoms.append((x + width / 2, bottom))
        join = max(b for _, b in bottoms) + GAP
        for centre, bottom in bottoms:
            self._line(centre, bottom, centre, join)
        self._rect(MARGIN + PAD, join, inner, BAR, "pd-bar", rounded=1)
        end = join + BAR + PAD
        self.parts[frame] = (
            f'<rect class="pd-parallel" data-step="{escape(step.id)}" x="{MARGIN}" y="{_n(top)}" '
            f'width="{WIDTH - 2 * MARGIN}" height="{_n(end - top)}" rx="6"/>'
        )
        return end
