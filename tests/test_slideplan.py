"""The shared slide plan (storykit_slides.plan): what slides a story becomes, that they fit,
and that notes exist only for presenter copies. Stories go through the real consent decision
and the real Markdown sanitiser; text is measured with the nhs theme's Liberation Sans."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import BODY, ON, build_story, consent_version, story_front
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storykit_slides.plan import (
    DEFAULT_GEOMETRY,
    Block,
    Layout,
    Paginator,
    PlanContext,
    Run,
    SlideError,
    TextMeasure,
    deck_basename,
    fit_title,
    markdown_blocks,
    palette,
    plan_stories,
    plan_story,
    split_runs,
)

from storykit.colours import contrast_ratio
from storykit.consent import StoryView, decide
from storykit.markup import render_markdown
from storykit.themes import Theme

FONTS = Path(__file__).resolve().parent.parent / "themes" / "nhs" / "static" / "fonts"
MEASURE = TextMeasure(FONTS / "LiberationSans-Regular.ttf", FONTS / "LiberationSans-Bold.ttf")
G = DEFAULT_GEOMETRY
PHOTO = {"file": "media/cot.jpg", "alt": "A cot beside a bed", "kind": "photo"}


def ctx(with_notes: bool = False, **over) -> PlanContext:
    values = dict(use_label="Trust board", with_notes=with_notes, markdown=render_markdown,
                  site_title="Test stories", organisation="Example NHS Trust",
                  contact_email="stories@example.test", on_text="1 March 2027", measure=MEASURE)
    values.update(over)
    return PlanContext(**values)


def view(front: dict | None = None, body: str = BODY, **consent) -> StoryView:
    decision = decide(build_story(front or story_front(), [consent_version(**consent)], body),
                      "board", ON)
    assert decision.allowed, decision.messages
    assert decision.view is not None
    return decision.view


def all_text(slides) -> str:
    return " ".join([s.text for s in slides] + [n for s in slides for n in s.notes])


# --- reading Markdown ----------------------------------------------------------------------------

def test_markdown_becomes_blocks_and_sections():
    html = render_markdown(
        "Intro with **bold**, *italic*, `code` and [a link](https://example.org) and "
        "[a bad one](javascript:alert(1)).[^1]\n\n## Section\n\n- one\n- two\n    - two a\n\n"
        "3. three\n4. four\n\n> quoted\n\n| A | B |\n|---|---|\n| 1 | 2 |\n\n---\n\n"
        "### Sub\n\n[^1]: A footnote.\n")
    items = markdown_blocks(str(html))
    kinds = [i[0] if isinstance(i, tuple) else i.kind for i in items]
    assert kinds == ["paragraph", "section", "list", "list", "quote", "table", "break",
                     "heading", "break", "list"]
    intro = items[0]
    assert [(r.text, r.bold, r.italic, r.code, r.href) for r in intro.runs][:6] == [
        ("Intro with ", False, False, False, None), ("bold", True, False, False, None),
        (", ", False, False, False, None), ("italic", False, True, False, None),
        (", ", False, False, False, None), ("code", False, False, True, None)]
    links = [r.href for r in intro.runs if r.href]
    assert links == ["https://example.org"], "only http(s) and mailto links survive"
    assert items[1] == ("section", "Section")
    bullets, numbers = items[2], items[3]
    assert [i.runs[0].text for i in bullets.items] == ["one", "two"]
    assert bullets.items[1].items[0].runs[0].text == "two a"
    assert numbers.ordered and numbers.start == 3
    assert items[5].head[0].header and items[5].rows == ((items[5].rows[0][0], items[5].rows[0][1]),)
    footnote = items[-1]
    assert "A footnote." in footnote.text and "\u21a9" not in footnote.text


def test_split_runs_keeps_styles_on_both_sides():
    runs = (Run("Plain then "), Run("bold words", bold=True), Run(" end."))
    left, right = split_runs(runs, 15)
    assert "".join(r.text for r in left) == "Plain then bold"
    assert right[0] == Run("words", bold=True) and right[-1].text == " end."


# --- measuring and fitting -------------------------------------------------------------------------

def test_lines_grow_as_the_box_narrows_and_long_words_break():
    text = (Run("The quick brown fox jumps over the lazy dog " * 6),)
    wide = MEASURE.lines(text, 32, 1100)
    narrow = MEASURE.lines(text, 32, 400)
    assert 2 <= wide < narrow
    assert MEASURE.lines((Run("x" * 400),), 32, 300) >= 10
    assert MEASURE.lines((Run("one\ntwo\nthree"),), 32, 1000) == 3
    assert MEASURE.width("title", 32, bold=True) > MEASURE.width("title", 32)


def test_a_theme_without_a_font_file_still_measures():
    guess = TextMeasure()
    assert guess.lines((Run("word " * 100),), 32, 1000) > 3


def _pages_fit(pages, layout: Layout) -> None:
    for page in pages:
        assert sum(layout.height(b) for b in page) <= G.body_box.h
        words = sum(b.words for b in page)
        assert words <= G.max_words or (len(page) == 1 and page[0].kind == "table")


sentences = st.lists(st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=60)
                     .map(lambda t: t.strip() or "x"), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paragraphs=st.lists(sentences, min_size=1, max_size=8),
       items=st.lists(st.text(alphabet="abc defg", min_size=1, max_size=200), max_size=25))
def test_pages_never_overflow_and_keep_every_word_in_order(paragraphs, items):
    blocks = [Block("paragraph", (Run(". ".join(p) + "."),)) for p in paragraphs]
    if items:
        from storykit_slides.plan import Item

        blocks.append(Block("list", items=tuple(Item((Run(t.strip() or "x"),)) for t in items)))
    layout = Layout(G, MEASURE)
    pages = Paginator(layout).pages(blocks)
    _pages_fit(pages, layout)
    before = " ".join(b.text for b in blocks).split()
    after = " ".join(b.text for page in pages for b in page).split()
    assert after == before


def test_a_heading_is_never_left_alone_at_the_bottom_of_a_slide():
    layout = Layout(G, MEASURE)
    filler = Block("paragraph", (Run("Words to fill the slide nearly to the end. " * 9),))
    heading = Block("heading", (Run("Next part"),), level=3)
    after = Block("paragraph", (Run("The text that belongs under the heading. " * 8),))
    pages = Paginator(layout).pages([filler, heading, after])
    for page in pages:
        assert page[-1].kind != "heading" or page is pages[-1]


def test_long_tables_split_by_rows_and_repeat_the_header():
    from storykit_slides.plan import Cell

    head = (Cell((Run("Time"),), True), Cell((Run("What happened"),), True))
    rows = tuple((Cell((Run(f"{i}am"),)), Cell((Run("Checked the feed " * 3),))) for i in range(30))
    pages = Paginator(Layout(G, MEASURE)).pages([Block("table", head=head, rows=rows)])
    assert len(pages) > 1
    assert all(p[0].head == head for p in pages)
    assert sum(len(p[0].rows) for p in pages) == 30


def test_titles_shrink_then_shorten_but_never_overflow():
    short = fit_title("What helped", MEASURE, G.title_box, G.title_sizes, 2, 3, 1.15, G.fit)
    assert short == ("What helped", 44)
    long_title = "A very long title about the ward and the nights we spent there " * 2
    text, size = fit_title(long_title, MEASURE, G.title_box, G.title_sizes, 2, 3, 1.15, G.fit)
    assert size < 44 and text == long_title
    huge = "word " * 200
    text, size = fit_title(huge, MEASURE, G.title_box, G.title_sizes, 2, 3, 1.15, G.fit)
    assert text.endswith("\u2026") and size == G.title_sizes[-1]
    assert MEASURE.lines((Run(text),), size, G.title_box.w * G.fit, bold=True) <= 3


# --- what a story becomes --------------------------------------------------------------------------

def full_front(**over):
    return story_front(images=[PHOTO], content_warning="Talks about a baby being unwell.",
                       changes=["We explain the call bell."], asks=["Fund a night adviser."],
                       **over)


def test_a_story_becomes_slides_in_the_order_it_is_told():
    slides = plan_stories([view(full_front())], ctx())
    kinds = [s.kind for s in slides]
    assert kinds == ["title", "warning", "content", "content", "quote", "image", "closing",
                     "consent"]
    assert [s.number for s in slides] == list(range(1, 9))
    assert {s.total for s in slides} == {8}
    assert slides[0].title == "Night feeds on the postnatal ward"
    assert slides[3].title == "What would have helped", "a heading starts a slide"
    assert slides[4].attribution == "Leila, patient (not their real name)"
    assert slides[5].image.alt == "A cot beside a bed"
    closing = slides[6]
    assert closing.title == "What we are changing and what we ask"
    assert "We explain the call bell." in closing.text and "Fund a night adviser." in closing.text
    assert "Trust board" in slides[7].text and "2 September 2029" in slides[7].text


# --- the summary length ------------------------------------------------------------------------

QUOTES = ["One kind sentence is worth more than a leaflet.", "Nobody rushed me.",
          "I felt like a person again."]


def test_a_summary_tells_a_story_in_at_most_six_slides():
    long_body = BODY + "\n\n".join(f"## Part {n}\n\n" + "More of the story. " * 40
                                    for n in range(6))
    story = view(full_front(quotes=QUOTES), body=long_body)
    full = plan_stories([story], ctx())
    summary = plan_stories([story], ctx(length="summary"))
    assert len(full) > 12 and len(summary) == 6
    assert [s.kind for s in summary] == ["title", "warning", "content", "quote", "closing",
                                         "consent"]
    assert summary[2].title == "The story in brief"
    assert "What helped during three nights on the ward." in summary[2].text  # the summary
    assert summary[0].title == "Night feeds on the postnatal ward"
    assert "Leila, patient (not their real name)" in summary[0].text


def test_quotes_and_a_picture_fill_what_the_fixed_slides_leave():
    story = view(story_front(images=[PHOTO], quotes=QUOTES, summary=None,
                             asks=["Fund a night adviser."]))
    slides = plan_stories([story], ctx(length="summary"))
    assert [s.kind for s in slides] == ["title", "content", "quote", "image", "closing",
                                        "consent"]
    assert slides[1].title == "The story in brief" and "second night" in slides[1].text
    assert slides[3].title == "A cot beside a bed"  # the picture's own words
    roomy = plan_stories([view(story_front(images=[PHOTO], quotes=QUOTES))],
                         ctx(length="summary"))
    assert [s.kind for s in roomy] == ["title", "content", "quote", "quote", "image",
                                       "consent"]
    assert [s.title for s in roomy if s.kind == "quote"] == ["In their own words (1 of 2)",
                                                             "In their own words (2 of 2)"]


def test_a_summary_deck_of_several_stories_keeps_six_slides_a_story_with_notice_and_cover():
    from storykit.render import Notice

    notice = Notice("About this pack", ("Long version.",), ("Shared with consent for: "
                                                             "Trust board only.",))
    stories = [view(full_front(quotes=QUOTES, title=f"Story {n}", slug=f"story-{n}"))
               for n in range(4)]
    slides = plan_stories(stories, ctx(length="summary", notice=notice))
    assert len(slides) <= 24
    assert [s.kind for s in slides[:2]] == ["notice", "deck"]  # no contents list
    assert slides[0].title == "About this pack" and "Trust board only" in slides[0].text
    assert "Long version" not in slides[0].text
    assert [s.title for s in slides if s.kind == "title"] == [f"Story {n}" for n in range(4)]
    for n in range(4):
        assert sum(1 for s in slides if s.story_title == f"Story {n}") <= 6
        assert any(s.kind == "consent" and s.story_title == f"Story {n}" for s in slides)
    assert [s.number for s in slides] == list(range(1, len(slides) + 1))


def test_a_quote_too_long_for_one_slide_is_left_out_of_a_summary_not_cut():
    long_quote = " ".join(["This quote goes on and on about the night."] * 30)
    story = view(story_front(quotes=[long_quote, "Short and true."]))
    quotes = [s for s in plan_stories([story], ctx(length="summary")) if s.kind == "quote"]
    assert [s.text for s in quotes] == [
        "In their own words Short and true. Leila, patient (not their real name)"]


def test_fit_budget_drops_pictures_then_quotes_from_the_richest_story_first():
    from storykit_slides.plan import Slide, fit_budget

    def story(*kinds):
        return [Slide(k, k) for k in kinds]

    a = story("title", "content", "quote", "image", "quote", "consent")
    b = story("title", "quote", "consent")
    fitted = fit_budget([a, b], 8)
    assert [[s.kind for s in x] for x in fitted] == [["title", "content", "quote", "quote",
                                                       "consent"],
                                                      ["title", "quote", "consent"]]
    fitted = fit_budget([a, b], 6)  # a picture first, then quotes, the longest story first
    assert [[s.kind for s in x] for x in fitted] == [["title", "content", "consent"],
                                                      ["title", "quote", "consent"]]
    assert fit_budget([story("title", "warning", "content", "closing", "consent")], 3)[0] \
        == story("title", "warning", "content", "closing", "consent")  # fixed slides stay


def test_several_stories_get_a_cover_and_a_contents_slide():
    first = view(story_front())
    second = view(story_front(title="Waiting for the scan", slug="scan"))
    slides = plan_stories([first, second], ctx())
    assert [s.kind for s in slides[:2]] == ["deck", "contents"]
    assert "Night feeds on the postnatal ward" in slides[1].text
    assert "Waiting for the scan" in slides[1].text
    starts = [s.story_title for s in slides if s.kind == "title"]
    assert starts == ["Night feeds on the postnatal ward", "Waiting for the scan"]
    assert [s.number for s in slides] == list(range(1, len(slides) + 1))


def test_audience_plans_have_no_notes_at_all():
    slides = plan_stories([view(full_front())], ctx(with_notes=False))
    assert all(s.notes == () for s in slides)


def test_presenter_plans_have_the_facts_and_the_storys_own_notes():
    story = view(full_front())
    slides = plan_stories([story], ctx(with_notes=True))
    title_notes = "\n".join(slides[0].notes)
    assert "Who: Leila, patient (not their real name)." in title_notes
    assert "Service: Maternity." in title_notes
    assert "Consent: for Trust board, until 2 September 2029." in title_notes
    assert "Named as: a made-up name." in title_notes
    assert "Content warning: Talks about a baby being unwell." in title_notes
    assert "Pause after the quote." in title_notes
    image = next(s for s in slides if s.kind == "image")
    assert "A cot beside a bed" in image.notes[0]


def test_notes_come_only_from_the_view_passed_in():
    """The core removes speaker_notes from audience views; generated facts follow with_notes."""
    story = view(full_front()).without_notes()
    slides = plan_stories([story], ctx(with_notes=True))
    assert "Pause after the quote." not in all_text(slides)
    assert "Who:" in all_text(slides)


def test_anonymous_stories_name_nobody_anywhere():
    front = full_front(title="Aisha and the nights", summary="Aisha Rahman on Carol Pegg.",
                       quotes=["Carol Pegg was there."],
                       speaker_notes="Aisha Rahman asked for this.")
    story = view(front, identification="anonymous")
    slides = plan_stories([story], ctx(with_notes=True))
    text = all_text(slides)
    for name in ("Aisha", "Rahman", "Carol", "Pegg", "Leila"):
        assert name not in text
    assert "a patient" in text


def test_no_photo_consent_means_no_picture_slides():
    story = view(full_front(), media=["text", "quotes"])
    assert [s for s in plan_stories([story], ctx()) if s.image is not None] == []


def test_illustrations_need_no_photo_consent():
    pic = dict(PHOTO, kind="illustration")
    story = view(story_front(images=[pic]), media=["text", "quotes"])
    slides = [s for s in plan_stories([story], ctx()) if s.kind == "image"]
    assert [s.title for s in slides] == ["A cot beside a bed"]  # its own words


def test_a_picture_without_alt_text_is_refused():
    story = replace(view(full_front()), images=(replace(view(full_front()).images[0], alt=" "),))
    with pytest.raises(SlideError, match="st-test01.*alt text"):
        plan_stories([story], ctx())


def test_a_long_quote_is_split_and_only_its_last_part_is_credited():
    long_quote = " ".join(f"Sentence number {i} about the ward and the night staff." for i in
                          range(40))
    slides = plan_stories([view(story_front(quotes=[long_quote]))], ctx())
    quotes = [s for s in slides if s.kind == "quote"]
    assert len(quotes) > 1
    assert [s.attribution for s in quotes][-1] and not any(s.attribution for s in quotes[:-1])
    assert quotes[0].title == f"In their own words (1 of {len(quotes)})"
    words = " ".join("".join(r.text for r in s.quote) for s in quotes).split()
    assert words == long_quote.split()


def test_long_sections_are_numbered_and_every_slide_fits():
    body = "## Days\n\n" + "\n\n".join(f"Day {i}: the nurses came by and checked the feeds, "
                                       "then wrote it all down." for i in range(60))
    slides = plan_stories([view(story_front(), body=body)], ctx())
    days = [s for s in slides if s.title.startswith("Days")]
    assert len(days) > 2 and days[0].title == f"Days (1 of {len(days)})"
    layout = Layout(G, MEASURE)
    _pages_fit([list(s.blocks) for s in slides if s.kind == "content"], layout)


def test_a_summary_too_long_for_the_cover_gets_its_own_slide():
    summary = "What helped during three nights on the ward. " * 8
    slides = plan_stories([view(story_front(summary=summary))], ctx())
    assert slides[1].title == "In short"
    assert summary.split()[:5] == slides[1].text.split()[2:7]


def test_drafts_are_marked_on_every_slide():
    story = build_story(story_front(status="draft"), [consent_version()])
    preview = decide(story, "board", ON, preview=True).view
    assert preview is not None and preview.draft
    slides = plan_stories([preview], ctx())
    assert all(s.draft for s in slides)
    assert "This is a draft. It is not for sharing." in slides[-1].text


# --- names and colours -----------------------------------------------------------------------------

class _Job:
    def __init__(self, stories, with_notes=False, use="board"):
        self.stories, self.with_notes, self.use = stories, with_notes, use


def test_file_names_name_the_slug_or_the_use_never_a_person():
    one = view(story_front())
    assert deck_basename(_Job([one]), "-slides") == "night-feeds-slides"
    assert deck_basename(_Job([one], with_notes=True), "") == "night-feeds-with-notes"
    assert deck_basename(_Job([one, one]), "-handout") == "board-stories-handout"


def theme(**colours) -> Theme:
    return Theme(name="test", settings={"colours": colours})


def test_the_nhs_palette_passes_and_is_normalised():
    colours = palette(theme(primary="#005eb8", on_primary="#fff"))
    assert colours["primary"] == "#005EB8" and colours["on_primary"] == "#FFFFFF"
    assert contrast_ratio("#FFFFFF", "#005EB8") == pytest.approx(6.4, abs=0.1)


@pytest.mark.parametrize(("colours", "message"), [
    ({"primary": "red"}, "colour primary must be written like #005EB8"),
    ({"text": "#212B32; background: url(http://x)"}, "colour text must be written"),
    ({"primary": 12}, "colour primary must be written"),
    ({"primary": "#FFB81C"}, r"on_primary #FFFFFF on primary #FFB81C has contrast 1\.\d:1"),
    ({"text": "#999999"}, "text #999999 on background #FFFFFF"),
])
def test_bad_theme_colours_are_refused_with_a_clear_reason(colours, message):
    with pytest.raises(SlideError, match=message):
        palette(theme(**colours))


def test_dates_in_the_plan_are_plain_english():
    story = view(story_front(), expires=dt.date(2029, 1, 5))
    consent = plan_story(story, ctx())[-1]
    assert "Their consent ends on 5 January 2029." in consent.text


@pytest.mark.parametrize("name", ["nhs", "high-contrast", "large-print"])
def test_every_built_in_theme_has_readable_slide_colours(site, name):
    from storykit.themes import load_theme

    colours = palette(load_theme(site, name))
    assert contrast_ratio(colours["on_primary"], colours["primary"]) >= 4.5
    assert contrast_ratio(colours["text"], colours["background"]) >= 4.5


def test_text_too_long_to_render_is_a_clear_error_naming_the_story():
    from storykit.markup import MAX_MARKDOWN

    story = replace(view(story_front()), body="word " * (MAX_MARKDOWN // 4))
    with pytest.raises(SlideError, match="story st-test01: the text is longer than"):
        plan_stories([story], ctx())
