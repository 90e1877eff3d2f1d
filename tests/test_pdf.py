"""The storykit_pdf plugin: formats ``pdf`` and ``booklet``, checked by opening every PDF with
pypdf as a reader would (tags, alt text, bookmarks, metadata, text, pictures, attachments)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from conftest import BASIC_TOML, BODY, ON, consent_version, on_day, story_front, write_story
from pdfcheck import (
    assert_accessible,
    attachments,
    font_names,
    image_count,
    outline,
    read,
    structure,
    texts,
    xmp,
)
from PIL import Image, ImageDraw

from storykit.cli import cli
from storykit.consent import DRAFT_MARK
from storykit.errors import StorykitError
from storykit.images import prepare_image
from storykit.render import make_job, render
from storykit.site import Site
from storykit.themes import ThemeError, load_theme
from storykit.weasy import RenderBlocked, RenderLimitExceeded

#: Renders and builds decide as if today were ON (conftest.test_day).
pytestmark = pytest.mark.usefixtures("test_day")

ALT = "A hospital cot beside a bed, lit by a small lamp"
NAMES = ("Aisha", "Rahman", "Leila", "Carol", "Pegg")
LONG_BODY = BODY + "\n\n## The days after\n\n" + "\n\n".join(
    f"Day {i}: the *midwives* came by, checked the feeds and wrote it all down for the next "
    "shift, so nobody had to ask me the same questions twice." for i in range(1, 40))
PICTURE = [{"file": "media/cot.jpg", "alt": ALT, "kind": "photo"}]


def add_photo(folder: Path) -> None:
    """A made-up photo, stored as the upload step stores pictures (clean, sized)."""
    raw = folder / "raw.jpg"
    im = Image.new("RGB", (1600, 1000), (240, 228, 200))
    draw = ImageDraw.Draw(im)
    draw.rectangle((300, 500, 1300, 900), fill=(0, 94, 184))
    draw.ellipse((1200, 100, 1450, 350), fill=(255, 184, 28))
    im.save(raw, quality=90)
    prepare_image(raw, folder / "media" / "cot.jpg", max_width=1000)
    raw.unlink()


def make_stories(root: Path) -> None:
    add_photo(write_story(root, "st-photo01", story_front(images=PICTURE)))
    add_photo(write_story(root, "st-nophoto", story_front(
        slug="no-photo", title="Waiting for the scan", images=PICTURE),
        consent=[consent_version(media=["text", "quotes"], expires=dt.date(2028, 6, 30))]))
    add_photo(write_story(root, "st-anon001", story_front(
        slug="anonymous-story", title="The long week", images=[dict(PICTURE[0],
                                                                     kind="illustration")]),
        body=LONG_BODY, consent=[consent_version(identification="anonymous")]))
    write_story(root, "st-draft01", story_front(slug="draft-story", title="A draft story",
                                                status="draft"))


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """One site and the PDFs most tests read (rendered once for the module)."""
    root = tmp_path_factory.mktemp("pdfsite") / "site"
    (root / "stories").mkdir(parents=True)
    (root / "storykit.toml").write_text(BASIC_TOML, encoding="utf-8")
    make_stories(root)
    site = Site.open(root)
    out = root.parent / "out"
    ids = ["st-photo01", "st-nophoto", "st-anon001"]
    with on_day(ON):
        single = render(site, stories(site, *ids), "board", "pdf", out, by="tester")
        booklet = render(site, stories(site, *ids), "board", "booklet", out, by="tester")
    assert single.ok and booklet.ok
    return SimpleNamespace(root=root, site=site, out=out, single=single.artefacts,
                           booklet=booklet.artefacts[0])


def stories(site: Site, *ids: str):
    return [site.store.get(i) for i in ids]


def nothing_in(folder: Path) -> bool:
    """No file was left behind (the core may have made the empty folder)."""
    return not folder.exists() or list(folder.iterdir()) == []


def size_counts(reader) -> Counter:
    """Characters of text by font size in points."""
    sizes: Counter = Counter()

    def visit(text, _cm, _tm, _font, size):
        if text.strip():
            sizes[round(size * 0.75, 1)] += len(text)  # WeasyPrint sizes are CSS pixels

    for page in reader.pages:
        page.extract_text(visitor_text=visit)
    return sizes


# --- formats -----------------------------------------------------------------------------------

def test_formats_are_registered_by_the_plugin(made):
    formats = made.site.formats()
    assert formats["pdf"].plugin == "storykit_pdf" and formats["pdf"].parallel
    assert formats["booklet"].plugin == "storykit_pdf" and formats["booklet"].multi
    assert formats["pdf"].extension == formats["booklet"].extension == ".pdf"


def test_one_pdf_per_story_named_by_slug(made):
    assert [a.path.name for a in made.single] == ["night-feeds.pdf", "no-photo.pdf",
                                                  "anonymous-story.pdf"]
    assert [a.story_ids for a in made.single] == [("st-photo01",), ("st-nophoto",),
                                                  ("st-anon001",)]
    assert {a.media_type for a in made.single} == {"application/pdf"}
    logged = made.site.distributions.for_story("st-photo01")
    assert {(d.format, Path(d.path).name) for d in logged} >= {("pdf", "night-feeds.pdf")}


def test_single_pdf_is_tagged_and_titled(made):
    reader = read(made.single[0].path)
    counts = assert_accessible(reader, title="Night feeds on the postnatal ward")
    _, figures = structure(reader)
    assert [str(f["/Alt"]) for f in figures] == [ALT]
    assert counts["/H1"] == 1 and counts["/P"] > 3
    assert 'pdfuaid:part="1"' in xmp(reader)
    assert outline(reader) == [("Night feeds on the postnatal ward", 0)]
    assert image_count(reader) == 1
    assert reader.metadata.author == "Example NHS Trust"
    assert attachments(reader) == []


def test_single_pdf_text_footer_and_fonts(made):
    reader = read(made.single[0].path)
    pages = texts(reader)
    assert len(pages) == 1
    text = pages[0]
    assert "Shared with consent for: Trust board. Consent expires 2 September 2029." in text
    assert "Page 1 of 1" in text
    assert "Told by Leila, patient (not their real name)" in text
    assert "the night midwife sat with me" in text
    assert "one kind sentence is worth more than a leaflet" in text
    assert DRAFT_MARK not in text
    fonts = font_names(reader)
    assert {f.split("+")[-1] for f in fonts} == {"Liberation-Sans", "Liberation-Sans-Bold"}
    assert not any(re.search("Italic|Oblique", f) for f in fonts), fonts
    assert size_counts(reader).most_common(1)[0][0] == 12.0


def test_booklet_has_cover_contents_and_a_bookmark_per_story(made):
    reader = read(made.booklet.path)
    assert made.booklet.path.name == "booklet-board.pdf"
    assert made.booklet.story_ids == ("st-photo01", "st-nophoto", "st-anon001")
    counts = assert_accessible(reader, title="Test stories - Trust board")
    marks = outline(reader)
    titles = ["Night feeds on the postnatal ward", "Waiting for the scan", "The long week"]
    assert [t for t, _ in marks] == titles
    pages = texts(reader)
    assert 2 + len(titles) <= len(pages) <= 2 + 4 * len(titles)
    assert counts["/Figure"] == 2  # the photo and the illustration; no photo consent for one
    cover, contents = pages[0], pages[1]
    for words in ("Test stories", "Example NHS Trust", "Stories shared for: Trust board",
                  "3 stories", "Made on 1 March 2027"):
        assert words in cover
    for title, index in marks:
        assert re.search(re.escape(title) + r"[ .]*" + str(index + 1) + r"\b", contents), title
        assert title in pages[index]
    starts = [index for _, index in marks]
    assert starts == sorted(set(starts)) and starts[0] == 2, "each story starts a new page"


def test_booklet_footer_and_running_title(made):
    pages = texts(read(made.booklet.path))
    total = len(pages)
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in text
    marks = dict(outline(read(made.booklet.path)))
    long_start = marks["The long week"]
    assert total - long_start >= 2, "the long story runs over several pages"
    for text in pages[long_start + 1:]:
        assert "The long week" in text, "the running story title is in the header"
        assert "Shared with consent for: Trust board. Consent expires 2 September 2029." in text
    scan = pages[marks["Waiting for the scan"]]
    assert "Shared with consent for: Trust board. Consent expires 30 June 2028." in scan
    assert "Consent expires" not in pages[0] + pages[1]


def test_no_photo_consent_means_no_picture_in_either_format(made, tmp_path):
    reader = read(made.single[1].path)
    assert image_count(reader) == 0 and structure(reader)[0]["/Figure"] == 0
    result = render(made.site, stories(made.site, "st-nophoto"), "board", "booklet",
                    tmp_path)
    assert image_count(read(result.artefacts[0].path)) == 0
    assert image_count(read(made.single[0].path)) == 1, "control: with photo consent"


def test_anonymous_story_names_nobody(made):
    for path in (made.single[2].path, made.booklet.path):
        reader = read(path)
        pages = texts(reader)
        text = " ".join(pages)
        if path == made.single[2].path:
            assert "Told by a patient" in text and "the night midwife" in text
            assert len(pages) >= 2
        else:
            text = " ".join(pages[i] for i in range(dict(outline(reader))["The long week"],
                                                      len(pages)))
        for name in NAMES:
            assert name not in text, name
        meta = " ".join(str(v) for v in reader.metadata.values()) + xmp(reader)
        for name in NAMES:
            assert name not in meta


def test_draft_preview_is_marked_on_every_page_and_not_recorded(made, tmp_path):
    site = made.site
    refused = render(site, stories(site, "st-draft01"), "board", "pdf", tmp_path / "no")
    assert refused.artefacts == [] and not (tmp_path / "no").exists()
    for fmt, ids in (("pdf", ["st-draft01"]), ("booklet", ["st-draft01", "st-photo01"])):
        result = render(site, stories(site, *ids), "board", fmt, tmp_path / fmt,
                        preview=True)
        pages = texts(read(result.artefacts[0].path))
        assert len(pages) >= 1
        for text in pages:
            assert DRAFT_MARK in text
    assert site.distributions.for_story("st-draft01") == []
    assert not any(str(tmp_path) in d.path for d in site.distributions.all())


def test_large_print_theme_uses_18pt_text(made, tmp_path):
    result = render(made.site, stories(made.site, "st-photo01"), "board", "pdf", tmp_path,
                    theme="large-print")
    reader = read(result.artefacts[0].path)
    assert size_counts(reader).most_common(1)[0][0] == 18.0
    assert len(reader.pages) > 1, "bigger text needs more pages"


def test_cli_renders_pdf_and_booklet(made, tmp_path):
    runner = CliRunner()
    for fmt, name in (("pdf", "night-feeds.pdf"), ("booklet", "booklet-board.pdf")):
        result = runner.invoke(cli, ["--site", str(made.root), "render", "st-photo01",
                                     "st-anon001", "--use", "board", "--format", fmt,
                                     "--out", str(tmp_path / fmt)])
        assert result.exit_code == 0, result.output
        assert f"wrote {tmp_path / fmt / name}" in result.output
        assert "2 of 2 stories rendered" in result.output
        read(tmp_path / fmt / name)


# --- settings ----------------------------------------------------------------------------------

def site_with(make_site, settings: str, name: str = "site") -> Site:
    root = make_site(name, BASIC_TOML + "\n[plugins.storykit_pdf]\n" + settings)
    add_photo(write_story(root, "st-photo01", story_front(images=PICTURE)))
    return Site.open(root)


def test_variant_from_storykit_toml_and_render_option(make_site, tmp_path):
    site = site_with(make_site, 'variant = "pdf/a-3a"\n')
    result = render(site, stories(site, "st-photo01"), "board", "pdf", tmp_path / "a")
    reader = read(result.artefacts[0].path)
    meta = xmp(reader)
    assert 'pdfaid:part="3"' in meta and 'pdfaid:conformance="A"' in meta
    assert_accessible(reader, title="Night feeds on the postnatal ward")
    result = render(site, stories(site, "st-photo01"), "board", "pdf", tmp_path / "b",
                    options={"variant": "PDF/UA-2"})
    assert 'pdfuaid:part="2"' in xmp(read(result.artefacts[0].path))


@pytest.mark.parametrize(("settings", "message"), [
    ('variant = "pdf/x-9"', "variant must be one of pdf/ua-1"),
    ("variant = 1", "variant must be one of"),
    ('colour = "blue"', "unknown setting 'colour'; known settings: variant, timeout"),
    ('timeout = "fast"', "timeout must be a number of seconds from 1 to 3600"),
    ("timeout = 0", "timeout must be a number of seconds"),
    ("memory_mb = 1.5", "memory_mb must be a whole number from 128"),
    ("memory_mb = true", "memory_mb must be a whole number"),
    ("image_max_width = 10", "image_max_width must be a whole number from 200 to 4000"),
])
def test_bad_settings_in_storykit_toml_stop_storykit(make_site, settings: str, message: str):
    site = site_with(make_site, settings + "\n")
    with pytest.raises(StorykitError) as caught:
        site.plugins  # noqa: B018 - loading the plugins checks their settings
    assert f"[plugins.storykit_pdf] {message}" in str(caught.value)


@pytest.mark.parametrize(("options", "message"), [
    ({"variant": "pdf/a-9z"}, "render option variant must be one of"),
    ({"speed": "fast"}, "render option unknown setting 'speed'"),
    ({"timeout": -5}, "render option timeout must be a number of seconds"),
    ({"image_max_width": "wide"}, "render option image_max_width must be a whole number"),
])
def test_bad_render_options_are_refused(made, tmp_path, options, message):
    for fmt in ("pdf", "booklet"):
        with pytest.raises(StorykitError, match=re.escape(message)):
            render(made.site, stories(made.site, "st-photo01"), "board", fmt, tmp_path,
                   options=options)
    assert list(tmp_path.iterdir()) == []


# --- bad input: themes, pictures, limits -----------------------------------------------------

def override(root: Path, rel: str, text: str) -> None:
    path = root / "themes" / "nhs" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


BASE = (Path(__file__).parent.parent / "plugins" / "storykit_pdf" / "templates" / "pdf"
        / "base.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(("injected", "named"), [
    ('<img src="file:///etc/passwd" alt="x">', "/etc/passwd"),
    ('<img src="http://169.254.169.254/latest/meta-data/" alt="x">', "http://169.254.169.254/"),
    ('<link rel="stylesheet" href="file:///etc/passwd">', "/etc/passwd"),
    ('<style>@import url("http://169.254.169.254/x.css");</style>', "169.254.169.254"),
    ('<style>body { background: url("file:///etc/passwd") }</style>', "/etc/passwd"),
    ('<link rel="attachment" href="file:///etc/passwd">', "attach files"),
    ('<img src="../../../../../../../../etc/passwd" alt="x">', "/etc/passwd"),
])
def test_theme_template_cannot_reach_outside(make_site, tmp_path, injected: str, named: str):
    site = site_with(make_site, "")
    override(site.root, "templates/pdf/base.html",
             BASE.replace("{% block head %}", injected + "{% block head %}"))
    for fmt in ("pdf", "booklet"):
        out = tmp_path / fmt
        with pytest.raises(RenderBlocked) as caught:
            render(site, stories(site, "st-photo01"), "board", fmt, out)
        message = str(caught.value)
        assert named in message and "the PDF was not made" in message
        assert not any(name in message for name in NAMES + ("night midwife",))
        assert nothing_in(out)
    assert site.distributions.all() == []


def test_html_in_a_story_never_reaches_weasyprint(make_site, tmp_path):
    """Story Markdown is sanitised by the core, so these are plain text or gone; the PDF has
    no picture, attachment or file content from them."""
    site = site_with(make_site, "")
    write_story(site.root, "st-sneaky1", story_front(slug="sneaky", title="Sneaky"), body=(
        'Before.\n\n<img src="file:///etc/passwd" alt="x">\n\n'
        '<link rel="attachment" href="file:///etc/passwd">\n\n'
        '<p style="background: url(http://169.254.169.254/)">Styled</p>\n\n'
        "![a picture](file:///etc/passwd)\n\nAfter.\n"))
    for fmt in ("pdf", "booklet"):
        result = render(site, stories(site, "st-sneaky1"), "board", fmt, tmp_path / fmt)
        reader = read(result.artefacts[0].path)
        text = " ".join(texts(reader))
        assert "Before." in text and "After." in text and "Styled" in text
        assert image_count(reader) == 0 and attachments(reader) == []
        assert "root:" not in text


def test_theme_css_is_checked_when_the_theme_loads(make_site):
    site = site_with(make_site, "")
    override(site.root, "static/css/pdf.css", "h1 { background: url(file:///etc/passwd) }")
    with pytest.raises(ThemeError, match=r"pdf.css:1: .*outside the theme"):
        load_theme(site)


def test_theme_css_and_templates_may_change_the_pdf(make_site, tmp_path):
    site = site_with(make_site, "")
    override(site.root, "static/css/pdf.css",
             '.byline::after { content: " (set by the site theme)"; }\n'
             "h1 { color: #330072; }\n")
    override(site.root, "templates/pdf/base.html", BASE.replace(
        "{% block body %}{% endblock %}", "<p>Printed for the site</p>{% block body %}{% endblock %}"))
    result = render(site, stories(site, "st-photo01"), "board", "pdf", tmp_path)
    text = " ".join(texts(read(result.artefacts[0].path)))
    assert "(set by the site theme)" in text and "Printed for the site" in text


def test_bad_theme_values_are_clear_errors(make_site, tmp_path):
    site = site_with(make_site, "")
    (site.root / "themes" / "odd").mkdir(parents=True)
    (site.root / "themes" / "odd" / "theme.toml").write_text(
        'name = "odd"\nparent = "nhs"\n[colours]\nprimary = "red; } @import x"\n', "utf-8")
    with pytest.raises(StorykitError, match=r"theme 'odd': \[colours\] primary must be a colour"):
        render(site, stories(site, "st-photo01"), "board", "pdf", tmp_path / "out", theme="odd")
    (site.root / "themes" / "odd" / "theme.toml").write_text(
        'name = "odd"\nparent = "nhs"\n[print]\nbody_size = "100pt"\n', "utf-8")
    with pytest.raises(StorykitError, match=r"body_size must be a size in points from 9pt"):
        render(site, stories(site, "st-photo01"), "board", "pdf", tmp_path / "out", theme="odd")
    override(site.root, "templates/pdf/story.html", "{% extends 'pdf/base.html' %}{% block")
    with pytest.raises(StorykitError, match=r"template pdf/story.html cannot be used"):
        render(site, stories(site, "st-photo01"), "board", "pdf", tmp_path / "out")
    assert nothing_in(tmp_path / "out")


def test_missing_alt_text_is_refused(made, tmp_path):
    decision = made.site.decide(made.site.store.get("st-photo01"), "board", ON)
    view = replace(decision.view, images=(replace(decision.view.images[0], alt="  "),))
    fmt = made.site.formats()["pdf"]
    job = make_job(made.site, fmt, "board", [view], tmp_path, on=ON)
    with pytest.raises(StorykitError, match="picture 'media/cot.jpg' has no alt text"):
        fmt.render(job)
    assert list(tmp_path.iterdir()) == []


def test_broken_picture_is_a_clear_error(make_site, tmp_path):
    site = site_with(make_site, "")
    (site.root / "stories" / "st-photo01" / "media" / "cot.jpg").write_bytes(b"GIF89a not a jpeg")
    with pytest.raises(StorykitError, match=r"story st-photo01: cot.jpg: not a JPEG, PNG or WebP"):
        render(site, stories(site, "st-photo01"), "board", "pdf", tmp_path / "out")
    assert nothing_in(tmp_path / "out")


def test_a_runaway_booklet_is_stopped_at_the_time_limit(make_site, tmp_path):
    site = site_with(make_site, "timeout = 1\n")
    override(site.root, "templates/pdf/booklet.html",
             "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    with pytest.raises(RenderLimitExceeded, match=r"the booklet took longer than 1 s .*timeout"):
        render(site, stories(site, "st-photo01"), "board", "booklet", tmp_path / "out")
    assert nothing_in(tmp_path / "out") and site.distributions.all() == []


def test_a_greedy_booklet_is_stopped_at_the_memory_limit(make_site, tmp_path):
    site = site_with(make_site, "memory_mb = 128\n")
    logo = site.root / "themes" / "nhs" / "static" / "img" / "logo.png"
    logo.parent.mkdir(parents=True)
    Image.new("RGB", (8000, 8000), (0, 94, 184)).save(logo)  # small file, 192 MB of pixels
    override(site.root, "templates/pdf/booklet.html", BASE.replace(
        "{% block body %}{% endblock %}",
        "<img src=\"{{ static_url('img/logo.png') }}\" alt=\"Our logo\">"))
    with pytest.raises(RenderLimitExceeded, match=r"the booklet needed more than 128 MB"):
        render(site, stories(site, "st-photo01"), "board", "booklet", tmp_path / "out",
               options={"timeout": 120})
    assert nothing_in(tmp_path / "out")
