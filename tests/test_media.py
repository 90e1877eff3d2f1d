"""The media rule: a story's picture is read only when it is a regular file inside that
story's own ``media/`` folder, reached without a link. A link to another story's signed
consent form, to the story's own ``evidence/``, a linked ``media`` folder, a link to a folder
or a path that climbs out is refused by ``storykit check`` (naming file and line), by every
format, by the web build, by uploads and by the app's preview and picture addresses.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import BASIC_TOML, ON, consent_version, story_front, write_story
from PIL import Image

from storykit import Site
from storykit.checks import check_site
from storykit.cli import main
from storykit.media import MediaError, media_file, media_problem
from storykit.model import Image as StoryImage
from storykit.render import render

#: Renders and builds decide as if today were ON (conftest.test_day).
pytestmark = pytest.mark.usefixtures("test_day")

FORMATS = ("web", "pdf", "booklet", "slides", "slides-pdf", "handout", "pptx", "card")
USE_FOR = {"card": "social_media"}  # quote cards are for social media only
PICTURE = {"file": "media/form.jpg", "alt": "The ward's day room at night", "kind": "illustration"}
QUOTE = "Somebody sat with me at three in the morning, and that changed everything."


def scan(path: Path, colour=(240, 240, 240)) -> None:
    """A real JPEG, as a phone photo of a signed consent form would be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (120, 160), colour).save(path, format="JPEG")


def link(at: Path, target: str | Path, *, folder: bool = False) -> None:
    at.parent.mkdir(parents=True, exist_ok=True)
    at.symlink_to(target, target_is_directory=folder)


def plant(attacker: Path, how: str) -> None:
    """Make ``media/form.jpg`` of the story at ``attacker`` lead somewhere it must not."""
    media = attacker / "media"
    if how == "another story's consent form":
        link(media / "form.jpg", "../../st-victim1/evidence/form.jpg")
    elif how == "its own evidence":
        scan(attacker / "evidence" / "own-form.jpg")
        link(media / "form.jpg", "../evidence/own-form.jpg")
    elif how == "an absolute link":
        link(media / "form.jpg", (attacker.parent / "st-victim1" / "evidence" / "form.jpg"))
    elif how == "a link to a link inside media":
        link(media / "innocent.jpg", "../../st-victim1/evidence/form.jpg")
        link(media / "form.jpg", "innocent.jpg")
    elif how == "a linked media folder":
        link(media, "../st-victim1/evidence", folder=True)
    elif how == "a link to a folder":
        link(media / "form.jpg", "../../st-victim1/evidence", folder=True)
    else:  # pragma: no cover
        raise AssertionError(how)


LINKS = ("another story's consent form", "its own evidence", "an absolute link",
         "a link to a link inside media", "a linked media folder", "a link to a folder")


def attack_site(root: Path, how: str) -> Path:
    """A site whose story st-attack1 lists ``media/form.jpg``, planted as ``how`` says, next
    to st-victim1, whose signed consent form is a JPEG in its ``evidence/`` folder."""
    (root / "stories").mkdir(parents=True)
    (root / "storykit.toml").write_text(BASIC_TOML, encoding="utf-8")
    uses = ["board", "public_website", "social_media"]
    victim = write_story(root, "st-victim1", story_front(slug="victim", status="published"),
                         consent=[consent_version(uses=uses, evidence="evidence/form.jpg")])
    scan(victim / "evidence" / "form.jpg", colour=(20, 20, 20))
    attacker = write_story(root, "st-attack1", story_front(
        slug="attack", status="published", images=[PICTURE], quotes=[QUOTE]),
        consent=[consent_version(uses=uses)])
    plant(attacker, how)
    return root


def file_line(root: Path, story_id: str, text: str) -> int:
    lines = (root / "stories" / story_id / "story.md").read_text(encoding="utf-8").split("\n")
    return next(i for i, line in enumerate(lines, 1) if text in line)


# --- the rule itself ----------------------------------------------------------------------------

def test_a_regular_file_in_the_storys_own_media_folder_may_be_read(tmp_path):
    scan(tmp_path / "st-one" / "media" / "ward.jpg")
    assert media_file(tmp_path / "st-one", "media/ward.jpg") == \
        tmp_path / "st-one" / "media" / "ward.jpg"


@pytest.mark.parametrize(("how", "code", "words"), [
    ("another story's consent form", "media_link", "is a link to another file"),
    ("its own evidence", "media_link", "is a link to another file"),
    ("an absolute link", "media_link", "is a link to another file"),
    ("a link to a link inside media", "media_link", "is a link to another file"),
    ("a linked media folder", "media_link", "media folder is a link to another folder"),
    ("a link to a folder", "media_link", "is a link to another file"),
])
def test_links_are_refused_whatever_they_point_at(tmp_path, how, code, words):
    root = attack_site(tmp_path / "site", how)
    problem = media_problem(root / "stories" / "st-attack1", "media/form.jpg")
    assert problem is not None and problem.code == code and words in str(problem)
    assert str(problem).startswith("picture media/form.jpg: ")


@pytest.mark.parametrize("file", [
    "media/../evidence/form.jpg", "./x/../../st-victim1/evidence/form.jpg",
    "media/./../evidence/form.jpg", "evidence/form.jpg", "media/sub/form.jpg",
    "/etc/passwd", "media/", "media/..", "media/.hidden.jpg", "MEDIA/form.jpg",
])
def test_names_that_are_not_plainly_inside_media_are_refused(tmp_path, file):
    scan(tmp_path / "st-one" / "evidence" / "form.jpg")
    scan(tmp_path / "st-one" / "media" / "form.jpg")
    with pytest.raises(MediaError) as refused:
        media_file(tmp_path / "st-one", file)
    assert refused.value.code == "media_path"


def test_a_folder_a_missing_file_and_a_device_are_refused(tmp_path):
    (tmp_path / "st-one" / "media" / "album.jpg").mkdir(parents=True)
    os.mkfifo(tmp_path / "st-one" / "media" / "pipe.jpg")
    assert media_problem(tmp_path / "st-one", "media/album.jpg").code == "media_not_file"
    assert media_problem(tmp_path / "st-one", "media/pipe.jpg").code == "media_not_file"
    assert media_problem(tmp_path / "st-one", "media/gone.jpg").code == "missing_image"
    assert media_problem(tmp_path / "st-two", "media/gone.jpg").code == "missing_image"


# --- storykit check ---------------------------------------------------------------------------

@pytest.mark.parametrize("how", LINKS)
def test_check_names_the_file_and_line_of_a_linked_picture(tmp_path, how):
    root = attack_site(tmp_path / "site", how)
    report = check_site(Site.open(root), ON)
    [error] = [f for f in report.errors if f.story == "st-attack1"]
    assert error.code == "media_link" and "picture media/form.jpg" in error.message
    assert "cannot be rendered or published" in error.message
    assert (error.file, error.line) == ("stories/st-attack1/story.md",
                                        file_line(root, "st-attack1", "file: media/form.jpg"))
    assert not report.ok


@pytest.mark.parametrize("file", ["media/../evidence/form.jpg",
                                  "./x/../../st-victim1/evidence/form.jpg"])
def test_check_names_the_file_and_line_of_a_path_that_climbs_out(tmp_path, file, capsys):
    root = attack_site(tmp_path / "site", "its own evidence")
    story = root / "stories" / "st-attack1" / "story.md"
    story.write_text(story.read_text(encoding="utf-8").replace("media/form.jpg", file),
                     encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["--site", str(root), "check"])
    err = capsys.readouterr().err
    line = file_line(root, "st-attack1", f"file: {file}")
    assert exited.value.code == 1
    assert f"error: stories/st-attack1/story.md:{line}: image file {file!r} must be a file " \
           "name inside media/" in err


# --- every format ------------------------------------------------------------------------------

def test_the_formats_are_the_ones_this_module_checks(tmp_path):
    root = attack_site(tmp_path / "site", "its own evidence")
    assert set(Site.open(root).formats()) == set(FORMATS)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("how", LINKS)
def test_every_format_refuses_a_linked_picture_and_writes_nothing(tmp_path, fmt, how):
    root = attack_site(tmp_path / "site", how)
    site = Site.open(root)
    out = tmp_path / "out"
    with pytest.raises(MediaError, match=r"picture media/form\.jpg: .*\(story st-attack1\)"):
        render(site, [site.store.get("st-attack1")], USE_FOR.get(fmt, "board"), fmt, out)
    assert not out.exists() or not any(out.iterdir())
    assert site.distributions.all() == []


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("file", ["media/../evidence/form.jpg",
                                  "./x/../../st-victim1/evidence/form.jpg",
                                  "media/../../st-victim1/media/../evidence/form.jpg"])
def test_every_format_refuses_a_path_that_climbs_out(tmp_path, fmt, file):
    """Such a story.md does not load; a story made in code (another store, a plugin) with
    such a path is refused all the same."""
    root = attack_site(tmp_path / "site", "its own evidence")
    site = Site.open(root)
    story = site.store.get("st-attack1")
    story = story.copy(images=[StoryImage(file=file, alt=PICTURE["alt"], kind="illustration")])
    out = tmp_path / "out"
    with pytest.raises(MediaError, match="must be a file name inside the story's media folder"):
        render(site, [story], USE_FOR.get(fmt, "board"), fmt, out)
    assert not out.exists() or not any(out.iterdir())


def test_the_command_line_says_which_story_and_file(tmp_path, capsys):
    root = attack_site(tmp_path / "site", "another story's consent form")
    with pytest.raises(SystemExit) as exited:
        main(["--site", str(root), "render", "attack", "--use", "board", "--format", "pdf",
              "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert exited.value.code == 1
    assert "Error: picture media/form.jpg: is a link to another file; links are not allowed" \
        in err and "(story st-attack1)" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_photo_the_consent_leaves_out_does_not_stop_a_render(tmp_path):
    """Only pictures an output would show are read: a linked photo without photo consent is
    dropped by the reduction (check still reports it)."""
    root = attack_site(tmp_path / "site", "its own evidence")
    front = story_front(slug="attack", status="published", quotes=[QUOTE],
                        images=[{**PICTURE, "kind": "photo"}])
    write_story(root, "st-attack1", front,
                consent=[consent_version(media=["text", "quotes"])])
    site = Site.open(root)
    result = render(site, [site.store.get("st-attack1")], "board", "web", tmp_path / "out")
    assert result.ok and "data:image" not in result.artefacts[0].path.read_text()


# --- the web build -----------------------------------------------------------------------------

@pytest.mark.parametrize("how", LINKS)
def test_the_build_leaves_out_a_story_with_a_linked_picture(tmp_path, how):
    from storykit_web.build import build_site

    root = attack_site(tmp_path / "site", how)
    report = build_site(Site.open(root), root / "out")
    out = root / "out"
    assert report.stories == 1  # the victim's story, without any picture
    assert [p for p in report.problems if "st-attack1" in p] == [
        "story st-attack1 is not published: picture media/form.jpg: "
        + str(media_problem(root / "stories" / "st-attack1", "media/form.jpg").problem)]
    assert not (out / "stories" / "attack.html").exists()
    assert not list(out.glob("images/*")), "no picture was published"
    assert {d.story_id for d in Site.open(root).distributions.all()} == {"st-victim1"}


def test_a_picture_turned_into_a_link_takes_the_page_down_on_the_next_build(tmp_path):
    from storykit_web.build import build_site

    root = attack_site(tmp_path / "site", "its own evidence")
    media = root / "stories" / "st-attack1" / "media"
    (media / "form.jpg").unlink()
    scan(media / "form.jpg", colour=(90, 160, 90))  # first a real picture
    first = build_site(Site.open(root), root / "out")
    assert first.stories == 2 and (root / "out" / "stories" / "attack.html").is_file()
    (media / "form.jpg").unlink()
    link(media / "form.jpg", "../evidence/own-form.jpg")  # then the consent form
    second = build_site(Site.open(root), root / "out")
    assert second.stories == 1 and second.taken_down == 1
    assert not (root / "out" / "stories" / "attack.html").exists()
    assert not list((root / "out").glob("images/attack-*"))
    live = Site.open(root).distributions.for_story("st-attack1", live_only=True)
    assert live == []


def test_storykit_build_warns_naming_the_story_and_file(tmp_path, capsys):
    root = attack_site(tmp_path / "site", "a linked media folder")
    with pytest.raises(SystemExit) as exited:
        main(["--site", str(root), "build"])
    err = capsys.readouterr().err
    assert exited.value.code == 1  # the other stories are published; this one is not
    assert "error: story st-attack1 is not published: picture media/form.jpg: the " \
           "story's media folder is a link to another folder" in err
