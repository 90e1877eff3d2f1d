"""The role x route matrix: every route of the app, for every kind of visitor, allowed or not.

Routes are read from ``app.url_map``: a new route without a row here makes
``test_every_route_has_a_row`` fail, so nobody adds a page without deciding who may use it.
Visitors: anonymous, the story's owner (Ann, an advocate), another advocate (Bob), a reviewer,
a publisher and an admin. Expected: ``ok`` (allowed: a page, a redirect onwards, or a form
error), ``login`` (sent to sign in), 403 or 404. Denials must change nothing and be audited.
"""

from __future__ import annotations

import pytest
from app_support import STORIES, csrf_token, make_world, sign_in

from storykit import audit
from storykit.web import accounts

VISITORS = ("anon", "ann", "bob", "rita", "pete", "ada")
OK, LOGIN = "ok", "login"


def row(anon=LOGIN, ann=OK, bob=OK, rita=OK, pete=OK, ada=OK):
    return {"anon": anon, "ann": ann, "bob": bob, "rita": rita, "pete": pete, "ada": ada}


ADMIN_ONLY = row(ann=403, bob=403, rita=403, pete=403)
EVERYONE_SIGNED_IN = row()
NOBODY = row(anon=404, ann=404, bob=404, rita=404, pete=404, ada=404)
ZED_PASSWORD = "sturdy meadow kettle"
#: Ann's draft: she edits it; admins see it but change it only through other roles.
OWNER_EDITS = row(bob=404, rita=404, pete=404, ada=403)
OWNER_AND_ADMIN = row(bob=404, rita=404, pete=404)
ADVOCATES_ONLY = row(rita=403, pete=403, ada=403)
#: Publishers and admins: the jobs page and the website's state.
STAFF = row(ann=403, bob=403, rita=403)
#: Staff only, asking for something that is not there.
STAFF_NONE = row(ann=403, bob=403, rita=403, pete=404, ada=404)
EDIT_FORM = {"base_etag": "{etag}", "title": "Matrix title", "teller_name": "Aisha Rahman",
             "teller_role": "patient", "body": "Matrix text."}

#: (endpoint, method) -> (url, form data, expected per visitor, story the request may change)
MATRIX: dict[tuple[str, str], tuple[str, dict, dict, str | None]] = {
    ("auth.sign_in", "GET"): ("/sign-in", {}, row(anon=OK), None),
    ("auth.sign_in", "POST"): ("/sign-in", {"name": "{me}", "password": "{password}"},
                               row(anon=OK), None),
    ("auth.sign_out", "POST"): ("/sign-out", {}, EVERYONE_SIGNED_IN, None),
    ("auth.setup", "GET"): ("/setup", {}, NOBODY, None),
    ("auth.setup", "POST"): ("/setup", {"code": "x"}, NOBODY, None),
    ("auth.change_password", "GET"): ("/account/password", {}, EVERYONE_SIGNED_IN, None),
    ("auth.change_password", "POST"): ("/account/password", {"current_password": "wrong"},
                                       EVERYONE_SIGNED_IN, None),
    ("home.dashboard", "GET"): ("/", {}, EVERYONE_SIGNED_IN, None),
    ("stories.index", "GET"): ("/stories", {}, EVERYONE_SIGNED_IN, None),
    ("stories.show", "GET"): ("/stories/st-draft1", {},
                              row(bob=404, rita=404, pete=404), None),
    ("stories.submit", "POST"): ("/stories/st-draft1/submit", {"etag": "{etag}"},
                                 row(bob=404, rita=404, pete=404, ada=403), "st-draft1"),
    ("stories.request_changes", "POST"): (
        "/stories/st-review1/request-changes", {"etag": "{etag}", "reason": "Shorter."},
        row(ann=403, bob=404, pete=404, ada=403), "st-review1"),
    ("stories.approve", "POST"): ("/stories/st-review1/approve", {"etag": "{etag}"},
                                  row(ann=403, bob=404, pete=404, ada=403), "st-review1"),
    ("stories.publish", "POST"): ("/stories/st-approved1/publish", {"etag": "{etag}"},
                                  row(ann=403, bob=404, rita=403, ada=403), "st-approved1"),
    ("stories.unpublish", "POST"): ("/stories/st-published1/unpublish", {"etag": "{etag}"},
                                    row(ann=403, bob=404, rita=403, ada=403), "st-published1"),
    ("review.queue", "GET"): ("/review", {}, row(ann=403, bob=403, pete=403, ada=403), None),
    ("review.story", "GET"): ("/review/st-review1", {}, row(bob=404, pete=404), None),
    ("review.dismiss", "POST"): ("/review/st-review1/dismiss",
                                 {"etag": "{etag}", "finding": "x", "reason-x": ""},
                                 row(ann=403, bob=404, pete=404, ada=403), "st-review1"),
    ("publishing.queue", "GET"): ("/publishing", {},
                                  row(ann=403, bob=403, rita=403, ada=403), None),
    ("admin.users", "GET"): ("/admin/users", {}, ADMIN_ONLY, None),
    ("admin.users", "POST"): ("/admin/users", {"name": "yan", "display_name": "Yan Example",
                                               "roles": "advocate", "password": ZED_PASSWORD,
                                               "confirm": ZED_PASSWORD}, ADMIN_ONLY, None),
    ("admin.user", "GET"): ("/admin/users/zed", {}, ADMIN_ONLY, None),
    ("admin.roles", "POST"): ("/admin/users/zed/roles", {"roles": "advocate"}, ADMIN_ONLY, None),
    ("admin.active", "POST"): ("/admin/users/zed/active", {"active": "1"}, ADMIN_ONLY, None),
    ("admin.email", "POST"): ("/admin/users/bob/email", {"email": "bob@example.org"},
                              ADMIN_ONLY, None),
    ("admin.password", "POST"): ("/admin/users/zed/password",
                                 {"new_password": ZED_PASSWORD, "confirm": ZED_PASSWORD},
                                 ADMIN_ONLY, None),
    ("admin.grant_access", "POST"): ("/admin/stories/st-noowner/access",
                                     {"user": "zed", "access": "shared"}, ADMIN_ONLY, None),
    ("admin.remove_access", "POST"): ("/admin/stories/st-noowner/access/remove",
                                      {"user": "zed"}, ADMIN_ONLY, None),
    ("admin.audit", "GET"): ("/admin/audit", {}, ADMIN_ONLY, None),
    # the editor, pictures, consent and history (tests/test_app_editor.py and friends)
    ("editor.new", "GET"): ("/stories/new", {}, ADVOCATES_ONLY, None),
    ("editor.new", "POST"): ("/stories/new", {"title": "Matrix story", "teller_name": "Sam",
                                              "teller_role": "patient"}, ADVOCATES_ONLY, None),
    ("editor.edit", "GET"): ("/stories/st-draft1/edit", {}, OWNER_EDITS, None),
    ("editor.edit", "POST"): ("/stories/st-draft1/edit", EDIT_FORM, OWNER_EDITS, "st-draft1"),
    ("editor.check", "POST"): ("/stories/st-draft1/check", EDIT_FORM, OWNER_EDITS, "st-draft1"),
    ("editor.autosave", "POST"): ("/stories/st-draft1/autosave", EDIT_FORM, OWNER_EDITS,
                                  "st-draft1"),
    ("editor.fix", "POST"): ("/stories/st-draft1/fix", {
        "base_etag": "{etag}", "field": "body", "start": "21", "end": "39", "kind": "name"},
        OWNER_EDITS, "st-draft1"),
    ("editor.preview_page", "GET"): ("/stories/st-draft1/preview", {}, OWNER_AND_ADMIN, None),
    ("editor.theme_css", "GET"): ("/stories/themes/nhs/preview.css", {}, EVERYONE_SIGNED_IN,
                                  None),
    ("media.images", "GET"): ("/stories/st-draft1/images", {}, OWNER_EDITS, None),
    ("media.images", "POST"): ("/stories/st-draft1/images", {
        "base_etag": "{etag}", "alt": "A ward", "kind": "photo"}, OWNER_EDITS, "st-draft1"),
    ("media.change", "POST"): ("/stories/st-draft1/images/change", {
        "base_etag": "{etag}", "file": "media/img-none.jpg", "action": "remove"},
        OWNER_EDITS, "st-draft1"),
    ("media.file", "GET"): ("/stories/st-draft1/media/img-none.jpg", {},
                            row(ann=404, bob=404, rita=404, pete=404, ada=404), None),
    ("consent.form", "GET"): ("/stories/st-draft1/consent", {}, OWNER_AND_ADMIN, None),
    ("consent.form", "POST"): ("/stories/st-draft1/consent", {"consent_etag": "x"},
                               OWNER_EDITS, "st-draft1"),
    ("consent.sign_off", "POST"): ("/stories/st-draft1/consent/sign-off", {}, OWNER_EDITS,
                                   "st-draft1"),
    ("consent.withdraw", "GET"): ("/stories/st-draft1/consent/withdraw", {}, OWNER_AND_ADMIN,
                                  None),
    ("consent.withdraw", "POST"): ("/stories/st-draft1/consent/withdraw",
                                   {"scope": "stop_future_use"}, OWNER_AND_ADMIN, "st-draft1"),
    ("consent.confirm_withdrawal", "POST"): ("/stories/st-draft1/consent/confirm-withdrawal",
                                             {"confirmed": "2026-10-01"},
                                             row(ann=403, bob=404, rita=404, pete=404, ada=403),
                                             "st-draft1"),
    ("consent.evidence", "GET"): ("/stories/st-draft1/evidence/consent-none.pdf", {},
                                  row(ann=404, bob=404, rita=404, pete=404, ada=404), None),
    ("history.index", "GET"): ("/stories/st-draft1/history", {}, OWNER_AND_ADMIN, None),
    ("history.diff", "GET"): ("/stories/st-draft1/diff", {}, OWNER_AND_ADMIN, None),
    # background jobs and the public website (tests/test_publishing_app.py)
    ("signoff.page", "GET"): ("/stories/st-draft1/sign-off", {}, OWNER_EDITS, None),
    ("signoff.send", "POST"): ("/stories/st-draft1/sign-off/send", {"etag": "{etag}"},
                               OWNER_EDITS, "st-draft1"),
    ("signoff.letter", "POST"): ("/stories/st-draft1/sign-off/letter", {
        "etag": "{etag}", "style": "standard"}, OWNER_EDITS, "st-draft1"),
    ("signoff.revoke", "POST"): ("/stories/st-draft1/sign-off/1/revoke", {}, OWNER_EDITS,
                                 "st-draft1"),
    ("signoff.answer", "POST"): ("/stories/st-draft1/sign-off/answer", {
        "answer": "agreed", "via": "paper", "taken_by": "Jo", "revision": "3"}, OWNER_EDITS,
        "st-draft1"),
    ("consent_link.page", "GET"): ("/stories/st-draft1/consent/link", {}, OWNER_EDITS, None),
    ("consent_link.send", "POST"): ("/stories/st-draft1/consent/link/send", {}, OWNER_EDITS,
                                    "st-draft1"),
    ("consent_link.letter", "POST"): ("/stories/st-draft1/consent/link/letter",
                                      {"style": "standard"}, OWNER_EDITS, "st-draft1"),
    ("consent_link.revoke", "POST"): ("/stories/st-draft1/consent/link/1/revoke", {},
                                      OWNER_EDITS, "st-draft1"),
    ("consent_link.confirm", "POST"): ("/stories/st-draft1/consent/link/1/confirm", {},
                                       OWNER_EDITS, "st-draft1"),
    # the storyteller's pages: no account; a link that does not work is 404 for everyone
    ("teller.open_link", "GET"): ("/s/" + "Q" * 43, {}, NOBODY, None),
    ("teller.open_link", "POST"): ("/s/" + "Q" * 43, {}, NOBODY, None),
    ("teller.code", "GET"): ("/s/code", {}, row(anon=OK), None),
    ("teller.code", "POST"): ("/s/code", {"code": ""}, row(anon=OK), None),
    ("teller.answer", "GET"): ("/s/answer", {}, NOBODY, None),
    ("teller.answer", "POST"): ("/s/answer", {"answer": "agreed"}, NOBODY, None),
    ("teller.thanks", "GET"): ("/s/thanks", {}, row(anon=OK), None),
    ("jobs.index", "GET"): ("/jobs", {}, STAFF, None),
    ("jobs.show", "GET"): ("/jobs/1", {}, STAFF, None),
    ("jobs.status", "GET"): ("/jobs/1/status", {}, STAFF, None),
    ("jobs.retry", "POST"): ("/jobs/1/retry", {}, STAFF, None),
    ("publishing.website", "GET"): ("/publishing/website", {}, STAFF, None),
    ("stories.website", "GET"): ("/stories/st-draft1/website", {},
                                 row(bob=404, rita=404, pete=404), None),
    # for a load balancer: anyone, signed in or not (tests/test_backup.py)
    ("health.health", "GET"): ("/health", {}, row(anon=OK), None),
    # packs, where a story has gone, the takedown checklist (tests/test_app_packs.py)
    ("packs.index", "GET"): ("/packs", {}, STAFF, None),
    ("packs.new", "GET"): ("/packs/new", {}, STAFF, None),
    ("packs.check", "POST"): ("/packs/check", {}, STAFF, None),
    ("packs.change", "POST"): ("/packs/change", {}, STAFF, None),
    ("packs.build", "POST"): ("/packs/build", {}, STAFF, None),
    ("packs.making", "GET"): ("/packs/making/po-none", {}, STAFF_NONE, None),
    ("packs.show", "GET"): ("/packs/pk-none", {}, STAFF_NONE, None),
    ("packs.download", "GET"): ("/packs/pk-none/download", {}, STAFF_NONE, None),
    ("packs.rebuild", "POST"): ("/packs/saved/pd-none/build", {}, STAFF_NONE, None),
    ("copies.where", "GET"): ("/stories/st-published1/copies", {}, row(bob=404), None),
    ("copies.takedown", "GET"): ("/stories/st-published1/takedown", {}, row(bob=404), None),
    ("copies.takedown", "POST"): ("/stories/st-published1/takedown", {"item": "pack:1"},
                                  row(bob=404, rita=403), None),
    ("copies.letter", "GET"): ("/stories/st-published1/takedown/letter", {},
                               row(ann=404, bob=404, rita=404, pete=404, ada=404), None),
    # consent still in force: there is no text to read for a takedown
    ("copies.text", "GET"): ("/stories/st-published1/takedown/text", {},
                             row(ann=404, bob=404, rita=404, pete=404, ada=404), None),
    # outcomes (tests/test_app_outcomes.py): oc-matrix01 is about Ann's draft
    ("outcomes.index", "GET"): ("/outcomes", {}, EVERYONE_SIGNED_IN, None),
    ("outcomes.measures_page", "GET"): ("/outcomes/measures", {}, EVERYONE_SIGNED_IN, None),
    ("outcomes.measures_csv", "GET"): ("/outcomes/measures.csv", {}, EVERYONE_SIGNED_IN, None),
    ("outcomes.new", "GET"): ("/outcomes/new", {}, EVERYONE_SIGNED_IN, None),
    ("outcomes.new", "POST"): ("/outcomes/new", {"title": ""}, EVERYONE_SIGNED_IN, None),
    ("outcomes.show", "GET"): ("/outcomes/oc-matrix01", {}, OWNER_AND_ADMIN, None),
    ("outcomes.edit", "GET"): ("/outcomes/oc-matrix01/edit", {}, OWNER_AND_ADMIN, None),
    ("outcomes.edit", "POST"): ("/outcomes/oc-matrix01/edit", {"title": ""}, OWNER_AND_ADMIN,
                                None),
    ("outcomes.respond", "POST"): ("/outcomes/oc-matrix01/responses", {"text": ""},
                                   OWNER_AND_ADMIN, None),
    ("outcomes.letters", "POST"): ("/outcomes/oc-matrix01/letters", {}, OWNER_AND_ADMIN, None),
    ("outcomes.letter", "GET"): ("/outcomes/oc-matrix01/letters/st-draft1.pdf", {},
                                 row(ann=404, bob=404, rita=404, pete=404, ada=404), None),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory, engine):
    world = make_world(tmp_path_factory.mktemp("matrix") / "site", engine=engine)
    conn = world.app.extensions["storykit"].db()
    accounts.add_user(conn, world.app.extensions["storykit"].hasher, "zed", ZED_PASSWORD,
                      ["advocate"], "Zed Example")
    failed_job(world.site)  # job 1, for the jobs rows
    from storykit.outcomes import Outcome, OutcomeLog

    OutcomeLog(world.site.database).add(Outcome(id="oc-matrix01", title="Matrix outcome",
                                                status="agreed", story_ids=("st-draft1",),
                                                created_by="ada"))
    return world


def failed_job(site):
    """A site build that failed (as a worker would leave it)."""
    from storykit.jobs import FAILED, Jobs

    jobs = Jobs(site)
    job, _ = jobs.add("site-build", {"stories": ["st-published1"]}, by="pete")
    jobs.claim(job.id, "test-worker")
    jobs.finish(job.id, "test-worker", state=FAILED, message="It failed.",
                error="The website could not be written: the disk is full.")
    return jobs.get(job.id)


def routes(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((rule.endpoint, method))
    return found


def test_every_route_has_a_row(world):
    missing = routes(world.app) - set(MATRIX)
    assert not missing, f"routes with no row in the role x route matrix: {sorted(missing)}"
    stale = set(MATRIX) - routes(world.app)
    assert not stale, f"rows for routes that no longer exist: {sorted(stale)}"


def outcome(response, signed_out: bool = False) -> str | int:
    """What happened; ``signed_out`` says a sign-out was recorded (its redirect to the
    sign-in page is then the expected answer, not a demand to sign in)."""
    if response.status_code in (403, 404):
        return response.status_code
    location = response.headers.get("Location", "")
    if response.status_code in (302, 303) and location.startswith("/sign-in") and not signed_out:
        return LOGIN
    if response.status_code < 400 or response.status_code == 422:
        return OK
    return response.status_code


def _fill(data: dict, who: str, story_id: str | None, world) -> dict:
    values = {"me": who if who != "anon" else "ann", "password": "harbour lantern pebble",
              "etag": world.site.store.get(story_id).etag if story_id else ""}
    return {k: v.format(**values) if isinstance(v, str) else v for k, v in data.items()}


@pytest.mark.parametrize("who", VISITORS)
@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[1]} {r[0]}")
def test_matrix(world, route, who):
    url, data, expected, story_id = MATRIX[route]
    client = world.app.test_client()
    if who != "anon":
        sign_in(client, who)
    before = (world.root / "stories" / story_id / "story.md").read_bytes() if story_id else None
    denials = len(world.audit(audit.DENIED))
    logouts = len(world.audit(audit.LOGOUT))
    if route[1] == "GET":
        response = client.get(url)
    else:
        token = csrf_token(client, "/" if who != "anon" else "/sign-in")
        response = client.post(url, data={"csrf_token": token, **_fill(data, who, story_id, world)})
    got = outcome(response, signed_out=len(world.audit(audit.LOGOUT)) > logouts)
    try:
        assert got == expected[who], f"{who} {route}: expected {expected[who]}, got " \
                                     f"{response.status_code} {response.headers.get('Location')}"
        if got in (403, 404) and route[0] != "auth.setup":
            assert len(world.audit(audit.DENIED)) == denials + 1, "denial not audited"
        if got != OK and story_id:
            after = (world.root / "stories" / story_id / "story.md").read_bytes()
            assert after == before, "a refused request changed the story"
    finally:
        if story_id:
            world.reset_story(story_id)


def test_matrix_stories_are_the_ones_in_the_world():
    for _url, _data, _expected, story_id in MATRIX.values():
        assert story_id is None or story_id in STORIES
