"""storykit_pptx: PowerPoint decks opened with python-pptx (as an editor would) and converted
by LibreOffice (as a real office suite would), plus the organisation template setting."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BASIC_TOML, story_front, write_story
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER
from pypdf import PdfReader
from slides_support import (
    ALL,
    ASK,
    CHANGE,
    NAMES,
    NOTE_MARKERS,
    PHOTO_ALT,
    Decks,
    make_slide_site,
    pptx_media,
    pptx_xml,
)

from storykit.cli import cli
from storykit.errors import StorykitError
from storykit.render import render
from storykit.site import Site

#: Renders and builds decide as if today were ON (conftest.test_day).
pytestmark = pytest.mark.usefixtures("test_day")

EMU_16_9 = (12192000, 6858000)
SOFFICE_HELP = ("LibreOffice (soffice) is missing: run the README's test command (./dev test), "
                "which installs Debian's libreoffice-impress")


@pytest.fixture(scope="module")
def decks(tmp_path_factory) -> Decks:
    return Decks(make_slide_site(tmp_path_factory.mktemp("pptx") / "site"))


def slides_of(path: Path):
    return list(Presentation(str(path)).slides)


def notes_text(slide) -> str:
    return slide.notes_slide.notes_text_frame.text if slide.has_notes_slide else ""


def pictures(slide):
    return [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]


# --- what PowerPoint users get --------------------------------------------------------------------

def test_the_format_is_registered(decks):
    fmt = decks.site.formats()["pptx"]
    assert fmt.plugin == "storykit_pptx" and fmt.multi and fmt.extension == ".pptx"


def test_the_deck_is_16_by_9_with_a_title_on_every_slide(decks):
    artefact = decks.artefact("pptx")
    assert artefact.path.name == "board-stories.pptx" and artefact.story_ids == ALL
    prs = Presentation(str(artefact.path))
    assert (prs.slide_width, prs.slide_height) == EMU_16_9
    html = decks.get("slides").read_text(encoding="utf-8")
    assert len(prs.slides) == len(re.findall(r'<section class="slide ', html)), \
        "the same slide plan as the HTML deck"
    for number, slide in enumerate(prs.slides, 1):
        title = slide.shapes.title
        assert title is not None and title.is_placeholder, f"slide {number} has no title"
        assert title.placeholder_format.type in (PP_PLACEHOLDER.TITLE,
                                                 PP_PLACEHOLDER.CENTER_TITLE)
        assert title.text_frame.text.strip(), f"slide {number} has an empty title"
        for shape in slide.shapes:
            if shape.is_placeholder:
                assert shape.has_text_frame and shape.text_frame.text.strip(), \
                    f"slide {number} keeps an empty placeholder"
    assert prs.core_properties.title == "Test stories"
    assert prs.core_properties.author == "Example NHS Trust"


def test_text_is_editable_and_complete(decks):
    texts = [" ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
             for slide in slides_of(decks.get("pptx"))]
    joined = " ".join(texts)
    for text in (CHANGE, ASK, "Leila, patient (not their real name)", "Using this story",
                 "Content warning"):
        assert text in joined, text
    assert all(f"Slide {i} of {len(texts)}" in t for i, t in enumerate(texts, 1))


def test_every_picture_has_its_alt_text_and_decorations_are_marked(decks):
    found = []
    for slide in slides_of(decks.get("pptx")):
        for pic in pictures(slide):
            found.append(pic._element.nvPicPr.cNvPr.get("descr"))
        for shape in slide.shapes:
            if shape.name == "Decoration":
                assert "decorative" in shape._element.nvSpPr.cNvPr.xml
    assert PHOTO_ALT in found
    assert all(d and d.strip() and not d.endswith(".jpg") for d in found), found
    assert len(found) == 2


def test_pictures_fit_inside_the_slide(decks):
    prs = Presentation(str(decks.get("pptx")))
    for slide in prs.slides:
        for shape in slide.shapes:
            assert shape.left >= 0 and shape.top >= 0
            assert shape.left + shape.width <= prs.slide_width
            assert shape.top + shape.height <= prs.slide_height


def test_notes_are_in_the_notes_pane_only_for_presenters(decks):
    presenter = slides_of(decks.get("pptx", notes=True))
    notes = " ".join(notes_text(s) for s in presenter)
    assert "Pause after the quote and let it land." in notes
    assert "Who: Leila, patient (not their real name)." in notes
    assert "Consent: for Trust board, until 2 September 2029." in notes
    assert decks.get("pptx", notes=True).name == "board-stories-with-notes.pptx"
    audience = decks.get("pptx")
    assert not any(s.has_notes_slide for s in slides_of(audience))
    xml = " ".join(pptx_xml(audience).values())
    assert "notesSlide" not in xml
    for marker in NOTE_MARKERS:
        assert marker not in xml


def test_an_anonymous_story_names_nobody_even_in_notes(decks):
    for notes in (False, True):
        xml = " ".join(pptx_xml(decks.get("pptx", ("st-anon01",), notes=notes)).values())
        for name in (*NAMES, "Leila"):
            assert name not in xml, (notes, name)
        assert "a patient" in xml


def test_no_photo_consent_means_no_picture(decks):
    path = decks.get("pptx", ("st-nophoto",))
    assert pptx_media(path) == []
    assert all(pictures(s) == [] for s in slides_of(path))
    assert len(pptx_media(decks.get("pptx", ("st-full01",)))) == 1


def test_names_never_appear_in_the_full_deck(decks):
    xml = " ".join(pptx_xml(decks.get("pptx", notes=True)).values())
    for name in NAMES:
        assert name not in xml


def test_libreoffice_opens_and_converts_the_decks(decks, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail(SOFFICE_HELP, pytrace=False)
    files = [decks.get("pptx"), decks.get("pptx", notes=True)]
    out = tmp_path / "converted"
    done = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless",
         "--convert-to", "pdf", "--outdir", str(out), *map(str, files)],
        capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    for path in files:
        pdf = out / (path.stem + ".pdf")
        assert pdf.is_file(), f"LibreOffice did not convert {path.name}: {done.stdout}"
        reader = PdfReader(pdf)
        slides = slides_of(path)
        assert len(reader.pages) == len(slides)
        for page, slide in zip(reader.pages, slides, strict=True):
            words = slide.shapes.title.text_frame.text.split()[:3]
            assert " ".join(words) in " ".join(page.extract_text().split())


def test_storykit_render_makes_a_pptx(decks, tmp_path):
    result = CliRunner().invoke(cli, ["--site", str(decks.root), "render", "st-full01", "--use",
                                      "board", "--format", "pptx", "--out", str(tmp_path),
                                      "--with-notes"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "night-feeds-with-notes.pptx").is_file()


# --- templates ------------------------------------------------------------------------------------

def make_template(path: Path, *, wide: bool = True, sample_slide: bool = True) -> Path:
    """An organisation template: 16:9 (or 4:3), a renamed layout, a sample slide."""
    prs = Presentation()
    if wide:
        prs.slide_width, prs.slide_height = EMU_16_9
    prs.slide_layouts[5].name = "Trust title only"
    if sample_slide:
        sample = prs.slides.add_slide(prs.slide_layouts[1])
        sample.shapes.title.text = "Sample slide from the template"
    path.parent.mkdir(parents=True, exist_ok=True)
    prs.save(str(path))
    return path


def template_site(make_site, setting: str | None, name: str = "tpl") -> Path:
    toml = BASIC_TOML + (f"\n[plugins.storykit_pptx]\n{setting}\n" if setting else "")
    root = make_site(name, toml)
    write_story(root, "st-tpl0001", story_front())
    return root


def test_a_site_template_is_used_without_its_sample_slides(make_site, tmp_path):
    root = template_site(make_site, 'template = "brand/trust.pptx"')
    make_template(root / "brand" / "trust.pptx")
    site = Site.open(root)
    path = render(site, [site.store.get("st-tpl0001")], "board", "pptx",
                  tmp_path / "o").artefacts[0].path
    prs = Presentation(str(path))
    assert (prs.slide_width, prs.slide_height) == EMU_16_9
    layouts = {s.slide_layout.name for s in prs.slides}
    assert "Trust title only" in layouts
    texts = " ".join(s.shapes.title.text_frame.text for s in prs.slides)
    assert "Sample slide" not in texts
    assert "Sample slide" not in " ".join(pptx_xml(path).values())


def test_a_theme_template_is_used(make_site, tmp_path):
    root = template_site(make_site, None, "themetpl")
    make_template(root / "themes" / "nhs" / "static" / "pptx" / "template.pptx")
    site = Site.open(root)
    path = render(site, [site.store.get("st-tpl0001")], "board", "pptx",
                  tmp_path / "o").artefacts[0].path
    assert "Trust title only" in {s.slide_layout.name for s in Presentation(str(path)).slides}


@pytest.mark.parametrize(("setting", "prepare", "message"), [
    ('template = "brand/missing.pptx"', None, "does not exist"),
    ('template = "/etc/passwd"', None, "not an absolute path"),
    ('template = "../outside.pptx"', "outside", "is outside the site folder"),
    ('template = "brand/notes.pptx"', "text", "is not a PowerPoint file"),
    ('template = "brand/square.pptx"', "square", "must be 16:9"),
    ("template = 3", None, "template must be a path inside the site folder"),
    ('templet = "x.pptx"', None, "unknown setting 'templet'"),
])
def test_bad_template_settings_stop_storykit_with_a_clear_error(make_site, tmp_path, setting,
                                                                  prepare, message):
    root = template_site(make_site, setting, "bad")
    if prepare == "outside":
        make_template(root.parent / "outside.pptx")
    elif prepare == "text":
        (root / "brand").mkdir()
        (root / "brand" / "notes.pptx").write_text("not a deck", encoding="utf-8")
    elif prepare == "square":
        make_template(root / "brand" / "square.pptx", wide=False)
    with pytest.raises(StorykitError, match=re.escape(message)) as caught:
        Site.open(root).plugins  # noqa: B018 - loading plugins checks their settings
    assert "[plugins.storykit_pptx]" in str(caught.value)


def test_a_broken_theme_template_is_refused_when_rendering(make_site, tmp_path):
    root = template_site(make_site, None, "brokentheme")
    bad = root / "themes" / "nhs" / "static" / "pptx" / "template.pptx"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    site = Site.open(root)
    with pytest.raises(StorykitError, match="not a PowerPoint file"):
        render(site, [site.store.get("st-tpl0001")], "board", "pptx", tmp_path / "o")
    assert not list((tmp_path / "o").glob("*.pptx"))
