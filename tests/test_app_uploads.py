"""Story pictures: uploads checked by content, cleaned (metadata, orientation, hidden bytes),
stored in two sizes under generated names, with alt text required; served only to people who
may see the story, as image/* with nosniff. Every bad file of the security catalogue (rows
15-23) is refused with a clear message, and nothing is left behind. CSRF protection is on."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest
from app_support import csrf_token, make_world
from editor_support import (
    FITS,
    PSD,
    SVG,
    animated_webp,
    gps_jpeg,
    media_files,
    picture,
    png_bomb_header,
    polyglot_html,
    polyglot_zip,
    post_form,
    text,
    upload,
)
from PIL import Image

from storykit import audit
from storykit.images import ImageError, prepare_variants
from storykit.web.uploads import IMAGE_NAME, small_variant


@pytest.fixture
def world(tmp_path, engine):
    return make_world(tmp_path / "site", engine=engine)


@pytest.fixture
def ann(world):
    return world.client("ann")


def stored(world, story_id="st-draft1"):
    return world.site.store.get(story_id).images


def open_stored(world, file: str, story_id="st-draft1") -> Image.Image:
    return Image.open(world.root / "stories" / story_id / file)


def test_a_photo_is_stored_in_two_sizes_with_its_alt_text_and_kind(world, ann):
    response = upload(ann, world, "st-draft1", picture((3000, 2000)), kind="illustration")
    assert response.status_code == 303
    [image] = stored(world)
    assert IMAGE_NAME.match(image.file.removeprefix("media/"))
    assert (image.alt, image.kind) == ("A nurse holding a baby by a hospital cot",
                                       "illustration")
    with open_stored(world, image.file) as big, open_stored(world, small_variant(image.file)) \
            as small:
        assert (big.format, big.size, small.size) == ("JPEG", (1600, 1067), (800, 534))
    assert sorted(media_files(world, "st-draft1")) == sorted(
        [image.file.removeprefix("media/"), small_variant(image.file).removeprefix("media/")])
    entry = world.audit(audit.STORY_SAVED)[0]
    assert entry.detail.endswith("picture added (illustration)") and "nurse" not in entry.detail
    page = text(ann.get("/stories/st-draft1/images"))
    assert 'alt="A nurse holding a baby by a hospital cot"' in page


def test_png_stays_png_and_webp_becomes_jpeg_unless_transparent(world, ann):
    upload(ann, world, "st-draft1", picture(fmt="PNG"))
    upload(ann, world, "st-draft1", picture(fmt="WEBP"))
    clear = io.BytesIO()
    Image.new("RGBA", (20, 20), (0, 0, 0, 0)).save(clear, format="WEBP")
    upload(ann, world, "st-draft1", clear.getvalue())
    kinds = [open_stored(world, img.file).format for img in stored(world)]
    assert kinds == ["PNG", "JPEG", "PNG"]


def test_a_gps_tagged_photo_is_stored_without_any_metadata_and_turned_upright(world, ann):
    assert upload(ann, world, "st-draft1", gps_jpeg((40, 20))).status_code == 303
    [image] = stored(world)
    big = world.root / "stories" / "st-draft1" / image.file
    for file in (image.file, small_variant(image.file)):
        path = world.root / "stories" / "st-draft1" / file
        with Image.open(path) as im:
            assert len(im.getexif()) == 0
            assert not {"exif", "xmp", "icc_profile"} & set(im.info)
            if path != big:  # only storykit's note of which picture the small copy was made from
                made_from = hashlib.sha256(big.read_bytes()).hexdigest()
                assert im.info["comment"] == f"storykit-copy-of:{made_from}".encode()
            else:
                assert "comment" not in im.info
            assert im.size == (20, 40)  # orientation 6 applied: portrait now
            assert im.getpixel((15, 2))[1] > 150  # the green corner moved to the top right
        raw = path.read_bytes()
        for marker in (b"Exif", b"GPS", b"xmpmeta", b"ExampleCam", b"Example Road"):
            assert marker not in raw, marker


@pytest.mark.parametrize("data, name, message", [
    (SVG, "evil.svg", "must be a JPEG, PNG or WebP"),
    (SVG, "innocent.jpg", "must be a JPEG, PNG or WebP"),
    (png_bomb_header(), "huge.png", "too many pixels"),
    (picture()[:300], "cut.jpg", "damaged or not complete"),
    (picture(fmt="PNG")[:-40], "cut.png", "damaged or not complete"),
    (picture(fmt="TIFF"), "scan.tif", "must be a JPEG, PNG or WebP"),
    (picture(fmt="GIF"), "anim.gif", "must be a JPEG, PNG or WebP"),
    (PSD, "layers.psd", "must be a JPEG, PNG or WebP"),
    (FITS, "sky.fits", "must be a JPEG, PNG or WebP"),
    (animated_webp(200), "moving.webp", "animated"),
    (b"<html><script>alert(1)</script></html>", "page.jpg", "must be a JPEG, PNG or WebP"),
    (b"", "empty.jpg", "The file is empty"),
])
def test_bad_files_are_refused_with_422_and_nothing_is_kept(world, ann, data, name, message):
    before = (world.root / "stories" / "st-draft1" / "story.md").read_bytes()
    response = upload(ann, world, "st-draft1", data, filename=name)
    page = text(response)
    assert response.status_code == 422, page[:500]
    assert message.lower() in page.lower()
    assert media_files(world, "st-draft1") == []
    assert (world.root / "stories" / "st-draft1" / "story.md").read_bytes() == before
    assert not [p for p in (world.root / "instance" / "tmp").rglob("*") if p.is_file()]


@pytest.mark.parametrize("maker", [polyglot_html, polyglot_zip])
def test_polyglots_lose_their_hidden_part_and_are_served_as_images(world, ann, maker):
    assert upload(ann, world, "st-draft1", maker()).status_code == 303
    [image] = stored(world)
    raw = (world.root / "stories" / "st-draft1" / image.file).read_bytes()
    assert b"<script" not in raw and b"PK\x03\x04" not in raw and b"<html" not in raw
    served = ann.get(f"/stories/st-draft1/{image.file}")
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Cache-Control"] == "no-store"
    assert served.data == raw


def test_an_oversize_upload_is_413_before_anything_is_stored(world, ann):
    big = b"\xff\xd8\xff" + b"\0" * (world.app.config["STORYKIT_UPLOAD_MAX"] + 10)
    response = upload(ann, world, "st-draft1", big)
    assert response.status_code == 413 and "too big" in text(response)
    assert media_files(world, "st-draft1") == []


def test_a_phone_photo_bigger_than_other_requests_may_be_is_taken(world, ann):
    """Phone photos are often over 5 MB: a picture may be as big as STORYKIT_UPLOAD_MAX,
    while every other request stays under MAX_CONTENT_LENGTH."""
    import os

    size = (2400, 1800)
    noisy = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    out = io.BytesIO()
    noisy.save(out, format="JPEG", quality=98)
    photo = out.getvalue()
    assert len(photo) > world.app.config["MAX_CONTENT_LENGTH"]
    response = upload(ann, world, "st-draft1", photo)
    assert response.status_code == 303, text(response)
    assert len(media_files(world, "st-draft1")) >= 1
    page = ann.get("/stories/st-draft1/images")
    assert "20 MB" in text(page)  # the form says how big a picture may be


@pytest.mark.parametrize("name", ["../../etc/passwd", "..", ".git", "-rf", "CON", "a\0b.jpg",
                                  "x" * 300 + ".jpg", "../../../stories/st-bobdraft/story.md",
                                  "ＡＢＣ.jpg", "\u202egpj.exe"])
def test_odd_upload_names_never_reach_the_file_system(world, ann, name):
    bob_story = (world.root / "stories" / "st-bobdraft" / "story.md").read_bytes()
    response = upload(ann, world, "st-draft1", picture(), filename=name,
                      alt="The ward corridor at night")
    assert response.status_code == 303
    names = media_files(world, "st-draft1")
    assert len(names) == 2 and all(IMAGE_NAME.match(n) for n in names)
    assert (world.root / "stories" / "st-bobdraft" / "story.md").read_bytes() == bob_story
    everything = {p.name for p in world.root.rglob("*")}
    assert "passwd" not in everything and "-rf" not in everything and "CON" not in everything


@pytest.mark.parametrize("alt, message", [
    ("", "Describe the picture"),
    ("ward.jpg", "not its file name"),
    ("IMG_2041.JPG", "not its file name"),
    ("x" * 1001, "1000 characters or fewer"),
])
def test_alt_text_is_required_and_is_not_a_file_name(world, ann, alt, message):
    response = upload(ann, world, "st-draft1", picture(), alt=alt)
    assert response.status_code == 422 and message in text(response)
    assert media_files(world, "st-draft1") == []


def test_kind_and_file_are_required(world, ann):
    response = upload(ann, world, "st-draft1", picture(), kind="selfie")
    assert response.status_code == 422 and "photo or an illustration" in text(response)
    page = "/stories/st-draft1/images"
    no_file = post_form(ann, page, {"alt": "A ward", "kind": "photo",
                                    "base_etag": world.site.store.get("st-draft1").etag},
                        page=page, content_type="multipart/form-data")
    assert no_file.status_code == 422 and "Choose a picture" in text(no_file)


def test_an_upload_from_a_stale_page_is_added_to_the_latest_version(world, ann):
    old = world.site.store.get("st-draft1").etag
    from editor_support import save

    save(world.client("ann"), world, "st-draft1", summary="Changed meanwhile.")
    assert upload(ann, world, "st-draft1", picture(), etag=old).status_code == 303
    story = world.site.store.get("st-draft1")
    assert story.summary == "Changed meanwhile." and len(story.images) == 1


def test_an_upload_to_a_story_withdrawn_meanwhile_is_410_and_keeps_nothing(world, ann):
    old = world.site.store.get("st-draft1").etag
    world.site.withdraw("st-draft1", "stop_future_use", "Asked to stop", by="ada")
    assert upload(ann, world, "st-draft1", picture(), etag=old).status_code == 410
    assert media_files(world, "st-draft1") == [] and stored(world) == []


def test_alt_text_can_be_changed_and_a_picture_taken_out(world, ann):
    upload(ann, world, "st-draft1", picture())
    [image] = stored(world)
    page = "/stories/st-draft1/images"
    etag = world.site.store.get("st-draft1").etag
    bad = post_form(ann, f"{page}/change", {"base_etag": etag, "file": image.file,
                                            "action": "update", "alt-0": "",
                                            "kind-0": "photo"}, page=page)
    assert bad.status_code == 422
    ok = post_form(ann, f"{page}/change", {"base_etag": etag, "file": image.file,
                                           "action": "update", "alt-0": "Two chairs by a window",
                                           "kind-0": "illustration"}, page=page)
    assert ok.status_code == 303
    assert stored(world)[0].alt == "Two chairs by a window"
    stale = post_form(ann, f"{page}/change", {"base_etag": etag, "file": image.file,
                                              "action": "remove"}, page=page)
    assert stale.status_code == 409 and len(stored(world)) == 1
    etag = world.site.store.get("st-draft1").etag
    gone = post_form(ann, f"{page}/change", {"base_etag": etag, "file": image.file,
                                             "action": "remove"}, page=page)
    assert gone.status_code == 303 and stored(world) == []
    assert media_files(world, "st-draft1") == []
    details = [e.detail for e in world.audit(audit.STORY_SAVED)]
    assert any(d.endswith("picture removed") for d in details)
    assert any(d.endswith("picture description changed") for d in details)


def test_pictures_are_served_only_to_people_who_may_see_the_story(world, ann):
    upload(ann, world, "st-draft1", picture())
    [image] = stored(world)
    url = f"/stories/st-draft1/{image.file}"
    small = f"/stories/st-draft1/{small_variant(image.file)}"
    assert ann.get(url).status_code == 200 and ann.get(small).status_code == 200
    assert world.client("ada").get(url).status_code == 200
    for who in ("bob", "rita", "pete"):
        assert world.client(who).get(url).status_code == 404
    anonymous = world.client().get(url)
    assert anonymous.status_code == 303 and "/sign-in" in anonymous.headers["Location"]
    # files the story does not list are never served, whatever is in the folder
    folder = world.root / "stories" / "st-draft1"
    (folder / "media" / "img-unlisted00.jpg").write_bytes(picture())
    (folder / "media" / "page.html").write_text("<script>alert(1)</script>")
    for name in ("img-unlisted00.jpg", "page.html", "..%2Fstory.md", "%2E%2E", ".git"):
        assert ann.get(f"/stories/st-draft1/media/{name}").status_code == 404, name


def test_upload_forms_need_this_sessions_csrf_token(world, ann):
    page = "/stories/st-draft1/images"
    etag = world.site.store.get("st-draft1").etag
    for token in (None, csrf_token(world.client("bob"), "/")):
        form = {"picture": (io.BytesIO(picture()), "a.jpg"), "alt": "A ward", "kind": "photo",
                "base_etag": etag}
        if token:
            form["csrf_token"] = token
        assert ann.post(page, data=form, content_type="multipart/form-data").status_code == 400
        assert ann.post(f"{page}/change", data={"file": "media/x.jpg",
                                                **({"csrf_token": token} if token else {})}
                        ).status_code == 400
    assert media_files(world, "st-draft1") == []


def test_variants_decode_once_and_are_checked_like_prepare_image(tmp_path):
    big = tmp_path / "big.jpg"
    big.write_bytes(picture((4000, 3000)))
    out = {1600: tmp_path / "a.jpg", 800: tmp_path / "b.jpg"}
    assert prepare_variants(big, out) == {1600: (1600, 1200), 800: (800, 600)}
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(SVG)
    with pytest.raises(ImageError):
        prepare_variants(bad, {800: tmp_path / "c.jpg"})
    with pytest.raises(ValueError):
        prepare_variants(big, {})
    # a rotated phone photo decoded at a reduced scale is still wide enough once upright
    turned = tmp_path / "turned.jpg"
    turned.write_bytes(gps_jpeg((4000, 3000), orientation=6))
    assert prepare_variants(turned, {1600: tmp_path / "d.jpg"}) == {1600: (1600, 2133)}
    assert not re.search(rb"GPS|Exif", (tmp_path / "d.jpg").read_bytes())


def test_xss_in_alt_text_is_stored_raw_and_escaped_everywhere(world, ann):
    from editor_support import executable_parts

    alt = '"><script>alert(1)</script><img src=x onerror=alert(2)> a ward'
    assert upload(ann, world, "st-draft1", picture(), alt=alt).status_code == 303
    assert stored(world)[0].alt == alt
    for url in ("/stories/st-draft1/images", "/stories/st-draft1/edit",
                "/stories/st-draft1/preview"):
        page = text(ann.get(url))
        assert not executable_parts(page), url
    bad = upload(ann, world, "st-draft1", SVG, alt=alt)
    assert bad.status_code == 422 and not executable_parts(text(bad))


def test_temporary_files_left_by_a_dead_process_are_swept(world, ann):
    import os
    import time

    tmp = world.root / "instance" / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    old_upload = tmp / ".tmp-upload-dead"
    old_upload.write_bytes(picture())
    old_preview = tmp / "preview-dead"
    old_preview.mkdir()
    (old_preview / "story.html").write_text("health data")
    fresh = tmp / ".tmp-upload-busy"
    fresh.write_bytes(b"another request is writing this")
    hour_ago = time.time() - 3700
    for path in (old_upload, old_preview):
        os.utime(path, (hour_ago, hour_ago))
    assert upload(ann, world, "st-draft1", picture()).status_code == 303
    assert not old_upload.exists() and not old_preview.exists()
    assert fresh.exists()


@pytest.mark.parametrize(("path", "method", "upload"), [
    ("/stories/st-draft1/images", "POST", True),
    ("/stories/st-draft1/consent", "POST", True),  # a signed consent form
    ("/stories/st-draft1/images", "GET", False),
    ("/stories/st-draft1/edit", "POST", False),
    ("/sign-in", "POST", False),
])
def test_only_upload_routes_may_take_more_than_other_requests(world, path, method, upload):
    from flask import request

    from storykit.web.uploads import allow_uploads

    app = world.app
    with app.test_request_context(path, method=method):
        allow_uploads()
        expected = app.config["STORYKIT_UPLOAD_MAX" if upload else "MAX_CONTENT_LENGTH"]
        assert request.max_content_length == expected


# --- the media rule in the app: no picture is read or written through a link -----------------

def _evidence_scan(world, story_id: str = "st-published1") -> Path:
    form = world.root / "stories" / story_id / "evidence" / "form.jpg"
    form.parent.mkdir(parents=True, exist_ok=True)
    form.write_bytes(picture((60, 80), colour=(20, 20, 20)))
    return form


def test_a_linked_picture_is_never_served_or_previewed(world, ann):
    from editor_support import srcdoc_of

    upload(ann, world, "st-draft1", picture((300, 200)))
    [image] = stored(world)
    name = image.file.removeprefix("media/")
    media = world.root / "stories" / "st-draft1" / "media"
    form = _evidence_scan(world)
    for copy in (name, small_variant(image.file).removeprefix("media/")):
        (media / copy).unlink()
        (media / copy).symlink_to(form)  # another story's signed consent form
    assert ann.get(f"/stories/st-draft1/media/{name}").status_code == 404
    page = text(ann.get("/stories/st-draft1/edit"))
    assert "A picture could not be read, so the preview cannot be shown." in page
    assert f"/media/{name}" not in srcdoc_of(page)


def test_no_picture_is_stored_through_a_linked_media_folder(world, ann):
    elsewhere = world.root / "stories" / "st-published1" / "evidence"
    _evidence_scan(world)
    (world.root / "stories" / "st-draft1" / "media").symlink_to(elsewhere,
                                                                target_is_directory=True)
    response = upload(ann, world, "st-draft1", picture((300, 200)))
    assert response.status_code == 409
    assert "media folder is a link to somewhere else" in text(response)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["form.jpg"]
    assert stored(world) == []
def test_an_upload_while_big_pictures_hold_the_memory_budget_is_asked_to_try_again(
        world, ann, monkeypatch):
    """When other pictures hold all the picture memory for longer than an upload may wait,
    the person is told the server is busy and to send it again: 503, nothing stored, the
    story unchanged. Once the memory is free, the same upload works."""
    import threading

    from storykit import images
    from storykit.web import uploads

    monkeypatch.setattr(uploads, "PICTURE_WAIT", 0.2)
    holding, release = threading.Event(), threading.Event()

    def big_picture_elsewhere():
        with images._BUDGET.hold(images.MEMORY_BUDGET, None):
            holding.set()
            release.wait(30)

    worker = threading.Thread(target=big_picture_elsewhere)
    worker.start()
    try:
        holding.wait(10)
        before = world.site.store.get("st-draft1").etag
        response = upload(ann, world, "st-draft1", picture((1200, 900)))
        assert response.status_code == 503
        assert "busy with other pictures" in text(response) and "send the file again" in text(response)
        assert media_files(world, "st-draft1") == []
        assert world.site.store.get("st-draft1").etag == before
    finally:
        release.set()
        worker.join()
    assert upload(ann, world, "st-draft1", picture((1200, 900))).status_code == 303
    assert len(stored(world)) == 1
