"""A throw-away site for the slide tests (storykit_slides and storykit_pptx), and its decks.

Four fictional stories: one with everything (photo, content warning, quotes, changes, asks,
notes), one anonymous whose text names the storyteller and others, one whose consent has no
photo (but whose story lists one), and one long story with lists, a table, a quote and a link.
Decks are rendered once per test module and cached.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

from conftest import (
    BASIC_TOML,
    ON,
    consent_version,
    dismiss_blocking,
    on_day,
    story_front,
    write_story,
)
from PIL import Image, ImageDraw

from storykit.render import Artefact, render
from storykit.site import Site

TOML = BASIC_TOML + 'contact_email = "stories@example.nhs.test"\n'
ALL = ("st-full01", "st-anon01", "st-nophoto", "st-long01")
#: Names that must never appear: every story is shown by pseudonym or anonymously.
NAMES = ("Aisha", "Rahman", "Carol", "Pegg")
PHOTO_ALT = "A hospital cot beside a bed, lit by a small lamp"
SPEAKER_NOTE = "Pause after the quote and let it land."
#: Words that only presenter notes (the story's own and the generated ones) contain.
NOTE_MARKERS = ("Pause after the quote", "Then invite questions", "Presenter copy", "Who:",
                "Named as:", "Read the quote slowly", "Describe the picture",
                "Read the warning out loud")
WARNING = "Talks about a baby being very unwell."
CHANGE = "Night staff now explain the call bell to every new parent."
ASK = "Fund a second night feeding adviser for the postnatal ward."

ANON_BODY = (
    "Aisha Rahman is my name and I want the ward to know what helped.\n\n"
    "On the second night, Midwife Carol Pegg sat with me while the baby fed. Carol stayed "
    "for an hour.\n\n## Afterwards\n\nMrs Rahman, they called me, and it felt kind.\n")

LONG_BODY = "\n\n".join([
    "We came in on a Tuesday. " + " ".join(
        f"On day {i} the *nurses* checked the feeds and wrote it all down for the next shift, "
        "so nobody had to ask me the same questions twice." for i in range(1, 9)),
    "## What the ward did well",
    "- They **told me** the plan each morning\n- They let my partner stay\n"
    "    - even at night\n    - even when the ward was full\n- They wrote things down",
    "1. A call bell I could reach\n2. A chair for my partner\n3. Food at night",
    "> It was the first time anyone asked me how *I* was.\n> And they waited for the answer.",
    "| Time | What happened |\n|---|---|\n| 2am | Feed and nappy |\n"
    "| 4am | Nurse checked the baby's temperature and weight |\n| 6am | Breakfast |",
    "### More about the nights",
    " ".join(["The nights were long but the staff were kind and calm every time."] * 14),
    "Read more on the [NHS website](https://www.nhs.uk/) about feeding at night.",
    "## A long quote",
    "Averyveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryverylongwordthatmust"
    "breakanywhereratherthanspillingoutofitsbox and then the sentence goes on normally.",
])


def add_photo(folder: Path, name: str = "cot.jpg", size: tuple[int, int] = (1600, 1000)) -> None:
    """A made-up photo in the story's media folder."""
    im = Image.new("RGB", size, (240, 228, 200))
    draw = ImageDraw.Draw(im)
    draw.rectangle((size[0] // 5, size[1] // 2, size[0] * 4 // 5, size[1] - 40), fill=(0, 94, 184))
    draw.ellipse((size[0] - 400, 100, size[0] - 150, 350), fill=(255, 184, 28))
    (folder / "media").mkdir(exist_ok=True)
    im.save(folder / "media" / name, quality=88)


def picture(name: str = "cot.jpg", alt: str = PHOTO_ALT, kind: str = "photo") -> dict[str, str]:
    return {"file": f"media/{name}", "alt": alt, "kind": kind}


def make_slide_site(root: Path) -> Path:
    """Write the four stories into a new site at ``root``."""
    (root / "stories").mkdir(parents=True)
    (root / "storykit.toml").write_text(TOML, encoding="utf-8")
    add_photo(write_story(root, "st-full01", story_front(
        images=[picture()], content_warning=WARNING, changes=[CHANGE], asks=[ASK],
        speaker_notes=SPEAKER_NOTE + "\nThen invite questions.\n",
        quotes=["At three in the morning, one kind sentence is worth more than a leaflet.",
                "Carol Pegg made me feel I was doing fine."])))
    add_photo(write_story(root, "st-anon01", story_front(
        slug="anonymous-nights", title="Aisha and the long nights",
        summary="Aisha Rahman on what Carol Pegg did.", images=[picture(
            alt="Carol Pegg holding a cot blanket", kind="illustration")],
        quotes=["Carol Pegg was there when it mattered."],
        speaker_notes="Aisha Rahman asked us to read this slowly."),
        body=ANON_BODY, consent=[consent_version(identification="anonymous")]))
    dismiss_blocking(root, "st-anon01")  # its text names the storyteller: outputs never do
    add_photo(write_story(root, "st-nophoto", story_front(
        slug="no-photo", title="Waiting for the scan", images=[picture()]),
        consent=[consent_version(media=["text", "quotes"], expires=dt.date(2028, 6, 30))]))
    write_story(root, "st-long01", story_front(
        slug="long-nights", title="Three weeks on the neonatal unit", quotes=[],
        changes=["Parents get a fold-out bed.", "A printed plan for going home."]),
        body=LONG_BODY)
    return root


class Decks:
    """Renders decks on demand and keeps them: ``decks.get("slides", ids, notes=False)``."""

    def __init__(self, root: Path):
        self.root = root
        self.site = Site.open(root)
        self.out = root.parent / "out"
        self._made: dict[tuple, Artefact] = {}

    def get(self, fmt: str, ids: tuple[str, ...] = ALL, *, notes: bool = False) -> Path:
        key = (fmt, ids, notes)
        if key not in self._made:
            out = self.out / f"{fmt}-{'-'.join(ids)}-{'notes' if notes else 'audience'}"
            with on_day(ON):
                result = render(self.site, [self.site.store.get(i) for i in ids], "board",
                                fmt, out, with_notes=notes, by="tester")
            assert result.ok, [d.messages for d in result.refused]
            assert len(result.artefacts) == 1, "a deck is one file holding every story"
            self._made[key] = result.artefacts[0]
        return self._made[key].path

    def artefact(self, fmt: str, ids: tuple[str, ...] = ALL, *, notes: bool = False) -> Artefact:
        self.get(fmt, ids, notes=notes)
        return self._made[(fmt, ids, notes)]


def pptx_xml(path: Path) -> dict[str, str]:
    """Every XML part of a .pptx (slides, notes, properties) as text."""
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist()
                if n.endswith(".xml") or n.endswith(".rels")}


def pptx_media(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [n for n in z.namelist() if n.startswith("ppt/media/")]
