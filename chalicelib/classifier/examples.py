"""Labelled examples from CSV, and the input cleaning that training and serving share.

Kept free of scikit-learn: the numpy serving path imports `clean_text` from here, so that a text is
featurised from exactly the same characters in both places.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

MAX_CHARS = 20_000
"""Texts are cut to this many characters (after trimming surrounding whitespace) before featurising.

A customer message is a few hundred characters; 20,000 keeps every real message whole while bounding
the work (about 80,000 character n-grams) that a pasted log or an attack can cause. An exported model
records the limit it was trained with and applies that one.
"""

REQUIRED_COLUMNS = ("text", "label")


class Example(NamedTuple):
    """One labelled text: what the customer wrote and the issue type id it belongs to."""

    text: str
    label: str


class ExampleError(ValueError):
    """A CSV of examples is unusable; the message names the source and line."""


def clean_text(text: str, max_chars: int = MAX_CHARS) -> str:
    """Return the text a model featurises: trimmed and cut to `max_chars`; refuse empty text.

    Any language or script is accepted; text the model has never seen simply gets low confidence.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    text = text.strip()
    if not text:
        raise ValueError("text is empty: there is nothing to classify")
    return text[:max_chars]


def parse_examples(rows: Iterable[str], source: str = "<csv>") -> list[Example]:
    """Read examples from CSV lines with a header naming the columns `text` and `label` (others are ignored).

    Raises ExampleError naming the line for a missing column, an empty text or an empty label (for a quoted
    text spanning several lines, the line where the record ends).
    """
    reader = csv.DictReader(rows)
    header = reader.fieldnames
    if header is None:
        raise ExampleError(f"{source}, line 1: no header; expected the columns {', '.join(REQUIRED_COLUMNS)}")
    columns = [name.strip() if name else "" for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise ExampleError(f"{source}, line 1: missing column {', '.join(repr(m) for m in missing)}")
    reader.fieldnames = columns
    examples = []
    for row in reader:
        line = reader.line_num
        text = (row.get("text") or "").strip()
        label = (row.get("label") or "").strip()
        if not text:
            raise ExampleError(f"{source}, line {line}: empty text")
        if not label:
            raise ExampleError(f"{source}, line {line}: empty label")
        examples.append(Example(text, label))
    if not examples:
        raise ExampleError(f"{source}: no examples below the header")
    return examples


def read_examples(path: str | Path) -> list[Example]:
    """Read a UTF-8 CSV file of examples (a byte-order mark from spreadsheet exports is tolerated)."""
    path = Path(path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return parse_examples(handle, source=str(path))


def parse_examples_text(text: str, source: str = "<csv>") -> list[Example]:
    """Read examples from CSV content already in memory (e.g. an object fetched from a store)."""
    return parse_examples(io.StringIO(text.removeprefix("\ufeff"), newline=""), source=source)
