"""storykit_web: the public website (``storykit build``) and the one-page ``web`` format.

Only published stories that consent allows on the public website may appear; everything
else, and everything hostile in a story, must never reach any built file. Pages must be
valid HTML (Nu HTML Checker) and pass axe-core's WCAG 2.2 AA checks in Chromium.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from browser_support import (
    assert_valid_html,
    axe_violations,
    chromium,
    describe,
    serve_folder,
    tags_of,
    watch_console,
)
from conftest import (
    BASIC_TOML,
    ON,
    consent_text,
    consent_version,
    on_day,
    story_front,
    write_story,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from storykit_web import pages
from storykit_web.build import BuildError, build_site

from storykit.cli import main
from storykit.fsio import TEMP_PREFIX, read_cache, write_cache
from storykit.render import render
from storykit.site import Site
from storykit.store import FileStore

#: Renders and builds decide as if today were ON (conftest.test_day).
pytestmark = pytest.mark.usefixtures("test_day")

REPO = Path(__file__).resolve().parent.parent
BASE_URL = "https://stories.example.nhs.uk/"
TOML = BASIC_TOML + f'base_url = "{BASE_URL}"\ncontact_email = "stories@example.nhs.uk"\n'
BOARD_SENTENCE = "I sat next to him on a blue plastic chair by the fire door."  # board only
HOSTILE_BODY = """Before the payloads.

<script>window.__pwned = "script"</script>

[one](javascript:window.__pwned=1) [two](JaVaScRiPt:window.__pwned=2)
[three](jav&#x61;script:window.__pwned=3) [four](java&#x09;script:window.__pwned=4)
[five](data:text/html,hello)

<a href="javascript:window.__pwned='raw'">raw link</a>

<img src="x" onerror="window.__pwned='img'">

<iframe src="javascript:window.parent.__pwned='iframe'"></iframe>

<svg onload="window.__pwned='svg'"><circle r="10"/></svg>

<meta http-equiv="refresh" content="0;url=https://evil.example/">

<base href="https://evil.example/">

<p style="background:url(file:///etc/passwd)">Styled paragraph.</p>

<style>@import url(https://evil.example/x.css); body{background:url(file:///etc/passwd)}</style>

<form action="https://evil.example/"><input name="x"></form>

<object data="x.swf"></object><embed src="x.swf">

<div id="sk-main" class="skip-link main-wrapper"><a href="#sk-main">Skip to the real page</a></div>

A paragraph posing as the search box[^note].
{: #sk-search-input .search-form }

[^note]: A footnote, which must still work.

After the payloads.
"""
HOSTILE_FRONT = {
    "title": "Night <b>feeds</b> <script>window.__pwned='title'</script>",
    "slug": "hostile",
    "content_warning": "<img src=x onerror=window.__pwned='cw'> talk of a hard birth",
    "summary": "A summary with <svg onload=window.__pwned='s'> and [a link](javascript:alert(1))",
    "quotes": ["<img src=x onerror=window.__pwned='quote'> quoted", "A plain quote."],
    "tags": ["<b>bold</b>", "night staff"],
    "service": "<svg onload=alert(1)>Maternity",
    "changes": ["<script>window.__pwned='change'</script>We changed the rota."],
}
DANGEROUS_TAGS = {"script", "iframe", "svg", "object", "embed", "base", "form", "style",
                  "input", "frame", "frameset", "math", "link", "meta"}


def published(slug: str, title: str, **over) -> dict:
    return story_front(status="published", slug=slug, title=title, **over)


def new_site(make_site, name: str = "site") -> Path:
    return make_site(name, TOML)


def build(root: Path, day: dt.date = ON, **kw):
    """Build as ``storykit build`` does on ``day``, with a freshly opened site (as a new
    process would)."""
    with on_day(day):
        return build_site(Site.open(root), root / "out", **kw)


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run the real command line; return (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def all_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace")
                     for p in sorted(folder.rglob("*")) if p.is_file())


def search_index(out: Path) -> list[dict]:
    text = (out / "search-index.js").read_text(encoding="utf-8")
    assert text.startswith("window.STORYKIT_SEARCH = ") and text.rstrip().endswith(";")
    return json.loads(text.strip()[len("window.STORYKIT_SEARCH = "):-1])["stories"]


def mtimes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns
            for p in folder.rglob("*") if p.is_file()}


def copy_demo(dest: Path) -> Path:
    """The repository's demo site (15 invented stories), copied so tests never change it."""
    dest.mkdir(parents=True)
    shutil.copy(REPO / "storykit.toml", dest / "storykit.toml")
    shutil.copytree(REPO / "stories", dest / "stories")
    return dest


def photo_with_gps(path: Path, size: tuple[int, int] = (2000, 1200)) -> None:
    """A JPEG carrying EXIF with a GPS position, as phones write them."""
    exif = Image.Exif()
    exif[0x010F] = "Example phone maker"
    exif.get_ifd(0x8825).update({1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)})
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (90, 140, 190)).save(path, exif=exif.tobytes(), quality=85)


# --- module fixtures: the demo site and a hostile site, built once --------------------------

@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> Path:
    """Built outputs under one folder: the demo site in the three themes, a hostile site, and
    one-page ``web`` renders (the browser and the HTML checker look at all of them)."""
    top = tmp_path_factory.mktemp("web")
    with on_day(ON):
        return _built_sites(top)


def _built_sites(top: Path) -> Path:
    demo = copy_demo(top / "demo")
    site = Site.open(demo)
    for theme in ("nhs", "high-contrast", "large-print"):
        build_site(site, top / "out" / theme, theme=theme)
    hostile = top / "hostile"
    (hostile / "stories").mkdir(parents=True)
    (hostile / "storykit.toml").write_text(TOML, encoding="utf-8")
    write_story(hostile, "st-hostile", published(**HOSTILE_FRONT), body=HOSTILE_BODY)
    write_story(hostile, "st-plain01", published("plain", "A plain story"))
    build_site(Site.open(hostile), top / "out" / "hostile")
    stories = [site.store.find("the-window-by-my-bed"), site.store.find("an-expert-in-my-mum")]
    render(site, stories, "public_website", "web", top / "out" / "single", by="test")
    hostile_site = Site.open(hostile)
    render(hostile_site, [hostile_site.store.get("st-hostile")], "public_website", "web",
           top / "out" / "single-hostile", by="test")
    return top


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def served(sites):
    with serve_folder(sites / "out") as base:
        yield base


# --- what is on the site -------------------------------------------------------------------

def test_the_site_has_every_page_type(sites):
    out = sites / "out" / "nhs"
    for page in ("index.html", "stories.html", "services.html", "tags.html", "search.html",
                 "accessibility.html", "feed.xml", "sitemap.xml", "search-index.js",
                 "static/css/site.css", "static/js/search.js",
                 "static/fonts/LiberationSans-Regular.ttf",
                 "stories/the-window-by-my-bed.html", "services/stroke-rehabilitation.html",
                 "tags/stroke.html"):
        assert (out / page).is_file(), page
    assert len(list((out / "stories").glob("*.html"))) == 8  # the demo's 8 public stories


def test_only_published_stories_allowed_for_the_public_website(make_site):
    root = new_site(make_site)
    write_story(root, "st-public", published("public", "On the website"))
    write_story(root, "st-approved", story_front(slug="approved", title="Approved only"))
    write_story(root, "st-draft01", story_front(slug="drafty", title="Still a draft",
                                                status="draft"))
    write_story(root, "st-board01", published("board", "Board only"),
                consent=[consent_version(uses=["board"])])
    write_story(root, "st-nophoto", published("other", "Other"),
                consent=[consent_version(uses=["board"], status="pending")])
    report = build(root)
    assert report.stories == 1
    pages = sorted(p.name for p in (root / "out" / "stories").iterdir())
    assert pages == ["public.html"]
    text = all_text(root / "out")
    for absent in ("Approved only", "Still a draft", "Board only", "approved.html"):
        assert absent not in text


def test_a_board_only_story_never_appears_anywhere(sites):
    demo = Site.open(sites / "demo")
    story = demo.store.find("eleven-hours-in-the-corridor")
    assert not demo.decide(story, "public_website", ON).allowed
    assert BOARD_SENTENCE in story.body  # the sentence we look for is really in the story
    for theme in ("nhs", "high-contrast", "large-print"):
        text = all_text(sites / "out" / theme)
        readable = html.unescape(text)
        for leak in (BOARD_SENTENCE, story.title, story.slug, story.summary, "corridor care"):
            assert leak not in text and leak not in readable, (theme, leak)


def test_withdrawal_removes_the_page_feed_entry_and_search_entry(make_site, capsys, database_env):
    root = new_site(make_site)
    write_story(root, "st-keeps1", published("keeps", "A story that stays"))
    write_story(root, "st-goes01", published("goes", "A story that goes"),
                body="Only this story says the heron waited by the canal.\n")
    assert run_cli(capsys, "--site", str(root), "build")[0] == 0
    out = root / "build" / "site"
    assert (out / "stories" / "goes.html").is_file()
    log = Site.open(root).distributions
    assert [d.url for d in log.for_story("st-goes01", live_only=True)] == [
        BASE_URL + "stories/goes.html"]

    code, said, _ = run_cli(capsys, "--site", str(root), "consent", "withdraw", "goes",
                            "--scope", "stop_future_use", "--reason", "Changed her mind")
    assert code == 0 and "stories/goes.html" in said
    caches = all_text(root / "instance" / "cache" / "web-build")
    assert "heron" not in caches and "A story that goes" not in caches  # forgotten at once
    code, said, _ = run_cli(capsys, "--site", str(root), "build")
    assert code == 0 and "1 story pages were taken down" in said
    assert not (out / "stories" / "goes.html").exists()
    assert "heron" not in all_text(out) and "A story that goes" not in all_text(out)
    feed = ET.parse(out / "feed.xml").getroot()
    titles = [e.findtext("{http://www.w3.org/2005/Atom}title")
              for e in feed.iter("{http://www.w3.org/2005/Atom}entry")]
    assert titles == ["A story that stays"]
    assert [e["t"] for e in search_index(out)] == ["A story that stays"]
    log = Site.open(root).distributions
    assert log.for_story("st-goes01", live_only=True) == []
    assert log.for_story("st-goes01")[0].removed_at is not None


def test_the_markdown_memo_spares_converting_again_and_forgets_a_withdrawn_story(
        make_site, capsys, monkeypatch):
    """A big rebuild (output deleted) reuses the HTML an earlier build made; the memo is in
    the private instance folder, and a withdrawal removes the story's text from it at once."""
    from storykit_web.build import PARALLEL_MIN

    root = new_site(make_site)
    for n in range(PARALLEL_MIN):
        write_story(root, f"st-memo{n:03d}", published(f"memo-{n}", f"Memo story {n}"))
    write_story(root, "st-goes01", published("goes", "A story that goes"),
                body="Only this story says the heron waited by the canal.\n")
    calls = []
    real = Site.markdown
    monkeypatch.setattr(Site, "markdown", lambda self, text: calls.append(text) or real(self, text))
    build_site(Site.open(root), root / "out", workers=1)
    first = len(calls)
    (memo,) = (root / "instance" / "cache" / "web-build").glob("*.markdown.pickle")
    assert b"heron" in memo.read_bytes() and memo.stat().st_mode & 0o077 == 0
    shutil.rmtree(root / "out")
    calls.clear()
    assert build_site(Site.open(root), root / "out", workers=1).rendered == PARALLEL_MIN + 1
    assert first > PARALLEL_MIN and calls == []
    assert "heron" in (root / "out" / "stories" / "goes.html").read_text(encoding="utf-8")
    code, _, _ = run_cli(capsys, "--site", str(root), "consent", "withdraw", "goes",
                         "--scope", "stop_future_use", "--reason", "Changed her mind")
    assert code == 0 and b"heron" not in memo.read_bytes()


def test_expired_and_unpublished_stories_disappear_on_the_next_build(make_site):
    root = new_site(make_site)
    write_story(root, "st-expires", published("expires", "Consent runs out"),
                consent=[consent_version(expires=dt.date(2027, 6, 30))])
    write_story(root, "st-unpub01", published("unpublish", "Taken off the website"))
    write_story(root, "st-stays01", published("stays", "Stays"))
    assert build(root).stories == 3
    text = (root / "stories" / "st-unpub01" / "story.md").read_text(encoding="utf-8")
    (root / "stories" / "st-unpub01" / "story.md").write_text(
        text.replace("status: published", "status: approved"), encoding="utf-8")
    report = build(root, dt.date(2027, 7, 1))
    assert report.stories == 1
    assert sorted(report.removed) == ["stories/expires.html", "stories/unpublish.html"]
    assert [e["t"] for e in search_index(root / "out")] == ["Stays"]
    assert "Consent runs out" not in all_text(root / "out")


def test_a_story_page_shows_what_consent_allows_content_warning_first(make_site):
    root = new_site(make_site)
    write_story(root, "st-page001", published(
        "page", "Night feeds", content_warning="This story talks about a stillbirth.",
        images=[{"file": "media/ward.jpg", "alt": "An empty postnatal ward at night",
                 "kind": "photo"}]))
    photo_with_gps(root / "stories" / "st-page001" / "media" / "ward.jpg")
    build(root)
    page = (root / "out" / "stories" / "page.html").read_text(encoding="utf-8")
    main_part = page[page.index("<main"):]
    warning = main_part.index("This story talks about a stillbirth.")
    assert main_part.index("<h1") < warning < main_part.index("Being told at the start")
    assert "Shared by Leila, patient (not their real name)" in page  # pseudonym consent
    for private in ("Aisha", "Rahman", "Carol Pegg", "Pause after the quote"):
        assert private not in all_text(root / "out"), private
    assert "the night midwife" in page
    assert '<blockquote><p>At three in the morning' in page
    assert 'alt="An empty postnatal ward at night"' in page
    assert 'property="og:image" content="https://stories.example.nhs.uk/images/page-1.jpg"' in page


def site_with_photo(make_site) -> Path:
    """A site with one published story and its photo (2000 x 1200, with GPS in EXIF)."""
    root = new_site(make_site)
    write_story(root, "st-photo01", published(
        "photo", "With a photo",
        images=[{"file": "media/ward.jpg", "alt": "A ward corridor", "kind": "photo"}]))
    photo_with_gps(root / "stories" / "st-photo01" / "media" / "ward.jpg")
    return root


def test_a_name_the_consent_hides_is_nowhere_on_the_site_not_even_in_addresses(make_site):
    root = new_site(make_site)
    write_story(root, "st-named01", published(
        "aisha-rahmans-nights", "Three nights on the ward", tags=["Rahman family", "sleep"],
        images=[{"file": "media/ward.jpg", "alt": "A ward corridor", "kind": "photo"}]),
        consent=[consent_version(identification="anonymous")])
    photo_with_gps(root / "stories" / "st-named01" / "media" / "ward.jpg")
    build(root)
    out = root / "out"
    assert (out / "stories" / "st-named01.html").is_file()
    assert (out / "images" / "st-named01-1.jpg").is_file()
    names = [p.relative_to(out).as_posix() for p in out.rglob("*")]
    assert not [n for n in names if "aisha" in n.lower() or "rahman" in n.lower()]
    text = all_text(out).lower()
    assert "aisha" not in text and "rahman" not in text
    assert "sleep" in text  # the other tag stays


def test_pictures_are_resized_and_carry_no_metadata(make_site):
    root = site_with_photo(make_site)
    build(root)
    with Image.open(root / "out" / "images" / "photo-1.jpg") as im:
        assert im.size == (800, 480)
        assert not im.getexif() and "exif" not in im.info
    page = (root / "out" / "stories" / "photo.html").read_text(encoding="utf-8")
    assert 'width="800" height="480"' in page


def _kept_pictures(root: Path) -> list[Path]:
    folder = root / "instance" / "cache" / "web-build" / "pictures"
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_a_picture_is_not_encoded_again_when_its_page_is_rendered_again(make_site,
                                                                         monkeypatch):
    """Resizing is the slow part of a page with a picture: after the output folder is
    deleted (or the theme changes), the copy kept from the last build is used."""
    from storykit import images

    root = site_with_photo(make_site)
    build(root)
    first = (root / "out" / "images" / "photo-1.jpg").read_bytes()
    (kept,) = _kept_pictures(root)
    assert kept.parent.name == "st-photo01" and kept.stat().st_mode & 0o777 == 0o600

    def refuse(*args, **kwargs):
        raise AssertionError("the picture was encoded again")

    monkeypatch.setattr(images, "clean_copy", refuse)
    shutil.rmtree(root / "out")
    assert build(root).rendered == 1
    assert (root / "out" / "images" / "photo-1.jpg").read_bytes() == first
    assert (root / "out" / "images" / "photo-1.jpg").stat().st_mode & 0o777 == 0o644
    page = (root / "out" / "stories" / "photo.html").read_text(encoding="utf-8")
    assert 'width="800" height="480"' in page
    assert build(root, theme="large-print").rendered == 1  # a new theme: no new encoding


def test_an_uploaded_pictures_small_copy_is_published_without_decoding_it(make_site,
                                                                          monkeypatch):
    """The browser app keeps an 800-pixel copy of every upload, noting which big copy it was
    made from: the build publishes it as it is (without that note) instead of decoding the
    big one again."""
    from storykit import images

    root = new_site(make_site)
    write_story(root, "st-upload1", published(
        "uploaded", "An uploaded photo",
        images=[{"file": "media/img-x.jpg", "alt": "A ward corridor", "kind": "photo"}]))
    media = root / "stories" / "st-upload1" / "media"
    phone = media.parent / "phone.jpg"
    photo_with_gps(phone, size=(3200, 2400))
    images.prepare_variants(phone, {1600: media / "img-x.jpg", 800: media / "img-x-800.jpg"},
                            fmt="JPEG")
    phone.unlink()

    def refuse(*args, **kwargs):
        raise AssertionError("the picture was decoded and encoded again")

    monkeypatch.setattr(images, "_clean_bytes", refuse)
    build(root)
    published_bytes = (root / "out" / "images" / "uploaded-1.jpg").read_bytes()
    small = (media / "img-x-800.jpg").read_bytes()
    assert b"storykit-copy-of" in small and b"storykit-copy-of" not in published_bytes
    assert len(published_bytes) < len(small)
    with Image.open(root / "out" / "images" / "uploaded-1.jpg") as im:
        im.load()
        assert im.size == (800, 600) and "comment" not in im.info and not im.getexif()


def test_one_picture_shown_by_two_stories_is_made_once_per_build(make_site, monkeypatch):
    """Copies are named by their source's bytes: the same photo in two stories is decoded,
    resized and encoded once."""
    from storykit import images

    root = new_site(make_site)
    for n in (1, 2):
        write_story(root, f"st-same0{n}", published(
            f"same-{n}", f"Same photo {n}",
            images=[{"file": "media/ward.jpg", "alt": "A ward corridor", "kind": "photo"}]))
        photo_with_gps(root / "stories" / f"st-same0{n}" / "media" / "ward.jpg")
    made = []
    real = images._clean_bytes

    def counted(*args, **kwargs):
        made.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(images, "_clean_bytes", counted)
    build(root)
    assert len(made) == 1
    first, second = ((root / "out" / "images" / f"same-{n}-1.jpg").read_bytes() for n in (1, 2))
    assert first == second


def test_a_rebuild_that_makes_no_picture_does_not_load_pillow(make_site):
    """Pillow takes a tenth of a one-edit rebuild to import: only a picture needs it."""
    root = site_with_photo(make_site)
    write_story(root, "st-plain01", published("plain", "A plain story"))
    build(root)
    rewrite_story(root, "st-plain01", "A plain story", "A plain story, retold")
    code = ("import sys, datetime\n"
            "from storykit import dates\n"
            "from storykit.site import Site\n"
            "from storykit_web.build import build_site\n"
            "dates.FIXED_TODAY = datetime.date.fromisoformat(sys.argv[1])\n"
            f"report = build_site(Site.open({str(root)!r}), {str(root / 'out')!r})\n"
            "print(report.rendered, 'PIL' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code, ON.isoformat()], capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.split() == ["1", "False"], done.stderr


def test_a_replaced_or_damaged_picture_copy_is_made_again(make_site):
    root = site_with_photo(make_site)
    build(root)
    (old,) = _kept_pictures(root)
    photo_with_gps(root / "stories" / "st-photo01" / "media" / "ward.jpg", size=(1600, 1600))
    build(root)
    (new,) = _kept_pictures(root)  # the old picture's copy is gone
    assert new != old
    with Image.open(root / "out" / "images" / "photo-1.jpg") as im:
        assert im.size == (800, 800)
    new.write_bytes(new.read_bytes()[:200])  # damaged: its bytes no longer match its name
    shutil.rmtree(root / "out")
    build(root)
    with Image.open(root / "out" / "images" / "photo-1.jpg") as im:
        im.load()  # a whole picture, made again
        assert im.size == (800, 800)


def test_kept_picture_copies_go_with_the_story(make_site, capsys):
    """Withdrawal removes a story's kept pictures at once; a story that may no longer show
    its photo, or is no longer on the site, loses them at the next build."""
    root = site_with_photo(make_site)
    write_story(root, "st-photo02", published(
        "photo-two", "Another photo",
        images=[{"file": "media/ward.jpg", "alt": "A ward corridor", "kind": "photo"}]))
    photo_with_gps(root / "stories" / "st-photo02" / "media" / "ward.jpg")
    write_story(root, "st-photo03", published(
        "photo-three", "A third photo",
        images=[{"file": "media/ward.jpg", "alt": "A ward corridor", "kind": "photo"}]))
    photo_with_gps(root / "stories" / "st-photo03" / "media" / "ward.jpg")
    build(root)
    assert {p.parent.name for p in _kept_pictures(root)} == {
        "st-photo01", "st-photo02", "st-photo03"}
    code, _, _ = run_cli(capsys, "--site", str(root), "consent", "withdraw", "photo",
                         "--scope", "stop_future_use", "--reason", "Changed her mind")
    assert code == 0
    assert {p.parent.name for p in _kept_pictures(root)} == {"st-photo02", "st-photo03"}
    story = root / "stories" / "st-photo02" / "story.md"
    story.write_text(story.read_text(encoding="utf-8").replace(
        "status: published", "status: draft"), encoding="utf-8")
    (root / "stories" / "st-photo03" / "consent.yml").write_text(
        consent_text([consent_version(media=["text", "quotes"])]), encoding="utf-8")  # no photo
    build(root)
    assert _kept_pictures(root) == []


def test_a_big_site_built_by_worker_processes_is_the_same_as_one_built_in_one(make_site):
    """Past PARALLEL_MIN changed stories, pages are rendered in forked workers and written by
    the parent: every page, picture, list, log entry and report line must be as a one-process
    build makes them."""
    from storykit_web.build import PARALLEL_MIN

    root = new_site(make_site)
    count = PARALLEL_MIN + 6
    for n in range(count):
        images = [{"file": "media/ward.jpg", "alt": f"Ward {n}", "kind": "illustration"}] \
            if n % 9 == 4 else []
        write_story(root, f"st-many{n:03d}", published(f"many-{n}", f"Story {n}",
                                                       tags=[f"tag{n % 4}"], images=images))
        if images:
            photo_with_gps(root / "stories" / f"st-many{n:03d}" / "media" / "ward.jpg")
    site = Site.open(root)
    one = build_site(site, root / "one", workers=1)
    two = build_site(Site.open(root), root / "two", workers=2)
    assert one.rendered == two.rendered == count
    files = {p.relative_to(root / "one").as_posix() for p in (root / "one").rglob("*")
             if p.is_file()}
    assert files == {p.relative_to(root / "two").as_posix() for p in (root / "two").rglob("*")
                     if p.is_file()}
    assert {f"stories/many-{n}.html" for n in range(count)} <= files
    assert {"images/many-4-1.jpg", "images/many-13-1.jpg", "images/many-22-1.jpg"} <= files
    for rel in files:
        assert (root / "one" / rel).read_bytes().replace(b"/one/", b"/two/") == \
            (root / "two" / rel).read_bytes().replace(b"/one/", b"/two/"), rel
    assert sorted(one.written) == sorted(two.written)
    assert not list((root / "two").rglob(".tmp-*"))
    logged = site.distributions.live_at_paths(str(root / "two") + os.sep, "web")
    assert len(logged) == count


NOTICES_PLUGIN = """
import datetime as dt
from storykit import hookimpl
from storykit.kit import WebPage
@hookimpl
def web_pages(site, stories):
    return [WebPage("notices/index.html", "Ward notices", intro="Visiting times change",
                    updated=dt.date(2026, 11, 1))]
"""


def test_list_pages_made_by_workers_show_plugin_pages_as_one_process_does(make_site):
    """The workers make the list pages (forked before the plugins' pages were known): the
    home page and the feed still link to a plugin's page, as a one-process build has them."""
    from storykit_web.build import PARALLEL_MIN

    root = new_site(make_site)
    (root / "plugins").mkdir(exist_ok=True)
    (root / "plugins" / "notices.py").write_text(NOTICES_PLUGIN, encoding="utf-8")
    for n in range(PARALLEL_MIN + 2):
        write_story(root, f"st-list{n:03d}", published(f"list-{n}", f"Story {n}",
                                                       tags=[f"tag{n % 3}"]))
    one = build(root, workers=1)
    two = build_site(Site.open(root), root / "two", workers=2)
    assert one.listings == two.listings > 0
    for rel in ("index.html", "feed.xml", "search-index.js", "stories.html", "tags/tag1.html",
                "notices/index.html", "sitemap.xml"):
        mine = (root / "two" / rel).read_bytes().replace(b"/two/", b"/out/")
        assert (root / "out" / rel).read_bytes() == mine, rel
    assert b"Visiting times change" in (root / "two" / "feed.xml").read_bytes()
    assert b"notices/index.html" in (root / "two" / "index.html").read_bytes()


def test_a_failed_log_update_beside_the_list_pages_fails_the_build_and_is_done_next_time(
        make_site, monkeypatch):
    """The distribution log is brought up to date in a thread while the workers make the list
    pages: if that fails, the build fails before its manifest is saved, and the next build
    records every page."""
    from storykit_web.build import PARALLEL_MIN

    from storykit.kit import PublicationSet

    root = new_site(make_site)
    count = PARALLEL_MIN + 2
    for n in range(count):
        write_story(root, f"st-logd{n:03d}", published(f"logd-{n}", f"Story {n}"))

    def broken(self, *args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(PublicationSet, "record", broken)
    with pytest.raises(RuntimeError, match="went away"):
        build(root, workers=2)
    assert (root / "out" / "index.html").is_file()  # the pages were made meanwhile
    monkeypatch.undo()
    report = build(root, workers=2)
    assert report.ok and report.recorded == count
    logged = Site.open(root).distributions.live_at_paths(str(root / "out") + os.sep, "web")
    assert len(logged) == count


def test_a_build_with_workers_notes_its_pages_before_writing_any(make_site, monkeypatch):
    """Before the first page is written, the manifest on disk names every page the build is
    about to write (so a build killed then still knows they are storykit's to remove),
    also when it is noted while the workers render the first pages."""
    from storykit_web.build import PARALLEL_MIN, Builder, manifest_path

    root = new_site(make_site)
    count = PARALLEL_MIN + 2
    for n in range(count):
        write_story(root, f"st-note{n:03d}", published(f"note-{n}", f"Story {n}"))
    seen: list[list[str]] = []
    real_put = Builder._put

    def put(self, rel, data):
        if not seen:
            kept = read_cache(manifest_path(self.site, self.out)) or {}
            seen.append(list(kept.get("pending", [])))
        return real_put(self, rel, data)

    monkeypatch.setattr(Builder, "_put", put)
    assert build(root, workers=2).rendered == count
    assert {f"stories/note-{n}.html" for n in range(count)} <= set(seen[0])


@pytest.mark.parametrize("stories", [24, 30, 101, 1000, 10_000])
@pytest.mark.parametrize("workers", [2, 3, 4])
def test_stories_are_shared_out_in_chunks_smaller_at_the_end(stories, workers):
    """Every story is rendered once; stories with pictures come first; the last chunks are
    smaller than the first, so the workers finish nearly together."""
    from storykit_web.build import _balanced_chunks

    pictures = [1 if n % 7 == 3 else 0 for n in range(stories)]
    chunks = _balanced_chunks(pictures, workers)
    order = [i for chunk in chunks for i in chunk]
    assert sorted(order) == list(range(stories))
    assert [pictures[i] for i in order] == sorted(pictures, reverse=True)
    sizes = [len(chunk) for chunk in chunks]
    assert sizes == sorted(sizes, reverse=True)
    if stories >= 1000:
        assert sizes[-2] * 3 < sizes[0]


def test_a_list_template_that_does_not_compile_fails_a_build_with_workers_naming_it(make_site):
    """The list templates are compiled ahead while the workers render the stories; one of a
    theme that does not compile still fails the build with Jinja's error, naming it."""
    import jinja2
    from storykit_web.build import PARALLEL_MIN

    root = new_site(make_site)
    for n in range(PARALLEL_MIN + 2):
        write_story(root, f"st-tmpl{n:03d}", published(f"tmpl-{n}", f"Story {n}",
                                                       tags=["food"]))
    theme = root / "themes" / "broken"
    (theme / "templates" / "web").mkdir(parents=True)
    (theme / "theme.toml").write_text('name = "broken"\nparent = "nhs"\n', encoding="utf-8")
    (theme / "templates" / "web" / "groups.html").write_text("{% if %}", encoding="utf-8")
    for workers in (1, 2):
        with pytest.raises(jinja2.TemplateSyntaxError) as failed:
            build(root, theme="broken", workers=workers)
        assert failed.value.name == "web/groups.html"


@pytest.mark.parametrize("compiler", ["works", "fails"])
def test_templates_compiled_beside_the_load_leave_no_process_behind(make_site, monkeypatch,
                                                                   compiler):
    """A full build with a theme of its own templates forks a process that compiles them
    while the stories load; whether it works or fails, the site is built the same and no
    child process is left."""
    import threading

    from storykit_web import build as web_build

    root = new_site(make_site)
    for n in range(web_build.PARALLEL_MIN + 2):
        write_story(root, f"st-comp{n:03d}", published(f"comp-{n}", f"Story {n}",
                                                       tags=["food"]))
    footer = root / "themes" / "nhs" / "templates" / "web" / "_footer.html"
    footer.parent.mkdir(parents=True)
    footer.write_text('<footer class="site-footer"><p>Our footer</p></footer>\n',
                      encoding="utf-8")
    if compiler == "fails":
        def broken(env):
            raise RuntimeError("no compiling today")

        monkeypatch.setattr(web_build, "_compile_templates", broken)
    forks = []
    real_fork = os.fork

    def fork():
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    compilers: list[int | None] = []
    real_reap = web_build.Builder._reap_compiler

    def reap(self):
        compilers.append(self.compiler)
        real_reap(self)

    monkeypatch.setattr(web_build.Builder, "_reap_compiler", reap)
    alone = threading.active_count() == 1  # it forks only from a process with one thread
    report = build(root, workers=2)
    assert report.ok and report.listings > 0
    assert "Our footer" in (root / "out" / "tags" / "food.html").read_text(encoding="utf-8")
    assert compilers[0] in forks if alone else compilers == [None]
    for pid in forks:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_a_full_build_writes_its_story_pages_into_files_made_ahead(make_site, monkeypatch):
    """A full build of many stories has a forked process make the story pages' files while
    the stories load (storykit.kit.FilePool): every page is whole, and no file of the pool
    is left in the output folder."""
    import threading

    from storykit_web import build as web_build

    root = new_site(make_site)
    for n in range(web_build.PARALLEL_MIN + 6):
        write_story(root, f"st-pool{n:03d}", published(f"pool-{n}", f"Story {n}"))
    write_story(root, "st-pooldraft", story_front(slug="pool-draft", title="Not yet"))
    pools = []
    real_start = web_build.FilePool.start

    def start(self):
        pools.append(self)
        return real_start(self)

    monkeypatch.setattr(web_build.FilePool, "start", start)
    alone = threading.active_count() == 1  # it forks only from a process with one thread
    report = build(root, workers=2)
    assert report.ok and report.rendered == web_build.PARALLEL_MIN + 6
    out = root / "out"
    assert [p for p in out.rglob("*") if p.name.startswith(TEMP_PREFIX)] == []
    for n in range(web_build.PARALLEL_MIN + 6):
        page = (out / "stories" / f"pool-{n}.html").read_text(encoding="utf-8")
        assert f">Story {n}</h1>" in page and page.rstrip().endswith("</html>")
    assert not (out / "stories" / "pool-draft.html").exists()
    if alone:  # one file a story folder; the draft's was not needed, and was deleted
        assert len(pools) == 1 and pools[0].count == web_build.PARALLEL_MIN + 7
        assert pools[0].taken >= 1 and pools[0].pid is None


def test_list_pages_are_shared_out_by_place(make_site):
    """Each worker gets the list pages of one place (the site's root, or a folder) when there
    are as many places as workers, so a card is made once per place; every page is in one
    batch, whatever the number of workers."""
    from storykit_web.build import _listing_batches

    cards = [{"id": f"s{n}", "title": f"S{n}", "updated": "2026-01-01", "service": f"svc{n % 3}",
              "tags": [f"t{n % 5}"]} for n in range(120)]
    found = [x for x in pages.listings(cards, base_url=BASE_URL) if x.kind != "js"]
    for workers in (1, 2, 3, 8):
        batches = _listing_batches(found, workers)
        assert 1 <= len(batches) <= min(workers, len(found))
        assert sorted(x.path for b in batches for x in b) == sorted(x.path for x in found)
        places = [pages.relative_root(x.path) for b in batches for x in b]
        assert places == sorted(places)  # a place's pages follow each other
        assert all(len({pages.relative_root(x.path) for x in b}) <= 2 for b in batches)


def test_without_photo_consent_no_photo_is_published(make_site):
    root = new_site(make_site)
    write_story(root, "st-nophoto", published(
        "nophoto", "No photo", images=[{"file": "media/ward.jpg", "alt": "A ward",
                                        "kind": "photo"}]),
        consent=[consent_version(media=["text", "quotes"])])
    photo_with_gps(root / "stories" / "st-nophoto" / "media" / "ward.jpg")
    build(root)
    assert not (root / "out" / "images").exists()
    assert "<img" not in (root / "out" / "stories" / "nophoto.html").read_text(encoding="utf-8")


def test_feed_sitemap_search_index_and_open_graph(sites):
    out = sites / "out" / "nhs"
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ET.parse(out / "feed.xml").getroot()
    entries = list(feed.iter(f"{atom}entry"))
    assert len(entries) == 8
    links = {e.find(f"{atom}link").get("href") for e in entries}
    assert "https://stories.brackenford.example/stories/the-window-by-my-bed.html" in links
    assert all(e.findtext(f"{atom}id").startswith("urn:uuid:") for e in entries)
    urls = [u.text for u in ET.parse(out / "sitemap.xml").getroot().iter(
        "{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "https://stories.brackenford.example/accessibility.html" in urls
    assert len([u for u in urls if "/stories/" in u]) == 8
    index = search_index(out)
    assert len(index) == 8 and {"t", "u", "s", "v", "g", "w"} <= set(index[0])
    window = next(e for e in index if e["u"] == "stories/the-window-by-my-bed.html")
    assert "robin" in window["w"].split()
    home = (out / "index.html").read_text(encoding="utf-8")
    for tag in ('property="og:title"', 'property="og:description"', 'property="og:url"',
                'property="og:site_name"', 'property="og:type" content="website"'):
        assert tag in home


def test_each_page_is_logged_once_per_distinct_content(make_site, database_env):
    root = new_site(make_site)
    write_story(root, "st-logged1", published("logged", "Logged"))
    build(root)
    build(root)
    log = Site.open(root).distributions
    first = log.for_story("st-logged1")
    assert len(first) == 1
    assert (first[0].format, first[0].use, first[0].url) == (
        "web", "public_website", BASE_URL + "stories/logged.html")
    assert first[0].path == str((root / "out" / "stories" / "logged.html").resolve())
    story = root / "stories" / "st-logged1" / "story.md"
    story.write_text(story.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    build(root)
    entries = log.for_story("st-logged1")
    assert len(entries) == 2 and entries[0].removed_at is not None
    assert entries[1].removed_at is None and entries[1].sha256 != entries[0].sha256


# --- nothing hostile gets through --------------------------------------------------------------

def _checked_pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def test_hostile_markup_is_inert_in_every_built_file(sites):
    for folder in ("hostile", "single-hostile"):
        out = sites / "out" / folder
        for page in _checked_pages(out):
            for tag, attrs in tags_of(page.read_text(encoding="utf-8")):
                where = f"{page.relative_to(out)}: <{tag} {attrs}>"
                assert not any(a.startswith("on") for a in attrs), where
                assert "style" not in attrs, where
                for name in ("href", "src", "action"):
                    value = (attrs.get(name) or "").strip().lower()
                    assert not re.match(r"(javascript|vbscript|file|data:text)", value), where
                    if folder == "hostile" or tag == "a":
                        assert not value.startswith("data:"), where
                if tag == "script":
                    assert attrs.get("src") in ("search-index.js", "static/js/search.js"), where
                elif tag == "meta":
                    assert attrs.get("http-equiv") in (None, "Content-Security-Policy"), where
                elif tag == "form":
                    assert attrs.get("action") == "search.html", where
                elif tag == "link":
                    assert attrs.get("rel") in ("stylesheet", "alternate", "canonical",
                                                "icon"), where
                elif tag == "input":
                    assert attrs.get("id") == "sk-search-input", where
                elif tag == "style":  # only the one-page format carries its CSS inside
                    assert folder == "single-hostile" and attrs == {}, where
                else:
                    assert tag not in DANGEROUS_TAGS, where
    text = all_text(sites / "out" / "hostile")
    assert "Night &lt;b&gt;feeds&lt;/b&gt;" in text  # the title shows literally
    assert "file:///etc/passwd" not in text and "evil.example" not in text
    assert "<b>bold</b>" not in text


def test_a_story_cannot_take_the_pages_ids_or_classes(sites):
    """Story HTML carries only prefixed ids and the footnote classes, so the page's own
    landmarks, skip link and search box stay unique (issue 12, hardening item 6)."""
    for folder in ("hostile", "single-hostile"):
        page = sites / "out" / folder / ("stories/hostile.html" if folder == "hostile"
                                         else "hostile.html")
        tags = tags_of(page.read_text(encoding="utf-8"))
        ids = [attrs["id"] for _tag, attrs in tags if attrs.get("id")]
        assert len(ids) == len(set(ids)), page
        assert ids.count("sk-main") == 1 and "in-story-sk-main" in ids
        assert "sk-search-input" not in ids or folder == "hostile"
        classes = [c for _tag, attrs in tags for c in (attrs.get("class") or "").split()]
        assert classes.count("skip-link") == 1 and classes.count("main-wrapper") == 1, page
        links = {attrs["href"][1:] for _tag, attrs in tags
                 if (attrs.get("href") or "").startswith("#")}
        assert links <= set(ids), page  # every in-page link, footnotes too, still lands


def test_every_page_has_a_strict_policy_and_no_inline_code(sites):
    for page in _checked_pages(sites / "out"):
        text = page.read_text(encoding="utf-8")
        policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)"', text)
        assert policy, page
        value = policy.group(1).replace("&#39;", "'")
        for rule in ("object-src 'none'", "base-uri 'none'"):
            assert rule in value, page
        assert "'unsafe-inline'" not in value and "'unsafe-eval'" not in value
        assert re.search(r"<script(?![^>]*\bsrc=)", text) is None, page
        assert " style=" not in text, page
        if page.parent.name.startswith("single"):
            assert "default-src 'none'" in value and "form-action 'none'" in value
        else:
            assert "default-src 'self'" in value and "script-src 'self'" in value
            assert "form-action 'self'" in value and "<style" not in text


def test_no_script_runs_from_a_hostile_story_in_the_browser(sites, served, browser):
    page = browser.new_page()
    errors = watch_console(page)
    page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    single = (sites / "out" / "single-hostile" / "hostile.html").as_uri()  # as if emailed
    for path in ("hostile/stories/hostile.html", "hostile/index.html",
                 "hostile/search.html?q=feeds", "hostile/search.html?q=bold", single):
        page.goto(path if path.startswith("file:") else served + path)
        page.wait_for_load_state("load")
        assert page.evaluate("typeof window.__pwned") == "undefined", path
        assert page.locator("iframe, svg, object, embed, form[action^='http']").count() == 0
    page.goto(served + "hostile/search.html?q=feeds")
    assert page.locator("#sk-search-results a").first.inner_text().startswith("Night <b>feeds")
    assert page.locator("#sk-search-results b").count() == 0
    assert page.url.startswith(served)  # no <meta refresh>, no <base> redirect
    assert errors == [], "\n".join(errors)
    page.close()


def test_theme_css_reaching_outside_fails_the_build_with_a_clear_error(make_site, capsys):
    root = new_site(make_site)
    write_story(root, "st-public", published("public", "Public"))
    css = root / "themes" / "leaky" / "static" / "css" / "theme.css"
    css.parent.mkdir(parents=True)
    (root / "themes" / "leaky" / "theme.toml").write_text('name = "leaky"\nparent = "nhs"\n')
    css.write_text("body {\n  color: red;\n  background: url(file:///etc/passwd);\n}\n")
    code, _, err = run_cli(capsys, "--site", str(root), "build", "--theme", "leaky")
    assert code == 1
    assert err.startswith("Error: ") and "Traceback" not in err
    assert f"{css}:3" in err and "file:///etc/passwd" in err
    assert not (root / "build").exists()


# --- incremental builds --------------------------------------------------------------------------

@pytest.fixture
def three(make_site) -> Path:
    root = new_site(make_site)
    write_story(root, "st-first01", published("first", "The first story", tags=["waiting"]))
    write_story(root, "st-second1", published("second", "The second story", tags=["food"]))
    write_story(root, "st-third01", published("third", "The third story", service="Surgery"))
    return root


def test_a_rebuild_with_no_changes_renders_and_writes_nothing(three):
    first = build(three)
    assert first.rendered == 3 and first.listings > 0
    before = mtimes(three / "out")
    again = build(three)
    assert (again.rendered, again.listings, again.static, again.written) == (0, 0, 0, [])
    assert again.stories == 3 and again.removed == []
    assert mtimes(three / "out") == before


def settle(root: Path, seconds: int = 60) -> None:
    """Make every story file look last changed ``seconds`` ago (the quick no-change check
    trusts only files that have not changed in the last two seconds)."""
    when = time.time() - seconds
    for path in (root / "stories").rglob("*"):
        if path.is_file():
            os.utime(path, (when, when))


def test_a_rebuild_with_nothing_changed_stops_before_loading_any_story(three, monkeypatch):
    settle(three)
    first = build(three)
    assert not first.unchanged
    before = mtimes(three / "out")
    monkeypatch.setattr("storykit.store.FileStore.load_all",
                        lambda self: pytest.fail("loaded the stories"))
    again = build(three)
    assert again.unchanged and (again.stories, again.rendered, again.written) == (3, 0, [])
    assert mtimes(three / "out") == before


def rewrite_story(root: Path, story_id: str, old: str, new: str) -> None:
    """Replace ``old`` with ``new`` in a story's story.md."""
    story = root / "stories" / story_id / "story.md"
    story.write_text(story.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def _edit(root: Path) -> None:
    rewrite_story(root, "st-second1", "The second story", "The second story, retold")
    settle(root, 30)


def _add(root: Path) -> None:
    write_story(root, "st-fourth1", published("fourth", "The fourth story"))
    settle(root, 30)


def _remove(root: Path) -> None:
    shutil.rmtree(root / "stories" / "st-third01")


def _unpublish(root: Path) -> None:
    rewrite_story(root, "st-third01", "status: published", "status: approved")
    settle(root, 30)


def _withdraw(root: Path) -> None:
    Site.open(root).withdraw("st-third01", "stop_future_use", "Changed their mind")


def _settings(root: Path) -> None:
    toml = root / "storykit.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("Test stories", "Our stories"),
                    encoding="utf-8")


def _lost_page(root: Path) -> None:
    (root / "out" / "stories" / "first.html").unlink()


def _fresh_edit(root: Path) -> None:  # same size, changed just now: a stat key may not show it
    rewrite_story(root, "st-first01", "The first story", "The First Story")


@pytest.mark.parametrize("change, rendered", [
    (_edit, 1), (_add, 1), (_remove, 0), (_unpublish, 0), (_withdraw, 0), (_settings, 3),
    (_lost_page, 1)])
def test_the_quick_no_change_check_notices_every_kind_of_change(three, change, rendered):
    settle(three)
    build(three)
    assert build(three).unchanged
    change(three)
    report = build(three)
    assert not report.unchanged and report.rendered == rendered
    assert (three / "out" / "stories" / "first.html").is_file()
    assert ("stories/third.html" in report.removed) is (change in (_remove, _unpublish,
                                                                   _withdraw))


@pytest.mark.parametrize("stamp", [
    "not a stamp", {"key": None}, {"from": 3, "until": [], "problems": 0},
    {"stories": {"names": 1, "files": 2}, "pictures": [[1]], "problems": []}])
def test_a_damaged_stamp_means_a_full_build_not_a_crash(three, stamp):
    settle(three)
    build(three)
    (manifest,) = [p for p in (three / "instance" / "cache" / "web-build").glob("*.pickle")
                   if p.name.count(".") == 1]
    data = read_cache(manifest)
    good = data["stamp"]
    data["stamp"] = stamp if not isinstance(stamp, dict) else {**good, **stamp}
    write_cache(manifest, data)
    _edit(three)
    report = build(three)
    assert not report.unchanged and report.rendered == 1
    assert "The second story, retold" in (three / "out" / "stories.html").read_text(
        encoding="utf-8")


def test_a_story_changed_in_the_last_two_seconds_is_read_again_by_the_next_build(three,
                                                                                 monkeypatch):
    settle(three)
    build(three)
    _fresh_edit(three)
    assert build(three).rendered == 1
    read = []
    real_get = FileStore.get
    monkeypatch.setattr(FileStore, "get", lambda self, i: read.append(i) or real_get(self, i))
    report = build(three)  # too recent to trust its stat key: read again, the rest trusted
    assert not report.unchanged and report.rendered == 0 and read == ["st-first01"]
    settle(three)
    build(three)
    assert build(three).unchanged


def test_a_build_after_a_few_changes_loads_only_the_changed_stories(three, monkeypatch):
    settle(three)
    build(three)
    monkeypatch.setattr(FileStore, "load_all", lambda self: pytest.fail("loaded every story"))
    _edit(three)
    _add(three)
    _remove(three)
    report = build(three)
    assert report.rendered == 2 and report.stories == 3 and report.problems == []
    assert "stories/third.html" in report.removed
    out = three / "out"
    listing = (out / "stories.html").read_text(encoding="utf-8")
    assert "The second story, retold" in listing and "The fourth story" in listing
    assert "The third story" not in listing
    titles = sorted(e["t"] for e in search_index(out))
    assert titles == ["The first story", "The fourth story", "The second story, retold"]
    logged = Site.open(three).distributions.live_at_paths(str(out) + os.sep, "web")
    assert sorted(d.story_id for d in logged) == ["st-first01", "st-fourth1", "st-second1"]
    settle(three)
    build(three)  # loads the settled stories once more, then trusts them
    assert build(three).unchanged


def test_a_few_changes_that_clash_fall_back_to_the_full_build(three):
    settle(three)
    build(three)
    rewrite_story(three, "st-second1", "slug: second", "slug: first")
    settle(three, 30)
    report = build(three)
    assert any("slug 'first'" in p for p in report.problems)
    assert not (three / "out" / "stories" / "second.html").exists()


def test_the_quick_check_ends_on_the_day_a_consent_expires(make_site):
    root = new_site(make_site)
    write_story(root, "st-first01", published("first", "The first story"))
    write_story(root, "st-ending1", published("ending", "A story whose consent ends"),
                consent=[consent_version(expires=ON + dt.timedelta(days=3))])
    settle(root)
    build(root)
    assert build(root, ON + dt.timedelta(days=2)).unchanged
    report = build(root, ON + dt.timedelta(days=4))
    assert not report.unchanged and "stories/ending.html" in report.removed


def test_a_replaced_picture_is_noticed_by_the_quick_check(make_site):
    root = site_with_photo(make_site)
    settle(root)
    build(root)
    assert build(root).unchanged
    picture = root / "stories" / "st-photo01" / "media" / "ward.jpg"
    photo_with_gps(picture, size=(1200, 900))  # story.md and consent.yml stay as they were
    os.utime(picture, (time.time() - 30, time.time() - 30))
    report = build(root)
    assert not report.unchanged and report.rendered == 1
    with Image.open(root / "out" / "images" / "photo-1.jpg") as im:
        assert im.size == (800, 600)


def test_editing_another_story_keeps_the_pictures_of_the_others_in_the_quick_check(make_site):
    root = site_with_photo(make_site)
    write_story(root, "st-plain01", published("plain", "A plain story"))
    settle(root)
    build(root)
    rewrite_story(root, "st-plain01", "A plain story", "A plain story, retold")
    edited = root / "stories" / "st-plain01" / "story.md"
    os.utime(edited, (time.time() - 30, time.time() - 30))
    report = build(root)  # only st-plain01 is read again; the photo's stamp is kept
    assert report.rendered == 1 and report.stories == 2
    assert build(root).unchanged
    picture = root / "stories" / "st-photo01" / "media" / "ward.jpg"
    photo_with_gps(picture, size=(1200, 900))
    os.utime(picture, (time.time() - 30, time.time() - 30))
    assert build(root).rendered == 1  # the kept picture's stat key still tells


def test_editing_one_story_rerenders_only_its_page_and_the_lists_that_show_it(three):
    build(three)
    before = mtimes(three / "out")
    story = three / "stories" / "st-second1" / "story.md"
    story.write_text(story.read_text(encoding="utf-8") + "\nA new closing line.\n",
                     encoding="utf-8")
    report = build(three)
    assert report.rendered == 1
    assert sorted(report.written) == ["search-index.js", "stories/second.html"]
    after = mtimes(three / "out")
    assert {k for k in after if after[k] != before[k]} == {"search-index.js",
                                                           "stories/second.html"}
    story.write_text(story.read_text(encoding="utf-8").replace(
        "The second story", "The second story, retold"), encoding="utf-8")
    report = build(three)
    assert report.rendered == 1 and "stories/first.html" not in report.written
    assert {"index.html", "stories.html", "feed.xml", "tags/food.html"} <= set(report.written)
    assert "services/surgery.html" not in report.written  # that list does not show it


@pytest.mark.parametrize("damage", [b"", b"not a pickle", b"\x80\x05\x95garbage", b"\x80\x05N."])
def test_a_damaged_manifest_means_a_full_build_not_a_crash(three, damage):
    build(three)
    for kept in (three / "instance" / "cache" / "web-build").glob("*.pickle"):
        kept.write_bytes(damage)  # the manifest and both side files
    report = build(three)
    assert report.rendered == 3 and not report.unchanged
    assert sorted(e["t"] for e in search_index(three / "out")) == [
        "The first story", "The second story", "The third story"]
    assert build(three).rendered == 0  # and the next build trusts its new manifest


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list("ab z09'-_. \n\u2019\u00e9\u00c9K")), max_size=40))
def test_search_words_are_the_same_by_the_quick_way_for_plain_english(text):
    """Search words of ASCII text come from a quicker pattern: it must find the same words."""
    lower = text.lower().replace("\u2019", "'")
    if lower.isascii():
        assert pages._ASCII_WORD.findall(lower) == pages._WORD.findall(lower)
    assert pages.body_words(text) == pages.body_words(text + " \u00e9")  # the other way


def test_json_files_left_by_earlier_versions_are_removed(three, capsys):
    """Earlier versions kept the manifest and search words as JSON; nothing scrubs those on
    a withdrawal any more, so they go at the next build or withdrawal."""
    cache = three / "instance" / "cache" / "web-build"
    cache.mkdir(parents=True, exist_ok=True)
    old = [cache / "0123456789abcdef.json", cache / "0123456789abcdef.search.json"]
    for path in old:
        path.write_text('{"st-first01": "words about a heron"}', encoding="utf-8")
    build(three)
    assert not any(p.exists() for p in old)
    for path in old:
        path.write_text('{"st-first01": "words about a heron"}', encoding="utf-8")
    code, _, _ = run_cli(capsys, "--site", str(three), "consent", "withdraw", "first",
                         "--scope", "stop_future_use", "--reason", "Changed her mind")
    assert code == 0 and not any(p.exists() for p in old)
    assert "heron" not in all_text(cache)


def test_the_search_index_stays_complete_when_its_cache_is_lost(three):
    build(three)
    for cache in (three / "instance" / "cache" / "web-build").glob("*.search.pickle"):
        cache.unlink()
    story = three / "stories" / "st-first01" / "story.md"
    story.write_text(story.read_text(encoding="utf-8") + "\nThe word pelican.\n",
                     encoding="utf-8")
    assert build(three).rendered == 1
    index = {e["t"]: e["w"].split() for e in search_index(three / "out")}
    assert sorted(index) == ["The first story", "The second story", "The third story"]
    assert "pelican" in index["The first story"] and "buzzer" in index["The third story"]


def test_a_stale_search_entry_kept_from_an_earlier_build_is_made_again(three):
    build(three)
    (side,) = (three / "instance" / "cache" / "web-build").glob("*.search.pickle")
    kept = read_cache(side)
    kept["st-second1"] = ["an-older-hash", {**kept["st-second1"][1], "w": "stale words"}]
    write_cache(side, kept)
    story = three / "stories" / "st-first01" / "story.md"
    story.write_text(story.read_text(encoding="utf-8") + "\nThe word heron.\n",
                     encoding="utf-8")
    assert build(three).rendered == 1
    index = {e["t"]: e["w"].split() for e in search_index(three / "out")}
    assert "stale" not in index["The second story"] and "heron" in index["The first story"]
    assert index["The second story"]  # made again from the story, not left empty


def test_stale_files_go_but_files_storykit_did_not_write_stay(three):
    build(three)
    out = three / "out"
    mine = [out / "CNAME", out / "stories" / "notes.txt", out / "tags" / "keep.html"]
    for path in mine:
        path.write_text("not storykit's", encoding="utf-8")
    story = three / "stories" / "st-first01" / "story.md"
    story.write_text(story.read_text(encoding="utf-8").replace("slug: first", "slug: renamed")
                     .replace("- waiting", "- patience"), encoding="utf-8")
    report = build(three)
    assert sorted(report.removed) == ["stories/first.html", "tags/waiting.html"]
    assert (out / "stories" / "renamed.html").is_file() and (out / "tags" / "patience.html").is_file()
    assert all(p.read_text(encoding="utf-8") == "not storykit's" for p in mine)


def test_a_new_consent_version_rerenders_the_page_as_it_now_allows(three):
    build(three)
    page = three / "out" / "stories" / "second.html"
    assert "Shared by Leila, patient (not their real name)" in page.read_text(encoding="utf-8")
    consent = three / "stories" / "st-second1" / "consent.yml"
    consent.write_text(consent_text([consent_version(), consent_version(
        version=2, identification="anonymous")]), encoding="utf-8")
    report = build(three)
    assert report.rendered == 1 and "stories/second.html" in report.written
    assert "Shared by a patient" in page.read_text(encoding="utf-8")
    assert "Leila" not in page.read_text(encoding="utf-8")


def test_changing_the_theme_rerenders_every_page(three):
    build(three)
    override = three / "themes" / "nhs" / "templates" / "web" / "_footer.html"
    override.parent.mkdir(parents=True)
    override.write_text("<footer><p>Our own footer</p></footer>\n", encoding="utf-8")
    report = build(three)
    assert report.rendered == 3
    assert "Our own footer" in (three / "out" / "stories" / "third.html").read_text()


def test_a_story_whose_picture_cannot_be_built_is_left_off_and_the_rest_is_built(three):
    build(three)
    story = three / "stories" / "st-third01"
    (story / "media").mkdir()
    (story / "media" / "bad.jpg").write_bytes(b"<svg onload=alert(1)></svg>")
    text = (story / "story.md").read_text(encoding="utf-8")
    (story / "story.md").write_text(text.replace(
        "revision: 3", "revision: 3\nimages:\n- {file: media/bad.jpg, alt: A broken picture, "
        "kind: illustration}").replace("The third story", "The third story, retold"),
        encoding="utf-8")
    report = build(three)
    assert not report.ok
    assert len(report.problems) == 1
    assert re.fullmatch(r"story st-third01: picture media/bad.jpg: .*not a JPEG.*",
                        report.problems[0])
    out = three / "out"
    assert (out / "stories" / "first.html").is_file() and (out / "stories" / "second.html").is_file()
    assert not (out / "stories" / "third.html").exists()  # left off, not left as it was
    assert "The third story" not in all_text(out)
    assert [e["t"] for e in search_index(out)] == ["The first story", "The second story"]
    assert Site.open(three).distributions.for_story("st-third01", live_only=True) == []
    again = build(three)  # nothing changed: the next build says so again
    assert again.problems == report.problems


def test_a_takedown_happens_even_when_another_story_cannot_be_built(three, capsys):
    """Found by users: a published story with a 30,000-character word stopped every build,
    so a withdrawn story's page stayed on the site."""
    assert run_cli(capsys, "--site", str(three), "build", "--out", str(three / "out"))[0] == 0
    story = three / "stories" / "st-second1" / "story.md"
    story.write_text(story.read_text(encoding="utf-8") + "\n" + "a" * 30_000 + "\n",
                     encoding="utf-8")
    Site.open(three).withdraw("st-first01", "stop_future_use", "Changed their mind")
    code, said, err = run_cli(capsys, "--site", str(three), "build", "--out",
                              str(three / "out"))
    assert code == 1
    assert "error: story st-second1: a paragraph is longer than 20,000 characters" in err
    assert "aaaa" not in err + said  # the story's text is never in a message
    out = three / "out"
    assert not (out / "stories" / "first.html").exists()
    assert not (out / "stories" / "second.html").exists()
    assert (out / "stories" / "third.html").is_file()
    assert "The first story" not in all_text(out)
    assert [e["t"] for e in search_index(out)] == ["The third story"]
    assert Site.open(three).distributions.for_story("st-first01", live_only=True) == []


def test_takedowns_come_before_rendering_and_hold_when_rendering_fails(three, monkeypatch):
    build(three)
    seen: list[tuple[list[str], list[str]]] = []

    def taken_down(removed, written):
        assert not (three / "out" / "stories" / "first.html").exists()
        seen.append((removed, written))

    Site.open(three).withdraw("st-first01", "stop_future_use", "Changed their mind")
    story = three / "stories" / "st-third01" / "story.md"
    story.write_text(story.read_text(encoding="utf-8") + "\nA new line.\n", encoding="utf-8")
    from storykit_web.build import Builder

    def broken(self, view, key):
        raise RuntimeError("the theme broke")

    monkeypatch.setattr(Builder, "_render_story", broken)
    with pytest.raises(RuntimeError):
        build(three, taken_down=taken_down)
    removed, written = seen[0]
    assert removed == ["stories/first.html", "tags/waiting.html"]  # its only tag's page too
    assert {"feed.xml", "search-index.js", "index.html"} <= set(written)
    out = three / "out"
    assert "The first story" not in all_text(out)  # the page, feed and search entry are gone
    assert Site.open(three).distributions.for_story("st-first01", live_only=True) == []
    monkeypatch.undo()
    report = build(three)  # the next build finishes the job
    assert report.ok and (out / "stories" / "third.html").is_file()
    assert "The first story" not in all_text(out)


def test_a_story_too_complex_to_render_is_left_off_naming_it(three, capsys):
    story = three / "stories" / "st-second1" / "story.md"
    story.write_text(story.read_text(encoding="utf-8") + "\n" + "[" * 5_000 + "\n",
                     encoding="utf-8")
    code, _, err = run_cli(capsys, "--site", str(three), "build")
    assert code == 1
    assert "error: story st-second1: the text has 5,000 '[' characters" in err
    assert (three / "build" / "site" / "stories" / "first.html").is_file()


@pytest.mark.parametrize("where", [".", "stories", "instance/x", ".."])
def test_the_build_refuses_output_folders_that_hold_the_site(three, where):
    with pytest.raises(BuildError, match="cannot build into"):
        build_site(Site.open(three), three / where)


@pytest.mark.parametrize("value", ['"soon"', '"99999999999999999999-01-01"', "0001-01-01",
                                   '"9999-12-31"'])
def test_an_unknown_statement_date_setting_is_a_clear_error(make_site, capsys, value):
    root = make_site("site", TOML + f"\n[plugins.storykit_web]\nstatement_date = {value}\n")
    code, _, err = run_cli(capsys, "--site", str(root), "formats")
    assert code == 1 and "[plugins.storykit_web] statement_date must be a date" in err
    assert "Traceback" not in err


# --- the one-page web format -----------------------------------------------------------------------

def test_the_web_format_writes_one_self_contained_page(sites):
    page = sites / "out" / "single" / "the-window-by-my-bed.html"
    text = page.read_text(encoding="utf-8")
    for tag, attrs in tags_of(text):
        for name in ("src", "href"):
            value = attrs.get(name)
            if value and tag != "a":
                assert value.startswith(("data:image/", "data:,", "#")), (tag, value[:40])
    assert '<img src="data:image/jpeg;base64,' in text
    assert '<link rel="stylesheet"' not in text
    assert "DRAFT" not in text
    log = Site.open(sites / "demo").distributions
    story = Site.open(sites / "demo").store.find("the-window-by-my-bed")
    assert any(d.path == str(page) and d.format == "web" for d in log.for_story(story.id))


def test_the_web_format_marks_draft_previews(make_site, tmp_path):
    root = new_site(make_site)
    write_story(root, "st-draft01", story_front(slug="drafty", title="Still drafting",
                                                status="draft"))
    site = Site.open(root)
    result = render(site, [site.store.get("st-draft01")], "board", "web", tmp_path / "preview",
                    preview=True, by="test")
    text = (tmp_path / "preview" / "drafty.html").read_text(encoding="utf-8")
    assert result.ok and 'class="draft-banner"' in text
    assert "<strong>DRAFT - not for distribution</strong>" in text
    assert "<title>DRAFT - not for distribution: Still drafting" in text
    assert site.distributions.for_story("st-draft01") == []


# --- validators and the browser ----------------------------------------------------------------

def test_every_built_page_is_valid_html(sites):
    assert_valid_html(sites / "out")


PAGES = {
    "home": "nhs/index.html",
    "story": "nhs/stories/the-window-by-my-bed.html",
    "story with a content warning": "nhs/stories/the-night-i-rang-the-crisis-line.html",
    "all stories": "nhs/stories.html",
    "service": "nhs/services/stroke-rehabilitation.html",
    "services": "nhs/services.html",
    "tag": "nhs/tags/stroke.html",
    "search": "nhs/search.html?q=garden",
    "accessibility": "nhs/accessibility.html",
    "high-contrast story": "high-contrast/stories/the-window-by-my-bed.html",
    "large-print story": "large-print/stories/the-window-by-my-bed.html",
    "high-contrast home": "high-contrast/index.html",
    "large-print search": "large-print/search.html?q=carer",
    "hostile story": "hostile/stories/hostile.html",
}


def test_axe_finds_no_wcag_violations_on_any_page_type(sites, served, browser):
    page = browser.new_page()
    errors = watch_console(page)
    failures = []
    pages = {name: served + path for name, path in PAGES.items()}
    pages["one-page web format (opened as a file)"] = (
        sites / "out" / "single" / "an-expert-in-my-mum.html").as_uri()
    for name, path in pages.items():
        page.goto(path)
        page.wait_for_load_state("load")
        found = axe_violations(page)
        if found:
            failures.append(f"{name} ({path}):\n{describe(found)}")
    page.close()
    assert not failures, "\n".join(failures)
    assert errors == [], "\n".join(errors)  # no CSP violations, no script errors


def test_search_works_from_file_urls_and_the_page_makes_sense_without_javascript(sites, browser):
    search = (sites / "out" / "nhs" / "search.html").as_uri()
    page = browser.new_page()
    errors = watch_console(page)
    page.goto(search)
    assert page.locator("#sk-search-form").is_visible()
    assert not page.locator("#sk-search-nojs").is_visible()
    page.fill("#sk-search-input", "robin garden")
    page.click("#sk-search-form button")
    assert page.locator("#sk-search-status").inner_text() == "1 story found for \u2018robin garden\u2019."
    page.locator("#sk-search-results a").first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/stories/the-window-by-my-bed.html")
    page.close()
    assert errors == []
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(search)
    assert page.locator("#sk-search-nojs").is_visible()
    assert not page.locator("#sk-search-form").is_visible()
    assert page.locator("#sk-search-nojs a[href='stories.html']").is_visible()
    context.close()


def test_build_serve_previews_the_site_on_localhost(make_site):
    root = new_site(make_site)
    write_story(root, "st-served1", published("served", "A served story"),  # a new process:
                consent=[consent_version(expires=dt.date(2099, 12, 31))])  # today's date
    env = {**os.environ, "STORYKIT_LOAD_PLUGINS": "storykit_web", "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-c", "from storykit.cli import main; main()", "--site", str(root),
         "build", "--serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = [server.stdout.readline() for _ in range(3)]
        address = re.search(r"Preview: (http://127\.0\.0\.1:\d+/)index\.html", lines[-1])
        assert address, lines
        with urllib.request.urlopen(address.group(1) + "stories/served.html") as reply:  # noqa: S310
            assert reply.status == 200 and b"A served story" in reply.read()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_preview_server_sends_safe_headers(sites, served):
    with urllib.request.urlopen(served + "nhs/index.html") as reply:  # noqa: S310 - local
        assert reply.status == 200
        assert "object-src 'none'" in reply.headers["Content-Security-Policy"]
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(served + "nhs/stories/")  # noqa: S310 - no folder listings
    assert missing.value.code == 404


def test_a_build_killed_while_writing_pages_leaves_no_half_written_file_behind(make_site):
    """A build process killed (SIGKILL) between writing a page's temporary file and moving
    it into place leaves that file; the next build deletes it and makes every page."""
    import multiprocessing
    import signal

    from storykit import fsio

    root = new_site(make_site)
    for n in range(6):
        write_story(root, f"st-kill{n:03d}", published(f"kill-{n}", f"Story {n}"))

    def killed_build() -> None:
        real_replace, moved = os.replace, []

        def replace(src, dst):
            if os.path.basename(src).startswith(fsio.TEMP_PREFIX) and str(dst).endswith(".html"):
                moved.append(dst)
                if len(moved) == 3:  # the third page is written but never moved into place
                    os.kill(os.getpid(), signal.SIGKILL)
            return real_replace(src, dst)

        os.replace = replace
        build(root, workers=1)

    process = multiprocessing.get_context("fork").Process(target=killed_build)
    process.start()
    process.join(60)
    assert process.exitcode == -signal.SIGKILL
    left = list((root / "out").rglob(f"{fsio.TEMP_PREFIX}*"))
    assert len(left) == 1 and left[0].read_bytes().startswith(b"<!DOCTYPE html>")
    report = build(root)
    assert not list((root / "out").rglob(f"{fsio.TEMP_PREFIX}*"))
    assert {f"stories/kill-{n}.html" for n in range(6)} <= set(report.written)
    for n in range(6):
        assert f"Story {n}" in (root / "out" / "stories" / f"kill-{n}.html").read_text()


def test_a_temporary_file_left_by_a_killed_process_with_the_same_number_is_not_in_the_way(
        tmp_path):
    """replace_file names its temporary file after the process and thread; one left by a
    killed process that had the same number does not stop the next write."""
    import threading

    from storykit import fsio

    stale = tmp_path / f"{fsio.TEMP_PREFIX}w{os.getpid()}-{threading.get_ident()}"
    stale.write_bytes(b"half a page")
    fsio.replace_file(tmp_path / "page.html", b"<p>whole</p>")
    assert (tmp_path / "page.html").read_bytes() == b"<p>whole</p>"
    assert (tmp_path / "page.html").stat().st_mode & 0o777 == 0o644
    assert stale.read_bytes() == b"half a page"  # the build's clean-up removes it, not this
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["page.html", stale.name])


def test_a_themes_card_that_uses_the_page_is_made_for_each_page(make_site):
    """Cards are made once per place and reused on every list page; a theme's card that
    uses anything else of the page (here its path) is still made for each page."""
    root = new_site(make_site)
    for n in range(3):
        write_story(root, f"st-card{n:03d}", published(f"card-{n}", f"Story {n}",
                                                       tags=["night staff", "food"]))
    plain = build(root)
    assert plain.ok
    cards = {rel: (root / "out" / rel).read_text(encoding="utf-8")
             for rel in ("stories.html", "tags/night-staff.html", "tags/food.html")}
    for rel, page in cards.items():  # the reused card links from where each page is
        prefix = "../" if "/" in rel else ""
        assert all(f'href="{prefix}stories/card-{n}.html">Story {n}</a>' in page
                   for n in range(3)), rel
    theme = root / "themes" / "ours"
    (theme / "templates" / "web").mkdir(parents=True)
    (theme / "theme.toml").write_text('name = "ours"\nparent = "nhs"\n', encoding="utf-8")
    (theme / "templates" / "web" / "_card.html").write_text(
        '{% macro card_item(card, level=2) %}<li class="card">{{ card.title }} on {{ path }}'
        '</li>{% endmacro %}\n', encoding="utf-8")
    build(root, theme="ours")
    for rel in cards:
        page = (root / "out" / rel).read_text(encoding="utf-8")
        assert all(f'<li class="card">Story {n} on {rel}</li>' in page for n in range(3)), rel
