"""Help articles in the single table: one item collection, `ARTICLES` / `ARTICLE#<slug>`.

A help centre holds tens to a few hundred articles, so every read is one paginated Query of that
collection (never a Scan): the help centre's list and the admin's read it whole; matching reads it
without the bodies (a projection of the title, summary, languages, types, words and vector), about
2 KB an article. Each item carries its words (with counts) and its quantised vector, written with
the article, so matching a report form encodes only the customer's text.
"""

from __future__ import annotations

import json

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    ListAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DeleteError, PutError

from chalicelib.adapters.dynamodb.models import _Item
from chalicelib.domain.articles import Article, Candidate, summary
from chalicelib.domain.errors import NotFound
from chalicelib.services.ports import DuplicateKey

PARTITION = "ARTICLES"
PREFIX = "ARTICLE#"
#: What matching reads of an article.
_MATCHING = ["sk", "title", "summary", "languages", "issue_types", "published", "words", "v"]


class ArticleItem(_Item):
    """pk=ARTICLES, sk=ARTICLE#<slug>: a help article, its matching words (JSON) and vector (int8)."""

    title = UnicodeAttribute()
    body = UnicodeAttribute()
    summary = UnicodeAttribute()
    languages = ListAttribute(of=UnicodeAttribute)
    issue_types = ListAttribute(of=UnicodeAttribute, null=True)
    published = BooleanAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute(null=True)
    words = UnicodeAttribute()
    vector = BinaryAttribute(attr_name="v", legacy_encoding=False, null=True)


def _item(article: Article, words: dict[str, int], vector: bytes | None) -> ArticleItem:
    return ArticleItem(
        PARTITION,
        PREFIX + article.slug,
        title=article.title,
        body=article.body,
        summary=summary(article.body),
        languages=list(article.languages),
        issue_types=list(article.issue_types) or None,
        published=article.published,
        created_at=article.created_at,
        updated_at=article.updated_at,
        updated_by=article.updated_by or None,
        words=json.dumps(words, separators=(",", ":"), ensure_ascii=False),
        vector=vector,
    )


def _article(item: ArticleItem) -> Article:
    return Article(
        slug=item.sk.removeprefix(PREFIX),
        title=item.title,
        body=item.body,
        languages=tuple(item.languages or ()),
        issue_types=tuple(item.issue_types or ()),
        published=bool(item.published),
        created_at=item.created_at,
        updated_at=item.updated_at,
        updated_by=item.updated_by or "",
    )


class ArticleRepository:
    def create(self, article: Article, words: dict[str, int], vector: bytes | None) -> None:
        try:
            _item(article, words, vector).save(condition=ArticleItem.sk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise DuplicateKey([f"article {article.slug}"]) from None
            raise

    def replace(self, article: Article, words: dict[str, int], vector: bytes | None) -> None:
        try:
            _item(article, words, vector).save(condition=ArticleItem.sk.exists())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise NotFound(f"no article {article.slug!r}") from None
            raise

    def get(self, slug: str) -> Article | None:
        try:
            return _article(ArticleItem.get(PARTITION, PREFIX + slug, consistent_read=True))
        except ArticleItem.DoesNotExist:
            return None

    def delete(self, slug: str) -> bool:
        try:
            ArticleItem(PARTITION, PREFIX + slug).delete(condition=ArticleItem.sk.exists())
        except DeleteError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def all(self) -> list[Article]:
        return [_article(item) for item in ArticleItem.query(PARTITION, ArticleItem.sk.startswith(PREFIX))]

    def candidates(self) -> list[Candidate]:
        found = []
        for item in ArticleItem.query(
            PARTITION, ArticleItem.sk.startswith(PREFIX), attributes_to_get=_MATCHING, consistent_read=True
        ):
            if not item.published:
                continue
            found.append(
                Candidate(
                    slug=item.sk.removeprefix(PREFIX),
                    title=item.title,
                    summary=item.summary,
                    languages=tuple(item.languages or ()),
                    issue_types=tuple(item.issue_types or ()),
                    words=json.loads(item.words or "{}"),
                    vector=bytes(item.vector) if item.vector else None,
                )
            )
        return found
