"""Admin pages (users, roles, deactivation, story access, the audit log), the audit log itself
(append-only, hash-chained, encoded), and the command line: ``storykit user`` and
``storykit serve``, and ``flask --app storykit.web run``."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from app_support import PASSWORD, TITLES, make_world, post, sign_in
from click.testing import CliRunner

from storykit import audit
from storykit.audit import AuditFilter, AuditLog, encode
from storykit.cli import cli
from storykit.db import IntegrityError
from storykit.site import Site
from storykit.web import accounts

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def world(tmp_path, engine):
    return make_world(tmp_path / "site", engine=engine)


def text(response) -> str:
    return response.get_data(as_text=True)


def add_user_form(**over):
    form = {"name": "cara", "display_name": "Cara Example", "roles": ["advocate"],
            "password": "plum orchard window", "confirm": "plum orchard window"}
    form.update(over)
    return form


# --- users ---------------------------------------------------------------------------------

def test_admin_adds_a_user_who_can_then_sign_in(world):
    admin = world.client("ada")
    response = post(admin, "/admin/users", add_user_form(roles=["advocate", "reviewer"]),
                    page="/admin/users")
    assert response.status_code == 303
    assert "Cara Example" in text(admin.get("/admin/users"))
    client = world.app.test_client()
    sign_in(client, "cara", "plum orchard window")
    assert client.get("/review").status_code == 200
    entry = world.audit(audit.USER_ADDED)[0]
    assert (entry.actor, entry.detail) == ("ada", "user cara roles advocate,reviewer")
    assert "plum" not in entry.detail


def test_adding_a_user_checks_every_field_and_escapes_what_was_typed(world):
    admin = world.client("ada")
    response = post(admin, "/admin/users",
                    add_user_form(name=XSS, display_name="", roles=["wizard"], password="x",
                                  confirm="y"), page="/admin/users")
    page = text(response)
    assert response.status_code == 422
    for field in ("name", "display_name", "roles", "password"):
        assert f'<a href="#{field}">' in page, field
    assert "<script>" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;" in page
    assert accounts.by_name(world.app.extensions["storykit"].db(), XSS) is None


def test_a_display_name_with_markup_is_shown_as_text_everywhere(world):
    admin = world.client("ada")
    assert post(admin, "/admin/users", add_user_form(display_name=XSS),
                page="/admin/users").status_code == 303
    client = world.app.test_client()
    sign_in(client, "cara", "plum orchard window")
    for page in (text(admin.get("/admin/users")), text(admin.get("/admin/users/cara")),
                 text(client.get("/"))):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_display_names_refuse_control_characters(world):
    admin = world.client("ada")
    response = post(admin, "/admin/users", add_user_form(display_name="Cara\x1b[31m Red"),
                    page="/admin/users")
    assert response.status_code == 422 and "control characters" in text(response)


def test_a_user_name_cannot_be_taken_twice(world):
    admin = world.client("ada")
    response = post(admin, "/admin/users", add_user_form(name="ann"), page="/admin/users")
    assert response.status_code == 422 and "already a user called ann" in text(response)


def test_roles_change_and_the_last_admin_keeps_admin(world):
    admin = world.client("ada")
    assert post(admin, "/admin/users/bob/roles", {"roles": ["advocate", "publisher"]},
                page="/admin/users/bob").status_code == 303
    assert world.client("bob").get("/publishing").status_code == 200
    refused = post(admin, "/admin/users/ada/roles", {"roles": ["advocate"]},
                   page="/admin/users/ada")
    assert refused.status_code == 422 and "last active admin" in text(refused)
    none = post(admin, "/admin/users/bob/roles", {}, page="/admin/users/bob")
    assert none.status_code == 422 and "Choose at least one role" in text(none)
    bad = post(admin, "/admin/users/bob/roles", {"roles": ["root"]}, page="/admin/users/bob")
    assert bad.status_code == 422 and "Unknown role" in text(bad)
    detail = [e.detail for e in world.audit(audit.USER_ROLES)]
    assert detail == ["user bob: advocate -> advocate,publisher"]


def test_an_admin_changing_their_own_roles_stays_signed_in(world):
    admin = world.client("ada")
    assert post(admin, "/admin/users/ada/roles", {"roles": ["admin", "reviewer"]},
                page="/admin/users/ada").status_code == 303
    assert admin.get("/review").status_code == 200


def test_deactivating_ends_sessions_and_the_last_admin_stays(world):
    bob = world.client("bob")
    admin = world.client("ada")
    assert post(admin, "/admin/users/bob/active", {"active": "0"},
                page="/admin/users/bob").status_code == 303
    assert bob.get("/").status_code == 303
    assert post(world.app.test_client(), "/sign-in",
                {"name": "bob", "password": PASSWORD}).status_code == 401
    assert "Deactivated" in text(admin.get("/admin/users"))
    assert post(admin, "/admin/users/bob/active", {"active": "1"},
                page="/admin/users/bob").status_code == 303
    sign_in(world.app.test_client(), "bob")
    last = post(admin, "/admin/users/ada/active", {"active": "0"}, page="/admin/users/ada")
    assert last.status_code == 422 and "last active admin" in text(last)


def test_admin_sets_a_new_password_for_someone(world):
    admin = world.client("ada")
    bob = world.client("bob")
    weak = post(admin, "/admin/users/bob/password", {"new_password": "bob12345", "confirm": "x"},
                page="/admin/users/bob")
    assert weak.status_code == 422
    ok = post(admin, "/admin/users/bob/password",
              {"new_password": "quiet river stones", "confirm": "quiet river stones"},
              page="/admin/users/bob")
    assert ok.status_code == 303
    assert bob.get("/").status_code == 303
    sign_in(world.app.test_client(), "bob", "quiet river stones")


def test_unknown_users_are_404(world):
    admin = world.client("ada")
    assert admin.get("/admin/users/nobody").status_code == 404
    assert post(admin, "/admin/users/nobody/roles", {"roles": ["advocate"]},
                page="/admin/users").status_code == 404


# --- sharing stories -----------------------------------------------------------------------

def test_sharing_a_story_lets_someone_see_it_and_removing_takes_it_away(world):
    admin, bob = world.client("ada"), world.client("bob")
    assert bob.get("/stories/st-draft1").status_code == 404
    assert post(admin, "/admin/stories/st-draft1/access", {"user": "bob", "access": "shared"},
                page="/stories/st-draft1").status_code == 303
    assert bob.get("/stories/st-draft1").status_code == 200
    assert TITLES["st-draft1"] in text(bob.get("/"))
    page = text(admin.get("/stories/st-draft1"))
    assert "Bob Example (bob)" in page and "Ann Example (ann)" in page
    assert post(admin, "/admin/stories/st-draft1/access/remove", {"user": "bob"},
                page="/stories/st-draft1").status_code == 303
    assert bob.get("/stories/st-draft1").status_code == 404
    actions = [(e.action, e.story_id, e.detail) for e in reversed(world.audit())
               if e.action.startswith("story.access")]
    assert actions == [(audit.ACCESS_GRANTED, "st-draft1", "user bob as shared"),
                       (audit.ACCESS_REMOVED, "st-draft1", "user bob")]


def test_making_someone_the_owner_keeps_the_old_owner_as_shared(world):
    admin = world.client("ada")
    assert post(admin, "/admin/stories/st-draft1/access", {"user": "bob", "access": "owner"},
                page="/stories/st-draft1").status_code == 303
    conn = world.app.extensions["storykit"].db()
    rows = {r["name"]: r["access"] for r in
            conn.execute("SELECT u.name, a.access FROM story_access a JOIN users u "
                         "ON u.id = a.user_id WHERE story_id = 'st-draft1'")}
    assert rows == {"bob": "owner", "ann": "shared"}


def test_an_unowned_story_gets_an_owner(world):
    admin = world.client("ada")
    assert world.client("bob").get("/stories/st-noowner").status_code == 404
    post(admin, "/admin/stories/st-noowner/access", {"user": "bob", "access": "owner"},
         page="/stories/st-noowner")
    assert world.client("bob").get("/stories/st-noowner").status_code == 200


@pytest.mark.parametrize(("form", "message"), [
    ({"user": "", "access": "shared"}, "Choose the person"),
    ({"user": "nobody", "access": "shared"}, "Choose the person"),
    ({"user": "bob", "access": "everything"}, "Choose what they can do"),
])
def test_sharing_checks_the_form(world, form, message):
    response = post(world.client("ada"), "/admin/stories/st-draft1/access", form,
                    page="/stories/st-draft1")
    assert response.status_code == 422 and message in text(response)


def test_the_user_page_lists_their_stories_and_can_remove_access(world):
    admin = world.client("ada")
    page = text(admin.get("/admin/users/ann"))
    for story_id in ("st-draft1", "st-review1", "st-approved1", "st-published1"):
        assert TITLES[story_id] in page
    response = post(admin, "/admin/stories/st-draft1/access/remove",
                    {"user": "ann", "back": "user"}, page="/admin/users/ann")
    assert response.headers["Location"] == "/admin/users/ann"
    assert TITLES["st-draft1"] not in text(admin.get("/admin/users/ann"))


# --- the audit log -------------------------------------------------------------------------

def test_the_audit_log_records_sign_ins_and_filters_by_user_action_story_and_date(world):
    world.client("ann")
    world.client("bob").get("/stories/st-draft1")  # denied
    admin = world.client("ada")
    everything = text(admin.get("/admin/audit"))
    assert "auth.login" in everything and "access.denied" in everything
    only_bob = text(admin.get("/admin/audit?user=bob"))
    assert "access.denied" in only_bob and ">ann<" not in only_bob
    denied = text(admin.get("/admin/audit?action=access.denied&story=st-draft1"))
    assert "Entries (1)" in denied
    today = dt.datetime.now(dt.UTC).date()
    assert "No entries match" in text(admin.get(
        f"/admin/audit?until={today - dt.timedelta(days=1)}"))
    assert "Entries" in text(admin.get(f"/admin/audit?since={today}&until={today}"))


@pytest.mark.parametrize(("query", "message"), [
    ("since=2027-13-45", "Enter a date like"),
    ("until=yesterday", "Enter a date like"),
    ("until=9999-12-31", "between 1900 and 2999"),  # the day after it overflows
    ("since=1/1/99999999999999999999", "Enter a date like"),
    ("since=99999999999999999999-01-01", "Enter a date like"),
    ("since=2027-03-02&until=2027-03-01", "end date must be"),
])
def test_the_audit_filter_explains_bad_dates(world, query, message):
    response = world.client("ada").get(f"/admin/audit?{query}")
    assert response.status_code == 422 and message in text(response)


def test_audit_entries_cannot_be_changed_or_deleted(world):
    world.client("ann")
    conn = world.app.extensions["storykit"].db()
    with pytest.raises(IntegrityError, match="append-only"):
        conn.execute("UPDATE audit_log SET actor = 'someone else'")
    with pytest.raises(IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit_log")
    if conn.dialect == "postgresql":
        with pytest.raises(IntegrityError, match="append-only"):
            conn.execute("TRUNCATE audit_log")
    log = world.site.audit
    assert log.count() > 0 and log.verify() is None


def test_the_hash_chain_finds_an_entry_changed_behind_the_apps_back(world):
    world.client("ann")
    world.client("bob")
    conn = world.app.extensions["storykit"].db()
    if conn.dialect == "sqlite":
        conn.execute("DROP TRIGGER audit_log_no_update")
    else:
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
    first = conn.value("SELECT min(id) FROM audit_log")
    conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = :id", {"id": first})
    assert AuditLog(world.site.database).verify() == first


def test_control_characters_and_long_text_are_encoded_in_the_log(world):
    title = "Line one\nFAKE 2027-01-01 admin auth.login\x1b[31m red \u202e evil" + "x" * 10_000
    log = world.app.extensions["storykit"].audit()
    log.record("test.event", actor="ann\r\nada", detail=title, ip="1.2.3.4\x00")
    entry = log.query(AuditFilter(action="test.event"))[0]
    assert "\n" not in entry.detail and "\x1b" not in entry.detail and "\u202e" not in entry.detail
    assert "\\x0a" in entry.detail and "\\x1b[31m" in entry.detail and "\\u202e" in entry.detail
    assert len(entry.detail) < 300 and entry.detail.endswith("chars)")
    assert entry.actor == "ann\\x0d\\x0aada" and entry.ip == "1.2.3.4\\x00"
    assert encode("back\\slash") == "back\\\\slash"


def test_a_story_title_with_escapes_never_reaches_the_log(world, caplog):
    """Titles are story text: status changes log ids and etags only, whatever the title."""
    from app_support import act, write_world_story

    write_world_story(world.root, "st-draft1", "draft",
                      title="Bad\x1b[2J title \u202e with escapes")
    with caplog.at_level("DEBUG"):
        assert act(world.client("ann"), "st-draft1", "submit").status_code == 303
    for entry in world.audit():
        for value in (entry.detail, entry.actor, entry.story_id):
            assert "Bad" not in (value or "") and "\x1b" not in (value or "")
    assert "Bad" not in caplog.text and "\x1b" not in caplog.text


def test_failed_sign_ins_with_odd_names_are_logged_safely(world):
    name = "ann\n2027 admin auth.login ok\x1b[0m" + "y" * 5000
    post(world.app.test_client(), "/sign-in", {"name": name, "password": "whatever it is"})
    detail = world.audit(audit.LOGIN_FAILED)[0].detail
    assert "\n" not in detail and "\x1b" not in detail and len(detail) < 300
    page = text(world.client("ada").get("/admin/audit"))
    assert "\x1b" not in page


def test_only_admins_see_the_audit_log(world):
    for who in ("ann", "rita", "pete"):
        assert world.client(who).get("/admin/audit").status_code == 403


# --- command line ----------------------------------------------------------------------------

def run_cli(root, *args, stdin: str | None = None):
    return CliRunner().invoke(cli, ["--site", str(root), *args], input=stdin,
                              env={"STORYKIT_USER": "ops"})


def test_user_add_list_roles_and_password(world):
    result = run_cli(world.root, "user", "add", "dee", "--role", "reviewer", "--role",
                     "publisher", "--display-name", "Dee Example", "--password-stdin",
                     stdin="velvet canyon morning\n")
    assert result.exit_code == 0, result.output
    assert "Added dee (publisher, reviewer)" in result.output
    listed = run_cli(world.root, "user", "list").output
    assert "dee" in listed and "publisher,reviewer" in listed and "Dee Example" in listed
    sign_in(world.app.test_client(), "dee", "velvet canyon morning")
    roles = run_cli(world.root, "user", "roles", "dee", "--role", "advocate")
    assert roles.exit_code == 0 and "dee now has: advocate" in roles.output
    pw = run_cli(world.root, "user", "password", "dee", "--password-stdin",
                 stdin="amber tide lantern\n")
    assert pw.exit_code == 0
    sign_in(world.app.test_client(), "dee", "amber tide lantern")
    actions = [(e.action, e.actor, e.ip) for e in reversed(world.audit())
               if e.action.startswith("user.")]
    assert actions == [(audit.USER_ADDED, "ops", "command line"),
                       (audit.USER_ROLES, "ops", "command line"),
                       (audit.USER_PASSWORD_SET, "ops", "command line")]


def test_user_add_prompts_for_the_password_twice(world):
    result = run_cli(world.root, "user", "add", "eli", "--role", "advocate",
                     stdin="gentle harbour fog\ngentle harbour fog\n")
    assert result.exit_code == 0, result.output
    assert "gentle harbour fog" not in result.output
    mismatch = run_cli(world.root, "user", "add", "fay", "--role", "advocate",
                       stdin="gentle harbour fog\nsomething else\n")
    assert mismatch.exit_code != 0


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["user", "add", "Jo Smith", "--role", "advocate", "--password-stdin"], "gentle harbour fog\n",
     "user name is 2 to 40 characters"),
    (["user", "add", "jo", "--role", "wizard", "--password-stdin"], "gentle harbour fog\n",
     "'wizard' is not one of"),
    (["user", "add", "jo", "--password-stdin"], "gentle harbour fog\n", "Missing option '--role'"),
    (["user", "add", "jo", "--role", "advocate", "--password-stdin"], "password1234\n",
     "too common"),
    (["user", "add", "ann", "--role", "advocate", "--password-stdin"], "gentle harbour fog\n",
     "already a user called ann"),
    (["user", "roles", "nobody", "--role", "advocate"], None, "no user called nobody"),
    (["user", "roles", "ada", "--role", "advocate"], None, "last active admin"),
    (["user", "password", "ann", "--password-stdin"], "short\n", "at least 12"),
])
def test_user_commands_refuse_bad_input(world, args, stdin, message):
    result = run_cli(world.root, *args, stdin=stdin)
    assert result.exit_code != 0
    assert message in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server stopped: {proc.stdout.read() if proc.stdout else ''}")
        try:
            return urllib.request.urlopen(url, timeout=2)  # noqa: S310 - loopback only
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {seconds} s")


def test_storykit_serve_runs_waitress_and_prints_a_setup_code(tmp_path):
    from conftest import BASIC_TOML

    root = tmp_path / "served"
    (root / "stories").mkdir(parents=True)
    (root / "storykit.toml").write_text(BASIC_TOML, encoding="utf-8")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "storykit", "--site", str(root), "serve",
                             "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        response = _wait_for(f"http://127.0.0.1:{port}/setup", proc)
        assert response.headers["Server"] == "storykit"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        code = (root / "instance" / "setup_token").read_text()
    finally:
        proc.terminate()
        output = proc.communicate(timeout=10)[0]
    assert code in output and "setup code" in output
    assert oct((root / "instance" / "setup_token").stat().st_mode & 0o777) == "0o600"


def test_storykit_serve_refuses_a_bad_port(world):
    result = run_cli(world.root, "serve", "--port", "70000")
    assert result.exit_code != 0 and "70000" in result.output


def test_flask_run_works_for_development(world):
    port = _free_port()
    env = {**os.environ, "STORYKIT_SITE": str(world.root), "STORYKIT_ENV": "development"}
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "storykit.web", "run",
                             "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        response = _wait_for(f"http://127.0.0.1:{port}/sign-in", proc)
        assert "Sign in" in response.read().decode()
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_flask_run_names_a_missing_site(tmp_path):
    env = {**os.environ, "STORYKIT_SITE": str(tmp_path / "nowhere")}
    result = subprocess.run([sys.executable, "-c", "from storykit.web import create_app; "
                             "create_app()"], env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "no storykit.toml" in result.stderr


def test_the_apps_database_has_every_table_and_opening_it_again_changes_nothing(world):
    conn = world.app.extensions["storykit"].db()
    tables = conn.tables()
    assert {"distributions", "users", "user_roles", "story_access", "login_failures",
            "audit_log", "story_notes"} <= tables
    versions = conn.all("SELECT version_num FROM alembic_version ORDER BY version_num")
    again = Site.open(world.root).database
    assert again.status().up_to_date and again.connection().tables() == tables
    assert again.connection().all("SELECT version_num FROM alembic_version ORDER BY "
                                  "version_num") == versions


def test_what_people_type_is_echoed_back_escaped(world):
    """Every field this part of the app echoes back: the sign-in name and the audit filters."""
    page = text(post(world.app.test_client(), "/sign-in", {"name": XSS, "password": "x"}))
    assert "<script>alert" not in page and "<img src=x" not in page
    assert 'value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"' in page
    admin = world.client("ada")
    query = "user=%3Cscript%3Ealert(1)%3C/script%3E&story=%22%3E%3Csvg%20onload%3Dalert(1)%3E"
    audit_page = text(admin.get(f"/admin/audit?{query}"))
    assert "<script>alert(1)" not in audit_page and "<svg onload" not in audit_page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in audit_page


@pytest.mark.parametrize("name", ["..%2F..%2Fetc%2Fpasswd", "..", ".git", "-rf", "CON",
                                  "ann%00", "a" * 300, "ANN"])
def test_odd_user_names_in_addresses_are_404(world, name):
    admin = world.client("ada")
    assert admin.get(f"/admin/users/{name}").status_code == 404
    assert post(admin, f"/admin/users/{name}/active", {"active": "0"},
                page="/admin/users").status_code == 404
