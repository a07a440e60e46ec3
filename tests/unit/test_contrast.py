"""WCAG AA contrast of the site's colours: every text colour in the stylesheet against the
backgrounds it is shown on (at least 4.5:1 for normal text)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parents[2] / "chalicelib" / "api" / "static" / "caseflow.css").read_text()
RULE = re.compile(r"([^{}]+)\{([^}]*)\}")
HEX = r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b"


def luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def declared(prop: str) -> list[tuple[str, str]]:
    """(selector, colour) for every rule that sets `prop` to a hex colour."""
    found = []
    for selectors, body in RULE.findall(CSS):
        for match in re.finditer(rf"(?:^|;)\s*{prop}\s*:\s*({HEX})", body):
            found.append((selectors.strip(), match.group(1)))
    return found


BACKGROUNDS = ["#ffffff"] + [colour for _, colour in declared("background(?:-color)?") if luminance(colour) > 0.5]
TEXT = [(s, c) for s, c in declared("color") if luminance(c) < 0.5]


def test_the_stylesheet_declares_the_colours_it_is_judged_on():
    assert TEXT and len(BACKGROUNDS) > 1


@pytest.mark.parametrize(("selector", "colour"), TEXT)
def test_dark_text_is_readable_on_every_light_background(selector, colour):
    worst = min(contrast(colour, background) for background in BACKGROUNDS)
    assert worst >= 4.5, f"{selector} {colour}: {worst:.2f}:1"


@pytest.mark.parametrize(
    ("selector", "background"),
    [(s, c) for s, c in declared("background(?:-color)?") if luminance(c) < 0.2],
)
def test_white_text_is_readable_on_dark_buttons_and_panels(selector, background):
    assert contrast("#ffffff", background) >= 4.5, selector
