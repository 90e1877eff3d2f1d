"""storykit_slides: the offline HTML deck (``slides``), the slide PDF (``slides-pdf``) and the
handout (``handout``), opened the way people open them: Chromium (Playwright, network
blocked, axe-core) for the HTML, pypdf for the PDFs."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest
from browser_support import (
    assert_valid_html,
    axe_violations,
    chromium,
    describe,
    tags_of,
    watch_console,
)
from click.testing import CliRunner
from fontTools.ttLib import TTFont
from pdfcheck import assert_accessible, image_count, read, texts
from slides_support import (
    ALL,
    ASK,
    CHANGE,
    NAMES,
    NOTE_MARKERS,
    PHOTO_ALT,
    WARNING,
    Decks,
    add_photo,
    make_slide_site,
    picture,
)

from storykit.cli import cli
from storykit.errors import StorykitError
from storykit.render import render
from storykit.site import Site

#: Renders and builds decide as if today were ON (conftest.test_day).
pytestmark = pytest.mark.usefixtures("test_day")

ANON = ("st-anon01",)
NOPHOTO = ("st-nophoto",)
DATA_URI = re.compile(r"data:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=]+")


@pytest.fixture(scope="module")
def decks(tmp_path_factory) -> Decks:
    return Decks(make_slide_site(tmp_path_factory.mktemp("slides") / "site"))


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def visible_text(html: str) -> str:
    """The file without its embedded pictures and fonts (base64 is not text anyone reads)."""
    return DATA_URI.sub("", html)


def slide_count(html: str) -> int:
    return len(re.findall(r'<section class="slide ', html))


class Offline:
    """A page whose every non-file request is refused and remembered."""

    def __init__(self, browser, path: Path, fragment: str = "", **context):
        self.context = browser.new_context(viewport={"width": 1280, "height": 800}, **context)
        self.requests: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.errors = watch_console(self.page)
        self.page.goto(path.as_uri() + fragment)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith("file:"):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()

    def current(self) -> int:
        return int(self.page.eval_on_selector("#stage > .slide.is-current", "s => s.id")[6:])

    def close(self) -> None:
        self.context.close()
        assert self.requests == [], f"the deck tried to reach the network: {self.requests}"
        assert self.errors == [], f"the deck logged errors (CSP or script): {self.errors}"


# --- the HTML deck -----------------------------------------------------------------------------------

def test_formats_are_registered(decks):
    formats = decks.site.formats()
    for name, ext in (("slides", ".html"), ("slides-pdf", ".pdf"), ("handout", ".pdf")):
        assert formats[name].plugin == "storykit_slides"
        assert formats[name].multi and formats[name].extension == ext


def test_the_deck_is_one_file_holding_every_story(decks):
    artefact = decks.artefact("slides")
    assert artefact.path.name == "board-stories-slides.html"
    assert artefact.story_ids == ALL and artefact.media_type == "text/html"
    html = artefact.path.read_text(encoding="utf-8")
    sources = [a.get("src") or a.get("href") for t, a in tags_of(html)
               if t in ("img", "script", "link", "iframe", "source")]
    assert all(s is None or s.startswith("data:") for s in sources), sources
    [csp] = [a["content"] for t, a in tags_of(html) if a.get("http-equiv") ==
             "Content-Security-Policy"]
    assert csp.startswith("default-src 'none'; img-src data:; font-src data:;")
    fonts = re.findall(r"data:font/woff2;base64,([A-Za-z0-9+/=]+)", html)
    assert len(fonts) == 2, "regular and bold, embedded"
    for data in fonts:
        font = TTFont(io.BytesIO(base64.b64decode(data)))
        assert font["name"].getDebugName(1) == "Storykit Slides Sans", "the OFL reserves the name"
        assert "Open Font License" in (font["name"].getDebugName(13) or "")
        assert len(data) < 60_000, "a subset, not the whole font"
    assert '<html lang="en-GB"' in html
    logged = decks.site.distributions.for_story("st-full01")
    assert any(d.format == "slides" for d in logged)


def test_the_deck_is_valid_html(decks):
    assert_valid_html(decks.get("slides"), decks.get("slides", notes=True))


def test_keys_move_between_slides_and_numbers_are_shown(decks, browser):
    html = decks.get("slides").read_text(encoding="utf-8")
    total = slide_count(html)
    deck = Offline(browser, decks.get("slides"))
    page = deck.page
    assert deck.current() == 1
    for key, expected in (("ArrowRight", 2), ("Space", 3), ("PageDown", 4), ("ArrowLeft", 3),
                          ("Shift+Space", 2), ("End", total), ("Home", 1), ("ArrowDown", 2)):
        page.keyboard.press(key)
        assert deck.current() == expected, key
        number = page.locator("#stage > .slide.is-current .slide__num")
        assert number.is_visible() and number.inner_text() == f"Slide {expected} of {total}"
    assert page.locator("#stage > .slide:visible").count() == 1
    assert page.locator("#counter").inner_text() == f"Slide 2 of {total}"
    page.get_by_role("button", name="Next slide").click()
    assert deck.current() == 3
    deck.close()


def test_a_live_region_announces_each_slide(decks, browser):
    deck = Offline(browser, decks.get("slides"))
    page = deck.page
    live = page.locator("#live")
    assert live.get_attribute("aria-live") == "polite"
    page.keyboard.press("ArrowRight")
    total = slide_count(decks.get("slides").read_text(encoding="utf-8"))
    assert live.inner_text() == f"Slide 2 of {total}: Stories in this deck"
    deck.close()


def test_a_link_opens_at_the_slide_it_names(decks, browser):
    deck = Offline(browser, decks.get("slides"), "#slide-5")
    assert deck.current() == 5
    deck.close()


def test_presenter_view_shows_this_slide_the_next_notes_and_a_timer(decks, browser):
    deck = Offline(browser, decks.get("slides", notes=True))
    page = deck.page
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # the first story's title slide, with its facts
    page.keyboard.press("p")
    presenter = page.locator("#presenter")
    assert presenter.is_visible()
    assert page.locator("#stage > .slide.is-current .slide__title").is_visible()
    assert page.locator("#next-stage .slide__title").inner_text() == "Content warning"
    notes = page.locator("#notes-view").inner_text()
    assert "Who: Leila, patient (not their real name)." in notes
    assert "Pause after the quote and let it land." in notes
    timer = page.locator("#timer")
    assert re.fullmatch(r"\d\d:\d\d", timer.inner_text())
    page.wait_for_timeout(1300)
    assert timer.inner_text() != "00:00", "the timer runs"
    page.keyboard.press("ArrowRight")
    assert "Read the warning out loud" in page.locator("#notes-view").inner_text()
    page.get_by_role("button", name="Pause timer").click()
    paused = timer.inner_text()
    page.wait_for_timeout(1100)
    assert timer.inner_text() == paused
    page.keyboard.press("Escape")
    assert not presenter.is_visible()
    deck.close()


def test_the_presenter_view_of_an_audience_copy_says_there_are_no_notes(decks, browser):
    deck = Offline(browser, decks.get("slides"))
    deck.page.keyboard.press("p")
    assert "This copy has no speaker notes" in deck.page.locator("#notes-view").inner_text()
    deck.close()


def wait_for_current(page, slide_id: str, timeout: float = 30.0) -> None:
    """Poll from Python: the deck's CSP forbids the eval that wait_for_function relies on."""
    import time

    deadline = time.monotonic() + timeout
    current = None
    while time.monotonic() < deadline:
        current = page.evaluate(
            "() => { const s = document.querySelector('#stage > .slide.is-current');"
            " return s ? s.id : null; }")
        if current == slide_id:
            return
        time.sleep(0.05)
    raise AssertionError(f"the audience window shows {current}, not {slide_id}")


def test_the_audience_window_follows_the_presenter(decks, browser):
    deck = Offline(browser, decks.get("slides", notes=True))
    page = deck.page
    page.keyboard.press("p")
    with deck.context.expect_page() as popup_info:
        page.get_by_role("button", name="Open a window for the audience").click()
    audience = popup_info.value
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # maybe before the audience window has loaded
    wait_for_current(audience, "slide-3")
    page.keyboard.press("ArrowLeft")
    wait_for_current(audience, "slide-2")
    assert not audience.locator(".toolbar").is_visible()
    assert not audience.locator(".slide__notes").first.is_visible()
    deck.close()


def test_no_slide_overflows_its_16_by_9_box(decks, browser):
    deck = Offline(browser, decks.get("slides", notes=True))
    problems, total = deck.page.evaluate("""() => {
      const slides = [...document.querySelectorAll('#stage > .slide')];
      slides.forEach(s => { s.hidden = false; });
      const bad = [];
      for (const s of slides) {
        const r = s.getBoundingClientRect();
        if (Math.abs(s.offsetWidth / s.offsetHeight - 16 / 9) > 0.001) bad.push([s.id, 'ratio']);
        for (const el of [s, ...s.querySelectorAll(
            '.slide__body, .slide__heading, .slide__cover-sub, .slide__title, .slide__foot')]) {
          if (el.scrollHeight > el.clientHeight || el.scrollWidth > el.clientWidth) {
            bad.push([s.id, el.className, el.scrollHeight, el.clientHeight]);
          }
        }
      }
      return [bad, slides.length];
    }""")
    assert total > 25
    assert problems == []
    deck.close()


def test_the_deck_passes_axe_on_screen_in_print_and_in_presenter_view(decks, browser):
    deck = Offline(browser, decks.get("slides", notes=True))
    page = deck.page
    page.emulate_media(media="print")  # every slide is shown: one check covers them all
    assert page.locator("#stage > .slide:visible").count() == slide_count(
        decks.get("slides", notes=True).read_text(encoding="utf-8"))
    found = axe_violations(page)
    page.emulate_media(media="screen")
    page.keyboard.press("p")
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(400)  # let the fade-in finish before contrast is measured
    found += axe_violations(page)
    page.keyboard.press("?")
    found += axe_violations(page)
    assert found == [], describe(found)
    deck.close()


def test_reduced_motion_is_respected(decks, browser):
    calm = Offline(browser, decks.get("slides"), reduced_motion="reduce")
    calm.page.keyboard.press("ArrowRight")
    name = "s => getComputedStyle(s).animationName"
    assert calm.page.eval_on_selector("#stage > .slide.is-current", name) == "none"
    calm.close()
    lively = Offline(browser, decks.get("slides"), reduced_motion="no-preference")
    lively.page.keyboard.press("ArrowRight")
    assert lively.page.eval_on_selector("#stage > .slide.is-current", name) == "storykit-fade"
    lively.close()


def test_without_javascript_every_slide_is_readable_in_order(decks, browser):
    deck = Offline(browser, decks.get("slides"), java_script_enabled=False)
    slides = deck.page.locator("#stage > .slide")
    assert slides.count() == slide_count(decks.get("slides").read_text(encoding="utf-8"))
    assert all(slides.nth(i).is_visible() for i in range(slides.count()))
    assert not deck.page.locator(".toolbar").is_visible()
    deck.close()


def test_audience_decks_hold_no_notes_anywhere(decks):
    html = decks.get("slides").read_text(encoding="utf-8")
    for marker in NOTE_MARKERS:
        assert marker not in html
    assert 'class="slide__notes"' not in html and 'aria-label="Speaker notes"' not in html
    presenter = decks.get("slides", notes=True).read_text(encoding="utf-8")
    assert all(marker in presenter for marker in NOTE_MARKERS)
    assert decks.get("slides", notes=True).name == "board-stories-slides-with-notes.html"


def test_story_content_reaches_the_deck(decks):
    html = visible_text(decks.get("slides").read_text(encoding="utf-8"))
    for text in (WARNING, CHANGE, ASK, PHOTO_ALT, "Leila, patient (not their real name)",
                 "What we are changing and what we ask", "Using this story",
                 'href="https://www.nhs.uk/"'):
        assert text in html, text


def test_story_text_is_escaped(tmp_path, make_site):
    root = make_site("escaping")
    from conftest import story_front, write_story

    write_story(root, "st-escape1", story_front(
        title="<script>alert(1)</script> night", quotes=["<img src=x onerror=alert(1)>"]),
        body="Hello <b onclick=alert(1)>there</b> and <script>alert(2)</script>.\n")
    site = Site.open(root)
    result = render(site, [site.store.get("st-escape1")], "board", "slides", tmp_path / "out")
    html = result.artefacts[0].path.read_text(encoding="utf-8")
    scripts = [a for t, a in tags_of(html) if t == "script"]
    assert len(scripts) == 1, "only the deck's own script"
    assert "onclick" not in html and "onerror" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; night" in html


# --- consent in every format ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["slides", "slides-pdf", "handout"])
def test_an_anonymous_story_names_nobody(decks, fmt):
    for notes in (False, True):
        path = decks.get(fmt, ANON, notes=notes)
        if fmt == "slides":
            text = visible_text(path.read_text(encoding="utf-8"))
        else:
            reader = read(path)
            text = " ".join(texts(reader)) + str(reader.metadata)
        for name in (*NAMES, "Leila"):
            assert name not in text, (fmt, notes, name)
        assert "a patient" in text


@pytest.mark.parametrize("fmt", ["slides", "slides-pdf", "handout"])
def test_no_photo_consent_means_no_picture(decks, fmt):
    path = decks.get(fmt, NOPHOTO)
    if fmt == "slides":
        html = path.read_text(encoding="utf-8")
        assert "<img" not in html and "data:image" not in html
    else:
        assert image_count(read(path)) == 0
    with_photo = decks.get(fmt, ("st-full01",))
    if fmt != "slides":
        assert image_count(read(with_photo)) == 1


def test_names_never_appear_in_any_deck(decks):
    html = visible_text(decks.get("slides", notes=True).read_text(encoding="utf-8"))
    for name in NAMES:
        assert name not in html


# --- PDFs -----------------------------------------------------------------------------------------------

def test_slide_pdf_has_a_tagged_page_per_slide(decks):
    html = decks.get("slides").read_text(encoding="utf-8")
    reader = read(decks.get("slides-pdf"))
    counts = assert_accessible(reader, title="Test stories")
    total = slide_count(html)
    assert len(reader.pages) == total
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == (960.0, 540.0), "13.333 x 7.5 in"
    pages = texts(reader)
    for i, text in enumerate(pages, 1):
        assert f"Slide {i} of {total}" in text
    assert counts["/Sect"] >= total and counts["/H1"] == 1
    assert image_count(reader) == 2


def test_slide_pdf_never_holds_notes(decks):
    for notes in (False, True):
        path = decks.get("slides-pdf", notes=notes)
        assert path.name == "board-stories-slides.pdf", "no notes, so no -with-notes"
        text = " ".join(texts(read(path)))
        for marker in NOTE_MARKERS:
            assert marker not in text


def test_handout_is_a4_with_notes_for_presenters(decks):
    reader = read(decks.get("handout", notes=True))
    assert_accessible(reader, title="Test stories")
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    text = " ".join(texts(reader))
    for marker in ("Pause after the quote and let it land.", "Who: Leila, patient",
                   "Read the warning out loud", "Notes for slide 3"):
        assert marker in text
    assert "Page 1 of" in texts(reader)[0]


def test_audience_handout_has_room_for_notes_but_no_notes(decks):
    text = " ".join(texts(read(decks.get("handout"))))
    assert "Your notes" in text
    for marker in NOTE_MARKERS:
        assert marker not in text


# --- the command line and settings ------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["slides", "slides-pdf", "handout"])
def test_storykit_render_makes_each_format(decks, tmp_path, fmt):
    out = tmp_path / fmt
    result = CliRunner().invoke(cli, ["--site", str(decks.root), "render", "st-full01",
                                      "--use", "board", "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0, result.output
    made = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert [p.name for p in made] == [f"night-feeds-{'slides' if fmt != 'handout' else 'handout'}"
                                      f"{'.html' if fmt == 'slides' else '.pdf'}"]
    assert "1 of 1 stories rendered" in result.output


@pytest.mark.parametrize(("setting", "message"), [
    ('variant = "pdf/zz"', "variant must be one of"),
    ("timeout = 0", "timeout must be a number of seconds from 1 to 3600"),
    ('memory_mb = "lots"', "memory_mb must be a whole number"),
    ("colour = 1", "unknown setting 'colour'"),
])
def test_bad_pdf_settings_are_refused(make_site, setting, message):
    from conftest import BASIC_TOML, write_story

    root = make_site("bad", BASIC_TOML + f"\n[plugins.storykit_slides]\n{setting}\n")
    write_story(root, "st-one001")
    with pytest.raises(StorykitError, match=re.escape(message)):
        Site.open(root).plugins  # noqa: B018 - loading plugins checks their settings


@pytest.mark.parametrize("fmt", ["slides", "slides-pdf", "pptx"])
@pytest.mark.parametrize("problem", ["missing", "not a picture"])
def test_a_bad_picture_is_a_clear_error_and_the_last_deck_is_kept(make_site, tmp_path, fmt,
                                                                  problem):
    from conftest import story_front, write_story

    root = make_site("pictures")
    folder = write_story(root, "st-pic0001", story_front(images=[picture()]))
    add_photo(folder)
    site = Site.open(root)
    out = tmp_path / "out"
    first = render(site, [site.store.get("st-pic0001")], "board", fmt, out).artefacts[0].path
    before = first.read_bytes()
    photo = folder / "media" / "cot.jpg"
    if problem == "missing":
        photo.unlink()
    else:
        photo.write_text("this is not a picture", encoding="utf-8")
    with pytest.raises(StorykitError, match="story st-pic0001"):
        render(site, [site.store.get("st-pic0001")], "board", fmt, out)
    assert first.read_bytes() == before, "the deck made before is still there, unchanged"
    assert [p.name for p in out.iterdir()] == [first.name], "no half-written file is left"


def test_an_unsafe_theme_font_list_is_not_copied_into_css():
    from storykit_slides.styles import font_stack

    from storykit.themes import Theme

    evil = Theme(name="evil", settings={"fonts": {"family": "x}</style><script>alert(1)"}})
    assert font_stack(evil) == '"Storykit Slides Sans", Arial, sans-serif'
    good = Theme(name="good", settings={"fonts": {"family": "Frutiger, 'Liberation Sans'"}})
    assert font_stack(good) == '"Storykit Slides Sans", Frutiger, \'Liberation Sans\', sans-serif'


def test_a_theme_with_unreadable_colours_is_refused(make_site, tmp_path):
    from conftest import write_story

    root = make_site("colours")
    write_story(root, "st-col0001")
    theme = root / "themes" / "pale"
    theme.mkdir(parents=True)
    (theme / "theme.toml").write_text('name = "pale"\nparent = "nhs"\n[colours]\n'
                                      'primary = "#9FD3FF"\n', encoding="utf-8")
    site = Site.open(root)
    with pytest.raises(StorykitError, match="contrast"):
        render(site, [site.store.get("st-col0001")], "board", "slides", tmp_path / "o",
               theme="pale")


def test_a_wide_picture_and_a_tall_one_both_fit(make_site, tmp_path, browser):
    from conftest import story_front, write_story

    root = make_site("shapes")
    folder = write_story(root, "st-shape01", story_front(images=[
        picture("wide.jpg", "A wide view of the ward"), picture("tall.jpg", "A tall door")]))
    add_photo(folder, "wide.jpg", (3000, 600))
    add_photo(folder, "tall.jpg", (600, 2400))
    site = Site.open(root)
    path = render(site, [site.store.get("st-shape01")], "board", "slides",
                  tmp_path / "o").artefacts[0].path
    deck = Offline(browser, path)
    boxes = deck.page.evaluate("""() => [...document.querySelectorAll('.slide__picture')].map(b => {
        const s = b.closest('.slide'); s.hidden = false;
        const img = b.querySelector('img'); const r = img.getBoundingClientRect();
        const p = b.getBoundingClientRect();
        return [img.alt, r.width <= p.width + 0.5 && r.height <= p.height + 0.5,
                img.naturalWidth > 0];
    })""")
    assert boxes == [["A wide view of the ward", True, True], ["A tall door", True, True]]
    deck.close()
