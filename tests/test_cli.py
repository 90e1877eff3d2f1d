"""The storykit command: every command, and what happens when each argument is wrong."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ON, consent_version, snapshot, story_front, write_story

from storykit import fsio
from storykit.cli import main
from storykit.site import Site

STORYKIT = str(Path(sys.executable).parent / "storykit")
DATE = ON.isoformat()


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run ``storykit ARGS`` in this process (through storykit.cli.main)."""

    def run(*args: str, cwd: Path | None = None) -> Result:
        monkeypatch.delenv("STORYKIT_DEBUG", raising=False)
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            main([str(a) for a in args])
        out, err = capsys.readouterr()
        code = info.value.code
        result = Result(code if isinstance(code, int) else (0 if code is None else 1), out, err)
        assert "Traceback" not in out + err
        return result

    return run


def run_process(*args: str, cwd: Path | None = None) -> Result:
    """Run the installed ``storykit`` program."""
    env = {k: v for k, v in os.environ.items() if k != "STORYKIT_DEBUG"}
    proc = subprocess.run([STORYKIT, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=60)
    assert "Traceback" not in proc.stdout + proc.stderr
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def demo(make_site) -> Path:
    """A site with one story in each state `storykit check` should warn about."""
    root = make_site()
    write_story(root, "st-good01", story_front(slug="all-good", status="published"))
    write_story(root, "st-expire", story_front(slug="expired-one"),
                consent=[consent_version(expires=dt.date(2027, 1, 1))])
    write_story(root, "st-withdr", story_front(slug="withdrawn-one", status="withdrawn"),
                consent=[consent_version(), consent_version(
                    version=2, status="withdrawn", withdrawal={
                        "requested": dt.date(2027, 2, 1), "scope": "stop_future_use",
                        "reason": "moved away"})])
    write_story(root, "st-pendin", story_front(slug="pending-one", status="in_review"),
                consent=[consent_version(status="pending", signed_off=None,
                                         signed_off_revision=None)])
    return root


def files_of(root: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(root).items() if not k.startswith("instance")}


# --- init and site discovery -------------------------------------------------------------------

def test_init_creates_a_site_that_checks_clean(tmp_path, cli):
    result = cli("init", tmp_path / "new-site", "--title", "Ward 7 stories")
    assert result.code == 0 and "Created a storykit site" in result.out
    assert 'title = "Ward 7 stories"' in (tmp_path / "new-site" / "storykit.toml").read_text()
    result = cli("--site", tmp_path / "new-site", "check")
    assert result.code == 0, result.err
    assert "1 stories checked: 0 errors" in result.out


@pytest.mark.parametrize("setup", ["already-a-site", "not-empty", "a-file"])
def test_init_refuses_a_bad_path(tmp_path, cli, setup):
    target = tmp_path / "target"
    if setup == "already-a-site":
        assert cli("init", target).code == 0
    elif setup == "not-empty":
        target.mkdir()
        (target / "notes.txt").write_text("mine")
    else:
        target.write_text("a file")
    before = snapshot(tmp_path)
    result = cli("init", target)
    assert result.code != 0
    assert {"already-a-site": "already a storykit site", "not-empty": "is not empty",
            "a-file": "is a file"}[setup] in result.err
    assert snapshot(tmp_path) == before


# --- signed consent forms stay out of git (issue 12, Build item 4) ----------------------------------

SIGNED = b"%PDF-1.4 signed by Aisha Rahman, 12 Mill Lane"  # what a warning must never show


def git(root: Path, *args: str) -> str:
    assert shutil.which("git"), "git is needed for these tests"
    done = subprocess.run(["git", "-C", str(root), "-c", "user.name=Test", "-c",
                           "user.email=test@example.org", "-c", "init.defaultBranch=main",
                           *args], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def signed_form(root: Path, story_id: str = "st-example") -> Path:
    path = root / "stories" / story_id / "evidence" / "consent-abcdefghijkl.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(SIGNED)
    return path


def test_init_keeps_signed_forms_and_the_instance_out_of_git(tmp_path, cli):
    root = tmp_path / "new-site"
    assert cli("init", root).code == 0
    git(root, "init", "-q")
    form = signed_form(root)
    (root / "instance").mkdir(exist_ok=True)
    (root / "instance" / "storykit.db").write_bytes(b"private")
    git(root, "add", "-A")
    staged = git(root, "diff", "--cached", "--name-only").split()
    assert "stories/st-example/story.md" in staged and ".gitignore" in staged
    assert not [p for p in staged if "evidence" in p or p.startswith("instance")], staged
    assert git(root, "check-ignore", str(form.relative_to(root))).strip()
    result = cli("--site", root, "check")
    assert result.code == 0 and "consent form" not in result.out + result.err


def test_check_warns_about_a_signed_form_git_tracks_naming_only_the_file(tmp_path, cli):
    root = tmp_path / "site"
    assert cli("init", root).code == 0
    (root / ".gitignore").write_text("/instance/\n")  # as a site made before the rule
    git(root, "init", "-q")
    tracked = signed_form(root)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "stories")
    untracked = tracked.with_name("consent-mnopqrstuvwx.pdf")  # a second form, since then
    untracked.write_bytes(SIGNED)
    result = cli("--site", root, "check")
    assert result.code == 0  # a warning: nothing about the stories is wrong
    said = result.out + result.err
    assert ("warning: stories/st-example/evidence/consent-abcdefghijkl.pdf: a signed consent "
            "form is in git's history") in said
    assert "git rm --cached stories/st-example/evidence/consent-abcdefghijkl.pdf" in said
    assert ("warning: stories/st-example/evidence/consent-mnopqrstuvwx.pdf: a signed consent "
            "form is not ignored by git") in said
    assert "Aisha" not in said and "Mill Lane" not in said and "PDF" not in said
    report = json.loads(cli("--site", root, "check", "--json").out)
    codes = {(w["code"], w["story"]) for w in report["warnings"]}
    assert {("evidence_in_git", "st-example"), ("evidence_not_ignored", "st-example")} <= codes
    # following the advice clears both warnings (the history itself is the owner's to rewrite)
    (root / ".gitignore").write_text("/instance/\n/stories/*/evidence/\n")
    git(root, "rm", "-q", "--cached", str(tracked.relative_to(root)))
    assert "consent form" not in cli("--site", root, "check").out


def test_without_git_or_a_repository_check_says_nothing_about_git(tmp_path, cli, monkeypatch):
    root = tmp_path / "site"
    assert cli("init", root).code == 0
    (root / ".gitignore").unlink()
    signed_form(root)
    assert "consent form" not in cli("--site", root, "check").out  # not a repository
    git(root, "init", "-q")
    assert "not ignored by git" in cli("--site", root, "check").out
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))  # git not installed
    result = cli("--site", root, "check")
    assert result.code == 0 and "consent form" not in result.out + result.err


def test_the_demo_site_keeps_signed_forms_out_of_git(tmp_path):
    """The repository root is itself a site: its .gitignore has the same rule."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(Path(__file__).resolve().parent.parent / ".gitignore", repo / ".gitignore")
    git(repo, "init", "-q")
    form = signed_form(repo, "st-7k2m9q")
    assert git(repo, "check-ignore", str(form.relative_to(repo))).strip()


def test_site_is_found_upwards_from_the_current_folder(demo, cli):
    nested = demo / "stories" / "st-good01"
    result = cli("list", "--json", cwd=nested)
    assert result.code == 0
    assert {s["id"] for s in json.loads(result.out)} == {"st-good01", "st-expire", "st-withdr",
                                                         "st-pendin"}


def test_no_site_anywhere(tmp_path, cli):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("list", cwd=empty)
    assert result.code == 1
    assert "no storykit.toml in" in result.err and "--site PATH" in result.err


@pytest.mark.parametrize("where", ["not-a-site", "missing", "a-file"])
def test_site_option_pointing_at_a_non_site(tmp_path, cli, where):
    path = tmp_path / where
    if where == "not-a-site":
        path.mkdir()
    elif where == "a-file":
        path.write_text("x")
    result = cli("--site", path, "check")
    if where == "a-file":
        assert result.code == 2 and "is a file" in result.err
    else:
        assert result.code == 1 and "not found (is this a storykit site?)" in result.err


def test_site_option_with_a_broken_config(make_site, cli):
    root = make_site(toml='[site]\ntitle = 3\n[consent]\nexpiry_warning_days = "soon"\n')
    result = cli("--site", root, "list")
    assert result.code == 1
    assert "[site] title must be text" in result.err
    assert "[consent] expiry_warning_days must be a whole number" in result.err


# --- new -------------------------------------------------------------------------------------------

def test_new_creates_a_draft(site_root, cli):
    result = cli("--site", site_root, "new", "Night feeds on the ward", "--storyteller",
                 "Aisha Rahman", "--role", "carer")
    assert result.code == 0
    story_id = result.out.split()[2]
    text = (site_root / "stories" / story_id / "story.md").read_text()
    assert "slug: night-feeds-on-the-ward" in text and "role: carer" in text
    assert cli("--site", site_root, "new", "Another", "--slug", "chosen-slug").code == 0


@pytest.mark.parametrize(("args", "code", "message"), [
    (["Night feeds"], 1, "is already used by story"),
    (["Different title", "--slug", "ＮＩＧＨＴ-feeds"], 1, "is already used by story"),
    (["Different title", "--slug", "night\u200b-feeds"], 1, "is already used by story"),
    (["Different title", "--slug", "Bad Slug!"], 1, "may use only lower-case"),
    (["Different title", "--slug", "café"], 1, "may use only lower-case"),
    (["   "], 1, "a story needs a title"),
    (["x" * 300], 1, "title is longer than 200 characters"),
    (["Different title", "--role", "nurse"], 2, "Invalid value for '--role'"),
    ([], 2, "Missing argument 'TITLE'"),
    (["Different title", "--slug"], 2, "requires an argument"),
])
def test_new_with_wrong_arguments(site_root, cli, args, code, message):
    assert cli("--site", site_root, "new", "Night feeds").code == 0
    before = files_of(site_root)
    result = cli("--site", site_root, "new", *args)
    assert result.code == code
    assert message in result.err
    assert files_of(site_root) == before


# --- list --------------------------------------------------------------------------------------------

def test_list_text_and_filters(demo, cli):
    result = cli("--site", demo, "list", "--date", DATE)
    assert result.code == 0
    assert "st-good01  all-good  [published]" in result.out
    assert "allowed: clinical_teams, staff_training, board, public_website" in result.out
    result = cli("--site", demo, "list", "--status", "in_review", "--date", DATE)
    assert "st-pendin" in result.out and "st-good01" not in result.out
    result = cli("--site", demo, "list", "--status", "archived")
    assert result.out.strip() == "No stories with status archived."


def test_list_for_one_use_as_json(demo, cli):
    result = cli("--site", demo, "list", "--use", "board", "--json", "--date", DATE)
    assert result.code == 0
    rows = {row["id"]: row for row in json.loads(result.out)}
    assert set(rows) == {"st-good01", "st-expire", "st-withdr", "st-pendin"}
    for row in rows.values():
        assert {"id", "slug", "status", "allowed", "reasons"} <= set(row)
    assert rows["st-good01"]["allowed"] is True and rows["st-good01"]["reasons"] == []
    assert rows["st-expire"]["allowed"] is False
    assert rows["st-expire"]["reasons"] == ["consent expired on 2027-01-01"]
    assert rows["st-withdr"]["allowed"] is False
    assert "consent was withdrawn on 2027-02-01" in rows["st-withdr"]["reasons"]
    assert any("pending" in r for r in rows["st-pendin"]["reasons"])
    assert rows["st-good01"]["slug"] == "all-good" and rows["st-pendin"]["status"] == "in_review"
    result = cli("--site", demo, "list", "--use", "press", "--json", "--date", DATE)
    assert not any(row["allowed"] for row in json.loads(result.out))


def test_list_json_for_every_use(demo, cli):
    rows = json.loads(cli("--site", demo, "list", "--json", "--date", DATE).out)
    good = next(r for r in rows if r["id"] == "st-good01")
    assert good["uses"]["board"]["allowed"] and not good["uses"]["press"]["allowed"]


def test_list_reports_broken_stories_on_stderr(demo, cli):
    (demo / "stories" / "st-good01" / "story.md").write_text("---\ntitle: x\n---\n")
    result = cli("--site", demo, "list", "--json", "--date", DATE)
    assert result.code == 0
    assert "st-good01" not in {r["id"] for r in json.loads(result.out)}
    assert "stories/st-good01/story.md:2: missing required field 'slug'" in result.err


@pytest.mark.parametrize(("args", "message"), [
    (["--use", "bogus"], "unknown use 'bogus'; this site's uses are: clinical_teams"),
    (["--use", "Board"], "unknown use 'Board'"),
    (["--use"], "requires an argument"),
    (["--status", "bogus"], "Invalid value for '--status'"),
    (["--status", "Published"], "Invalid value for '--status'"),
    (["--date", "2027-13-01"], "Invalid value for '--date'"),
    (["--date", "01/03/2027"], "Invalid value for '--date'"),
    (["--date", "tomorrow"], "Invalid value for '--date'"),
    (["--jsn"], "No such option '--jsn'. (Did you mean one of: '--json'"),
    (["extra-argument"], "unexpected extra argument"),
])
def test_list_with_wrong_arguments(demo, cli, args, message):
    result = cli("--site", demo, "list", *args)
    assert result.code == 2
    assert message in result.err
    assert result.out == ""


# --- check -----------------------------------------------------------------------------------------

def test_check_warns_about_expired_withdrawn_and_pending(demo, cli):
    result = cli("--site", demo, "check", "--date", DATE)
    assert result.code == 0, result.err
    assert "4 stories checked: 0 errors" in result.out
    assert "warning: stories/st-expire/consent.yml: consent expired on 2027-01-01" in result.out
    assert "warning: stories/st-withdr/consent.yml: consent withdrawn (version 2)" in result.out
    assert "warning: stories/st-pendin/consent.yml: consent is pending" in result.out
    report = json.loads(cli("--site", demo, "check", "--json", "--date", DATE).out)
    assert report["ok"] is True and report["errors"] == [] and report["stories"] == 4
    codes = {(w["story"], w["code"]) for w in report["warnings"]}
    assert {("st-expire", "expired"), ("st-withdr", "withdrawn"),
            ("st-pendin", "consent_pending")} <= codes


def test_check_warns_when_a_slug_or_tag_names_someone_outputs_may_not(make_site, cli):
    root = make_site()
    write_story(root, "st-named01", story_front(
        slug="aisha-rahmans-nights", tags=["night staff", "Rahman family", "Carol"]),
        consent=[consent_version(identification="anonymous")])
    write_story(root, "st-fine001", story_front(slug="night-feeds"))
    report = json.loads(cli("--site", root, "check", "--json").out)
    found = {(w["story"], w["code"]): w["message"] for w in report["warnings"]}
    assert ("st-fine001", "slug_names_someone") not in found
    slug = found[("st-named01", "slug_names_someone")]
    assert "st-named01" in slug and "aisha" not in slug.lower()  # never repeats the name
    assert found[("st-named01", "tag_names_someone")].startswith("2 tags name someone")
    assert not [m for m in found.values() if "rahman" in m.lower() or "carol" in m.lower()]


def test_check_without_a_date_uses_today(make_site, cli):
    root = make_site()
    today = dt.date.today()
    write_story(root, "st-expire", consent=[consent_version(
        granted=today - dt.timedelta(days=400), expires=today - dt.timedelta(days=1))])
    result = cli("--site", root, "check")
    assert result.code == 0
    assert f"consent expired on {today - dt.timedelta(days=1)}" in result.out


def test_check_on_a_broken_copy_fails_naming_file_and_line(demo, tmp_path, cli):
    copy = tmp_path / "broken-copy"
    shutil.copytree(demo, copy)
    story = copy / "stories" / "st-good01" / "story.md"
    story.write_text(story.read_text().replace("status: published\n",
                                               "status: published\nstatus: draft\n"))
    consent = copy / "stories" / "st-expire" / "consent.yml"
    consent.write_text(consent.read_text().replace("  signoff_required: true",
                                                   "  signoff_required: yes\n  consent: yes"))
    uses = copy / "stories" / "st-pendin" / "consent.yml"
    uses.write_text(uses.read_text().replace("- board\n", "- billboards\n"))
    before = files_of(copy)

    def line_of(path: Path, text: str) -> int:
        return path.read_text().splitlines().index(text) + 1

    dup = line_of(story, "status: draft")
    bool_line, yes_line = line_of(consent, "  signoff_required: yes"), line_of(consent, "  consent: yes")
    use_line = line_of(uses, "  - billboards")
    result = cli("--site", copy, "check", "--date", DATE)
    assert result.code == 1
    assert f"error: stories/st-good01/story.md:{dup}: duplicate key 'status'" in result.err
    assert f"error: stories/st-expire/consent.yml:{bool_line}: versions[1].signoff_required " \
           "should be true or false, not 'yes'" in result.err
    assert f"error: stories/st-expire/consent.yml:{yes_line}: unknown field 'consent'" in result.err
    assert f"error: stories/st-pendin/consent.yml:{use_line}: versions[1].uses[1]: 'billboards' " \
           "is not a valid use" in result.err
    assert "4 stories checked: 4 errors" in result.out
    assert files_of(copy) == before  # check never changes a file
    report = json.loads(cli("--site", copy, "check", "--json", "--date", DATE).out)
    assert report["ok"] is False and len(report["errors"]) == 4
    assert {(e["file"], e["line"]) for e in report["errors"]} == {
        ("stories/st-good01/story.md", dup), ("stories/st-expire/consent.yml", bool_line),
        ("stories/st-expire/consent.yml", yes_line), ("stories/st-pendin/consent.yml", use_line)}
    assert files_of(copy) == before
    # the original is untouched and still fine
    assert cli("--site", demo, "check", "--date", DATE).code == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--date", "2027-02-30"], "Invalid value for '--date'"),
    (["--json", "--date"], "requires an argument"),
    (["--strict"], "No such option '--strict'"),
])
def test_check_with_wrong_arguments(demo, cli, args, message):
    result = cli("--site", demo, "check", *args)
    assert result.code == 2 and message in result.err


#: Dates a person might type that Python holds but cannot do sums with, or cannot hold at all
#: (issue 12, hardening item 4): each is refused as the option's value, never a crash.
OVERFLOWING = ["9999-12-31", "0001-01-01", "99999999999999999999-01-01", "1/1/99999999999999999999"]
DATED_COMMANDS = {
    "check": ["check"], "list": ["list"], "consent show": ["consent", "show", "st-good01"],
    "render": ["render", "st-good01", "--use", "board", "--format", "web", "--out", "packs"],
}


@pytest.mark.parametrize("value", OVERFLOWING)
@pytest.mark.parametrize("command", DATED_COMMANDS.values(), ids=DATED_COMMANDS.keys())
def test_every_date_option_refuses_dates_that_overflow(demo, cli, command, value):
    before = files_of(demo)
    result = cli("--site", demo, *command, "--date", value, cwd=demo)
    assert result.code == 2, result.out + result.err
    assert "Invalid value for '--date'" in result.err
    assert "between 1900 and 2999" in result.err or "year-month-day" in result.err
    assert files_of(demo) == before


def test_build_refuses_any_date_even_one_that_would_overflow(demo, cli):
    before = files_of(demo)
    for value in OVERFLOWING:
        result = cli("--site", demo, "build", "--date", value, cwd=demo)
        assert result.code == 2, result.out + result.err
        assert "always decides for today" in result.err
    assert files_of(demo) == before


def test_a_date_in_a_story_file_that_would_overflow_is_an_error_not_a_crash(demo, cli):
    consent = demo / "stories" / "st-good01" / "consent.yml"
    consent.write_text(consent.read_text().replace("expires: 2029-09-02", "expires: 9999-12-31")
                       .replace("recorded: 2026-09-02T14:10:00Z",
                                "recorded: 9999-12-31T23:00:00-05:00"))
    for args in (["check", "--date", DATE], ["list", "--date", DATE], ["build"]):
        result = cli("--site", demo, *args, cwd=demo)
        assert "stories/st-good01/consent.yml" in result.err, args
        assert "use a date between 1900 and 2999" in result.err, args
    assert cli("--site", demo, "check", "--date", DATE).code == 1


def test_a_story_too_complex_to_render_fails_alone_clearly_and_quickly(demo, cli):
    """A story file placed by hand with the heavy text of issue 12 (4,000 lines of 30 nested
    list markers): check names it and why, render refuses that story and makes the others,
    build stops at once naming it; none takes long (6.6 s per render before)."""
    import time

    from heavy_checks import ATTACK

    write_story(demo, "st-good02", story_front(slug="also-good", status="published"))
    write_story(demo, "st-good01", story_front(slug="all-good", status="published"),
                body=ATTACK)
    started = time.perf_counter()
    result = cli("--site", demo, "check", "--date", DATE)
    assert result.code == 1
    assert ("error: stories/st-good01/story.md: the story text cannot be shown: the text has "
            "4,000 paragraphs, headings and other parts; at most 2,000 are allowed, so split "
            "it into two stories") in result.err
    assert "st-good02" not in result.err
    result = cli("--site", demo, "render", "st-good01", "st-good02", "--use", "board",
                 "--format", "web", "--out", demo / "packs", "--date", DATE)
    assert result.code == 1
    assert "refused st-good01 for board: the story text cannot be shown: the text has 4,000 " \
           "paragraphs" in result.err
    assert "1 of 2 stories rendered as web for board" in result.out
    assert [p.name for p in (demo / "packs").iterdir()] == ["also-good.html"]
    result = cli("--site", demo, "build")
    assert result.code == 1 and "story st-good01: the text has 4,000 paragraphs" in result.err
    assert time.perf_counter() - started < 20


# --- consent show and withdraw -------------------------------------------------------------------

@pytest.mark.parametrize("ref", ["st-good01", "all-good", "ALL-GOOD", "ａｌｌ-good"])
def test_consent_show_by_id_or_slug(demo, cli, ref):
    result = cli("--site", demo, "consent", "show", ref, "--date", DATE)
    assert result.code == 0
    assert result.out.startswith("st-good01  all-good  [published]")
    assert "version 1: active, recorded 2026-09-02 14:10 UTC by jo.advocate" in result.out
    assert "identification:  pseudonym" in result.out
    assert "Aisha Rahman" not in result.out  # the storyteller's name stays private


def test_consent_show_says_contact_details_are_on_file_without_showing_them(make_site, cli):
    root = make_site()
    write_story(root, "st-contact", story_front(slug="with-contact"), consent=[consent_version(
        contact={"agrees_to_contact": True, "email": "sam.private@example.org",
                 "address": ["7 Hidden Way"], "preferred_format": "large_print"})])
    shown = cli("--site", root, "consent", "show", "with-contact", "--date", DATE)
    assert "contact:         postal address, email on file; letters in large print" in shown.out
    data = cli("--site", root, "consent", "show", "with-contact", "--json", "--date", DATE).out
    assert json.loads(data)["versions"][0]["contact"] == {
        "agrees_to_contact": True, "preferred_format": "large_print", "email_on_file": True,
        "address_on_file": True, "phone_on_file": False}
    for private in ("sam.private", "Hidden Way"):
        assert private not in shown.out + data


def test_consent_show_json(demo, cli):
    data = json.loads(cli("--site", demo, "consent", "show", "withdrawn-one", "--json",
                          "--date", DATE).out)
    assert [v["status"] for v in data["versions"]] == ["active", "withdrawn"]
    assert data["versions"][1]["withdrawal"]["requested"] == "2027-02-01"
    assert data["uses"]["board"]["allowed"] is False


@pytest.mark.parametrize(("args", "code", "message"), [
    (["no-such-story"], 1, "no story with id or slug 'no-such-story'"),
    (["st-nothere"], 1, "no story with id or slug 'st-nothere'"),
    (["../st-good01"], 1, "no story with id or slug"),
    ([], 2, "Missing argument 'STORY'"),
    (["all-good", "--date", "soon"], 2, "Invalid value for '--date'"),
])
def test_consent_show_with_wrong_arguments(demo, cli, args, code, message):
    result = cli("--site", demo, "consent", "show", *args)
    assert result.code == code and message in result.err


def test_consent_withdraw(demo, cli, database_env):
    consent = demo / "stories" / "st-good01" / "consent.yml"
    before = consent.read_bytes()
    result = cli("--site", demo, "consent", "withdraw", "all-good", "--scope", "stop_future_use",
                 "--reason", "I have changed my mind")
    assert result.code == 0, result.err
    assert "Consent withdrawn for st-good01 (stop_future_use); consent version 2 recorded." in result.out
    assert consent.read_bytes().startswith(before)
    rows = json.loads(cli("--site", demo, "list", "--use", "board", "--json").out)
    good = next(r for r in rows if r["id"] == "st-good01")
    assert good["allowed"] is False and good["status"] == "withdrawn"
    (entry,) = Site.open(demo).audit.query()
    assert (entry.action, entry.story_id, entry.detail) == (
        "consent.withdrawn", "st-good01", "version 2, scope stop_future_use")


@pytest.mark.parametrize(("args", "code", "message"), [
    (["all-good", "--scope", "stop_future_use"], 2, "Missing option '--reason'"),
    (["all-good", "--reason", "moved"], 2, "Missing option '--scope'"),
    (["all-good", "--scope", "everything", "--reason", "moved"], 2, "Invalid value for '--scope'"),
    (["all-good", "--scope", "stop_future_use", "--reason", ""], 1, "give a reason"),
    (["all-good", "--scope", "stop_future_use", "--reason", "   "], 1, "give a reason"),
    (["all-good", "--scope", "stop_future_use", "--reason", "x" * 2500], 1,
     "reason is longer than 2000 characters"),
    (["no-such-story", "--scope", "stop_future_use", "--reason", "moved"], 1,
     "no story with id or slug 'no-such-story'"),
    (["--scope", "stop_future_use", "--reason", "moved"], 2, "Missing argument 'STORY'"),
])
def test_consent_withdraw_with_wrong_arguments(demo, cli, args, code, message):
    before = files_of(demo)
    result = cli("--site", demo, "consent", "withdraw", *args)
    assert result.code == code
    assert message in result.err
    assert files_of(demo) == before


def test_consent_withdraw_on_a_full_disk_says_not_saved(demo, cli, monkeypatch):
    before = files_of(demo)
    real_write = os.write

    def write(fd, data):
        if fsio.TEMP_PREFIX in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(fsio.os, "write", write)
    result = cli("--site", demo, "consent", "withdraw", "all-good", "--scope",
                 "delete_everything", "--reason", "please delete")
    monkeypatch.undo()
    assert result.code == 1
    assert "not saved: the disk is full" in result.err
    assert files_of(demo) == before


def test_consent_without_a_subcommand_shows_help(demo, cli):
    result = cli("--site", demo, "consent")
    assert result.code in (0, 2)
    assert "show" in result.out + result.err and "withdraw" in result.out + result.err


def test_history(demo, cli):
    assert cli("--site", demo, "consent", "withdraw", "st-good01", "--scope", "stop_future_use",
               "--reason", "moved").code == 0
    result = cli("--site", demo, "history", "all-good")
    assert result.code == 0 and "revision 3" in result.out
    assert cli("--site", demo, "history", "nope").code == 1


def test_temp_files_left_by_a_dead_writer_are_swept_at_start_up(demo, cli):
    strays = [demo / "stories" / "st-good01" / ".tmp-dead01",
              demo / "instance" / "revisions" / "st-good01" / ".tmp-dead02"]
    strays[1].parent.mkdir(parents=True)
    for stray in strays:
        stray.write_text("half a story")
    assert cli("--site", demo, "list").code == 0
    assert not any(stray.exists() for stray in strays)


def test_unknown_command(demo, cli):
    result = cli("--site", demo, "publish-everything")
    assert result.code == 2 and "No such command 'publish-everything'" in result.err


def test_unexpected_failure_has_no_traceback(demo, cli, monkeypatch):
    import storykit.cli as cli_module

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli_module, "check_site", explode)
    result = cli("--site", demo, "check")
    assert result.code == 70
    assert "storykit stopped unexpectedly (RuntimeError)" in result.err
    assert "STORYKIT_DEBUG=1" in result.err


# --- the installed program -------------------------------------------------------------------

def test_installed_program_end_to_end(tmp_path, demo):
    site = tmp_path / "site2"
    assert run_process("init", site).code == 0
    result = run_process("new", "Waiting for the phone to ring", cwd=site)
    assert result.code == 0 and "Created story st-" in result.out
    result = run_process("list", "--use", "board", "--json", cwd=site)
    rows = json.loads(result.out)
    assert {"id", "slug", "status", "allowed", "reasons"} <= set(rows[0])
    assert run_process("--site", demo, "check", "--date", DATE).code == 0
    for args, code, message in [
        (["--site", demo, "list", "--use", "bogus"], 2, "unknown use 'bogus'"),
        (["--site", demo, "list", "--status", "bogus"], 2, "Invalid value for '--status'"),
        (["--site", demo, "consent", "show", "nope"], 1, "no story with id or slug 'nope'"),
        (["--site", demo, "consent", "withdraw", "all-good", "--scope", "stop_future_use"], 2,
         "Missing option '--reason'"),
        (["--site", demo, "consent", "withdraw", "all-good", "--scope", "all", "--reason", "x"], 2,
         "Invalid value for '--scope'"),
        (["--site", demo, "check", "--date", "31-12-2027"], 2, "Invalid value for '--date'"),
        (["--site", tmp_path, "check"], 1, "not found (is this a storykit site?)"),
    ]:
        result = run_process(*args)
        assert result.code == code, (args, result)
        assert message in result.err, (args, result.err)
        assert result.err.startswith(("Error:", "Usage:")), result.err
    broken = demo / "stories" / "st-good01" / "story.md"
    broken.write_text(broken.read_text().replace("slug: all-good", "slug: all-good\nslug: again"))
    before = broken.read_bytes()
    result = run_process("--site", demo, "check", "--date", DATE)
    assert result.code == 1 and "stories/st-good01/story.md:4: duplicate key 'slug'" in result.err
    assert broken.read_bytes() == before


def _python(code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered output
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60)


def test_the_program_leaves_quickly_but_runs_exit_handlers_and_flushes_output(demo):
    """``storykit`` skips the interpreter's slow teardown: exit handlers (a plugin's, say)
    must still run, and every byte of output must still arrive."""
    done = _python(
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stdout.write('exit handler ran'))\n"
        f"sys.argv = ['storykit', '--site', {str(demo)!r}, 'list', '--use', 'board', '--json']\n"
        "from storykit.cli import run\n"
        "run()\n")
    assert done.returncode == 0, done.stderr
    listing, _, rest = done.stdout.rpartition("]")
    assert len(json.loads(listing + "]")) >= 3 and rest.strip() == "exit handler ran"
    failed = _python("import sys\nsys.argv = ['storykit', '--site', '/nowhere', 'check']\n"
                     "from storykit.cli import run\nrun()\n")
    assert failed.returncode == 1 and failed.stderr.startswith("Error:")


def test_the_program_waits_for_threads_still_running():
    done = _python(
        "import sys, threading, time\n"
        "threading.Thread(target=lambda: (time.sleep(1.5), print('thread finished'))).start()\n"
        "sys.argv = ['storykit', '--version']\n"
        "from storykit.cli import run\n"
        "run()\n")
    assert done.returncode == 0 and done.stdout.strip().endswith("thread finished")
