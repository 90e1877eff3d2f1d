"""The render pipeline: consent first, only reduced views to renderers, every artefact logged."""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
import textwrap

import pytest
from conftest import ON, consent_version, story_front, write_story

from storykit import Artefact, Format, hookimpl
from storykit.errors import StorykitError
from storykit.render import render, run_jobs
from storykit.site import Site

SEEN: list = []


def capture(job):
    """A renderer that keeps what it was given and writes everything it saw into a file."""
    SEEN.append(job)
    out = []
    for view in job.stories:
        path = job.out_dir / f"{view.slug}.txt"
        path.write_text(repr(view), encoding="utf-8")
        out.append(Artefact(path, "capture", story_ids=(view.id,)))
    return out


def capture_all(job):
    SEEN.append(job)
    path = job.out_dir / "pack.txt"
    path.write_text("\n".join(repr(v) for v in job.stories), encoding="utf-8")
    return [Artefact(path, "pack", story_ids=tuple(v.id for v in job.stories))]


class CapturePlugin:
    @hookimpl
    def register_formats(self):
        return [Format("capture", capture, parallel=True), Format("pack", capture_all, multi=True)]


@pytest.fixture
def site(make_site):
    SEEN.clear()
    root = make_site()
    write_story(root, "st-allowed", story_front(slug="allowed"))
    write_story(root, "st-anon", story_front(slug="anon", title="Anon"),
                consent=[consent_version(identification="anonymous")])
    write_story(root, "st-draft", story_front(slug="draft", status="draft"))
    write_story(root, "st-boardonly", story_front(slug="board-only"),
                consent=[consent_version(uses=["board"])])
    s = Site.open(root)
    s.plugins.register(CapturePlugin(), "capture")
    return s


def stories(site, *ids):
    return [site.store.get(i) for i in ids]


def test_refused_stories_never_reach_the_renderer(site, tmp_path):
    result = render(site, stories(site, "st-allowed", "st-boardonly"), "public_website",
                    "capture", tmp_path / "out", on=ON, by="tester")
    assert [v.id for job in SEEN for v in job.stories] == ["st-allowed"]
    assert [d.story_id for d in result.refused] == ["st-boardonly"]
    assert "consent does not cover public_website" in result.refused[0].messages[0]
    assert not (tmp_path / "out" / "board-only.txt").exists()


def test_renderers_get_reduced_views_without_private_fields(site, tmp_path):
    render(site, stories(site, "st-anon"), "board", "capture", tmp_path, on=ON)
    text = (tmp_path / "anon.txt").read_text()
    for private in ("Aisha", "Rahman", "Carol Pegg", "Leila", "jo.advocate"):
        assert private not in text
    assert "the night midwife" in text and "a patient" in text
    assert SEEN[0].stories[0].speaker_notes is None  # audience copy by default


def test_speaker_notes_only_with_notes(site, tmp_path):
    render(site, stories(site, "st-allowed"), "board", "capture", tmp_path, on=ON,
           with_notes=True)
    assert SEEN[0].stories[0].speaker_notes == "Pause after the quote.\n"


def test_every_artefact_is_recorded_with_hash_consent_version_use_and_who(site, tmp_path,
                                                                         database_env):
    result = render(site, stories(site, "st-allowed"), "board", "capture", tmp_path, on=ON,
                    by="jo.advocate")
    (entry,) = site.distributions.for_story("st-allowed")
    path = result.artefacts[0].path
    assert entry.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (entry.use, entry.format, entry.consent_version, entry.created_by) == (
        "board", "capture", 1, "jo.advocate")
    assert entry.path == str(path) and entry.removed_at is None
    assert dt.datetime.strptime(entry.created_at, "%Y-%m-%dT%H:%M:%SZ")


def test_a_multi_story_artefact_is_recorded_once_per_story(site, tmp_path, database_env):
    render(site, stories(site, "st-allowed", "st-anon"), "board", "pack", tmp_path, on=ON)
    assert len(SEEN) == 1 and len(SEEN[0].stories) == 2
    logged = [d.story_id for d in site.distributions.all()]
    assert sorted(logged) == ["st-allowed", "st-anon"]


def test_draft_previews_are_marked_and_never_recorded(site, tmp_path, database_env):
    result = render(site, stories(site, "st-draft"), "board", "capture", tmp_path, on=ON,
                    preview=True)
    view = SEEN[0].stories[0]
    assert view.draft and view.draft_mark == "DRAFT - not for distribution"
    assert result.artefacts and site.distributions.all() == []
    refused = render(site, stories(site, "st-draft"), "board", "capture", tmp_path, on=ON)
    assert refused.refused and "not approved or published" in refused.refused[0].messages[0]


def test_previews_are_for_internal_uses_only(site, tmp_path):
    result = render(site, stories(site, "st-draft"), "public_website", "capture", tmp_path,
                    on=ON, preview=True)
    assert result.refused and "internal uses only" in " ".join(result.refused[0].messages)


def test_expiry_is_decided_on_the_given_date(site, tmp_path):
    late = dt.date(2029, 9, 3)
    result = render(site, stories(site, "st-allowed"), "board", "capture", tmp_path, on=late)
    assert result.refused[0].codes == ["expired"]
    last_day = render(site, stories(site, "st-allowed"), "board", "capture", tmp_path,
                      on=dt.date(2029, 9, 2))
    assert last_day.ok


def test_unknown_format_and_use_are_clear_errors(site, tmp_path):
    with pytest.raises(StorykitError, match="unknown format 'nope'; available: .*capture"):
        render(site, stories(site, "st-allowed"), "board", "nope", tmp_path, on=ON)
    with pytest.raises(StorykitError, match="unknown use 'twitter'"):
        render(site, stories(site, "st-allowed"), "twitter", "capture", tmp_path, on=ON)


def test_parallel_jobs_give_the_same_artefacts_as_serial(site, tmp_path):
    from storykit.render import make_job

    fmt = site.formats()["capture"]
    views = [site.decide(s, "board", ON).view for s in stories(site, "st-allowed", "st-anon")]
    jobs = [make_job(site, fmt, "board", [v], tmp_path / "p", on=ON) for v in views]
    (tmp_path / "p").mkdir()
    serial = run_jobs(fmt, jobs, workers=1)
    parallel = run_jobs(fmt, jobs, workers=2)
    assert [a.path for a in serial] == [a.path for a in parallel]


def test_the_takedown_list_after_withdrawal(site, tmp_path, capsys):
    from storykit.distribution import takedown_lines

    render(site, stories(site, "st-allowed"), "board", "capture", tmp_path, on=ON)
    story = site.withdraw("allowed", "stop_future_use", "Changed my mind", by="tester")
    lines = takedown_lines(site, story)
    assert "went to 1 place(s)" in lines[0] and "board  capture" in lines[1]
    after = render(site, [site.store.get("st-allowed")], "board", "capture", tmp_path, on=ON)
    assert "withdrawn" in after.refused[0].codes


def test_render_cli_prints_reasons_and_exit_status(site, tmp_path):
    import subprocess

    plugin = site.root / "plugins" / "capture_plugin.py"
    plugin.parent.mkdir(exist_ok=True)
    plugin.write_text(textwrap.dedent("""
        from storykit import Artefact, Format, hookimpl
        def render(job):
            out = []
            for v in job.stories:
                p = job.out_dir / (v.slug + ".txt")
                p.write_text(v.title)
                out.append(Artefact(p, "cap", story_ids=(v.id,)))
            return out
        @hookimpl
        def register_formats():
            return [Format("cap", render)]
    """))
    base = [sys.executable, "-m", "storykit", "--site", str(site.root), "render"]
    ok = subprocess.run(base + ["allowed", "--use", "board", "--format", "cap", "--out",
                                str(tmp_path / "o"), "--date", ON.isoformat()],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "1 of 1 stories rendered" in ok.stdout
    mixed = subprocess.run(base + ["allowed", "board-only", "--use", "public_website",
                                   "--format", "cap", "--out", str(tmp_path / "o"),
                                   "--date", ON.isoformat()], capture_output=True, text=True)
    assert mixed.returncode == 1
    assert "refused st-boardonly for public_website: consent does not cover" in mixed.stderr
    assert (tmp_path / "o" / "allowed.txt").exists()
    for args, message in (
        (["nope-story"], "no story with id or slug 'nope-story'"),
        (["allowed", "--format", "zzz"], "unknown format 'zzz'"),
        (["allowed", "--use", "zzz"], "unknown use 'zzz'"),
    ):
        cmd = base + args[:1] + ["--use", "board", "--format", "cap", "--out", str(tmp_path)]
        cmd += args[1:]
        bad = subprocess.run(cmd, capture_output=True, text=True)
        assert bad.returncode != 0 and message in bad.stderr and "Traceback" not in bad.stderr
    missing = subprocess.run(base + ["allowed"], capture_output=True, text=True)
    assert missing.returncode == 2 and "Missing option '--use'" in missing.stderr
