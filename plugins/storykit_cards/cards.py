"""The ``card`` format: one PNG per quote and card size, with an alt-text file beside it.

A card is only made when everything a reader needs holds: the job is for social media, the
theme's colours pass WCAG AA contrast, the font has every character, and the text fits at a
readable size. Anything that fails is refused with a message (ids and slugs only, never story
text); nothing is shrunk below readable, clipped or drawn with missing glyphs.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from storykit import Artefact, Job, StorykitError, StoryView, Theme
from storykit.kit import (
    AA_TEXT,
    SLUG_RE,
    atomic_write,
    contrast_ratio,
    parse_hex,
    plain_text,
    replace_file,
    shown_ratio,
)

from . import FORMAT
from .layout import SIZES, DoesNotFit, Fonts, Layout, card_quote, fit_card, missing_glyphs

CARD_USE = "social_media"
#: (text colour, the colour it sits on): the quote and attribution sit on ``primary``, the
#: footer (organisation, draft mark) on ``background``.
COLOUR_PAIRS = (("on_primary", "primary"), ("text", "background"))


class CardError(StorykitError):
    """The job cannot make quote cards at all (wrong use, unusable theme)."""


@dataclass(frozen=True)
class Palette:
    primary: str
    on_primary: str
    text: str
    background: str


def render_cards(job: Job) -> list[Artefact]:
    """The ``card`` renderer: every quote of every story, on every card size that fits."""
    if job.use != CARD_USE:
        raise CardError(f"quote cards are only for social media: render them with --use "
                        f"{CARD_USE} (this job's use is {job.use!r})")
    palette = theme_palette(job.theme)
    fonts = theme_fonts(job.theme)
    artefacts: list[Artefact] = []
    for view in job.stories:
        artefacts += story_cards(job, view, palette, fonts)
    return artefacts


# --- theme checks ----------------------------------------------------------------------------

def theme_palette(theme: Theme) -> Palette:
    """The card colours from the theme, refused unless each text colour has at least 4.5:1
    contrast with what it sits on."""
    colours = theme.colours
    for key in ("primary", "on_primary", "text", "background"):
        value = colours.get(key)
        if value is None:
            raise CardError(f"theme {theme.name!r} has no colour {key!r} in [colours]; quote "
                            "cards need primary, on_primary, text and background")
        try:
            parse_hex(value)
        except ValueError as exc:
            raise CardError(f"theme {theme.name!r}: colour {key}: {exc}") from None
    for fg, bg in COLOUR_PAIRS:
        ratio = contrast_ratio(colours[fg], colours[bg])
        if ratio < AA_TEXT:
            raise CardError(
                f"theme {theme.name!r} cannot be used for quote cards: {fg} {colours[fg]} on "
                f"{bg} {colours[bg]} has a contrast ratio of {shown_ratio(ratio)}, below the "
                f"{AA_TEXT}:1 that WCAG 2.2 AA needs for text; choose darker or lighter colours")
    return Palette(colours["primary"], colours["on_primary"], colours["text"],
                   colours["background"])


def theme_fonts(theme: Theme) -> Fonts:
    """The theme's regular and bold font files ([fonts] regular and bold)."""
    found = {key: theme.font_file(key) for key in ("regular", "bold")}
    for key, path in found.items():
        if path is None or not path.is_file():
            raise CardError(f"theme {theme.name!r} has no {key} font file: quote cards need "
                            f"[fonts] {key} = \"fonts/<file>.ttf\" under the theme's static folder")
    return Fonts(regular=found["regular"], bold=found["bold"])  # type: ignore[arg-type]


# --- one story ---------------------------------------------------------------------------------

def story_cards(job: Job, view: StoryView, palette: Palette, fonts: Fonts) -> list[Artefact]:
    """Cards for one story's quotes, plus ``<slug>-cards.json`` listing what was made."""
    who = f"{view.id} ({view.slug})"
    if not SLUG_RE.match(view.slug):
        raise CardError(f"{view.id}: the slug is not safe for a file name")
    if not view.quotes:
        job.warn(f"{who}: no quote cards: the story has no quotes that its consent lets us use")
        return []
    attribution = f"\u2014 {view.attribution}"
    footer = [t for t in (job.site.organisation, view.draft_mark) if t]
    made: list[dict] = []
    refused: list[dict] = []
    artefacts: list[Artefact] = []
    for number, raw in enumerate(view.quotes, 1):
        quote = card_quote(plain_text(raw))
        problem = _unusable(quote, attribution, footer, fonts)
        if problem:
            job.warn(f"{who} quote {number}: no cards: {problem}")
            refused.append({"quote": number, "size": None, "reason": problem})
            continue
        for size in SIZES:
            try:
                layout = fit_card(quote, attribution, footer, size, fonts)
            except DoesNotFit as exc:
                reason = f"{exc.reason}; shorten the quote or use a taller card"
                job.warn(f"{who} quote {number}: no {size.name} card: {reason}")
                refused.append({"quote": number, "size": size.name, "reason": reason})
                continue
            alt = alt_text(quote, view, footer)
            artefacts += _write_card(job, view, number, layout, palette, fonts, alt)
            made.append(_card_entry(view, number, layout, alt))
    if made:
        artefacts.append(_write_manifest(job, view, made, refused))
    return artefacts


def _unusable(quote: str, attribution: str, footer: list[str], fonts: Fonts) -> str | None:
    if not quote:
        return "the quote is empty"
    missing = sorted(set(missing_glyphs(quote, fonts.bold))
                     | set(missing_glyphs(" ".join([attribution, *footer]), fonts.regular)))
    if missing:
        return (f"the theme's font cannot show {', '.join(missing[:10])}; remove those "
                "characters (emoji, for example) or use a theme whose font has them")
    return None


def alt_text(quote: str, view: StoryView, footer: list[str]) -> str:
    """What the card says, in reading order, as one plain sentence for an image's alt text."""
    tail = " ".join(t if t.endswith(".") else f"{t}." for t in footer)
    return f"A quote from {view.attribution}: {quote}" + (f" {tail}" if tail else "")


def draw_card(layout: Layout, palette: Palette, fonts: Fonts) -> Image.Image:
    """Paint the lines :func:`fit_card` placed; nothing here moves or resizes text."""
    size = layout.size
    image = Image.new("RGB", (size.width, size.height), palette.primary)
    draw = ImageDraw.Draw(image)
    if layout.band_top < size.height:
        draw.rectangle((0, layout.band_top, size.width, size.height), fill=palette.background)
    for line in layout.lines:
        fill = palette.text if line.role == "footer" else palette.on_primary
        draw.text((line.x, line.baseline), line.text, font=fonts.get(line.size, line.bold),
                  fill=fill, anchor="ls")
    return image


def png_bytes(image: Image.Image) -> bytes:
    """PNG with no metadata chunks: Pillow writes tEXt/iTXt/eXIf only when asked to.

    zlib level 3 encodes in about two thirds of the time of the default (6) on these flat
    cards, for files about 15% larger (around 100 KB): measured in bench/bench_cards.py."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


def card_stem(slug: str, number: int, layout: Layout) -> str:
    return f"{slug}-q{number}-{layout.size.name}"


def _write_card(job: Job, view: StoryView, number: int, layout: Layout, palette: Palette,
                fonts: Fonts, alt: str) -> list[Artefact]:
    stem = card_stem(view.slug, number, layout)
    png, txt = job.out_dir / f"{stem}.png", job.out_dir / f"{stem}.txt"
    # many small files that can be made again: whole or absent, without a sync each
    # (180 syncs took 1.7 s of a 30-story pack's cards; bench/bench_packs.py)
    replace_file(png, png_bytes(draw_card(layout, palette, fonts)))
    replace_file(txt, (alt + "\n").encode("utf-8"))
    ids = (view.id,)
    return [Artefact(png, FORMAT, ids, "image/png"), Artefact(txt, FORMAT, ids, "text/plain")]


def _card_entry(view: StoryView, number: int, layout: Layout, alt: str) -> dict:
    stem = card_stem(view.slug, number, layout)
    box = layout.text_box
    return {"quote": number, "size": layout.size.name, "file": f"{stem}.png",
            "alt_file": f"{stem}.txt", "alt": alt, "quote_px": layout.quote_size,
            "attribution": layout.text("attribution"),
            "text_box": [box.left, box.top, box.right, box.bottom],
            "safe_area": [layout.safe.left, layout.safe.top, layout.safe.right,
                          layout.safe.bottom]}


def _write_manifest(job: Job, view: StoryView, made: list[dict],
                    refused: list[dict]) -> Artefact:
    path: Path = job.out_dir / f"{view.slug}-cards.json"
    data = {"story": view.id, "slug": view.slug, "use": job.use, "cards": made,
            "refused": refused}
    atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return Artefact(path, FORMAT, (view.id,), "application/json")
