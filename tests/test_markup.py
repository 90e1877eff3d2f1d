"""The one Markdown sanitiser (storykit.markup), against rows 9, 10, 11 and 39 of the
bad-input catalogue (research/security.md, section 5): hostile HTML is stripped, unsafe link
schemes lose their href, inline styles go, and pathological Markdown takes bounded time."""

from __future__ import annotations

import re
import time

import pytest
from browser_support import tags_of
from hypothesis import example, given, settings
from hypothesis import strategies as st

from storykit.markup import (
    ALLOWED_CLASSES,
    ID_PREFIX,
    MAX_MARKDOWN,
    MarkdownTooComplex,
    MarkdownTooLong,
    markdown_inline,
    plain_text,
    render_markdown,
    sanitise,
)

HOSTILE_TAG = re.compile(r"<\s*/?\s*(script|img|svg|iframe|form|input|base|meta|object|embed|math|"
                         r"template|style)\b", re.I)


def assert_inert(html: str) -> None:
    """No element or attribute that can run code, load something, or change the page."""
    for tag, attrs in tags_of(str(html)):
        assert tag not in {"script", "iframe", "svg", "math", "object", "embed", "form", "input",
                           "base", "meta", "link", "style", "img", "frame", "frameset",
                           "template", "noscript", "textarea", "button", "video", "audio"}, tag
        assert not any(name.startswith("on") for name in attrs), attrs
        assert "style" not in attrs and "srcset" not in attrs and "src" not in attrs, attrs
        assert safe_href((attrs.get("href") or "").strip()), attrs
        assert not own_page_name(tag, attrs), attrs


FOOTNOTE_CLASSES = set().union(*ALLOWED_CLASSES.values())


def own_page_name(tag: str, attrs: dict) -> bool:
    """An id, class or in-page link that could be one of the surrounding page's."""
    href = attrs.get("href") or ""
    return (("id" in attrs and not attrs["id"].startswith(ID_PREFIX))
            or not set((attrs.get("class") or "").split()) <= FOOTNOTE_CLASSES
            or (href.startswith("#") and not href.startswith("#" + ID_PREFIX)))


def safe_href(href: str) -> bool:
    """Empty, an allowed scheme, or relative, read as a browser's URL parser reads it
    (leading controls and spaces dropped, tabs and newlines removed anywhere)."""
    url = re.sub(r"[\t\n\r]", "", href).lstrip("".join(map(chr, range(33))))
    scheme = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    return scheme is None or scheme.group(1).lower() in ("http", "https", "mailto")


# --- row 9: hostile elements ---------------------------------------------------------------

ROW_9 = {
    "script": "<script>alert(1)</script>",
    "img onerror": '<img src="x" onerror="alert(1)">',
    "svg onload": '<svg onload="alert(1)"><circle r="4"/></svg>',
    "iframe": '<iframe src="https://evil.example/"></iframe>',
    "form": '<form action="https://evil.example/"><input name="q"><button>Go</button></form>',
    "base": '<base href="https://evil.example/">',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    "object and embed": '<object data="x.swf"></object><embed src="x.swf">',
    "event handler on an allowed tag": '<p onclick="alert(1)" onmouseover="alert(2)">Hi</p>',
    "script inside an allowed tag": "<p>Hello <script>alert(1)</script> there</p>",
    "mixed case": '<ScRiPt>alert(1)</sCrIpT><IMG SRC=x OnErRoR=alert(1)>',
    "unclosed": '<img src=x onerror=alert(1)//',
    "math and template": "<math><mi>x</mi></math><template><script>alert(1)</script></template>",
}


@pytest.mark.parametrize("payload", ROW_9.values(), ids=ROW_9.keys())
def test_hostile_elements_are_stripped(payload):
    html = render_markdown(f"Before.\n\n{payload}\n\nAfter.\n")
    assert_inert(html)
    assert not HOSTILE_TAG.search(html)  # at most shown as harmless, escaped text
    assert "<p>Before.</p>" in html and "<p>After.</p>" in html  # the story itself survives


@pytest.mark.parametrize("payload", ROW_9.values(), ids=ROW_9.keys())
def test_hostile_elements_are_stripped_in_inline_and_plain_text(payload):
    assert_inert(markdown_inline(f"A quote {payload} ends here"))
    text = plain_text(f"Summary {payload}")  # plain text: whoever shows it escapes it
    if payload.count("<") == payload.count(">"):  # an unclosed tag stays as mere text
        assert "<" not in text and "alert" not in text.replace("alert(1)//", "")


# --- row 10: link schemes ------------------------------------------------------------------

ROW_10 = {
    "javascript": "[x](javascript:alert(1))",
    "mixed case": "[x](JaVaScRiPt:alert(1))",
    "entity": "[x](jav&#x61;script:alert(1))",
    "decimal entity": "[x](jav&#97;script:alert(1))",
    "tab entity": "[x](java&#x09;script:alert(1))",
    "leading space": "[x]( javascript:alert(1))",
    "data html": "[x](data:text/html,<script>alert(1)</script>)",
    "data base64": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "vbscript": "[x](vbscript:msgbox(1))",
    "file": "[x](file:///etc/passwd)",
    "raw html link": '<a href="javascript:alert(1)">x</a>',
    "raw html entity link": '<a href="&#106;avascript:alert(1)">x</a>',
    "reference link": "[x][evil]\n\n[evil]: javascript:alert(1)",
    "autolink": "<javascript:alert(1)>",
}


@pytest.mark.parametrize("payload", ROW_10.values(), ids=ROW_10.keys())
def test_unsafe_link_schemes_lose_their_href(payload):
    html = render_markdown(payload)
    assert_inert(html)
    for tag, attrs in tags_of(html):
        if tag == "a":
            assert "href" not in attrs, html
            assert "rel" not in attrs  # rel without href is invalid HTML
    lowered = html.lower()
    assert "javascript:" not in lowered and "vbscript:" not in lowered
    assert "data:text" not in lowered and "file:" not in lowered


@pytest.mark.parametrize("link", ["https://www.nhs.uk/", "http://example.org/a?b=1",
                                  "mailto:stories@example.nhs.uk"])
def test_safe_links_are_kept_and_marked_as_external(link):
    html = render_markdown(f"[a link]({link})")
    (tag, attrs), = [t for t in tags_of(html) if t[0] == "a"]
    assert attrs["href"] == link and attrs["rel"] == "noopener noreferrer nofollow"


# --- row 11: styles ----------------------------------------------------------------------------

ROW_11 = {
    "style attribute": '<p style="background:url(file:///etc/passwd)">Styled</p>',
    "style element": "<style>@import url(https://evil.example/x.css);</style>",
    "style element with url": "<style>body{background:url(file:///etc/passwd)}</style>",
    "attr_list style": "A paragraph\n{: style=\"background:url(file:///etc/passwd)\" }",
    "attr_list handler": "A paragraph\n{: onclick=\"alert(1)\" }",
}


@pytest.mark.parametrize("payload", ROW_11.values(), ids=ROW_11.keys())
def test_styles_are_stripped(payload):
    html = render_markdown(payload)
    assert_inert(html)
    assert "file:" not in html and "@import" not in html and "evil.example" not in html


def test_sanitise_alone_keeps_the_allow_list():
    html = sanitise('<table><tr><th scope="col" onclick="x()">A</th></tr></table>'
                    '<abbr title="National Health Service">NHS</abbr>')
    assert '<th scope="col">A</th>' in html and 'title="National Health Service"' in html


# --- ids and classes: a story cannot take the page's names (issue 12, hardening item 6) --------

PAGE_NAMES = {
    "raw HTML posing as the skip link": '<div id="main-content" class="nhsuk-skip-link">Skip</div>',
    "the web page's main landmark": '<p id="sk-main" class="main-wrapper">Here</p>',
    "an attribute list": "A paragraph\n{: #main-content .skip-link .visually-hidden }",
    "a heading's attribute list": "## Heading {: #sk-main .site-header }",
    "a link to the page's skip target": "[Skip to content](#main-content)",
    "a span with the footnote class": '<span class="footnote-ref" id="fn:1">1</span>',
    "a booklet story's id": "<div id=\"story-night-feeds\">x</div>",
}


@pytest.mark.parametrize("payload", PAGE_NAMES.values(), ids=PAGE_NAMES.keys())
def test_story_html_cannot_take_the_pages_ids_or_classes(payload):
    html = str(render_markdown(f"Before.\n\n{payload}\n\nAfter.\n"))
    assert not [attrs for tag, attrs in tags_of(html) if own_page_name(tag, attrs)], html
    for name in ("main-content", "sk-main", "story-night-feeds", "fn:1"):
        assert f'id="{name}"' not in html and f'href="#{name}"' not in html
    for name in ("nhsuk-skip-link", "skip-link", "visually-hidden", "main-wrapper",
                 "site-header"):
        assert name not in html


def test_footnotes_keep_working_under_the_prefix():
    html = str(render_markdown("The ward[^1] was quiet[^quiet].\n\n[^1]: At night.\n\n"
                               "[^quiet]: Mostly."))
    ids = {attrs["id"] for _tag, attrs in tags_of(html) if "id" in attrs}
    links = {attrs["href"][1:] for _tag, attrs in tags_of(html)
             if (attrs.get("href") or "").startswith("#")}
    assert len(links) == 4 and links <= ids  # two references and two ways back, all resolve
    assert all(i.startswith(ID_PREFIX) for i in ids)
    assert '<div class="footnote">' in html and 'class="footnote-ref"' in html
    assert 'class="footnote-backref"' in html


def test_the_prefix_never_changes_what_the_story_says():
    """The old clean-up was a regular expression over the HTML, so it also deleted words
    such as ``id="a/b"`` written in the text itself."""
    text = 'The wristband said id="ward/7" and class="x y".'
    assert render_markdown(text) == f"<p>{text}</p>"


# --- row 39: pathological Markdown takes bounded time ---------------------------------------------

PATHOLOGICAL = {
    "100k nested quotes": ">" * 100_000,
    "20k emphasis": "*a" * 20_000,
    "50k nested brackets": "[" * 50_000 + "]" * 50_000,
    "nested images": "![" * 3_000 + "]" * 3_000,
    "100k <": "<" * 100_000,
    "100k backticks": "`a" * 100_000,
    "90k entities": "&amp;" * 90_000,
    "100k quotes in one paragraph": '"a' * 100_000,
    "50k nested list markers": "1. " * 50_000,
    "deep indentation": "".join("    " * i + "- x\n" for i in range(60)),
    "brackets just under the paragraph limit, six times": "\n\n".join(["[" * 150 + "]" * 150] * 6),
    "raw html just under the limit": "\n\n".join(["<a " * 300] * 3),
    # issue 12, hardening item 2: 6.6 s and 3 MB before (4,000 blocks of 30 list markers)
    "4,000 lines of 30 nested list markers": "\n\n".join(["- " * 30 + "x"] * 4000),
    "the same markers in fewer blocks": "\n\n".join(["\n".join(["- " * 30 + "x"] * 20)] * 200),
    "setext headings inside one block": "h\n=\n" * 4_999,
    "a rule on every line, in short blocks": "\n\n".join(["---\n" * 9] * 1_000),
    "a footnote mark repeated": "a[^1] " * 190 + "\n\n[^1]: note",
    "one-line blocks just under the limit": "\n\n".join(["- a"] * 1_999),
    # the slowest texts under every limit that fuzzing found
    "headings, references and underlines": "\n\n".join(
        "## heading words\n&amp; ###### x\n" + "=" * 40 for _ in range(1_000)),
    "emphasis in every block": "\n\n".join(["__a__ *a*"] * 600),
}


@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_markdown_takes_bounded_time(text):
    start = time.perf_counter()
    try:
        html = render_markdown(text)
    except MarkdownTooComplex as exc:
        assert str(exc)  # says what to change, e.g. "split it into shorter ones"
    else:
        assert_inert(html)
    assert time.perf_counter() - start < 5  # well under 1 s here; generous on a busy machine


#: A text just over each limit, and the words that tell the person what to change.
OVER_THE_LIMITS = {
    "lines": ("a\n" * 10_000, "more than 10,000 lines; split it into two stories"),
    "blocks": ("\n\n".join(["a"] * 2_001), "2,001 paragraphs, headings and other parts; at "
               "most 2,000 are allowed, so split it into two stories"),
    "list items": ("\n\n".join(["\n".join(["- " * 30 + "x"] * 20)] * 6),
                   "3,600 list items and quote marks (each level of a nested list counts)"),
    "headings inside blocks": ("h\n=\n" * 4_999, "headings or rules are written inside long "
                               "paragraphs; put a blank line before and after each"),
    "footnotes": ("a[^1] " * 201, "more than 200 footnote marks"),
    "line breaks": ("a  \nb  \nc  \nd  \n\n" * 501, "more than 2,000 lines end in two spaces"),
    "table cells": ("\n\n".join(["|a|b|c|d|e|f|\n" * 700] * 3),
                    "14,700 '|' characters; at most 10,000 are allowed"),
    "emphasis": ("\n\n".join(["*a* *b*"] * 1_100), "4,400 '*' characters; at most 4,000"),
}


@pytest.mark.parametrize(("text", "words"), OVER_THE_LIMITS.values(), ids=OVER_THE_LIMITS.keys())
def test_each_limit_is_refused_in_words_before_any_parsing(text, words):
    start = time.perf_counter()
    with pytest.raises(MarkdownTooComplex) as refused:
        render_markdown(text)
    assert words in str(refused.value)
    assert time.perf_counter() - start < 0.5  # counted, never parsed


def test_refusals_say_what_to_change():
    with pytest.raises(MarkdownTooComplex, match="at most 2,000 are allowed"):
        render_markdown("[" * 50_000)
    with pytest.raises(MarkdownTooComplex, match="split it into shorter ones"):
        render_markdown("[a] " * 400)
    with pytest.raises(MarkdownTooComplex, match="nested more than 32 deep"):
        render_markdown("> " * 40 + "deep")
    with pytest.raises(MarkdownTooComplex, match="put blank lines between paragraphs"):
        render_markdown("word " * 5_000)


def test_long_ordinary_stories_are_not_refused():
    paragraph = ("On the *second* night the midwife said \"press the buzzer\" - it's fine - and "
                 "[the leaflet](https://www.nhs.uk/) helped & so did the tea... ") * 4
    story = "## What happened\n\n" + "\n\n".join([paragraph] * 200)  # about 60,000 characters
    start = time.perf_counter()
    html = render_markdown(story)
    assert time.perf_counter() - start < 5
    assert html.count("<a href=") == 800 and html.count("<em>second</em>") == 800


def test_text_longer_than_the_cap_is_refused_before_parsing():
    start = time.perf_counter()
    with pytest.raises(MarkdownTooLong):
        render_markdown(">" * (MAX_MARKDOWN + 1))
    assert time.perf_counter() - start < 0.5


# --- a property: whatever the text, the output is inert -----------------------------------------

FRAGMENTS = st.sampled_from([
    "<script>", "</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>",
    "javascript:", "JaVaScRiPt:", "jav&#x61;script:", "[x](", ")", "<a href=\"", "\">",
    "<iframe", "<style>", "style=\"x\"", "<base href=//e>", "{: onclick=x }", "\n\n", "*",
    "`", "<!--", "-->", "<p ", "data:text/html,", "&#", ";", "<", ">", "\"", "'", " ",
])


@settings(max_examples=300, deadline=None)
@example('[x](<a href="javascript:<img src=x onerror=alert(1)>')  # href becomes relative text
@given(st.lists(FRAGMENTS | st.text(max_size=8), max_size=25).map("".join))
def test_any_mix_of_hostile_fragments_renders_inert(text):
    assert_inert(render_markdown(text))
    assert_inert(markdown_inline(text))


# --- the quick paths through Python-Markdown (storykit.quick_markdown) -----------------------

def _stock(extensions=("tables", "footnotes", "attr_list", "sane_lists")):
    import markdown

    return markdown.Markdown(extensions=list(extensions), output_format="html")


MARKDOWN_ALPHABET = st.sampled_from(
    list("ab c\n\n  \t") + ["*", "_", "**", "`", "\\", "[", "]", "(", ")", "!", "<", ">", "&",
                            "#", "-", "+", "1.", ":", "|", "^", "{", "}", ".", "'", '"', "=",
                            "http://x.example/", "a@b.example", "&amp;", "&#169;", "<b>",
                            "[^1]", "[^1]: note", "{: .x }", "> ", "    ", "  \n", "\u2019",
                            "\u00e9", "---"])


@settings(max_examples=400, deadline=None)
@given(st.lists(MARKDOWN_ALPHABET, max_size=60).map("".join))
@example("Plain words only.\n\nA second paragraph  \nwith a hard break.")
@example("## What happened\n\nNo markup at all here.\n\n* but a list\n* of two")
@example("Footnote here[^n] and *emphasis* and a [link](https://example.org).\n\n[^n]: Note.")
def test_quick_inline_gives_exactly_what_python_markdown_gives(text):
    """The shortcut only skips work: the HTML is byte-identical to stock Python-Markdown."""
    from storykit.markup import BASE_EXTENSIONS, _converter

    quick, stock = _converter(BASE_EXTENSIONS), _stock()
    quick.reset()
    assert quick.convert(text) == stock.convert(text)


LINE_STARTS = st.sampled_from(
    ["", "", "", "# ", "## ", "> ", "- ", "* ", "+ ", "1. ", "2) ", "    ", "\t", "   ", "===",
     "---", "| ", "[^1]: ", "[x]: http://x.example/ ", ": ", "<div>", "{: .x}", "***", "_ _ _",
     "Word | other", "\u00c9t\u00e9 ", "9 ", "A\\"])
LINE_TEXT = st.lists(st.sampled_from(
    ["word", " ", "Two words", "*em*", "[l](http://x.example/)", "[^1]", "|", "-", "=", "#",
     "  ", "\u2019s", "\u00e9", "&", "`c`", "<b>x</b>", "1."]), max_size=6).map("".join)
DOCUMENTS = st.lists(st.tuples(LINE_STARTS, LINE_TEXT, st.sampled_from(["\n", "\n\n"])),
                     max_size=12).map(lambda lines: "".join(a + b + c for a, b, c in lines))


@settings(max_examples=500, deadline=None)
@given(DOCUMENTS)
@example("First paragraph\nstill the first.\n\nSecond line\n===\n\n- a list\nLazy line\n\n"
         "After the list.\n\n> quoted\nlazy quote\n\nText[^1].\n\n[^1]: Note\n\n    more note")
@example("Name | Other\n--- | ---\nA | B\n\nPlain words.")
def test_quick_paragraphs_give_exactly_what_python_markdown_gives(text):
    """Block structure (headings, lists, quotes, code, tables, footnotes, references, lazy
    lines) next to plain paragraphs: byte-identical HTML to stock Python-Markdown."""
    from storykit.markup import BASE_EXTENSIONS, _converter

    quick, stock = _converter(BASE_EXTENSIONS), _stock()
    quick.reset()
    assert quick.convert(text) == stock.convert(text)


PLAIN_STARTS = st.sampled_from(
    ["", "", "", "Word", "a", "\u00c9t\u00e9", "\u00df", "# ", "## ", "###### ", "####### ",
     "#", " ", "   ", "    ", "\u216b", "\u0663", "\u00a0", "1. ", "- ", "=", "---",
     "Title\n===", "> ", "*"])
PLAIN_WORDS = st.lists(st.sampled_from(
    [" word", "word", "  two", ".", "!", "?", "'s", '"q"', " #", "#", "\u00a0", "\u2028",
     "\u3000", "\x85", " ", "\t", "\r", "\r\n", ":", "(x)", "/", "-", " -", "=", "~", "^",
     "$", "%", "@", "\u00e9", "\u200b", "_", "&", "<", "|"]), max_size=5).map("".join)
PLAIN_DOCUMENTS = st.lists(
    st.tuples(PLAIN_STARTS, PLAIN_WORDS, st.sampled_from(["\n", "\n", "\n\n", "\n\n\n", "\n \n", ""])),
    max_size=14).map(lambda lines: "".join(a + b + c for a, b, c in lines))


@settings(max_examples=1500, deadline=None)
@given(PLAIN_DOCUMENTS)
@example("## What happened\n\nThe nurse sat with me.\nShe explained it all.\n\n## After\n\nHome.")
@example("# Title\n\n\n\nText after three blank lines\r\nand a Windows line end.\n")
@example("## Heading\nwith a paragraph line straight after it")
@example("## \u00a0Heading\u3000\n\nText\u3000")
def test_plain_documents_give_exactly_what_python_markdown_gives(text):
    """Text written without Python-Markdown (headings and plain paragraphs) is
    byte-identical to its output; any other text is left to it (None)."""
    from storykit.plain_markdown import plain_document

    html = plain_document(text)
    if html is not None:
        stock = _stock()
        assert html == stock.convert(text)


SIMPLE_TEXT = st.lists(st.sampled_from(
    ["word", "Word", " word", " ", "  ", ".", ",", "!", "?", ":", ";", "'s", "-", "(x)", "\u00e9",
     "2", " *em*", "*em*", " *two words*", " **strong**", " **two words**", "**s**", " *",
     "*", "**", " [a link](https://www.nhs.uk/a/b?c=1#d)", "[l](http://x.example/)",
     " [l](https://x.example/ \"t\")", " ![i](https://x.example/i.png)", " [x]", "]", "[",
     " [l](mailto:a@b.example)", " *it's*", " *a, b*", " *x.*", "*a*b", " >", "#",
     " _em_", "_em_", " __strong__", "__s__", " _two words_", "_a_b", " _", "__", " snake_case",
     " _*a*_", " *a_*", " ___a___", " _a, b_"]),
    min_size=1, max_size=7).map("".join)
SIMPLE_STARTS = st.sampled_from(
    ["", "", "", "Word ", "- ", "- ", "* ", "+ ", "1. ", "2. ", "10. ", "01. ", "1) ", "> ",
     "> ", ">", "> > ", "## ", "# ", "### ", "    ", " ", "-", "*", "**", "[", "2 ", "---"])
SIMPLE_DOCUMENTS = st.lists(
    st.tuples(SIMPLE_STARTS, SIMPLE_TEXT, st.sampled_from(["\n", "\n", "\n\n", "\n\n", "\n\n\n", ""])),
    max_size=14).map(lambda lines: "".join(a + b + c for a, b, c in lines))


WORDS_ = st.sampled_from(["word", "Nurse", "it's", "\u00e9t\u00e9", "2", "tea", "x", "A", "B12"])
PHRASE = st.lists(WORDS_, min_size=1, max_size=3).map(" ".join)
URLS = st.sampled_from(["https://www.nhs.uk/a/b?c=1#d", "http://x.example/", "https://111.nhs.uk/",
                        "https://x.example/a%20b+c~d:e"])
PIECE = st.one_of(
    WORDS_, PHRASE.map(lambda p: f"*{p}*"), PHRASE.map(lambda p: f"**{p}**"),
    PHRASE.map(lambda p: f"_{p}_"), PHRASE.map(lambda p: f"__{p}__"),
    st.tuples(PHRASE, URLS).map(lambda t: f"[{t[0]}]({t[1]})"),
    st.sampled_from([",", ".", "!", "?", ":", ";", "-", "'", "(a)", '"q"']))
LINE = st.tuples(st.sampled_from(["Word", "nurse", "\u00c9t\u00e9", "I"]),
                 st.lists(st.tuples(st.sampled_from([" "] * 15 + [""]), PIECE), max_size=8)
                 ).map(lambda t: t[0] + "".join(a + b for a, b in t[1]))
LINES = st.lists(LINE, min_size=1, max_size=4)
BLOCK = st.one_of(
    st.tuples(st.integers(1, 6), LINE).map(lambda t: "#" * t[0] + " " + t[1]),
    LINES.map("\n".join),
    st.tuples(st.sampled_from(["- ", "* ", "+ "]), LINES).map(
        lambda t: "\n".join(t[0] + line for line in t[1])),
    st.tuples(st.sampled_from(["1", "1", "3", "10"]), LINES).map(
        lambda t: "\n".join(f"{t[0] if i == 0 else i + 1}. {line}" for i, line in enumerate(t[1]))),
    LINES.map(lambda lines: "\n".join("> " + line for line in lines)),
    st.tuples(st.sampled_from(["- ", "1. ", "* "]), LINES, st.sampled_from(["- ", "1. ", "2. ", "+ "]),
              LINES, LINES).map(lambda t: "\n".join(
                  [t[0] + t[1][0]] + ["    " + t[2] + line for line in t[3]]
                  + [("- " if t[0] != "1. " else "2. ") + line for line in t[4]])))
#: One mistake or oddity, put somewhere in a story: a stray character, a link that is not
#: http(s), mixed markers, lazy lines, blocks that join, indentation.
MISTAKES = st.sampled_from(
    ["*", "]", "[", "**", " * ", "[x](ftp://x.example/)", "[x](https://x.example/ \"t\")",
     "[x] (https://x.example/)", "*a *", "* a*", "**a*", "a*b*", "(*a*)", "\n", "\n\n- z",
     "\n\n> z", "\n- z", "\n> z", "\nz", "\n  z", "\n    z", "\n1. z", "\n\n1. z",
     "\n# z", "\n===", "\n---", " #", "\n\n    code", "!", "![i](https://x.example/i.png)",
     "\n    - z", "\n        - z", "\n   - z", "\n     - z", "\n    z", "\n\n    - z",
     "_", "__", "_a _", "_ a_", "a_b_", "(_a_)", "___", "\n___", "\n_a_"])
STORIES = st.tuples(
    st.lists(st.tuples(BLOCK, st.sampled_from(["\n\n"] * 8 + ["\n", "\n\n\n"])), max_size=8),
    st.one_of(st.none(), st.tuples(MISTAKES, st.integers(0, 10_000)))).map(
    lambda t: _with_mistake("".join(b + sep for b, sep in t[0]), t[1]))


def _with_mistake(text: str, mistake: tuple[str, int] | None) -> str:
    if mistake is None or not text:
        return text
    at = mistake[1] % len(text)
    return text[:at] + mistake[0] + text[at:]


@settings(max_examples=1500, deadline=None)
@given(STORIES)
def test_simple_stories_give_exactly_what_python_markdown_gives(text):
    """Stories made of the simple blocks and inline forms, with mistakes mixed in: where
    storykit writes the HTML itself, it is byte-identical to Python-Markdown's."""
    from storykit.plain_markdown import plain_document

    html = plain_document(text)
    if html is not None:
        assert html == _stock().convert(text)


@settings(max_examples=1500, deadline=None)
@given(SIMPLE_DOCUMENTS)
@example("## What happened\n\nThe *kind* nurse, **Pat**, gave me [a leaflet](https://www.nhs.uk/"
         "a/).\n\n- one thing\n- *another*\n\n1. first\n2. second\n\n> She said it "
         "**twice**.\n> Then again.\n\n### After\n\nHome.")
@example("- a\n- b\n\n- c")
@example("> a\n\n> b")
@example("1. a\n\n- b")
@example("3. three\n4. four")
@example("Para\n- not a list")
@example("- a\n- b\nlazy")
def test_simple_documents_give_exactly_what_python_markdown_gives(text):
    """Lists, quotes, emphasis and links written without Python-Markdown are byte-identical
    to its output; anything else is left to it (None)."""
    from storykit.plain_markdown import plain_document

    html = plain_document(text)
    if html is not None:
        assert html == _stock().convert(text)


def test_a_simple_story_is_converted_without_python_markdown(monkeypatch):
    from storykit import markup

    def refuse(extensions):
        raise AssertionError("Python-Markdown was used for a simple text")

    monkeypatch.setattr(markup, "_converter", refuse)
    html = markup.render_markdown("# What happened\n\nThe nurse sat with me.\n\n## Later\n\n"
                                  "We went home\u00a0on Tuesday.")
    assert html == ("<h2>What happened</h2>\n<p>The nurse sat with me.</p>\n"
                    "<h3>Later</h3>\n<p>We went home&nbsp;on Tuesday.</p>")
    html = markup.render_markdown("The nurse was *kind*, see [NHS 111](https://111.nhs.uk/)."
                                  "\n\n- **Tea**\n- Sleep\n\n> Thank you.")
    assert html == ('<p>The nurse was <em>kind</em>, see <a href="https://111.nhs.uk/" '
                    'rel="noopener noreferrer nofollow">NHS 111</a>.</p>\n<ul>\n<li><strong>'
                    'Tea</strong></li>\n<li>Sleep</li>\n</ul>\n<blockquote>\n<p>Thank you.</p>'
                    '\n</blockquote>')
    for other in ("A `code` span.", "- a\n    - b\n        - deeper", "An under_score_ in a word.",
                  "Two lists\n\n- a\n\n- b"):
        with pytest.raises(AssertionError):  # anything else still goes to Python-Markdown
            markup.render_markdown(other)


def test_a_plugins_markdown_extension_is_used_for_plain_stories_too():
    """A plugin's extension may change plain text (here: ids on headings), so plain stories
    take Python-Markdown's way whenever a plugin adds one."""
    from markdown.extensions.toc import TocExtension

    from storykit.markup import render_markdown

    html = render_markdown("## What happened\n\nPlain words.", [TocExtension()])
    assert 'id="in-story-what-happened"' in html  # prefixed, as every id a story carries


def test_quick_paths_are_in_use_for_storykits_extensions():
    from storykit.markup import BASE_EXTENSIONS, _converter
    from storykit.quick_markdown import QuickInlineProcessor, QuickParagraphProcessor

    converter = _converter(BASE_EXTENSIONS)
    assert isinstance(converter.treeprocessors["inline"], QuickInlineProcessor)
    assert isinstance(converter.parser.blockprocessors[0], QuickParagraphProcessor)
    # Python-Markdown still calls the method the shortcut replaces (a rename would fail here)
    from markdown.treeprocessors import InlineProcessor
    assert "_InlineProcessor__handleInline" in vars(InlineProcessor)


def test_an_extension_with_its_own_block_processor_turns_the_paragraph_shortcut_off():
    """A plugin's block (here ``!!! note`` lines) must still be seen: no quick paragraphs."""
    import xml.etree.ElementTree as etree

    from markdown.blockprocessors import BlockProcessor
    from markdown.extensions import Extension

    from storykit.markup import BASE_EXTENSIONS, _converter
    from storykit.quick_markdown import QuickParagraphProcessor

    class Note(BlockProcessor):
        def test(self, parent, block):
            return block.startswith("Note:")

        def run(self, parent, blocks):
            etree.SubElement(parent, "aside").text = blocks.pop(0)[5:].strip()

    class Notes(Extension):
        def extendMarkdown(self, md):  # noqa: N802 - Python-Markdown's name
            md.parser.blockprocessors.register(Note(md.parser), "note", 105)

    converter = _converter(BASE_EXTENSIONS + (Notes(),))
    assert not any(isinstance(p, QuickParagraphProcessor)
                   for p in converter.parser.blockprocessors)
    converter.reset()
    assert "<aside>Bring a drink</aside>" in converter.convert("Note: Bring a drink")


def test_an_extension_with_its_own_inline_pattern_turns_the_shortcut_off():
    """A plugin's pattern matching on a character the shortcut does not know (here ``~~``)
    must still work: that converter keeps Python-Markdown's full loop."""
    from markdown.extensions import Extension
    from markdown.inlinepatterns import SimpleTagInlineProcessor

    from storykit.quick_markdown import QuickInlineProcessor

    class Strike(Extension):
        def extendMarkdown(self, md):  # noqa: N802 - Python-Markdown's name
            md.inlinePatterns.register(SimpleTagInlineProcessor(r"()~~(.+?)~~", "del"),
                                       "strike", 65)

    from storykit.markup import BASE_EXTENSIONS, _converter

    converter = _converter(BASE_EXTENSIONS + (Strike(),))
    assert not isinstance(converter.treeprocessors["inline"], QuickInlineProcessor)
    converter.reset()
    assert "<del>old</del>" in converter.convert("Some ~~old~~ words")


# --- the complexity check, line by line ---------------------------------------------------------

NESTED_LINES = st.lists(st.tuples(
    st.sampled_from(["", " ", "  ", "\t", " " * 126, " " * 127, " " * 128, "\t" * 130]),
    st.lists(st.sampled_from(["> ", ">", "- ", "* ", "+ ", "1. ", "2) ", "12345. ", "a ", "-",
                              ">\t"]), max_size=40).map("".join),
    st.sampled_from(["", "text", "- item", "> quote"])), max_size=6).map(
    lambda rows: "\n".join(a + b + c for a, b, c in rows))


@settings(max_examples=400, deadline=None)
@given(NESTED_LINES)
@example("> " * 33 + "too deep")
@example(" " * 128 + "indented")
@example(" " * 128 + "x\n" + "> " * 33)
def test_nesting_and_indent_limits_say_what_a_multi_line_regex_says(text):
    """The line-by-line check refuses exactly what the regular expressions over the whole
    text refused, with the same message."""
    import re as regex

    from storykit import markup

    def reference(text):
        nesting = regex.compile(r"^(?:[ \t]*(?:>|[-+*]|\d{1,9}[.)])(?=[ \t>]|$))+", regex.M)
        for match in nesting.finditer(text):
            if len(markup._MARKER.findall(match.group())) > markup.MAX_NESTING:
                return "nested"
        if regex.search(rf"^[ \t]{{{4 * markup.MAX_NESTING},}}", text, regex.M):
            return "indented"
        return None

    try:
        markup.check_complexity(text)
        got = None
    except MarkdownTooComplex as exc:
        got = "nested" if "nested" in str(exc) else "indented" if "indented" in str(exc) else str(exc)
    assert got == reference(text)


@settings(max_examples=800, deadline=None)
@given(st.tuples(STORIES | SIMPLE_DOCUMENTS, st.integers(1, 40)))
@example(("- a\n- b\n- c\n\n> d\n> e", 5))
def test_plain_texts_are_refused_exactly_as_the_line_by_line_check_would(case):
    """For a text storykit converts itself, the complexity check trusts what that tells of
    its lines instead of looking at each one: the answer is the same (here with the limit
    on list items and quote marks made small enough for these stories to reach)."""
    from unittest import mock

    from storykit import markup
    from storykit.plain_markdown import plain_document

    text, most_markers = case
    if plain_document(text) is None:
        return

    def refusal(plain):
        markup._PASSED.clear()
        try:
            markup.check_complexity(text, plain=plain)
        except MarkdownTooComplex as exc:
            return str(exc)
        return None

    with mock.patch.object(markup, "MAX_MARKERS", most_markers):
        assert refusal(True) == refusal(False)


# --- storykit's own HTML needs no second parse (markup.plain_sanitised) ----------------------

ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
HOSTILE_PLAIN = st.lists(FRAGMENTS | ANY_TEXT | st.sampled_from(
    ["\u00a0", "&nbsp;", "&amp;", "\u2028", "\ufeff", "\ufffd", "\u0085", "\x9b", "\U0010fffe",
     "[x](https://x.example/\"onmouseover=\"a)", "[x](https://x.example/a&b)", "_a_", "**b**",
     "[l](https://x.example/a?b=1#c)", "[l](javascript:alert(1))", "# h", "- i", "> q",
     "1. n", "\n    - z"]), max_size=20).map("".join)


def _same_as_sanitised(text: str) -> None:
    from storykit.markup import _plain_sanitised_document, plain_sanitised, sanitise
    from storykit.plain_markdown import plain_document

    html = plain_document(text)
    if html is not None:
        assert plain_sanitised(html) == sanitise(html)
    # render_markdown writes the links' rel as it makes them: the same HTML again
    assert _plain_sanitised_document(text) == (None if html is None else plain_sanitised(html))


@settings(max_examples=1500, deadline=None)
@given(STORIES)
@example("Tea at\u00a0four, see [NHS 111](https://111.nhs.uk/a?b=1#c) and _this_.")
def test_storykits_own_html_is_what_the_sanitiser_would_make_of_it(text):
    """render_markdown skips the sanitiser for the HTML storykit writes itself: for every
    text it writes, the sanitiser would have given exactly the same HTML."""
    _same_as_sanitised(text)


@settings(max_examples=1500, deadline=None)
@given(st.tuples(STORIES, HOSTILE_PLAIN, st.integers(0, 10_000)))
@example(("Words.", "A lone \ud800 surrogate", 0))
@example(("Words.", "C1 \x85 and \x9b controls", 0))
@example(("Words.", "[x](https://x.example/<script>)", 0))
def test_hostile_text_in_simple_stories_is_sanitised_or_left_to_the_sanitiser(case):
    """Hostile text (the bad-input catalogue's raw HTML, scripts, javascript: links,
    entities, odd characters) put anywhere in a simple story: either storykit writes it and
    the sanitiser would not change a byte, or the text takes the full way."""
    story, hostile, at = case
    at = at % (len(story) + 1)
    text = story[:at] + hostile + story[at:]
    _same_as_sanitised(text)
    if re.search("[\ud800-\udfff]", text):  # cannot be encoded: the sanitiser refuses it
        from storykit.plain_markdown import plain_document

        assert plain_document(text) is None
        return
    assert_inert(render_markdown(text))


def test_a_text_refused_once_is_refused_every_time():
    """A text checked a moment ago is not counted again, but only one that passed: a text
    over a limit is refused however often it comes, and others are still counted."""
    from storykit.markup import _PASSED_KEEP, check_complexity

    dense = "*a* " * 5_000  # over the emphasis limit
    for n in range(_PASSED_KEEP + 3):
        check_complexity(f"Story {n} is fine.")
        with pytest.raises(MarkdownTooComplex):
            check_complexity(dense)
        with pytest.raises(MarkdownTooComplex):
            render_markdown(dense)
