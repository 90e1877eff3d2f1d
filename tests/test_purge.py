"""Withdrawal with ``delete_everything`` reaches every copy, end to end, through the browser
app with a real worker running the jobs: a story is published (the site-build job) and put
in two packs (the pack-build job), one of them downloaded; the storyteller withdraws and
asks for everything to be deleted. Afterwards no file under the site folder (stories,
instance/, caches, built packs), the publish folder or the publish target holds any sentence
of the story: the bytes of every file are searched, and inside every zip (unzipped, and the
zips inside it: PowerPoint files are zips) and every PDF (its text, with pypdf). The takedown
checklist lists both packs, the download and the publication; every render and pack of the
story is refused.
"""

from __future__ import annotations

import base64
import html
import io
import re
import time
import zipfile
from pathlib import Path

import pytest
from app_support import act, make_world, post
from conftest import BASIC_TOML, consent_version, story_front, wait_for, write_story
from pypdf import PdfReader

from storykit.errors import StorykitError
from storykit.jobs import Jobs
from storykit.packs import PackDefinition, PackError, build_pack
from storykit.taskqueue import Worker

pytestmark = pytest.mark.usefixtures("test_day")

TITLE = "The lighthouse keeper on ward nine"
SUMMARY = "Somebody hummed sea shanties to calm the whole bay at midnight."
QUOTES = ["The porter brought marmalade toast at four every morning.",
          "Every curtain on the bay had a painted gull on it."]
BODY = ("The night sister, a retired lighthouse keeper, counted our breaths like waves.\n\n"
        "She kept a brass telescope by the nurses station and named each monitor after a "
        "ship.\n\n"
        "## What changed\n\n"
        "The ward now plays recorded harbour sounds for anybody awake after two.\n")
CONTACT = {"agrees_to_contact": True, "name": "Perpetua Ollerenshaw",
           "email": "perpetua@example.org", "address": ["9 Fictional Quay", "Brackenford",
                                                        "BF3 1ZZ"],
           "preferred_format": "standard"}


def sentences() -> list[str]:
    """Every sentence of the story (title, summary, quotes, body), and the storyteller's name."""
    found = [TITLE, SUMMARY, *QUOTES, CONTACT["name"]]
    for line in BODY.splitlines():
        line = line.strip().lstrip("#").strip()
        found += [s.strip() for s in re.split(r"(?<=\.)\s+", line) if len(s.strip()) > 12]
    return found


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(text))


def texts_of(name: str, data: bytes, depth: int = 0):
    """``(where, text)`` for a file's bytes, every member of a zip (recursively) and a
    PDF's text."""
    yield name, data.decode("utf-8", "replace")
    if data[:4] == b"PK\x03\x04" and depth < 3:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                yield from texts_of(f"{name}!{member}", zf.read(member), depth + 1)
    if data[:5] == b"%PDF-":
        reader = PdfReader(io.BytesIO(data))
        yield f"{name} (PDF text)", " ".join(p.extract_text() or "" for p in reader.pages)


def leaks(folders: list[Path]) -> list[str]:
    wanted = [squash(s) for s in sentences()]
    found = []
    for folder in folders:
        for path in folder.rglob("*"):
            if not path.is_file() or path.is_symlink():
                continue
            for where, text in texts_of(str(path), path.read_bytes()):
                flat = squash(text)
                found += [f"{where}: {s!r}" for s in wanted if s in flat]
    return found


@pytest.fixture
def world(tmp_path):
    public = tmp_path / "public"
    toml = (BASIC_TOML + 'contact_email = "stories@example.nhs.test"\n'
            f'\n[publish]\npublic_url = "https://stories.example.nhs.uk/"\n'
            f'folder = "{public}"\n')
    world = make_world(tmp_path / "site", toml)
    write_story(world.root, "st-purge1", story_front(
        title=TITLE, slug="lighthouse", status="approved", summary=SUMMARY, quotes=QUOTES,
        service="Respiratory", storyteller={"name": CONTACT["name"], "role": "patient",
                                            "pseudonym": "Pip"}),
        body=BODY, consent=[consent_version(contact=CONTACT, identification="pseudonym")])
    worker = Worker(world.site, 1, periodic=False).start()
    yield world, public
    worker.stop()


def settled(world) -> None:
    """Wait until the worker has finished every job."""
    jobs = Jobs(world.site)
    wait_for(lambda: all(j.finished for j in jobs.recent(100)), "the jobs", timeout=120)


def make_pack(world, formats: list[str], meeting: str) -> str:
    pete = world.client("pete")
    response = post(pete, "/packs/build", {
        "use": "board", "format": formats, "length": "full", "meeting": meeting,
        "recipients": "Board members", "story": ["st-purge1", "st-published1"]},
        page="/packs/new")
    assert response.status_code == 303
    settled(world)
    page = pete.get(response.headers["Location"]).get_data(as_text=True)
    [pack_id] = set(re.findall(r'/packs/(pk-[a-z2-9]{8})/download', page))
    return pack_id


def test_delete_everything_leaves_no_sentence_anywhere_and_lists_every_copy(world,
                                                                          run_storykit):
    world, public = world
    pete, ada = world.client("pete"), world.client("ada")
    act(pete, "st-purge1", "publish")
    settled(world)
    assert (public / "stories" / "lighthouse.html").is_file()
    first = make_pack(world, ["pdf", "pptx", "booklet"], "Trust Board")
    second = make_pack(world, ["slides", "handout"], "Quality committee")
    assert pete.get(f"/packs/{first}/download").status_code == 200
    before = leaks([world.root, public])
    assert before, "the story should be in the site, the packs and the website first"

    page = "/stories/st-purge1/consent/withdraw"
    response = post(ada, page, {"scope": "delete_everything", "reason": "Asked by letter."},
                    page=page)
    assert response.status_code == 200
    said = squash(response.get_data(as_text=True))
    assert "Download the letter (PDF)" in said  # made before the details were erased
    [data] = re.findall(r'href="data:application/pdf;base64,([A-Za-z0-9+/=]+)"', said)
    letter = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(
        base64.b64decode(data))).pages)
    assert CONTACT["name"] in letter and "We have stopped using your story" in letter
    settled(world)
    time.sleep(0.2)

    found = leaks([world.root, public])
    assert found == [], "\n".join(found[:20])

    checklist = squash(ada.get("/stories/st-purge1/takedown").get_data(as_text=True))
    assert checklist.count("Trust board pack (") >= 2  # both packs (and the download)
    assert "Trust Board (recipients: Board members)" in checklist
    assert "Quality committee (recipients: Board members)" in checklist
    assert "downloaded from storykit" in checklist
    assert "Page on the public website" in checklist
    assert "The website update took this page down." in checklist
    assert TITLE not in checklist

    # every render and every pack of it is refused, and the packs storykit kept are gone
    for fmt in ("pdf", "pptx", "web"):
        result = run_storykit(world.root, "render", "st-purge1", "--format", fmt,
                              "--use", "board", "--out", str(world.root / f"again-{fmt}"))
        assert result.code != 0 and "withdrawn" in (result.out + result.err).lower()
    with pytest.raises((PackError, StorykitError), match="withdrawn"):
        build_pack(world.site, PackDefinition(use="board", formats=("pdf",),
                                              stories=("st-purge1",)),
                   world.root / "again.zip")
    refused = post(pete, "/packs/check", {"use": "board", "format": ["pdf"],
                                          "story": ["st-purge1"]}, page="/packs/new")
    assert "Stories that will go in (0)" in squash(refused.get_data(as_text=True))
    for pack_id in (first, second):
        assert pete.get(f"/packs/{pack_id}/download").status_code == 303
