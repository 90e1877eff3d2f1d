"""Blocking findings (issue 12): a story with an NHS number, a phone number, an email
address, a postcode, a date of birth and the storyteller's hidden name cannot be sent for
review, approved, published, rendered for any use in any format, or built into the website,
until a person deals with each finding; a reviewer's dismissal (with a reason, kept with the
story in review.yml, audited with the revision) lets that one alone through; an edit checks
again. The details themselves are never printed, logged or written to the audit log.

All details are fictional; the NHS number is from the 999 test range.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import json

import pytest
from app_support import act, make_world, post
from conftest import ON, consent_version, on_day, story_front, write_story

from storykit import findings
from storykit.checks import check_site
from storykit.model import DEFAULT_USES
from storykit.render import render
from storykit.reviewfile import REVIEW_FILE, read_review
from storykit.site import Site

pytestmark = pytest.mark.usefixtures("test_day")

NHS = "999 000 0018"
PHONE = "07700 900123"
EMAIL = "aisha.r@example.org"
POSTCODE = "LS1 4AP"
BORN = "12/03/1984"
#: One sentence per kind, so dismissing one leaves the others' sentences as they were.
BODY = (
    "On our second night the midwife sat with me while the baby fed.\n\n"
    f"My NHS number is {NHS}, in case the ward needs it.\n\n"
    f"You can ring me on {PHONE} any evening.\n\n"
    f"Or write to me at {EMAIL} about the group.\n\n"
    f"We live near {POSTCODE} now.\n\n"
    f"I was born on {BORN} in the old hospital.\n\n"
    "Aisha Rahman is my name, and I wanted the ward to know what helped.\n"
)
SECRETS = (NHS, "9990000018", PHONE, "07700", EMAIL, "aisha.r", POSTCODE, BORN, "Aisha",
           "Rahman")
KINDS = ("an NHS number", "a phone number", "an email address", "a postcode",
         "a date of birth", "the storyteller's name")
EVERY_USE = list(DEFAULT_USES)


def every_kind(front_status: str, story_id: str, root) -> None:
    write_story(root, story_id, story_front(
        title=f"Nights {story_id}", slug=story_id.removeprefix("st-"), status=front_status),
        body=BODY, consent=[consent_version(uses=EVERY_USE, expires=dt.date(2099, 12, 31))])


def no_secret_in(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} was shown"


def said_every_kind(text: str, kinds=KINDS) -> None:
    for kind in kinds:
        assert kind in text, f"{kind!r} not named in: {text}"



@pytest.fixture
def world(tmp_path):
    world = make_world(tmp_path / "site")
    for story_id, status in (("st-draft1", "draft"), ("st-review1", "in_review"),
                             ("st-approved1", "approved"), ("st-published1", "published")):
        every_kind(status, story_id, world.root)
    return world


@pytest.fixture
def cli(world, run_storykit):
    """``storykit ARGS`` on the world's site."""
    return lambda *args, **kw: run_storykit(world.root, *args, **kw)


def ref_of(world, story_id: str, what: str) -> str:
    """The code the first blocking finding of ``what`` has (as `storykit findings` shows)."""
    site = Site.open(world.root)  # a new process would load plugins added since
    story = site.store.get(story_id)
    return next(i.ref for i in findings.story_findings(site, story).blocking if i.what == what)


# --- every step refuses a story with each kind of blocking finding -----------------------------

def test_submit_approve_and_publish_refuse_it_in_the_app_and_on_the_command_line(world, cli):
    steps = (("submit", "st-draft1", "ann"), ("approve", "st-review1", "rita"),
             ("publish", "st-approved1", "pete"))
    for action, story_id, who in steps:
        before = (world.root / "stories" / story_id / "story.md").read_bytes()
        done = cli(action, story_id, "--as", who)
        assert done.code == 1
        said_every_kind(done.err)
        page = act(world.client(who), story_id, action)
        assert page.status_code == 422
        said_every_kind(html.unescape(page.get_data(as_text=True)))
        assert (world.root / "stories" / story_id / "story.md").read_bytes() == before
        no_secret_in(done.out, done.err)
    no_secret_in(json.dumps([(e.action, e.detail) for e in world.audit()]))


@pytest.mark.parametrize("fmt", ["web", "pdf", "booklet", "slides", "slides-pdf", "handout",
                                 "pptx", "card"])
def test_render_refuses_it_for_every_use_in_every_format(world, fmt, tmp_path):
    site = Site.open(world.root)
    story = site.store.get("st-approved1")
    made_for = site.formats()[fmt].uses  # quote cards are made only for social media
    uses = [use for use in EVERY_USE if not made_for or use in made_for]
    assert uses
    for use in uses:
        out = tmp_path / fmt / use
        result = render(site, [story], use, fmt, out, by="tester")
        assert not result.artefacts and not out.exists(), (fmt, use)
        [refusal] = result.refused
        assert refusal.codes == ["blocking_findings"]
        said_every_kind(refusal.messages[0])
        no_secret_in(refusal.messages[0])
    assert site.distributions.for_story("st-approved1") == []


def test_storykit_render_and_build_refuse_it_and_say_why(world, cli):
    out = world.root / "packs"
    done = cli("render", "st-approved1", "--use", "board", "--format", "pdf", "--out", str(out))
    assert done.code == 1 and "refused st-approved1 for board: it has 6 findings" in done.err
    said_every_kind(done.err)
    built = cli("build", "--out", str(world.root / "public"))
    assert "story st-published1 is not published: it has 6 findings" in built.err
    said_every_kind(built.err)
    assert not [p for p in (world.root / "public").rglob("*") if "published1" in p.name]
    no_secret_in(done.out, done.err, built.out, built.err)
    everything = "".join(p.read_text(errors="replace") for p in (world.root / "public").rglob("*")
                         if p.is_file())
    no_secret_in(everything)


def test_check_exits_1_listing_each_kind_without_the_details(world, cli):
    done = cli("check")
    assert done.code == 1
    blocking = [line for line in done.err.splitlines() if line.startswith("blocking:")]
    assert len(blocking) == 4 * 6  # six in each of the four stories
    said_every_kind(done.err)
    no_secret_in(done.out, done.err)


# --- a reviewer's dismissal ----------------------------------------------------------------------

def test_a_dismissal_lets_that_finding_alone_through_and_is_audited_with_the_revision(world,
                                                                                       cli):
    story = world.site.store.get("st-review1")
    ref = ref_of(world, "st-review1", "a phone number")
    listing = cli("findings", "st-review1")
    assert ref in listing.out and "a phone number (077** ******) in the story text" in listing.out
    no_secret_in(listing.out)
    done = cli("dismiss", "st-review1", ref, "--as", "rita", "--reason",
               "It is the ward's public number, printed on every leaflet.")
    assert done.code == 0, done.err
    today = f"{dt.date.today().day} {dt.date.today():%B %Y}"
    assert f"The finding was dismissed by rita on {today} (version 3 of the story)" in done.out
    # only the others still block
    refused = cli("approve", "st-review1", "--as", "rita")
    assert refused.code == 1 and "It has 5 findings" in refused.err
    said_every_kind(refused.err, [k for k in KINDS if k != "a phone number"])
    assert "a phone number" not in refused.err
    # kept with the story, strict, no detail in it
    record = read_review(story.folder)
    [dismissal] = record.dismissed
    assert (dismissal.by, dismissal.revision, dismissal.code, dismissal.field) == (
        "rita", 3, "privacy_phone", "body")
    assert dismissal.reason == "It is the ward's public number, printed on every leaflet."
    text = (story.folder / REVIEW_FILE).read_text(encoding="utf-8")
    no_secret_in(text)
    # audited: who, which revision, which kind; never the detail or the reason
    [entry] = world.audit(findings.DISMISSED)
    assert (entry.actor, entry.story_id, entry.etag, entry.ip) == (
        "rita", "st-review1", story.etag, "command line")
    assert entry.detail == "privacy_phone in the story text, revision 3"
    assert "leaflet" not in json.dumps([e.detail for e in world.audit()])


def test_the_review_page_dismisses_a_finding_and_shows_it_dismissed(world):
    rita = world.client("rita")
    page = rita.get("/review/st-review1").get_data(as_text=True)
    story = world.site.store.get("st-review1")
    ref = ref_of(world, "st-review1", "a postcode")
    assert page.count("Dismiss: it may stay") == 6
    missing = post(rita, "/review/st-review1/dismiss",
                   {"etag": story.etag, "finding": ref, f"reason-{ref}": "  "},
                   page="/review/st-review1")
    assert missing.status_code == 422
    assert "Say why this may stay" in missing.get_data(as_text=True)
    assert read_review(story.folder).dismissed == ()
    stale = post(rita, "/review/st-review1/dismiss",
                 {"etag": "0" * 20, "finding": ref, f"reason-{ref}": "The hospital's own."},
                 page="/review/st-review1")
    assert stale.status_code == 409 and read_review(story.folder).dismissed == ()
    done = post(rita, "/review/st-review1/dismiss",
                {"etag": story.etag, "finding": ref, f"reason-{ref}": "The hospital's own."},
                page="/review/st-review1")
    assert done.status_code == 303
    page = rita.get("/review/st-review1").get_data(as_text=True)
    assert page.count("Dismiss: it may stay") == 5
    assert "A reviewer let it stay:</strong> A postcode in the story text." in page
    assert "because: The hospital&#39;s own." in page


def test_only_a_reviewer_who_does_not_work_on_the_story_may_dismiss(world, cli):
    ref = ref_of(world, "st-review1", "a postcode")
    for who, words in (("ann", "is not a reviewer"), ("pete", "is not a reviewer")):
        done = cli("dismiss", "st-review1", ref, "--as", who, "--reason", "Fine.")
        assert done.code == 1 and words in done.err
    conn = world.app.extensions["storykit"].db()
    from storykit.web.access import grant

    grant(conn, "st-review1", world.users["val"], "shared", "ada")
    done = cli("dismiss", "st-review1", ref, "--as", "val", "--reason", "Fine.")
    assert done.code == 1 and "someone else must decide about its findings" in done.err
    done = cli("dismiss", "st-draft1", ref_of(world, "st-draft1", "a postcode"), "--as", "rita",
               "--reason", "Fine.")
    assert done.code == 1 and "its writer can still fix the findings themselves" in done.err
    done = cli("dismiss", "st-review1", "0123456789ab", "--as", "rita", "--reason", "Fine.")
    assert done.code == 1 and "no longer in the story" in done.err
    done = cli("dismiss", "st-review1", ref, "--as", "rita")
    assert done.code == 2 and "say why" in done.err
    assert read_review(world.site.store.get("st-review1").folder).dismissed == ()
    assert world.client("ann").post("/review/st-review1/dismiss").status_code in (400, 403)


def test_an_edit_checks_again(world, cli):
    """A dismissal holds while the sentence it is in stays as it was; the same detail
    written somewhere new, or its sentence rewritten, blocks again."""
    site = world.site
    ref = ref_of(world, "st-review1", "a phone number")
    assert cli("dismiss", "st-review1", ref, "--as", "rita", "--reason", "Public line.").code == 0

    def blocking_phones(body: str) -> int:
        story = site.store.get("st-review1")
        site.store.save(story.copy(body=body), by="ann")
        found = findings.story_findings(site, site.store.get("st-review1"))
        return sum(i.what == "a phone number" for i in found.blocking)

    assert blocking_phones(BODY.replace("the baby fed", "our baby fed")) == 0  # elsewhere
    assert blocking_phones(BODY.replace("the baby fed", f"I rang {PHONE}")) == 1  # new text
    assert blocking_phones(BODY.replace("any evening", "any morning")) == 1  # its sentence
    assert blocking_phones(BODY.replace(PHONE, "07700 900124")) == 1  # another number
    assert blocking_phones(BODY) == 0  # the text as it was when dismissed
    twice = BODY.replace("any evening", f"any evening, or {PHONE} at weekends")
    assert blocking_phones(twice) == 2  # its sentence changed: both are new
    # the same number twice in one sentence: two findings, dismissed one at a time
    assert cli("dismiss", "st-review1", ref_of(world, "st-review1", "a phone number"),
               "--as", "rita", "--reason", "Public line.").code == 0
    assert blocking_phones(twice) == 1


def test_dismissing_everything_lets_the_story_through(world, cli):
    story = world.site.store.get("st-review1")
    for issue in findings.story_findings(world.site, story).blocking:
        assert cli("dismiss", "st-review1", issue.ref, "--as", "rita", "--reason",
                   "Checked with the storyteller.").code == 0
    assert cli("approve", "st-review1", "--as", "rita").code == 0
    assert world.site.store.get("st-review1").status == "approved"


# --- review.yml: strict, private, and gone with the story -----------------------------------------

GOOD = """salt: 0123456789abcdef0123456789abcdef
dismissed:
  - finding: 0123456789abcdef01234567
    code: privacy_phone
    by: rita
    at: 2027-03-01T10:00:00Z
    revision: 3
    reason: The ward's public number.
"""


@pytest.mark.parametrize(("text", "words"), [
    (GOOD.replace("salt: 0123456789abcdef0123456789abcdef", "salt: short"),
     "salt must be 32 hexadecimal digits"),
    (GOOD.replace("finding: 0123456789abcdef01234567", "finding: 07700900123"),
     "finding must be 24 hexadecimal digits"),
    (GOOD.replace("    revision: 3\n", ""), "missing required field 'revision'"),
    (GOOD.replace("revision: 3", "revision: three"), "should be a whole number"),
    (GOOD.replace("reason: The ward's public number.", "reason: '  '"), "needs a reason"),
    (GOOD + "    colour: red\n", "unknown field 'colour'"),
    (GOOD.replace("code: privacy_phone", "code: privacy_phone\n    code: privacy_email"),
     "duplicate key 'code'"),
    (GOOD + GOOD.split("dismissed:\n")[1], "this finding is dismissed twice"),
    ("salt: [unclosed\n", "YAML syntax"),
    ("", "review.yml is empty"),
    (GOOD.replace("at: 2027-03-01T10:00:00Z", "at: yesterday"), "at:"),
])
def test_a_broken_review_file_is_an_error_and_counts_for_nothing(world, text, words):
    folder = world.root / "stories" / "st-review1"
    (folder / REVIEW_FILE).write_text(text, encoding="utf-8")
    report = check_site(Site.open(world.root), ON)
    errors = [f for f in report.errors if f.story == "st-review1"]
    assert errors and any(words in f.message for f in errors), [f.message for f in errors]
    assert all(f.file.endswith("st-review1/review.yml") for f in errors)
    assert len([f for f in report.blocking if f.story == "st-review1"]) == 6


def test_a_review_file_that_is_not_text_is_an_error(world):
    folder = world.root / "stories" / "st-review1"
    (folder / REVIEW_FILE).write_bytes(b"salt: \xff\xfe\n")
    report = check_site(Site.open(world.root), ON)
    assert any("not valid UTF-8" in f.message for f in report.errors)


def test_a_fingerprint_cannot_be_matched_without_the_sentence(world, cli):
    """What an attacker holding review.yml alone could try: every date of birth of a
    century against the fingerprint, with the sentence guessed wrong. Only the real
    sentence, which is the story's own text, matches."""
    ref = ref_of(world, "st-review1", "a date of birth")
    assert cli("dismiss", "st-review1", ref, "--as", "rita", "--reason", "Fine.").code == 0
    record = read_review(world.site.store.get("st-review1").folder)
    [d] = record.dismissed
    days = [dt.date(1920, 1, 1) + dt.timedelta(days=n) for n in range(0, 36500)]
    guesses = {f"{day.day:02d}/{day.month:02d}/{day.year}" for day in days}

    def matches(sentence: str) -> bool:
        return any(findings.fingerprint(record.salt, sentence, "privacy_date_of_birth", "body",
                                        g, 1) == d.finding for g in guesses)

    assert not matches("I was born in the old hospital")
    assert not any(hashlib.sha256(g.encode()).hexdigest()[:24] == d.finding for g in guesses)
    assert not any(hmac.new(record.salt.encode(), g.encode(), "sha256").hexdigest()[:24]
                   == d.finding for g in guesses)
    assert matches(f"I was born on {BORN} in the old hospital")


def test_erasing_everything_deletes_the_review_file_and_the_kept_findings(world, cli):
    from storykit.fsio import read_cache

    ref = ref_of(world, "st-review1", "a postcode")
    assert cli("dismiss", "st-review1", ref, "--as", "rita", "--reason", "Fine.").code == 0
    folder = world.root / "stories" / "st-review1"
    assert (folder / REVIEW_FILE).exists()
    assert cli("check").code == 1  # keeps each story's privacy findings
    kept = world.root / "instance" / "cache" / "privacy.pickle"
    assert "st-review1" in read_cache(kept)["stories"]
    world.site.withdraw("st-review1", "delete_everything", "Please delete it all", by="ada")
    assert not (folder / REVIEW_FILE).exists()
    assert "st-review1" not in read_cache(kept)["stories"]



# --- plugins may declare findings blocking -----------------------------------------------------------

def test_a_plugins_blocking_finding_stops_the_story_until_dismissed(world, cli):
    plugins = world.root / "plugins"
    plugins.mkdir()
    (plugins / "hospital_numbers.py").write_text(
        "import re\n"
        "from storykit import hookimpl\n"
        "from storykit.checks import BLOCKING, Finding\n"
        "@hookimpl\n"
        "def story_checks(story):\n"
        "    if re.search(r'RX[0-9]{7}', story.body):\n"
        "        return [Finding(BLOCKING, 'a hospital number', story=story.id,\n"
        "                        code='trust_hospital_number')]\n", encoding="utf-8")
    write_story(world.root, "st-review1", story_front(
        title="Review", slug="review1", status="in_review"),
        body="My hospital number is RX1234567.\n")
    done = cli("approve", "st-review1", "--as", "rita")
    assert done.code == 1 and "It has a finding that must be fixed" in done.err
    assert "a hospital number" in done.err and "RX1234567" not in done.err
    checked = cli("check")
    assert checked.code == 1 and "blocking: st-review1: a hospital number" in checked.err
    ref = ref_of(world, "st-review1", "a hospital number")
    assert cli("dismiss", "st-review1", ref, "--as", "rita", "--reason",
               "An old number, no longer used.").code == 0
    assert "a hospital number (dismissed by rita" in cli("check", "--all").out
    assert cli("approve", "st-review1", "--as", "rita").code == 0


def test_advisory_findings_never_block(world, cli):
    write_story(world.root, "st-review1", story_front(
        title="Review", slug="review1", status="in_review"),
        body="Midwife Carol Pegg rang at 12345678901 to check.\n")
    found = findings.story_findings(world.site, world.site.store.get("st-review1"))
    assert [i.what for i in found.advisory] == ["a name listed under people", "a long number"]
    assert found.blocking == [] and found.reason() is None
    assert cli("approve", "st-review1", "--as", "rita").code == 0


def test_the_built_in_checks_never_block_so_deciding_need_not_ask_them(world):
    """What blocks a story skips the built-in checks (findings.NEVER_BLOCKING): they give
    errors and warnings a person should see in `storykit check`, never a blocking finding.
    Each of their kinds is made here; none blocks, and deciding without them gives exactly
    what asking every plugin gives."""
    from storykit import default_checks
    from storykit.checks import BLOCKING

    assert (default_checks.__name__,) == findings.NEVER_BLOCKING
    root = world.root
    write_story(root, "st-complex", story_front(slug="complex", status="published"),
                body="> " * 40 + "deep\n", consent=[consent_version(expires=ON)])
    write_story(root, "st-picture", story_front(
        slug="aisha-rahman", status="published", tags=["Aisha Rahman"],
        images=[{"file": "media/gone.jpg", "alt": "A ward", "kind": "photo"}]),
        consent=[consent_version(status="pending", age_band="13_15", project_class="research",
                                 identification="anonymous", evidence="evidence/form.pdf",
                                 signed_off=None, signed_off_revision=None)])
    write_story(root, "st-gone", story_front(slug="gone", status="published"),
                consent=[consent_version(status="withdrawn", withdrawal={
                    "requested": ON, "scope": "stop_future_use", "reason": "changed my mind"})])
    write_story(root, "st-none", story_front(slug="none", status="published"), consent=None)
    site = Site.open(root)
    codes = set()
    loaded = site.store.load_all()
    assert loaded.problems == []
    for story in loaded.stories:
        theirs = default_checks.story_checks(site, story, ON)
        codes |= {f.code for f in theirs}
        assert [f for f in theirs if f.severity == BLOCKING] == []
        every_plugin = findings.plugin_findings_of(site, story, ON)
        assert findings.story_findings(site, story, ON) == findings.story_findings(
            site, story, ON, plugin_findings=every_plugin)
    assert {"text_too_complex", "missing_image", "consent_pending", "no_reconsent_date",
            "no_ethics_ref", "missing_evidence", "slug_names_someone", "tag_names_someone",
            "withdrawn", "withdrawn_not_applied", "no_consent", "expiring"} <= codes, codes


def test_a_recorded_render_is_refused_but_a_marked_draft_preview_is_not(world, tmp_path):
    """A preview of a draft is marked on every page and never recorded: its writer may see
    it with the findings still in (the app's editor preview too)."""
    site = Site.open(world.root)
    story = site.store.get("st-draft1")
    with on_day(ON):
        draft = render(site, [story], "board", "web", tmp_path / "draft", preview=True)
    assert draft.artefacts and site.distributions.for_story("st-draft1") == []
    page = next(a.path for a in draft.artefacts if a.story_ids).read_text(encoding="utf-8")
    assert "DRAFT - not for distribution" in page


# --- storykit check on a big site: every core, and what it keeps between runs -----------------

def _report(root) -> list[tuple]:
    report = check_site(Site.open(root), ON)
    return [(f.severity, f.message, f.file, f.line, f.story, f.code) for f in report.findings]


def test_check_on_every_core_reports_what_one_process_does(world, monkeypatch):
    from storykit import checks

    monkeypatch.setattr(checks, "PARALLEL_MIN", 10**6)
    alone = _report(world.root)
    monkeypatch.setattr(checks, "PARALLEL_MIN", 2)
    monkeypatch.setattr(checks, "CHUNK", 2)
    cache = world.root / "instance" / "cache" / "privacy.pickle"
    cache.unlink()  # the workers make every entry this time
    assert _report(world.root) == alone
    assert len([f for f in alone if f[0] == "blocking"]) == 4 * 6


def test_check_keeps_privacy_findings_only_while_the_story_is_unchanged(world, cli):
    cache = world.root / "instance" / "cache" / "privacy.pickle"
    first = _report(world.root)
    assert cache.exists()
    assert _report(world.root) == first  # from the cache: the same
    # an edit, a dismissal and a consent change are each seen at once
    story = world.site.store.get("st-review1")
    world.site.store.save(story.copy(body=BODY.replace(PHONE, "[phone number removed]")),
                          by="ann")
    after_edit = _report(world.root)
    assert sum(f[4] == "st-review1" and f[0] == "blocking" for f in after_edit) == 5
    assert cli("dismiss", "st-review1", ref_of(world, "st-review1", "a postcode"), "--as",
               "rita", "--reason", "Fine.").code == 0
    after_dismissal = _report(world.root)
    assert sum(f[4] == "st-review1" and f[0] == "blocking" for f in after_dismissal) == 4
    assert cli("consent", "change", "st-review1", "--identification", "full_name").code == 0
    named = _report(world.root)
    assert sum(f[4] == "st-review1" and f[0] == "blocking" for f in named) == 3
    # a cache from other code or another day counts for nothing
    from storykit.fsio import read_cache, write_cache

    kept = read_cache(cache)
    kept["stories"] = {k: (v[0], []) for k, v in kept["stories"].items()}  # nothing found
    kept["version"] = ("other code",) + tuple(kept["version"][1:])
    write_cache(cache, kept)
    assert _report(world.root) == named


def test_the_findings_command_lists_codes_kinds_and_places_never_details(world, cli):
    done = cli("findings", "st-review1", "--json")
    listed = json.loads(done.out)
    assert done.code == 0 and listed["id"] == "st-review1"
    assert [i["what"] for i in listed["blocking"]] == list(KINDS)
    assert all(len(i["code"]) == 12 and i["where"] == "the story text"
               for i in listed["blocking"])
    assert listed["dismissed"] == [] and listed["advisory"] == []
    no_secret_in(done.out)
    clean = cli("findings", "st-nothere")
    assert clean.code == 1 and "st-nothere" in clean.err
