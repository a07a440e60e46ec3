"""Help articles: what an admin writes, how it is checked and rendered, and how a customer's words
find the articles that may answer them before a report is filed (deflection).

An article's body is Markdown; `chalicelib.markup.markdown` renders it to sanitised HTML where a
page shows it.

Matching has two halves that add up: word matching (TF-IDF over the candidate articles, words made
alike by `search_words`), which works everywhere, and the sentence encoder's cosine, when the
function has the encoder. No I/O here.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain import search_words
from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.type_texts import LANGUAGES

TITLE_LENGTH = 200
BODY_LENGTH = 20_000
SLUG_LENGTH = 80
#: The most issue types one article answers.
MAX_TYPES = 50
#: Slugs that are pages of their own (`/help/search`, `/desk/admin/articles/new`).
RESERVED_SLUGS = frozenset({"search", "new"})
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: Articles shown on a report form at most.
SUGGESTIONS = 3
#: The words of an article's title count this many times its body's.
TITLE_WEIGHT = 3
#: Words kept per article for matching (the commonest first).
MAX_ARTICLE_WORDS = 300
#: A match is shown when its words score this much (TF-IDF cosine)...
MIN_WORD_SCORE = 0.12
#: ... or the encoder finds the texts this close (cosine of all-MiniLM-L6-v2 vectors).
MIN_VECTOR_SCORE = 0.45
#: How the two halves add up when both are there.
VECTOR_WEIGHT = 0.6
SUMMARY_LENGTH = 200
#: What a customer types that is matched: too little text matches everything.
MIN_QUERY_WORDS = 2
QUERY_LENGTH = 2_000


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    body: str
    languages: tuple[str, ...]
    #: The issue types it answers; none: a general article, offered on every form.
    issue_types: tuple[str, ...]
    published: bool
    created_at: datetime
    updated_at: datetime
    updated_by: str = ""

    @property
    def general(self) -> bool:
        return not self.issue_types

    def answers(self, type_id: str) -> bool:
        return self.general or type_id in self.issue_types

    def as_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "title": self.title,
            "body": self.body,
            "languages": list(self.languages),
            "issue_types": list(self.issue_types),
            "published": self.published,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "updated_by": self.updated_by,
        }

    def summary(self) -> str:
        return summary(self.body)


@dataclass(frozen=True)
class Candidate:
    """What matching reads of a published article: its words (with counts) and its vector, if kept."""

    slug: str
    title: str
    summary: str
    languages: tuple[str, ...]
    issue_types: tuple[str, ...]
    words: Mapping[str, int]
    vector: bytes | None = None

    def answers(self, type_id: str | None) -> bool:
        return type_id is None or not self.issue_types or type_id in self.issue_types


@dataclass(frozen=True)
class Match:
    slug: str
    score: float
    word_score: float
    vector_score: float | None = None


@dataclass
class ArticleInput:
    """A checked request to write an article."""

    slug: str
    title: str
    body: str
    languages: tuple[str, ...]
    issue_types: tuple[str, ...]
    published: bool
    errors: list[FieldError] = field(default_factory=list)


# --- checking what an admin sends -----------------------------------------------------------------


def slug_of(title: str) -> str:
    """A slug made from a title: its search words joined by hyphens (accents folded), cut short."""
    words = re.findall(r"[a-z0-9]+", search_words.normalise(title))
    slug = "-".join(words)[:SLUG_LENGTH].strip("-")
    return slug


def check(raw: Any, known_types: Iterable[str], *, slug: str | None = None) -> ArticleInput:
    """An admin's article as sent: every bad field named at once (ValidationFailed), else the values.

    `slug` is the article's own when it is replaced (PUT): a slug in the body must then be the same.
    """
    if not isinstance(raw, dict):
        raise ValidationFailed([FieldError("body", "must be a JSON object")])
    errors: list[FieldError] = []
    known = set(known_types)
    unknown = sorted(set(raw) - {"slug", "title", "body", "languages", "issue_types", "published"})
    for name in unknown:
        errors.append(FieldError(name, "is not a field of an article"))
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        errors.append(FieldError("title", "is required"))
        title = ""
    elif len(title) > TITLE_LENGTH:
        errors.append(FieldError("title", f"must be at most {TITLE_LENGTH} characters"))
    body = raw.get("body")
    if not isinstance(body, str) or not body.strip():
        errors.append(FieldError("body", "is required (Markdown)"))
        body = ""
    elif len(body) > BODY_LENGTH:
        errors.append(FieldError("body", f"must be at most {BODY_LENGTH} characters"))
    chosen = _slug(raw.get("slug"), title, slug, errors)
    languages = _listed(raw.get("languages", ["en"]), "languages", errors)
    bad = [lang for lang in languages if lang not in LANGUAGES]
    if bad:
        errors.append(FieldError("languages", f"unknown language {bad[0]!r}: use {', '.join(LANGUAGES)}"))
    elif "languages" in raw and not languages:
        errors.append(FieldError("languages", "name at least one language"))
    types = _listed(raw.get("issue_types", []), "issue_types", errors)
    missing = [t for t in types if t not in known]
    if missing:
        errors.append(FieldError("issue_types", f"unknown issue type {missing[0]!r}"))
    if len(types) > MAX_TYPES:
        errors.append(FieldError("issue_types", f"at most {MAX_TYPES}"))
    published = raw.get("published", True)
    if not isinstance(published, bool):
        errors.append(FieldError("published", "must be true or false"))
        published = False
    if errors:
        raise ValidationFailed(errors)
    return ArticleInput(
        slug=chosen,
        title=title.strip(),
        body=body,
        languages=tuple(dict.fromkeys(languages or ["en"])),
        issue_types=tuple(dict.fromkeys(types)),
        published=published,
    )


def _slug(raw: Any, title: str, own: str | None, errors: list[FieldError]) -> str:
    if raw is None or raw == "":
        if own is not None:
            return own
        made = slug_of(title)
        if title and (not made or made in RESERVED_SLUGS):
            errors.append(FieldError("slug", "give a slug: none can be made from this title"))
        return made
    if not isinstance(raw, str) or not _SLUG.match(raw) or len(raw) > SLUG_LENGTH:
        errors.append(FieldError("slug", f"must be lower-kebab-case (a-z, 0-9, -), at most {SLUG_LENGTH} characters"))
        return ""
    if raw in RESERVED_SLUGS:
        errors.append(FieldError("slug", f"{raw!r} is reserved"))
    if own is not None and raw != own:
        errors.append(FieldError("slug", f"must be {own!r}, the article's own (create a new article to rename it)"))
    return raw


def _listed(raw: Any, name: str, errors: list[FieldError]) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        errors.append(FieldError(name, "must be a list of strings"))
        return []
    return [item.strip() for item in raw if item.strip()]


def plain_text(body: str) -> str:
    """The article's words without Markdown's marks: what a summary shows."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", body)
    text = re.sub(r"[#>*_`|~]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def summary(body: str, limit: int = SUMMARY_LENGTH) -> str:
    line = plain_text(body)
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"


def encoder_text(title: str, body: str) -> str:
    """What the encoder reads of an article: its title, then the start of its text."""
    return f"{title}\n{plain_text(body)}"[:QUERY_LENGTH]


# --- matching -------------------------------------------------------------------------------------


def article_words(title: str, body: str) -> dict[str, int]:
    """An article's words with their weight: each use in the body counts 1, in the title TITLE_WEIGHT."""
    counts: Counter[str] = Counter()
    for word in _all_words(plain_text(body)):
        counts[word] += 1
    for word in _all_words(title):
        counts[word] += TITLE_WEIGHT
    return dict(counts.most_common(MAX_ARTICLE_WORDS))


def _all_words(text: str) -> list[str]:
    """Every search word of `text`, repeats kept (`search_words.words` keeps each once)."""
    found = []
    for match in re.finditer(r"[^\W_]+", search_words.normalise(text)):
        word = match.group()[: search_words.MAX_LENGTH]
        if len(word) >= search_words.MIN_LENGTH and word not in search_words.STOP_WORDS:
            found.append(_stem(word))
    return found


def _stem(word: str) -> str:
    """A light stemmer, the same on both sides: "refunds" finds "refund", "delivered" "delivery"."""
    for suffix in ("ies", "ing", "ed", "es", "s", "y"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def query_words(text: str) -> Counter[str]:
    return Counter(_all_words(text[:QUERY_LENGTH]))


def word_scores(query: Mapping[str, int], candidates: Sequence[Candidate]) -> dict[str, float]:
    """TF-IDF cosine of the query to each candidate, over the candidates themselves: a word every
    article uses weighs little, a word one article uses weighs much. Sub-linear term frequency."""
    if not query or not candidates:
        return {c.slug: 0.0 for c in candidates}
    total = len(candidates)
    frequency: Counter[str] = Counter()
    for candidate in candidates:
        frequency.update(candidate.words.keys())

    def idf(word: str) -> float:
        return math.log((1 + total) / (1 + frequency.get(word, 0))) + 1.0

    def weights(counts: Mapping[str, int]) -> dict[str, float]:
        return {w: (1.0 + math.log(c)) * idf(w) for w, c in counts.items() if c > 0}

    wanted = weights(query)
    wanted_norm = math.sqrt(sum(v * v for v in wanted.values())) or 1.0
    scores = {}
    for candidate in candidates:
        theirs = weights(candidate.words)
        norm = math.sqrt(sum(v * v for v in theirs.values())) or 1.0
        dot = sum(v * theirs.get(w, 0.0) for w, v in wanted.items())
        scores[candidate.slug] = dot / (wanted_norm * norm)
    return scores


def vector_scores(query_vector: Any, candidates: Sequence[Candidate]) -> dict[str, float]:
    """Cosine of the query's vector to each candidate's stored (quantised) vector."""
    from chalicelib.domain import similarity

    kept = [(c.slug, c.vector) for c in candidates if c.vector]
    if query_vector is None or not kept:
        return {}
    ranked = similarity.rank(query_vector, similarity.Candidates.of(kept), limit=len(kept))
    return dict(ranked)


def rank(
    text: str,
    candidates: Sequence[Candidate],
    query_vector: Any = None,
    *,
    limit: int = SUGGESTIONS,
    type_id: str | None = None,
    language: str | None = None,
) -> list[Match]:
    """The candidates that may answer `text`, best first, at most `limit`: those of the type (and
    the general ones) in the language, whose words or vector come close enough."""
    chosen = [c for c in candidates if c.answers(type_id) and (language is None or language in c.languages)]
    query = query_words(text)
    if len(query) < MIN_QUERY_WORDS and query_vector is None:
        return []
    words = word_scores(query, chosen)
    vectors = vector_scores(query_vector, chosen)
    found = []
    for candidate in chosen:
        word_score = words.get(candidate.slug, 0.0)
        vector_score = vectors.get(candidate.slug)
        if vector_score is None:
            score, close = word_score, word_score >= MIN_WORD_SCORE
        else:
            score = VECTOR_WEIGHT * vector_score + (1 - VECTOR_WEIGHT) * word_score
            close = word_score >= MIN_WORD_SCORE or vector_score >= MIN_VECTOR_SCORE
        if close:
            found.append(Match(candidate.slug, round(score, 4), round(word_score, 4), vector_score))
    found.sort(key=lambda m: (-m.score, m.slug))
    return found[:limit]
