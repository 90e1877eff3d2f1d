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
from storykit.render import make_job, render, run_jobs
from storykit.site import Site

#: Renders and builds decide as if today were ON (conftest.test_day).
pytestmark = pytest.mark.usefixtures("test_day")

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
                    "capture", tmp_path / "out", by="tester")
    assert [v.id for job in SEEN for v in job.stories] == ["st-allowed"]
    assert [d.story_id for d in result.refused] == ["st-boardonly"]
    assert "consent does not cover public_website" in result.refused[0].messages[0]
    assert not (tmp_path / "out" / "board-only.txt").exists()


def test_renderers_get_reduced_views_without_private_fields(site, tmp_path):
    render(site, stories(site, "st-anon"), "board", "capture", tmp_path)
    text = (tmp_path / "anon.txt").read_text()
    for private in ("Aisha", "Rahman", "Carol Pegg", "Leila", "jo.advocate"):
        assert private not in text
    assert "the night midwife" in text and "a patient" in text
    assert SEEN[0].stories[0].speaker_notes is None  # audience copy by default


def test_speaker_notes_only_with_notes(site, tmp_path):
    render(site, stories(site, "st-allowed"), "board", "capture", tmp_path,
           with_notes=True)
    assert SEEN[0].stories[0].speaker_notes == "Pause after the quote.\n"


def test_every_artefact_is_recorded_with_hash_consent_version_use_and_who(site, tmp_path,
                                                                          database_env):
    result = render(site, stories(site, "st-allowed"), "board", "capture", tmp_path,
                    by="jo.advocate")
    (entry,) = site.distributions.for_story("st-allowed")
    path = result.artefacts[0].path
    assert entry.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (entry.use, entry.format, entry.consent_version, entry.created_by) == (
        "board", "capture", 1, "jo.advocate")
    assert entry.path == str(path) and entry.removed_at is None
    assert dt.datetime.strptime(entry.created_at, "%Y-%m-%dT%H:%M:%SZ")


def test_a_multi_story_artefact_is_recorded_once_per_story(site, tmp_path, database_env):
    render(site, stories(site, "st-allowed", "st-anon"), "board", "pack", tmp_path)
    assert len(SEEN) == 1 and len(SEEN[0].stories) == 2
    logged = [d.story_id for d in site.distributions.all()]
    assert sorted(logged) == ["st-allowed", "st-anon"]


def test_draft_previews_are_marked_and_never_recorded(site, tmp_path, database_env):
    result = render(site, stories(site, "st-draft"), "board", "capture", tmp_path,
                    preview=True)
    view = SEEN[0].stories[0]
    assert view.draft and view.draft_mark == "DRAFT - not for distribution"
    assert result.artefacts and site.distributions.all() == []
    refused = render(site, stories(site, "st-draft"), "board", "capture", tmp_path)
    assert refused.refused and "not approved or published" in refused.refused[0].messages[0]


def test_previews_are_for_internal_uses_only(site, tmp_path):
    result = render(site, stories(site, "st-draft"), "public_website", "capture", tmp_path,
                    preview=True)
    assert result.refused and "internal uses only" in " ".join(result.refused[0].messages)


def test_expiry_is_decided_for_today(site, tmp_path, monkeypatch):
    from storykit import dates

    monkeypatch.setattr(dates, "FIXED_TODAY", dt.date(2029, 9, 3))  # the day after expiry
    result = render(site, stories(site, "st-allowed"), "board", "capture", tmp_path)
    assert result.refused[0].codes == ["expired"] and not result.artefacts
    monkeypatch.setattr(dates, "FIXED_TODAY", dt.date(2029, 9, 2))  # the last day
    last_day = render(site, stories(site, "st-allowed"), "board", "capture", tmp_path)
    assert last_day.ok
    assert [d.story_id for d in site.distributions.all()] == ["st-allowed"]


def test_unknown_format_and_use_are_clear_errors(site, tmp_path):
    with pytest.raises(StorykitError, match="unknown format 'nope'; available: .*capture"):
        render(site, stories(site, "st-allowed"), "board", "nope", tmp_path)
    with pytest.raises(StorykitError, match="unknown use 'twitter'"):
        render(site, stories(site, "st-allowed"), "twitter", "capture", tmp_path)


def test_parallel_jobs_give_the_same_artefacts_as_serial(site, tmp_path):
    fmt = site.formats()["capture"]
    views = [site.decide(s, "board", ON).view for s in stories(site, "st-allowed", "st-anon")]
    jobs = [make_job(site, fmt, "board", [v], tmp_path / "p", on=ON) for v in views]
    (tmp_path / "p").mkdir()
    serial = run_jobs(fmt, jobs, workers=1)
    parallel = run_jobs(fmt, jobs, workers=2)
    assert [a.path for a in serial] == [a.path for a in parallel]


def warn_each(job):
    job.warn(f"{job.stories[0].id}: left something out")
    return capture(job)


def test_warnings_of_parallel_jobs_in_worker_processes_reach_the_person(site, tmp_path):
    fmt = Format("warner", warn_each, parallel=True)
    views = [site.decide(s, "board", ON).view for s in stories(site, "st-allowed", "st-anon")]
    jobs = [make_job(site, fmt, "board", [v], tmp_path, on=ON) for v in views]
    run_jobs(fmt, jobs, workers=2)
    assert [job.warnings for job in jobs] == [["st-allowed: left something out"],
                                              ["st-anon: left something out"]]
    assert site.plugins.warnings[-2:] == ["st-allowed: left something out",
                                          "st-anon: left something out"]


def test_the_takedown_list_after_withdrawal(site, tmp_path, capsys):
    from storykit.distribution import takedown_lines

    render(site, stories(site, "st-allowed"), "board", "capture", tmp_path)
    story = site.withdraw("allowed", "stop_future_use", "Changed my mind", by="tester")
    lines = takedown_lines(site, story)
    assert "went to 1 place still on record" in lines[0]
    assert "Capture made with storykit render" in lines[1] and "for trust board" in lines[1]
    assert "ask the people who have it to delete it" in lines[1]
    assert str(tmp_path) not in "\n".join(lines)  # what and who, never a path
    after = render(site, [site.store.get("st-allowed")], "board", "capture", tmp_path)
    assert "withdrawn" in after.refused[0].codes


def test_render_cli_prints_reasons_and_exit_status(site, tmp_path):
    import subprocess

    # a new process decides for the computer's date: consent that lasts
    write_story(site.root, "st-allowed", story_front(slug="allowed"),
                consent=[consent_version(expires=dt.date(2099, 12, 31))])
    write_story(site.root, "st-boardonly", story_front(slug="board-only"),
                consent=[consent_version(uses=["board"], expires=dt.date(2099, 12, 31))])

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
                                str(tmp_path / "o")], capture_output=True, text=True)
    assert ok.returncode == 0 and "1 of 1 stories rendered" in ok.stdout
    mixed = subprocess.run(base + ["allowed", "board-only", "--use", "public_website",
                                   "--format", "cap", "--out", str(tmp_path / "o")],
                           capture_output=True, text=True)
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


# --- decisions are for today: a date is only ever a marked, unrecorded what-if ----------------

FORMATS = ("web", "pdf", "booklet", "slides", "slides-pdf", "handout", "pptx", "card")
USE_FOR = {"card": "social_media"}  # quote cards are for social media only
MARK = "PREVIEW as if on {} - not for distribution"
QUOTE = "At three in the morning, one kind sentence is worth more than a leaflet."


def dated_site(root, **consent):
    """A site with one story whose consent (``consent`` changes it) covers every format's use."""
    (root / "stories").mkdir(parents=True)
    (root / "storykit.toml").write_text('[site]\ntitle = "Test stories"\n', encoding="utf-8")
    version = consent_version(uses=["board", "social_media", "public_website"], **consent)
    write_story(root, "st-dated01", story_front(slug="dated", quotes=[QUOTE]), consent=[version])
    return Site.open(root)


# (consent, what-if date, the reason refused); today is ON (1 March 2027) in this module
DATE_CASES = {
    "expired today, allowed on the date":
        ({"expires": dt.date(2027, 2, 1)}, dt.date(2027, 1, 15), "consent expired on 2027-02-01"),
    "allowed today, expired on the date":
        ({}, dt.date(2029, 9, 3), "on 3 September 2029: consent expired on 2029-09-02"),
    "allowed today, not yet granted on the date":
        ({}, dt.date(2026, 1, 1), "on 1 January 2026: consent starts on 2026-09-02"),
    "a child's re-consent due before today, not on the date":
        ({"age_band": "13_15", "given_by": "parent_with_pr", "reconsent_due": dt.date(2027, 2, 1)},
         dt.date(2027, 1, 15), "re-consent was due on 2027-02-01"),
    "a child's re-consent due after today, before the date":
        ({"age_band": "13_15", "given_by": "parent_with_pr", "reconsent_due": dt.date(2027, 6, 1)},
         dt.date(2027, 7, 1), "on 1 July 2027: re-consent was due on 2027-06-01"),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", DATE_CASES)
def test_a_what_if_date_never_lets_out_a_story_refused_today_or_then(tmp_path, fmt, case):
    consent, day, reason = DATE_CASES[case]
    site = dated_site(tmp_path / "site", **consent)
    out = tmp_path / "out"
    result = render(site, [site.store.get("st-dated01")], USE_FOR.get(fmt, "board"), fmt, out,
                    what_if=day)
    assert not result.artefacts and reason in " ".join(result.refused[0].messages)
    assert not out.exists() or not any(out.iterdir())
    assert site.distributions.all() == []


@pytest.mark.parametrize("case", DATE_CASES)
def test_without_a_date_the_same_stories_are_decided_for_today(tmp_path, case, monkeypatch):
    """Today decides alone: the cases refused today stay refused whatever the date said, the
    others are rendered and recorded."""
    consent, _day, reason = DATE_CASES[case]
    site = dated_site(tmp_path / "site", **consent)
    result = render(site, [site.store.get("st-dated01")], "board", "web", tmp_path / "out")
    refused_today = not reason.startswith("on ")
    assert result.ok is not refused_today
    assert len(site.distributions.all()) == (0 if refused_today else 1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_what_if_preview_is_marked_in_every_output_and_never_recorded(tmp_path, fmt):
    from output_support import output_text, words

    site = dated_site(tmp_path / "site")
    day = dt.date(2028, 5, 4)
    result = render(site, [site.store.get("st-dated01")], USE_FOR.get(fmt, "board"), fmt,
                    tmp_path / "out", what_if=day, by="tester")
    assert result.ok and result.artefacts
    mark = MARK.format("4 May 2028")
    for artefact in result.artefacts:
        if artefact.story_ids and artefact.path.suffix != ".json":
            assert mark in words(output_text(artefact.path)), artefact.path.name
    assert site.distributions.all() == []


def test_render_date_on_the_command_line_is_a_marked_preview(tmp_path, capsys):
    from storykit.cli import main

    site = dated_site(tmp_path / "site")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exited:
        main(["--site", str(site.root), "render", "dated", "--use", "board", "--format", "web",
              "--out", str(out), "--date", "2028-05-04"])
    said = capsys.readouterr()
    assert exited.value.code == 0
    assert "what-if preview: every page is marked PREVIEW and nothing was recorded" in said.out
    assert MARK.format("4 May 2028") in (out / "dated.html").read_text(encoding="utf-8")
    assert Site.open(site.root).distributions.all() == []
    with pytest.raises(SystemExit) as exited:
        main(["--site", str(site.root), "render", "dated", "--use", "board", "--format", "web",
              "--out", str(out), "--date", "2029-09-03"])
    said = capsys.readouterr()
    assert exited.value.code == 1
    assert "refused st-dated01 for board: on 3 September 2029: consent expired on " \
           "2029-09-02" in said.err


@pytest.mark.parametrize("date", ["2026-03-01", "2027-03-01", "tomorrow"])
def test_build_date_is_refused_and_writes_nothing(tmp_path, capsys, date):
    from storykit.cli import main

    site = dated_site(tmp_path / "site")
    (site.root / "stories" / "st-dated01" / "story.md").write_text(
        (site.root / "stories" / "st-dated01" / "story.md").read_text(encoding="utf-8")
        .replace("status: approved", "status: published"), encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["--site", str(site.root), "build", "--date", date])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "storykit build always decides for today, so --date cannot be used" in err
    assert "storykit list --use public_website --date" in err
    assert not (site.root / "build").exists()
    assert not (site.root / "instance" / "cache" / "web-build").exists()
    assert Site.open(site.root).distributions.all() == []
