"""Quote cards (format ``card``): every artefact opened with Pillow, end to end through
``storykit render``, plus the pure layout and contrast functions."""

from __future__ import annotations

import dataclasses
import json
import struct
import unicodedata
from pathlib import Path

import pytest
from conftest import ON, consent_version, dismiss_blocking, story_front, write_story
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops
from storykit_cards.cards import CardError, Palette, draw_card, render_cards, theme_palette
from storykit_cards.layout import (
    SIZES,
    CardSize,
    DoesNotFit,
    Fonts,
    card_quote,
    fit_card,
    missing_glyphs,
)

from storykit.cli import main
from storykit.colours import contrast_ratio, parse_hex, relative_luminance, shown_ratio
from storykit.render import make_job
from storykit.site import Site
from storykit.themes import load_theme

#: Renders and builds decide as if today were ON (conftest.test_day).
pytestmark = pytest.mark.usefixtures("test_day")

THEMES = Path(__file__).resolve().parent.parent / "themes"
FONTS = Fonts(THEMES / "nhs/static/fonts/LiberationSans-Regular.ttf",
              THEMES / "nhs/static/fonts/LiberationSans-Bold.ttf")
NHS_BLUE, WHITE, NHS_TEXT = (0, 0x5E, 0xB8), (255, 255, 255), (0x21, 0x2B, 0x32)
QUOTE = "At three in the morning, one kind sentence is worth more than a leaflet."
PSEUDONYM_CREDIT = "Leila, patient (not their real name)"
SIZE_NAMES = [s.name for s in SIZES]
WORDS = ["the", "nurse", "sat", "with", "me", "and", "we", "talked", "about", "what", "would",
         "happen", "next", "and", "it", "helped"]


def long_quote(words: int) -> str:
    return " ".join((WORDS * 40)[:words]) + "."


# --- helpers ---------------------------------------------------------------------------------

def card_site(make_site, quotes=(QUOTE,), **consent) -> Path:
    """A site with one approved story whose consent covers social media (and the board)."""
    root = make_site()
    front = story_front(quotes=list(quotes) if quotes else None)
    version = consent_version(uses=["social_media", "board"], **consent)
    write_story(root, "st-card01", front, consent=[version])
    return root


def run(capsys, root: Path, *args: str) -> tuple[int, str, str]:
    """``storykit --site ROOT render st-card01 ...`` in-process: (exit code, stdout, stderr)."""
    argv = ["--site", str(root), "render", "st-card01", *args]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def render_cli(capsys, root: Path, *extra: str) -> tuple[int, str, str, Path]:
    out = root / "out"
    code, stdout, stderr = run(capsys, root, "--use", "social_media", "--format", "card",
                               "--out", str(out), *extra)
    return code, stdout, stderr, out


def png_chunks(path: Path) -> list[str]:
    """The chunk types of a PNG file, read from the raw bytes."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        chunks.append(data[pos + 4:pos + 8].decode("ascii"))
        pos += 12 + length
    return chunks


def assert_clean_png(path: Path, size: CardSize) -> Image.Image:
    """Exact size, RGB, and no metadata of any kind."""
    image = Image.open(path)
    image.load()
    assert image.format == "PNG"
    assert image.size == (size.width, size.height)
    assert image.mode == "RGB"
    assert image.info == {}
    assert len(image.getexif()) == 0
    chunks = png_chunks(path)
    assert chunks[0] == "IHDR" and chunks[-1] == "IEND"
    assert set(chunks) == {"IHDR", "IDAT", "IEND"}  # no tEXt, zTXt, iTXt, eXIf, tIME...
    return image


def margin_colours(image: Image.Image, safe: list[int]) -> set[tuple[int, int, int]]:
    """Every colour in the strips outside the safe area, where no text may be."""
    w, h = image.size
    left, top, right, bottom = safe
    strips = [(0, 0, w, top), (0, bottom, w, h), (0, 0, left, h), (right, 0, w, h)]
    return {colour for box in strips for _, colour in image.crop(box).getcolors(w * h)}


# --- end to end through `storykit render` ----------------------------------------------------

def test_render_writes_clean_cards_with_alt_text_for_every_size(make_site, capsys):
    root = card_site(make_site, quotes=(QUOTE, "Caf\u00e9 cr\u00e8me \u2013 na\u00efve \u2018fun\u2019"))
    code, stdout, stderr, out = render_cli(capsys, root)
    assert code == 0, stderr
    assert "1 of 1 stories rendered as card for social_media" in stdout
    manifest = json.loads((out / "night-feeds-cards.json").read_text(encoding="utf-8"))
    assert manifest["refused"] == []
    assert [(c["quote"], c["size"]) for c in manifest["cards"]] == [
        (q, s) for q in (1, 2) for s in SIZE_NAMES]
    expected_alt = {1: f"A quote from {PSEUDONYM_CREDIT}: \u201c{QUOTE}\u201d Example NHS Trust.",
                    2: f"A quote from {PSEUDONYM_CREDIT}: \u201cCaf\u00e9 cr\u00e8me \u2013 "
                       "na\u00efve \u2018fun\u2019\u201d Example NHS Trust."}
    for card, size in zip(manifest["cards"], SIZES * 2, strict=True):
        stem = f"night-feeds-q{card['quote']}-{size.name}"
        assert card["file"] == f"{stem}.png"
        assert f"wrote {out / (stem + '.png')}" in stdout
        image = assert_clean_png(out / card["file"], size)
        alt = (out / f"{stem}.txt").read_text(encoding="utf-8")
        assert alt == expected_alt[card["quote"]] + "\n" == card["alt"] + "\n"
        assert card["attribution"] == f"\u2014 {PSEUDONYM_CREDIT}"
        safe = card["safe_area"]
        assert safe == [size.margin, size.margin, size.width - size.margin,
                        size.height - size.margin]
        left, top, right, bottom = card["text_box"]
        assert safe[0] <= left and safe[1] <= top and right <= safe[2] and bottom <= safe[3]
        assert margin_colours(image, safe) <= {NHS_BLUE, WHITE}
        assert card["quote_px"] >= size.small_size
        assert image.getpixel((size.width // 2, 5)) == NHS_BLUE


def test_render_records_each_artefact_in_the_distribution_log(make_site, capsys):
    root = card_site(make_site)
    code, _, stderr, out = render_cli(capsys, root)
    assert code == 0, stderr
    logged = {Path(d.path).name for d in Site.open(root).distributions.for_story("st-card01")}
    assert logged == {p.name for p in out.iterdir()}
    assert len(logged) == 3 * 2 + 1  # a PNG and a .txt per size, and the JSON list


def test_anonymous_cards_name_nobody(make_site, capsys):
    quote = ("Aisha Rahman here: Midwife Carol Pegg stayed with me. Carol was calm and "
             "Mrs Pegg never rushed me.")
    root = card_site(make_site, quotes=(quote,), identification="anonymous")
    code, _, stderr, _out = render_cli(capsys, root)
    assert code == 1 and "the storyteller's name" in stderr and "Aisha" not in stderr
    assert dismiss_blocking(root, "st-card01") == 1  # a reviewer let the quote stand
    code, _, stderr, out = render_cli(capsys, root)
    assert code == 0, stderr
    manifest = json.loads((out / "night-feeds-cards.json").read_text(encoding="utf-8"))
    assert len(manifest["cards"]) == 3
    for card in manifest["cards"]:
        alt = (out / card["alt_file"]).read_text(encoding="utf-8")
        assert alt.startswith("A quote from a patient: \u201c")
        assert "the night midwife" in alt
        assert card["attribution"] == "\u2014 a patient"
    written = " ".join(p.read_text(encoding="utf-8") for p in out.glob("*.txt"))
    written += (out / "night-feeds-cards.json").read_text(encoding="utf-8")
    for name in ("Aisha", "Rahman", "Carol", "Pegg", "Leila"):
        assert name not in written
        assert all(name.encode() not in p.read_bytes() for p in out.glob("*.png"))


def test_job_for_another_use_is_refused(make_site, capsys):
    root = card_site(make_site)
    out = root / "out"
    code, _, stderr = run(capsys, root, "--use", "board", "--format", "card", "--out", str(out))
    assert code == 1
    assert "card format is made only for social media" in stderr
    assert "--use social_media" in stderr and "'board'" in stderr
    assert not list(out.glob("*"))


@pytest.mark.parametrize("media", [["text"], ["text", "photo"]])
def test_no_quotes_consent_gives_no_card_and_a_note(make_site, capsys, media):
    root = card_site(make_site, media=media)
    code, stdout, stderr, out = render_cli(capsys, root)
    assert code == 0
    assert "warning: st-card01 (night-feeds): no quote cards" in stderr
    assert "0 of 1 stories rendered" in stdout
    assert not list(out.glob("*"))


def test_story_without_quotes_gives_no_card_and_a_note(make_site, capsys):
    root = card_site(make_site, quotes=())
    code, _, stderr, out = render_cli(capsys, root)
    assert code == 0
    assert "no quote cards" in stderr
    assert not list(out.glob("*"))


def test_long_quote_refused_on_small_card_not_shrunk(make_site, capsys):
    too_long = " ".join(["WOMBAT"] * 140)  # under the 1000 characters a story quote may have
    root = card_site(make_site, quotes=(QUOTE, long_quote(100), too_long))
    code, _, stderr, out = render_cli(capsys, root)
    assert code == 0, stderr
    assert ("st-card01 (night-feeds) quote 2: no 1200x630 card: the quote does not fit at "
            "the smallest readable size (40 px)") in stderr
    for size in SIZE_NAMES:
        assert f"quote 3: no {size} card" in stderr
    manifest = json.loads((out / "night-feeds-cards.json").read_text(encoding="utf-8"))
    made = {(c["quote"], c["size"]) for c in manifest["cards"]}
    assert made == {(1, s) for s in SIZE_NAMES} | {(2, "1080x1080"), (2, "1080x1350")}
    assert {(r["quote"], r["size"]) for r in manifest["refused"]} == {
        (2, "1200x630")} | {(3, s) for s in SIZE_NAMES}
    assert not (out / "night-feeds-q2-1200x630.png").exists()
    assert not list(out.glob("night-feeds-q3-*"))
    for card in manifest["cards"]:
        size = next(s for s in SIZES if s.name == card["size"])
        assert card["quote_px"] >= size.small_size
        assert_clean_png(out / card["file"], size)
    assert QUOTE not in stderr and "nurse" not in stderr  # no story text in messages


def test_quote_with_characters_the_font_lacks_is_refused(make_site, capsys):
    root = card_site(make_site, quotes=("Thank you \U0001F60A", QUOTE))
    code, _, stderr, out = render_cli(capsys, root)
    assert code == 0
    assert "quote 1: no cards: the theme's font cannot show U+1F60A" in stderr
    assert not list(out.glob("night-feeds-q1-*"))
    assert len(list(out.glob("night-feeds-q2-*.png"))) == 3


def test_high_contrast_theme_colours(make_site, capsys):
    root = card_site(make_site)
    code, _, stderr, out = render_cli(capsys, root, "--theme", "high-contrast")
    assert code == 0, stderr
    image = assert_clean_png(out / "night-feeds-q1-1080x1080.png", SIZES[1])
    assert image.getpixel((5, 5)) == (0, 0, 0)
    assert image.getpixel((5, 1075)) == WHITE


# --- theme checks ----------------------------------------------------------------------------

def site_theme(root: Path, colours: dict[str, str], parent: str | None = "nhs") -> None:
    """A site theme called "custom" with these colours (and, without a parent, no fonts)."""
    folder = root / "themes" / "custom"
    folder.mkdir(parents=True)
    lines = ['name = "custom"'] + ([f'parent = "{parent}"'] if parent else [])
    lines += ["[colours]"] + [f'{k} = "{v}"' for k, v in colours.items()]
    (folder / "theme.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(("colours", "fg", "bg"), [
    ({"primary": "#FFB81C"}, ("on_primary", "#FFFFFF"), ("primary", "#FFB81C")),
    ({"text": "#999999"}, ("text", "#999999"), ("background", "#FFFFFF")),
    ({"on_primary": "#777777", "primary": "#FFFFFF"}, ("on_primary", "#777777"),
     ("primary", "#FFFFFF")),
])
def test_theme_failing_contrast_is_refused(make_site, capsys, colours, fg, bg):
    root = card_site(make_site)
    site_theme(root, colours)
    code, _, stderr, out = render_cli(capsys, root, "--theme", "custom")
    assert code == 1
    ratio = shown_ratio(contrast_ratio(fg[1], bg[1]))
    assert (f"theme 'custom' cannot be used for quote cards: {fg[0]} {fg[1]} on {bg[0]} "
            f"{bg[1]} has a contrast ratio of {ratio}") in stderr
    assert "4.5:1" in stderr
    assert not list(out.glob("*"))


@pytest.mark.parametrize(("colours", "parent", "message"), [
    ({"primary": "blue"}, "nhs", "colour primary: 'blue' is not a colour like #005EB8"),
    ({"text": "#12345"}, "nhs", "colour text: '#12345' is not a colour"),
    ({"primary": "#005EB8"}, None, "has no colour 'on_primary'"),
    ({"primary": "#005EB8", "on_primary": "#FFFFFF", "text": "#000000", "background": "#FFF"},
     None, "has no regular font file"),
])
def test_unusable_theme_is_refused(make_site, capsys, colours, parent, message):
    root = card_site(make_site)
    site_theme(root, colours, parent=parent)
    code, _, stderr, out = render_cli(capsys, root, "--theme", "custom")
    assert code == 1
    assert message in stderr
    assert not list(out.glob("*"))


def test_builtin_themes_pass_contrast(site):
    for name in ("nhs", "high-contrast", "large-print"):
        palette = theme_palette(load_theme(site, name))
        assert contrast_ratio(palette.on_primary, palette.primary) >= 4.5
        assert contrast_ratio(palette.text, palette.background) >= 4.5


# --- the renderer called directly ------------------------------------------------------------

def direct_job(make_site, tmp_path, **view_changes):
    root = card_site(make_site)
    site = Site.open(root)
    decision = site.decide(site.store.find("st-card01"), "social_media", ON)
    view = dataclasses.replace(decision.view, **view_changes)
    fmt = site.formats()["card"]
    return make_job(site, fmt, "social_media", [view], tmp_path / "direct", on=ON)


def test_draft_view_carries_the_draft_mark(make_site, tmp_path):
    job = direct_job(make_site, tmp_path, draft=True)
    job.out_dir.mkdir()
    artefacts = render_cards(job)
    alts = [a.path.read_text(encoding="utf-8") for a in artefacts if a.path.suffix == ".txt"]
    assert len(alts) == 3
    assert all(alt.endswith("Example NHS Trust. DRAFT - not for distribution.\n") for alt in alts)
    manifest = json.loads((job.out_dir / "night-feeds-cards.json").read_text(encoding="utf-8"))
    assert len(manifest["cards"]) == 3


def test_unsafe_slug_is_refused(make_site, tmp_path):
    job = direct_job(make_site, tmp_path, slug="../escape")
    job.out_dir.mkdir()
    with pytest.raises(CardError, match="slug is not safe"):
        render_cards(job)
    assert not list(tmp_path.rglob("*.png"))


def test_warnings_are_kept_on_the_job(make_site, tmp_path):
    job = direct_job(make_site, tmp_path, quotes=())
    assert render_cards(job) == []
    assert job.warnings == ["st-card01 (night-feeds): no quote cards: the story has no quotes "
                            "that its consent lets us use"]


# --- layout (pure) -----------------------------------------------------------------------------

def check_layout(quote: str, size: CardSize, footer=("Example NHS Trust",)):
    layout = fit_card(card_quote(quote), "\u2014 a patient", list(footer), size, FONTS)
    assert layout.safe.contains(layout.text_box)
    assert all(layout.safe.contains(line.ink) for line in layout.lines)
    assert size.small_size <= layout.quote_size <= size.largest_quote_size
    assert layout.text("quote") == card_quote(quote)  # every word, in order, none cut
    quote_bottom = max(line.ink.bottom for line in layout.lines if line.role != "footer")
    assert quote_bottom < layout.band_top
    return layout


@pytest.mark.parametrize("size", SIZES, ids=SIZE_NAMES)
@pytest.mark.parametrize("words", [1, 12, 40, 70])
def test_layout_fits_inside_safe_area(size, words):
    check_layout(long_quote(words), size)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzW\u00e9\u03a9\u0416,.", min_size=1,
                              max_size=12), min_size=1, max_size=60),
       size=st.sampled_from(SIZES))
def test_layout_never_overflows_or_shrinks_below_readable(words, size):
    try:
        check_layout(" ".join(words), size)
    except DoesNotFit as exc:
        assert "smallest readable size" in exc.reason


@pytest.mark.parametrize("size", SIZES, ids=SIZE_NAMES)
def test_drawn_pixels_stay_inside_the_layout(size):
    layout = check_layout(long_quote(30), size)
    palette = Palette(primary="#005EB8", on_primary="#FFFFFF", text="#212B32",
                      background="#FFFFFF")
    drawn = draw_card(layout, palette, FONTS)
    blank = draw_card(dataclasses.replace(layout, lines=()), palette, FONTS)
    ink = ImageChops.difference(drawn, blank).getbbox()
    assert ink is not None
    box = layout.text_box
    assert box.left <= ink[0] and box.top <= ink[1] and ink[2] <= box.right + 1
    assert ink[3] <= box.bottom + 1
    assert layout.safe.contains(type(box)(*ink))


def test_very_long_quote_is_refused_not_shrunk():
    for size in SIZES:
        with pytest.raises(DoesNotFit, match=rf"smallest readable size \({size.small_size} px\)"):
            fit_card(card_quote(long_quote(260)), "\u2014 a patient", [], size, FONTS)


def test_word_wider_than_the_card_is_refused():
    with pytest.raises(DoesNotFit):
        fit_card(card_quote("a" * 80), "\u2014 a patient", [], SIZES[0], FONTS)
    with pytest.raises(DoesNotFit, match="attribution"):
        fit_card(card_quote("Fine."), "\u2014 " + "x" * 80, [], SIZES[0], FONTS)
    with pytest.raises(DoesNotFit, match="footer"):
        fit_card(card_quote("Fine."), "\u2014 a patient", ["y" * 80], SIZES[0], FONTS)


def test_no_footer_means_no_band():
    layout = fit_card(card_quote(QUOTE), "\u2014 a patient", [], SIZES[0], FONTS)
    assert layout.band_top == SIZES[0].height
    assert {line.role for line in layout.lines} == {"quote", "attribution"}


def test_card_quote_cleans_the_text():
    assert card_quote('  "It  helped."\n') == "\u201cIt helped.\u201d"
    assert card_quote("\u201cIt helped.\u201d") == "\u201cIt helped.\u201d"
    assert card_quote("Cafe\u0301") == "\u201cCaf\u00e9\u201d"
    assert unicodedata.is_normalized("NFC", card_quote("na\u0308ive"))
    assert card_quote("   ") == ""


def test_glyph_coverage():
    assert missing_glyphs("Caf\u00e9 \u03a9\u03bc\u03ad\u03b3\u03b1 \u041f\u0440\u0438\u0432\u0435\u0442 "
                          "\u201c\u2014\u201d", FONTS.bold) == []
    assert missing_glyphs("ok \U0001F600 \u4e2d \U0001F600", FONTS.regular) == ["U+1F600", "U+4E2D"]


# --- contrast (pure) ---------------------------------------------------------------------------

def test_contrast_ratios_match_wcag():
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#FFF", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)  # passes AA
    assert contrast_ratio("#777777", "#FFFFFF") < 4.5  # the well-known first grey that fails
    assert contrast_ratio("#005EB8", "#FFFFFF") == contrast_ratio("#FFFFFF", "#005EB8")
    assert relative_luminance((255, 255, 255)) == pytest.approx(1.0)


def test_shown_ratio_rounds_down():
    assert shown_ratio(4.4999) == "4.49:1"
    assert shown_ratio(21.0) == "21.00:1"


@pytest.mark.parametrize("bad", ["blue", "#12345", "#GGGGGG", "005EB8", "", None, 255])
def test_parse_hex_rejects_non_colours(bad):
    with pytest.raises(ValueError, match="is not a colour like #005EB8"):
        parse_hex(bad)
