"""HTML to safe, readable plain text, with the standard library's `html.parser` only.

Email bodies sometimes come only as HTML. Agents read plain text, so the markup is dropped, the
structure that matters for reading (paragraphs, list items, table rows, links, quoted blocks) is
kept as line breaks, "- " items, "text (url)" and "> " prefixes.
"""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

_DROPPED = frozenset({"script", "style", "head", "template", "title", "noscript", "object", "iframe", "svg", "math"})
#: Elements that end the current line.
_BREAKS = frozenset(
    {
        "div", "li", "tr", "dt", "dd", "section", "article", "header", "footer", "nav", "main", "aside",
        "form", "fieldset", "figure", "figcaption", "address", "center", "caption", "details", "summary",
    }
)  # fmt: skip
#: Elements set apart from their neighbours by a blank line.
_PARAGRAPHS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol", "dl", "pre", "hr"}
)
#: Deeper quotes and lists are shown at this depth.
_MAX_DEPTH = 10
_SAFE_SCHEMES = ("http://", "https://", "mailto:")
_SPACES = re.compile(r"\s+")
#: `<` that could start a tag, a comment or a declaration if the text were read as HTML again.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class _TextWriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        #: Finished lines as (quote depth, text); an empty text is a blank line.
        self.lines: list[tuple[int, str]] = []
        self._inline: list[str] = []
        self._skip: list[str] = []
        self._skipping: Counter[str] = Counter()
        self._quote = 0
        self._pre = 0
        self._lists = 0
        self._links: list[tuple[str | None, int]] = []
        self._cells = 0
        self._bullet = ""
        self._has_text = False

    # -- lines

    def _flush(self) -> None:
        text = "".join(self._inline)
        self._inline = []
        self._has_text = False
        if self._links:
            self._links = [(href, 0) for href, _ in self._links]
        if self._pre:
            for line in text.split("\n"):
                self.lines.append((self._quote, line.rstrip()))
            return
        text = _SPACES.sub(" ", text).strip()
        if text:
            self.lines.append((self._quote, self._bullet + text))
            self._bullet = ""

    def _blank(self) -> None:
        self._flush()
        if self.lines and self.lines[-1][1]:
            self.lines.append((self._quote, ""))

    # -- parser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" and self._skipping["head"]:
            self._skip = [t for t in self._skip if t != "head"]
            self._skipping["head"] = 0
        if tag in _DROPPED:
            self._skip.append(tag)
            self._skipping[tag] += 1
            return
        if self._skip:
            return
        if tag == "br":
            if self._has_text:
                self._flush()
            else:
                self._inline = []
                self.lines.append((self._quote, ""))
            return
        if tag in _PARAGRAPHS and not (tag in ("ul", "ol") and self._lists):
            self._blank()
        elif tag in _BREAKS or tag in _PARAGRAPHS:
            self._flush()
        if tag == "blockquote":
            self._quote += 1
        elif tag == "pre":
            self._pre += 1
        elif tag in ("ul", "ol"):
            self._lists += 1
        elif tag == "li":
            self._bullet = "  " * min(max(self._lists - 1, 0), _MAX_DEPTH) + "- "
        elif tag == "tr":
            self._cells = 0
        elif tag in ("td", "th"):
            if self._cells and self._has_text:
                self._inline.append(" | ")
            self._cells += 1
        elif tag == "a":
            while self._links:
                self._end_link()
            href = dict(attrs).get("href")
            self._links.append((href.strip() if href else None, len(self._inline)))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self._inline.append(f" [image: {alt}] ")
                self._has_text = True

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img", "hr"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            while self._skipping[tag] and self._skip:
                dropped = self._skip.pop()
                self._skipping[dropped] -= 1
                if dropped == tag:
                    break
            return
        if tag == "a" and self._links:
            self._end_link()
        elif tag in _PARAGRAPHS and not (tag in ("ul", "ol") and self._lists > 1):
            self._blank()
        elif tag in _BREAKS or tag in _PARAGRAPHS:
            self._flush()
        if tag == "blockquote" and self._quote:
            self._blank()
            self._quote -= 1
        elif tag == "pre" and self._pre:
            self._pre -= 1
        elif tag in ("ul", "ol") and self._lists:
            self._lists -= 1
        elif tag == "li":
            self._bullet = ""

    def _end_link(self) -> None:
        href, start = self._links.pop()
        if not href or not href.lower().startswith(_SAFE_SCHEMES):
            return
        start = min(start, len(self._inline))
        label = _SPACES.sub(" ", "".join(self._inline[start:])).strip()
        bare = href[7:] if href.lower().startswith("mailto:") else href
        if label.rstrip("/") in (href.rstrip("/"), bare.rstrip("/")):
            return
        self._inline.append(f" ({href})" if label else href)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre and "\n" in data:
            head, *rest = data.split("\n")
            self._inline.append(head)
            for line in rest:
                self._flush()
                self._inline.append(line)
            data = rest[-1]
        else:
            self._inline.append(data)
        if not self._has_text and data.strip():
            self._has_text = True

    def close(self) -> None:
        super().close()
        while self._links:
            self._end_link()
        self._flush()


def _render(lines: list[tuple[int, str]]) -> str:
    """Join lines with their "> " prefixes; blank lines collapse to one, quoted only inside a quote."""
    out: list[str] = []
    previous_depth: int | None = None
    blank = False
    for depth, text in lines:
        if not text.strip():
            blank = previous_depth is not None
            continue
        if blank:
            out.append(("> " * min(previous_depth or 0, depth, _MAX_DEPTH)).rstrip())
            blank = False
        out.append("> " * min(depth, _MAX_DEPTH) + text)
        previous_depth = depth
    return "\n".join(out)


def html_to_text(html: str) -> str:
    """Plain text for an HTML document or fragment; never returns markup.

    Scripts, styles, the head and comments are dropped; paragraphs, rows and items become lines;
    links read "text (url)" for http(s) and mailto targets only; `<blockquote>` lines start with
    "> " so that quoted history can be told apart. A "<" that could open a tag is followed by a
    space, so the result stays inert even if it were rendered as HTML.
    """
    writer = _TextWriter()
    try:
        writer.feed(html)
        writer.close()
    except Exception:  # a parser bug must not lose the text read so far
        writer._flush()
    text = _render(writer.lines)
    text = _CONTROL.sub("", text.replace("\r", ""))
    return _TAG_START.sub("< ", text)
