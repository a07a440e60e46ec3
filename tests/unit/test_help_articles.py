"""Help articles in plain Python: checking what an admin sends, rendering Markdown to sanitised
HTML, matching a customer's words to articles (with and without the encoder), and the deflection KPIs."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from chalicelib.domain import articles, kpi_events, kpi_rollups, similarity
from chalicelib.domain.articles import Candidate
from chalicelib.domain.errors import ValidationFailed
from chalicelib.markup import markdown
from chalicelib.reporting import html
from tests.fakes import HashedWordsEncoder

AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


# --- rendering and sanitising ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        "text <script src=https://evil.example/x.js></script>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "[x](vbscript:msgbox(1)) [y](data:text/html;base64,PHNjcmlwdD4=)",
        '<img src=x onerror="alert(1)">',
        "![img](javascript:alert(1))",
        '<iframe src="https://evil.example"></iframe>',
        "[ref]\n\n[ref]: javascript:alert(1)",
    ],
)
def test_no_script_or_javascript_link_survives(body):
    rendered = markdown.to_html(body).lower()
    assert "<script" not in rendered and "<iframe" not in rendered and "<img" not in rendered
    assert not re.search(r'<a [^>]*href="(?!https?:|mailto:)', rendered)  # links to http(s) and mailto only
    assert not re.search(r"<[a-z]+[^>]* on[a-z]+=", rendered)  # no event handler on any tag


def test_markdown_renders_headings_lists_links_and_tables():
    rendered = markdown.to_html(
        "# Title\n\nSome **bold** and [a link](https://example.com/x).\n\n- one\n- two\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert "<h2>Title</h2>" in rendered  # the page's title is its h1
    assert "<strong>bold</strong>" in rendered and "<li>one</li>" in rendered and "<td>1</td>" in rendered
    assert '<a href="https://example.com/x" rel="noopener noreferrer nofollow">a link</a>' in rendered


def test_check_names_every_bad_field():
    with pytest.raises(ValidationFailed) as raised:
        articles.check(
            {"title": "", "body": 3, "languages": ["en", "xx"], "issue_types": ["nope"], "slug": "Bad!", "extra": 1},
            ["rude-staff"],
        )
    named = {e.field for e in raised.value.errors}
    assert {"title", "body", "languages", "issue_types", "slug", "extra"} <= named


def test_check_makes_a_slug_from_the_title_and_keeps_an_articles_own():
    checked = articles.check({"title": "Wo ist mein Paket?", "body": "Text"}, [])
    assert checked.slug == "wo-ist-mein-paket" and checked.languages == ("en",) and checked.published
    with pytest.raises(ValidationFailed) as raised:
        articles.check({"title": "T", "body": "B", "slug": "other"}, [], slug="mine")
    assert raised.value.errors[0].field == "slug"
    with pytest.raises(ValidationFailed):
        articles.check({"title": "T", "body": "B", "slug": "search"}, [])


# --- matching -------------------------------------------------------------------------------------


def _candidate(slug: str, title: str, body: str, types: tuple[str, ...] = (), vector: bytes | None = None):
    return Candidate(slug, title, articles.summary(body), ("en",), types, articles.article_words(title, body), vector)


REFUND = _candidate("refunds", "Refunds for late parcels", "A late parcel's delivery charge is refunded.", ("parcels",))
PASSWORD = _candidate("password", "Resetting your password", "Choose 'forgot password' on the sign-in page.")
RETURNS = _candidate("returns", "Returning an item", "Return an item within 30 days for a refund.", ("returns",))


def test_word_matching_ranks_the_article_that_shares_the_rare_words():
    found = articles.rank("My parcel is late, can I get the delivery charge refunded?", [REFUND, PASSWORD])
    assert [m.slug for m in found] == ["refunds"]


def test_matching_keeps_to_the_forms_type_and_general_articles():
    text = "I forgot my password and want a refund for my late parcel"
    found = {m.slug for m in articles.rank(text, [REFUND, PASSWORD, RETURNS], type_id="parcels")}
    assert "returns" not in found and {"refunds", "password"} <= found


def test_unrelated_or_too_short_text_matches_nothing():
    assert articles.rank("The courier shouted at my neighbour", [REFUND, PASSWORD]) == []
    assert articles.rank("hi", [REFUND, PASSWORD]) == []


def test_at_most_three_are_shown():
    many = [_candidate(f"a{n}", f"Parcel refund {n}", "parcel refund delivery late") for n in range(6)]
    assert len(articles.rank("parcel refund late delivery", many)) == articles.SUGGESTIONS


def test_the_encoders_vectors_add_to_the_words():
    encoder = HashedWordsEncoder()
    with_vectors = [
        _candidate(c.slug, c.title, "", c.issue_types, similarity.quantise(encoder.encode([c.title])[0]))
        for c in (REFUND, PASSWORD)
    ]
    [query] = encoder.encode(["Refunds for late parcels please"])
    found = articles.rank("Refunds for late parcels please", with_vectors, query)
    assert found[0].slug == "refunds" and found[0].vector_score is not None and found[0].vector_score > 0.5


# --- KPIs -----------------------------------------------------------------------------------------


def test_deflections_and_reports_filed_anyway_make_the_rate_and_the_article_tables():
    events = [
        kpi_events.deflected("s1", "parcels", "web", "refunds", AT),
        kpi_events.deflected("s2", "parcels", "web", "refunds", AT),
        kpi_events.deflected("s3", "parcels", "web", "password", AT),
        kpi_events.filed_after_articles("i1", "parcels", "web", ["refunds", "password"], AT),
    ]
    stored = {k: kpi_rollups.Aggregate.from_dict(v.as_dict()) for k, v in kpi_rollups.fold(events).items()}
    report = kpi_rollups.report(stored, date(2026, 11, 2), date(2026, 11, 2), date(2026, 11, 3))
    totals = report["totals"]
    assert totals["deflections"] == 3 and totals["filed_after_articles"] == 1
    assert totals["deflection_rate_percent"] == 75.0
    assert [r["article"] for r in report["articles"]["deflecting_most"]] == ["refunds", "password"]
    assert report["articles"]["deflecting_most"][0]["deflection_rate_percent"] == pytest.approx(66.7)
    assert {r["article"] for r in report["articles"]["failing_most"]} == {"refunds", "password"}
    page = html.body(report, AT)
    assert 'data-kpi="deflections"' in page and 'data-kpi="deflection-rate"' in page
    assert '<th scope="row">refunds</th>' in page


def test_no_forms_with_articles_gives_no_rate():
    figures = kpi_rollups.figures(kpi_rollups.Aggregate())
    assert figures["deflections"] == 0 and figures["deflection_rate_percent"] is None


def test_a_deflection_event_round_trips_and_is_keyed_by_its_form():
    event = kpi_events.deflected("sub-1", "parcels", "web", "refunds", AT)
    assert kpi_events.KpiEvent.from_dict(event.as_dict()) == event
    assert event.key == "deflected#sub-1"
