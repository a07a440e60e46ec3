"""Markdown as sanitised HTML: what an admin writes (a help article) shown on a public page.

Rendered with raw HTML off (`markdown-it-py`), then sanitised (`nh3`) to a short list of tags and
attributes, links to http(s) and mailto only: a `<script>`, an event handler or a `javascript:` link
never reaches a page. Both libraries are imported on the first render: the functions that never
render one do not pay for them.
"""

from __future__ import annotations

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"scope"}}
URL_SCHEMES = {"http", "https", "mailto"}


def to_html(body: str) -> str:
    """Markdown as sanitised HTML: raw HTML in the Markdown is shown as text, never as markup, and
    whatever the renderer makes goes through the sanitiser's allow-list."""
    import nh3
    from markdown_it import MarkdownIt

    renderer = (
        MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
        .enable(["table", "strikethrough"])
        .disable("image")  # the pages load no outside image (CSP): an image is its link
    )
    tokens = renderer.parse(body)
    for token in tokens:  # the page's title is its one h1: the article's headings start at h2
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
    return nh3.clean(
        renderer.renderer.render(tokens, renderer.options, {}),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
