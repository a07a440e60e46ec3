import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.mail.html_text import html_to_text


def test_paragraphs_and_line_breaks():
    assert html_to_text("<p>First paragraph.</p><p>Second<br>line two</p>") == (
        "First paragraph.\n\nSecond\nline two"
    )


def test_divs_rows_and_headings_are_lines():
    html = "<h1>Order</h1><div>Item one</div><div>Item two</div><h2>Total</h2>"
    assert html_to_text(html) == "Order\n\nItem one\nItem two\n\nTotal"


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert('x')</script>Visible",
        "<style>body { color: red }</style>Visible",
        "<head><title>Title</title><meta charset=utf-8></head><body>Visible</body>",
        "<template><p>Template</p></template>Visible",
        "<!-- a comment -->Visible",
        "<!--[if mso]><p>Outlook only</p><![endif]-->Visible",
        "<SCRIPT type=text/javascript>document.write('x')</SCRIPT>Visible",
    ],
)
def test_hidden_content_is_dropped(html):
    assert html_to_text(html) == "Visible"


def test_an_unclosed_head_ends_at_the_body():
    assert html_to_text("<html><head><title>t</title><body><p>Body text</p>") == "Body text"


def test_list_items_are_dash_lines_indented_when_nested():
    html = "<p>Steps:</p><ul><li>Open the box<ul><li>Check the lid</li></ul></li><li>Call us</li></ul><p>Done</p>"
    assert html_to_text(html) == "Steps:\n\n- Open the box\n  - Check the lid\n- Call us\n\nDone"


def test_table_cells_are_separated_on_their_row():
    html = "<table><tr><th>Item</th><th>Qty</th></tr><tr><td>Lamp</td><td>2</td></tr></table>"
    assert html_to_text(html) == "Item | Qty\nLamp | 2"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ('<a href="https://example.com/track">Track it</a>', "Track it (https://example.com/track)"),
        ('<a href="https://example.com/">https://example.com</a>', "https://example.com"),
        ('<a href="mailto:help@example.org">help@example.org</a>', "help@example.org"),
        ('<a href="mailto:help@example.org">Write to us</a>', "Write to us (mailto:help@example.org)"),
        ('<a href="javascript:alert(1)">Click</a>', "Click"),
        ('<a href="data:text/html;base64,PHNjcmlwdD4=">Open</a>', "Open"),
        ('<a href="https://example.com/x"><img src="x.png"></a>', "https://example.com/x"),
        ("<a>No target</a>", "No target"),
    ],
)
def test_links(html, text):
    assert html_to_text(html) == text


def test_entities_are_decoded_and_whitespace_collapsed():
    html = "<p>Caf&eacute;&nbsp;&amp;&nbsp;bar &#8364;5 &#x2014;   done\n\n   here</p>"
    assert html_to_text(html) == "Café & bar €5 — done here"


def test_no_more_than_one_blank_line_between_blocks():
    text = html_to_text("<p>a</p><p></p><p>&nbsp;</p><br><br><br><div>b</div>")
    assert text == "a\n\nb"


def test_blockquotes_are_prefixed_for_quoted_history():
    html = "<p>My answer</p><blockquote><p>Your question</p><blockquote>Older</blockquote></blockquote>"
    assert html_to_text(html) == "My answer\n\n> Your question\n>\n> > Older"


def test_preformatted_text_keeps_its_lines_and_indentation():
    assert html_to_text("<pre>  total = 2\n  paid  = 0</pre>") == "  total = 2\n  paid  = 0"


def test_images_show_their_alt_text():
    assert html_to_text('<p>Photo: <img src="cid:a" alt="broken lid"></p>') == "Photo: [image: broken lid]"


def test_attributes_never_leak():
    text = html_to_text('<p onclick="steal()" style="color:red" title="secret">Hello</p>')
    assert text == "Hello"


@pytest.mark.parametrize(
    "html",
    [
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "<p>unclosed <b>bold <div",
        "<<script>script>alert(1)<</script>/script>",
        "<![CDATA[<b>x</b>]]>",
        "&lt;!-- not a comment --&gt; &lt;?php ?&gt;",
    ],
)
def test_text_that_looks_like_markup_is_made_inert(html):
    assert not re.search(r"<[A-Za-z/!?]", html_to_text(html))


def test_literal_less_than_signs_stay_readable():
    assert html_to_text("<p>1 &lt; 2 and 3 &gt; 2</p>") == "1 < 2 and 3 > 2"


def test_plain_text_passes_through():
    assert html_to_text("just text") == "just text"
    assert html_to_text("") == ""


TAG = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,7}", fullmatch=True)
ATTRIBUTE = st.tuples(st.from_regex(r"[a-z]{1,6}", fullmatch=True), st.text(max_size=12))


@st.composite
def html_documents(draw):
    pieces = []
    names = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 4))
        name = draw(TAG)
        names.append(name)
        if kind == 0:
            attrs = "".join(f' {k}="{v}"' for k, v in draw(st.lists(ATTRIBUTE, max_size=3)))
            pieces.append(f"<{name}{attrs}>")
        elif kind == 1:
            pieces.append(f"</{name}>")
        elif kind == 2:
            pieces.append(f"&lt;{name}&gt;")
        elif kind == 3:
            pieces.append(f"<{name}")
        else:
            pieces.append(draw(st.text(max_size=20)))
    return "".join(pieces), names


@settings(max_examples=200, deadline=None)
@given(html_documents())
def test_never_returns_a_tag_from_the_input(document):
    html, names = document
    text = html_to_text(html)
    for name in names:
        assert f"<{name.lower()}" not in text.lower()
        assert f"</{name.lower()}" not in text.lower()
    assert not re.search(r"<[A-Za-z/!?]", text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_fails_or_returns_markup(html):
    assert not re.search(r"<[A-Za-z/!?]", html_to_text(html))
