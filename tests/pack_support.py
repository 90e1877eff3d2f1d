"""A throw-away site of mixed stories for the pack and letter tests (all fictional).

Decided on ``ON`` (the ``test_day`` fixture), for the use ``commissioners``:

- ``st-allowed`` may be used: shown by a pseudonym ("Leila"), with a midwife named in the
  text as "the night midwife", a picture whose alt text names the midwife, and contact
  details (letters in large print);
- ``st-anonym`` may be used, anonymously: nobody in it may be named;
- ``st-boardonly`` is for the board only; ``st-expired`` expired the day before; ``st-gone``
  was withdrawn; ``st-draft`` is a draft; ``st-nosign`` still needs the storyteller's
  sign-off. Their text must appear nowhere in a commissioners' pack.

Each refused story's body carries a word found nowhere else (``MARKERS``), so a leak of
its text shows up in any file's text.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from conftest import BASIC_TOML, ON, consent_version, dismiss_blocking, story_front, write_story
from output_support import output_text
from PIL import Image, ImageDraw

TOML = BASIC_TOML + 'contact_email = "stories@example.nhs.test"\n'
USE = "commissioners"
ALLOWED = ("st-allowed", "st-anonym")
REFUSED = ("st-boardonly", "st-expired", "st-gone", "st-draft", "st-nosign")
MARKERS = {story: f"Quillword{n}" for n, story in enumerate(REFUSED)}
#: Names the consent of the allowed stories hides, and every refused storyteller's name.
HIDDEN = ("Aisha", "Rahman", "Carol", "Pegg", "Benedict", "Quorn", "Ottoline", "Farrant",
          "Peregrine", "Mossop", "Ianthe", "Jessop", "Wilbur", "Stanbridge", "Ophira",
          "Tellwright")
ALT = "Carol Pegg sitting beside the cot. A small lamp is lit."
CONTACT = {"agrees_to_contact": True, "name": "Aisha Rahman",
           "email": "aisha.rahman@example.org",
           "address": ["12 Fictional Road", "Brackenford", "BF1 2ZZ"],
           "preferred_format": "large_print"}
YESTERDAY = ON - dt.timedelta(days=1)
QUOTES = ("At three in the morning, one kind sentence is worth more than a leaflet.",
          "Nobody rushed me.", "I felt like a person again.")

ALLOWED_BODY = (
    "On our second night, Midwife Carol Pegg sat with me while the baby finally fed.\n\n"
    "Aisha Rahman is my name, and I wanted the ward to know what helped.\n\n"
    "## What would have helped\n\n"
    "Being told at the start which buzzer to press, and that it was fine to press it.\n")
ANON_BODY = ("Benedict Quorn here. The district nurses came every morning and Benedict "
             "always had the kettle on.\n\nThey showed my wife how to change the dressing.\n")


def picture(folder: Path, name: str = "cot.png") -> None:
    """A made-up illustration in the story's media folder."""
    image = Image.new("RGB", (900, 600), (240, 228, 200))
    ImageDraw.Draw(image).rectangle((200, 300, 700, 560), fill=(0, 94, 184))
    (folder / "media").mkdir(exist_ok=True)
    image.save(folder / "media" / name)


def refused_body(story_id: str) -> str:
    return (f"This is the text of {story_id}: {MARKERS[story_id]} appears only here.\n\n"
            "It must never reach a commissioners' pack.\n")


def write_mixed(root: Path, *, expires: dt.date = dt.date(2029, 9, 2),
                toml: str = TOML) -> Path:
    """The mixed site at ``root`` (consent lasting until ``expires`` unless a story's point
    is that it ended)."""
    (root / "stories").mkdir(parents=True, exist_ok=True)
    (root / "storykit.toml").write_text(TOML, encoding="utf-8")  # ``toml`` at the end
    uses = [USE, "board", "staff_training"]
    write_allowed(root, "st-allowed", "night-feeds", expires=expires)
    write_story(root, "st-anonym", story_front(
        title="Nurses every morning", slug="nurses-every-morning", service="Community",
        tags=["district nursing"],
        storyteller={"name": "Benedict Quorn", "role": "patient"}, people=[], summary=None,
        quotes=["They made it feel like home."]), body=ANON_BODY,
        consent=[consent_version(uses=uses, identification="anonymous", expires=expires)])
    dismiss_blocking(root, "st-anonym")  # named in the text on purpose: outputs never name him
    specs = {
        "st-boardonly": ({"name": "Ottoline Farrant", "role": "carer"},
                         {"uses": ["board"]}, {}),
        "st-expired": ({"name": "Peregrine Mossop", "role": "patient"},
                       {"expires": YESTERDAY, "granted": dt.date(2024, 1, 1),
                        "contact": {**CONTACT, "name": "Peregrine Mossop",
                                    "preferred_format": "easy_read"}}, {}),
        "st-gone": ({"name": "Ianthe Jessop", "role": "patient"},
                    {"status": "withdrawn", "withdrawal": {
                        "requested": dt.date(2027, 2, 1), "scope": "stop_future_use",
                        "reason": "moved away"}}, {"status": "withdrawn"}),
        "st-draft": ({"name": "Wilbur Stanbridge", "role": "relative"}, {}, {"status": "draft"}),
        "st-nosign": ({"name": "Ophira Tellwright", "role": "patient"},
                      {"signed_off": None, "signed_off_revision": None}, {}),
    }
    for n, (story_id, (teller, consent, front)) in enumerate(specs.items()):
        write_story(root, story_id, story_front(
            title=f"Refused story {n} {MARKERS[story_id]}", slug=story_id.removeprefix("st-"),
            service="Maternity", storyteller=teller, people=[], summary=None,
            quotes=[f"A quote with {MARKERS[story_id]} in it."], **front),
            body=refused_body(story_id),
            consent=[consent_version(**{"uses": uses, "expires": expires,
                                        "identification": "anonymous", **consent})])
    (root / "storykit.toml").write_text(toml, encoding="utf-8")
    return root


def write_allowed(root: Path, story_id: str, slug: str, *, expires: dt.date = dt.date(2029, 9, 2),
                  quotes: tuple[str, ...] = QUOTES[:1]) -> Path:
    """A story commissioners may see: pseudonym, a named midwife, a picture, contact."""
    folder = write_story(root, story_id, story_front(
        slug=slug, service="Maternity", tags=["night staff"],
        images=[{"file": "media/cot.png", "alt": ALT, "kind": "illustration"}],
        changes=["Night staff now explain the call bell."], asks=["Fund a night adviser."],
        quotes=list(quotes)), body=ALLOWED_BODY,
        consent=[consent_version(uses=[USE, "board", "staff_training"], expires=expires,
                                 contact=CONTACT)])
    picture(folder)
    dismiss_blocking(root, story_id)  # named in the text on purpose: outputs never name her
    return folder


def zip_texts(path: Path, into: Path) -> dict[str, str]:
    """Every file in the zip at ``path`` (extracted into ``into``) and its readable text."""
    with zipfile.ZipFile(path) as zf:
        zf.extractall(into)
        names = zf.namelist()
    return {name: output_text(into / name) for name in names}


@pytest.fixture
def mixed(make_site):
    """The mixed site, opened."""
    from storykit.site import Site

    return Site.open(write_mixed(make_site()))


@pytest.fixture
def cli(capsys, monkeypatch):
    """``cli(root, *args)`` runs ``storykit --site ROOT ARGS`` in this process:
    ``(exit status, standard output, standard error)``."""
    from storykit.cli import main

    def run(root: Path, *args) -> tuple[int, str, str]:
        monkeypatch.delenv("STORYKIT_DEBUG", raising=False)
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            main(["--site", str(root), *map(str, args)])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        code = info.value.code
        return (code if isinstance(code, int) else 0), out, err

    return run
