"""The admin's process diagram: every step, branch, condition and escalation of a type drawn as SVG
(and written as a list), coloured by the step figures without relying on colour, under a strict CSP."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chalicelib.api.process_diagram import process_list, process_outline, process_svg
from chalicelib.domain.issue_types import parse_issue_type, with_shared_calendars
from chalicelib.domain.kpi_rollups import StepFigures
from chalicelib.workflows.seeds import load_seed_definitions, load_shared_calendars
from tests.unit.test_contrast import contrast

SVG = "{http://www.w3.org/2000/svg}"
CSS = (Path(__file__).resolve().parents[2] / "chalicelib" / "api" / "static" / "caseflow.css").read_text()


def definition(type_id: str) -> dict:
    found = next(d for d in load_seed_definitions() if d["id"] == type_id)
    return copy.deepcopy(with_shared_calendars(found, load_shared_calendars()))


def seeded(type_id: str):
    return parse_issue_type(definition(type_id))


def parsed(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def texts(root: ET.Element) -> str:
    """Every line the diagram writes, joined with spaces (wrapped lines joined again)."""
    return " ".join(" ".join("".join(t.itertext()).split()) for t in root.iter(f"{SVG}tspan"))


def step_box(root: ET.Element, step_id: str) -> ET.Element:
    return next(g for g in root.iter(f"{SVG}g") if g.get("data-step") == step_id)


@pytest.mark.parametrize("type_id", [d["id"] for d in load_seed_definitions()])
def test_every_seeded_step_is_drawn_and_listed_in_well_formed_markup(type_id):
    issue_type = seeded(type_id)
    svg = parsed(process_svg(issue_type))
    listed = parsed(process_list(issue_type))
    drawn, written = texts(svg), " ".join("".join(listed.itertext()).split())
    for step in issue_type.all_steps():
        assert step.name in drawn
        assert step.name in written
    assert svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert issue_type.name in title.text
    assert "Issue opened" in drawn and "Resolved" in drawn


@pytest.mark.parametrize("type_id", [d["id"] for d in load_seed_definitions()])
def test_no_inline_style_reaches_the_page(type_id):
    markup = str(process_svg(seeded(type_id), {})) + str(process_list(seeded(type_id), {}))
    assert "style=" not in markup and "<style" not in markup
    classes = set(re.findall(r'class="([^"]+)"', markup))
    for css in {c for value in classes for c in value.split()} - {"process-outline"}:
        assert f".{css}" in CSS, f"{css} has no rule in caseflow.css"


def test_parallel_branches_are_side_by_side_between_a_fork_and_a_join():
    svg = parsed(process_svg(seeded("service-outage")))
    legal, comms = (step_box(svg, s).find(f"{SVG}rect") for s in ("legal_review", "comms_review"))
    assert float(legal.get("x")) != float(comms.get("x"))
    assert float(legal.get("y")) == float(comms.get("y")), "the branches start together"
    assert len([r for r in svg.iter(f"{SVG}rect") if r.get("class") == "pd-bar"]) == 2


def test_escalations_say_after_how_long_who_is_involved_and_what_else_happens():
    drawn = texts(parsed(process_svg(seeded("rude-staff"))))
    assert "Level 1, at the deadline: reassigned to role regional-manager" in drawn
    assert "Level 2, 4 h after the deadline: notifies role hr-lead; priority raised" in drawn
    outage = texts(parsed(process_svg(seeded("service-outage"))))
    assert "Level 3, 2 h after the deadline: moves on to “Tell the customer we are on it”" in outage


def test_who_acts_deadlines_calendars_and_warnings_are_written_out():
    drawn = texts(parsed(process_svg(seeded("rude-staff"))))
    assert "Who acts: the manager of the chosen “Store”, else role store-manager" in drawn
    assert "Deadline 5 h in uk-stores hours (vip: 2 h)" in drawn
    assert "Warnings at 50 % and 80 % of the deadline" in drawn
    assert "An untouched claim returns to the queue after 4 h" in drawn


def test_conditions_are_written_in_words_with_labels_not_ids():
    outage = texts(parsed(process_svg(seeded("service-outage"))))
    assert "Only if “Severity” (Technical triage) is not “Sev 3 - workaround exists”; else skipped" in outage
    billing = texts(parsed(process_svg(seeded("billing-dispute"))))
    assert "Only if “Refund (GBP)” (Billing review) is more than “100”" in billing
    assert "“The customer's reply” (Wait for the customer's answer) is answered" in billing


def test_figures_are_written_in_the_box_and_its_class_follows_the_thresholds():
    figures = {
        "manager_opinion": StepFigures(completed=10, median_seconds=11400, on_time=8, with_deadline=10, escalations=4),
        "hr_decision": StepFigures(completed=20, median_seconds=600, on_time=19, with_deadline=20).as_dict(),
    }
    svg = parsed(process_svg(seeded("rude-staff"), figures))
    opinion, decision = step_box(svg, "manager_opinion"), step_box(svg, "hr_decision")
    opinion_text = " ".join(" ".join(opinion.itertext()).split())
    for shown in ("At risk", "SLA 80 %", "median 3 h 10 min", "4 escalations", "10 completed"):
        assert shown in opinion_text
    assert "pd-at-risk" in opinion.find(f"{SVG}rect").get("class")
    assert "pd-on-target" in decision.find(f"{SVG}rect").get("class")
    assert "On target" in " ".join(decision.itertext())
    email = step_box(svg, "tell_customer").find(f"{SVG}rect").get("class")
    assert email == "pd-step", "an email step has no figures to colour it by"


@pytest.mark.parametrize(
    ("on_time", "status", "word"),
    [(90, "pd-on-target", "On target"), (89, "pd-at-risk", "At risk"), (74, "pd-missing", "Missing")],
)
def test_each_threshold_changes_the_class_and_the_word(on_time, status, word):
    figures = {"hr_decision": StepFigures(completed=100, on_time=on_time, with_deadline=100)}
    box = step_box(parsed(process_svg(seeded("rude-staff"), figures)), "hr_decision")
    assert status in box.find(f"{SVG}rect").get("class").split()
    assert word in " ".join(box.itertext())


def test_a_task_without_figures_says_so_and_no_figures_asked_for_colours_nothing():
    svg = parsed(process_svg(seeded("rude-staff"), {}))
    box = step_box(svg, "hr_decision")
    assert "pd-no-figures" in box.find(f"{SVG}rect").get("class")
    assert "No figures" in " ".join(box.itertext())
    plain = parsed(process_svg(seeded("rude-staff")))
    assert all(r.get("class") == "pd-step" for g in plain.iter(f"{SVG}g") for r in g.iter(f"{SVG}rect"))


def test_the_list_carries_the_same_facts_as_the_drawing():
    figures = {"triage": StepFigures(completed=4, median_seconds=1800, on_time=3, with_deadline=4, escalations=1)}
    outline = process_outline(seeded("service-outage"), figures)
    written = " ".join("".join(parsed(process_list(seeded("service-outage"), figures)).itertext()).split())
    review = next(s for s in outline.steps if s.id == "incident_review")
    assert [[s.name for s in branch] for branch in review.branches] == [
        ["Legal review of compensation duties"],
        ["Communications review of the public statement"],
    ]
    for step in outline.steps:
        for fact in (step.condition, *step.details, step.figures):
            assert fact in written
    assert "Escalation level 2, 1 h after the deadline: notifies team engineering-oncall; priority raised" in written
    assert "At risk · SLA 75 % (3 of 4 on time) · median 30 min · 1 escalation · 4 completed" in written


def test_admin_text_is_escaped():
    raw = definition("rude-staff")
    raw["name"] = "<script>alert(1)</script> & co"
    raw["steps"][1]["name"] = 'HR "decision" <b>'
    issue_type = parse_issue_type(raw)
    for markup in (str(process_svg(issue_type)), str(process_list(issue_type))):
        assert "<script>" not in markup and "<b>" not in markup
        root = parsed(markup)
        assert 'HR "decision" <b>' in "".join(root.itertext())
    assert "<script>alert(1)</script> & co" in parsed(process_svg(issue_type)).find(f"{SVG}title").text


def test_every_text_colour_of_the_diagram_meets_aa_on_every_fill_it_sits_on():
    block = CSS.split("/* --- process diagram --- */")[1]
    fills = dict(re.findall(r"([^{}]+)\{[^}]*?\bfill:\s*(#[0-9a-f]{6})", block))
    text_fills = [c for s, c in fills.items() if "text" in s or ".pd-small" in s or ".pd-condition-text" in s]
    shape_fills = [c for s, c in fills.items() if c not in text_fills and "arrowhead" not in s]
    assert len(text_fills) >= 3 and len(shape_fills) >= 6
    for text in text_fills:
        for shape in shape_fills:
            assert contrast(text, shape) >= 4.5, (text, shape)
