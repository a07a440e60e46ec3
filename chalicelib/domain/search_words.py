"""The words an issue is found by, and the words of a search, made alike.

One function, `words`, turns text into search words for both sides: what an issue is indexed under
when it opens, and what an agent types. It ignores case and accents in any language the forms
accept (`Müdür` and `MUDUR`, `İSTANBUL` and `istanbul`, `Straße` and `STRASSE`, `café` and `CAFE`),
and punctuation and emoji; it drops very short words and the commonest ones, which find everything.
Words are whole: `deliv` does not find `delivery`, and a run of Chinese or Japanese characters
without spaces is one word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

#: Letters that carry no combining mark to drop but that people type without (Turkish dotless ı, ...).
_FOLDS = str.maketrans({"ı": "i", "ø": "o", "đ": "d", "ð": "d", "ł": "l", "ħ": "h", "æ": "ae", "œ": "oe", "þ": "th"})
#: Letters and digits; an underscore or any punctuation, space or emoji separates words.
_WORD = re.compile(r"[^\W_]+")
MIN_LENGTH = 2
#: Longer runs (a pasted token, a URL's path) are cut to this, on both sides alike.
MAX_LENGTH = 40
#: The words of an issue's text that are indexed, the first ones it uses: its index entries stay few.
MAX_ISSUE_WORDS = 200
MAX_NAME_WORDS = 10
#: The commonest words of the languages the forms are used in, as `normalise` spells them.
_COMMON_WORDS = {
    "en": "the and of to in on at for is it was my me we you with that this be are not but or as by from have "
    "has had an our your they he she his her its were been am do did so if no",
    "de": "der die das und ist ein eine einen zu mit den dem des von nicht ich sie es wir auf fur im",
    "fr": "le la les de des du un une et est en pour que qui pas au aux ce il elle je nous vous sur par",
    "tr": "ve bir bu da ile icin ama cok ben",
    "es it nl": "el los las lo por con para del al il di che het een van",
}
STOP_WORDS = frozenset(word for common in _COMMON_WORDS.values() for word in common.split())


def normalise(text: str) -> str:
    """Text without accents or case: NFKD, combining marks dropped, casefolded, and the few letters
    NFKD leaves alone (ı, ø, ł, ...) folded by hand."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.casefold().translate(_FOLDS)


def words(text: str, limit: int | None = None) -> list[str]:
    """The distinct search words of `text` in the order they first appear, at most `limit`."""
    found: dict[str, None] = {}
    for match in _WORD.finditer(normalise(text)):
        word = match.group()[:MAX_LENGTH]
        if len(word) >= MIN_LENGTH and word not in STOP_WORDS:
            found.setdefault(word)
            if limit is not None and len(found) >= limit:
                break
    return list(found)


def issue_words(fields: dict[str, Any]) -> list[str]:
    """The words an issue is found by: those of the customer's text, subject and other answers
    (every text value of its fields), at most MAX_ISSUE_WORDS."""
    return words(" ".join(_texts(fields.values())), MAX_ISSUE_WORDS)


def name_words(name: str) -> list[str]:
    """The words a customer is found by in their name."""
    return words(name, MAX_NAME_WORDS)


def _texts(values: Iterable[Any]) -> Iterable[str]:
    for value in values:
        if isinstance(value, str):
            yield value
        elif isinstance(value, list | tuple):
            yield from _texts(value)
