"""Help articles: admins write them, the help centre shows them, report forms offer them.

Admins (role `admin`) create, replace and delete articles; each save keeps the article's words and,
when the function has the sentence encoder, its vector, so a report form encodes only the
customer's text. The help centre lists and searches the published ones. A report form asks for the
articles that may answer what the customer typed (`suggestions`: the form's type's articles and the
general ones); "This answered my question" is a deflection, and a report filed after articles were
shown counts against them (KPI events, docs/kpis.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from chalicelib.domain import articles as rules
from chalicelib.domain import kpi_events, similarity
from chalicelib.domain.agents import ADMIN_ROLE, Agent
from chalicelib.domain.articles import Article, Candidate
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.issues import WEB
from chalicelib.markup import markdown
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.kpi_recorder import KpiRecorder
from chalicelib.services.ports import ArticleRepository, DuplicateKey, TextEncoder

logger = logging.getLogger(__name__)


class ArticleService:
    def __init__(
        self,
        articles: ArticleRepository,
        issue_types: IssueTypeService,
        encoder: TextEncoder | None = None,
        kpis: KpiRecorder | None = None,
        clock: Clock = utc_now,
    ):
        self._articles = articles
        self._types = issue_types
        self._encoder = encoder
        self._kpis = kpis or KpiRecorder()
        self._clock = clock

    # --- admins ---------------------------------------------------------------------------------

    def list_for_admin(self, agent: Agent) -> list[dict[str, Any]]:
        agent.require_role(ADMIN_ROLE)
        return [_for_admin(article) for article in self._articles.all()]

    def get_for_admin(self, slug: str, agent: Agent) -> dict[str, Any]:
        agent.require_role(ADMIN_ROLE)
        return _for_admin(self._existing(slug))

    def create(self, raw: Any, agent: Agent) -> dict[str, Any]:
        """A new article; 400 naming each bad field, 409 if its slug is taken."""
        agent.require_role(ADMIN_ROLE)
        checked = rules.check(raw, self._type_ids())
        now = self._clock()
        article = Article(
            slug=checked.slug,
            title=checked.title,
            body=checked.body,
            languages=checked.languages,
            issue_types=checked.issue_types,
            published=checked.published,
            created_at=now,
            updated_at=now,
            updated_by=agent.username,
        )
        try:
            self._articles.create(article, *self._matching(article))
        except DuplicateKey:
            raise Conflict(f"an article {article.slug!r} exists: choose another slug, or PUT to replace it") from None
        return _for_admin(article)

    def replace(self, slug: str, raw: Any, agent: Agent) -> dict[str, Any]:
        """The article replaced whole by what was sent (its slug and creation kept); 404 if none."""
        agent.require_role(ADMIN_ROLE)
        existing = self._existing(slug)
        checked = rules.check(raw, self._type_ids(), slug=existing.slug)
        article = Article(
            slug=existing.slug,
            title=checked.title,
            body=checked.body,
            languages=checked.languages,
            issue_types=checked.issue_types,
            published=checked.published,
            created_at=existing.created_at,
            updated_at=self._clock(),
            updated_by=agent.username,
        )
        self._articles.replace(article, *self._matching(article))
        return _for_admin(article)

    def delete(self, slug: str, agent: Agent) -> dict[str, Any]:
        agent.require_role(ADMIN_ROLE)
        if not self._articles.delete(slug):
            raise NotFound(f"no article {slug!r}")
        return {"slug": slug, "deleted": True}

    def type_choices(self) -> list[tuple[str, str]]:
        """The issue types an article may answer: (id, name), by name."""
        return sorted(((t.id, t.name) for t in self._types.list_current()), key=lambda pair: pair[1].lower())

    # --- the help centre ------------------------------------------------------------------------

    def published(self, language: str | None = None) -> list[Article]:
        """The published articles, in `language` if given, by title."""
        found = [a for a in self._articles.all() if a.published and (not language or language in a.languages)]
        return sorted(found, key=lambda a: a.title.lower())

    def article(self, slug: str) -> Article:
        """A published article; NotFound for one that is not (or not yet) published."""
        article = self._articles.get(slug) if rules.RESERVED_SLUGS.isdisjoint({slug}) else None
        if article is None or not article.published:
            raise NotFound(f"no article {slug!r}")
        return article

    def search(self, text: str, language: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """Published articles matching the words (and meaning) of `text`, best first."""
        return self._matches(text, None, language, limit)

    # --- report forms ---------------------------------------------------------------------------

    def suggestions(self, type_id: str, text: str, limit: int = rules.SUGGESTIONS) -> list[dict[str, Any]]:
        """At most `limit` published articles of the type (or general) that may answer `text`.
        Never fails a form: a failure is logged and offers nothing."""
        try:
            return self._matches(text, type_id, None, limit)
        except Exception:
            logger.exception("could not match help articles for a %s form", type_id)
            return []

    def shown(self, slugs: Iterable[str], type_id: str) -> list[str]:
        """Of the slugs a form says it showed, those of published articles for the type (at most
        SUGGESTIONS): what a form sends back is not trusted further."""
        wanted = list(dict.fromkeys(s for s in slugs if s))[: rules.SUGGESTIONS]
        if not wanted:
            return []
        known = {c.slug for c in self._articles.candidates() if c.answers(type_id)}
        return [s for s in wanted if s in known]

    def record_deflection(self, type_id: str, slug: str, submission_id: str) -> Article:
        """ "This answered my question": one deflection per form (its submission id), nothing filed."""
        article = self.article(slug)
        if not article.answers(type_id):
            raise NotFound(f"article {slug!r} does not answer {type_id!r} reports")
        self._kpis.record(kpi_events.deflected(submission_id, type_id, WEB, slug, self._clock()))
        return article

    def record_filed_after(self, type_id: str, issue_id: str, slugs: list[str]) -> None:
        """A report filed after the form showed these articles: they did not answer it."""
        if not slugs:
            return
        try:
            self._kpis.record(kpi_events.filed_after_articles(issue_id, type_id, WEB, slugs, self._clock()))
        except Exception:
            logger.exception("could not record the articles shown before issue %s", issue_id)

    # --- inside ---------------------------------------------------------------------------------

    def _matches(self, text: str, type_id: str | None, language: str | None, limit: int) -> list[dict[str, Any]]:
        text = (text or "").strip()[: rules.QUERY_LENGTH]
        if not text:
            return []
        candidates = self._articles.candidates()
        if not candidates:
            return []
        vector = None
        if self._encoder is not None and any(c.vector for c in candidates):
            [vector] = self._encoder.encode([text])
        by_slug = {c.slug: c for c in candidates}
        ranked = rules.rank(text, candidates, vector, limit=limit, type_id=type_id, language=language)
        return [_shown(by_slug[m.slug], m.score) for m in ranked]

    def _matching(self, article: Article) -> tuple[dict[str, int], bytes | None]:
        words = rules.article_words(article.title, article.body)
        vector = None
        if self._encoder is not None:
            try:
                [encoded] = self._encoder.encode([rules.encoder_text(article.title, article.body)])
                vector = similarity.quantise(encoded)
            except Exception:
                logger.exception("could not encode article %s: it matches by its words only", article.slug)
        return words, vector

    def _existing(self, slug: str) -> Article:
        article = self._articles.get(slug)
        if article is None:
            raise NotFound(f"no article {slug!r}")
        return article

    def _type_ids(self) -> list[str]:
        return [t.id for t in self._types.list_current()]


def _shown(candidate: Candidate, score: float) -> dict[str, Any]:
    return {
        "slug": candidate.slug,
        "title": candidate.title,
        "summary": candidate.summary,
        "url": f"/help/{candidate.slug}",
        "score": score,
    }


def _for_admin(article: Article) -> dict[str, Any]:
    """An article as the admin API and the workspace show it: its Markdown and the HTML it renders to."""
    return {**article.as_dict(), "html": markdown.to_html(article.body)}
