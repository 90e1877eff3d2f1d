"""Signing in and out, sessions that really end, throttling, the first-admin page, passwords,
the secret-key check, and CSRF (this whole module runs with CSRF protection ON)."""

from __future__ import annotations

import http.client
import os
import re
import statistics
import threading
import time
from urllib.parse import urlencode

import pytest
from app_support import FAST_HASH, PASSWORD, csrf_token, make_world, post, served, sign_in
from conftest import BASIC_TOML
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from storykit import audit
from storykit.site import Site
from storykit.web import accounts, create_app
from storykit.web.passwords import DEFAULT_COST, Hasher, password_problem
from storykit.web.settings import UnsafeSettingError


@pytest.fixture
def world(tmp_path, engine):
    return make_world(tmp_path / "site", engine=engine)


def text(response) -> str:
    return response.get_data(as_text=True)


# --- signing in ----------------------------------------------------------------------------

def test_pages_need_signing_in_and_come_back_after(world):
    client = world.app.test_client()
    response = client.get("/stories?status=draft")
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in?next=/stories?status%3Ddraft"
    token = csrf_token(client)
    signed = client.post("/sign-in?next=/stories?status%3Ddraft",
                         data={"csrf_token": token, "name": "ann", "password": PASSWORD})
    assert signed.headers["Location"] == "/stories?status=draft"
    assert client.get("/stories?status=draft").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                    "javascript:alert(1)", "/%0d%0aSet-Cookie:x=1"])
def test_sign_in_never_redirects_off_the_site(world, target):
    client = world.app.test_client()
    token = csrf_token(client)
    response = client.post("/sign-in", query_string={"next": target},
                           data={"csrf_token": token, "name": "ann", "password": PASSWORD})
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "evil" not in location and "\r" not in location and "\n" not in location


def test_wrong_password_and_unknown_name_look_the_same(world):
    client = world.app.test_client()
    wrong = post(client, "/sign-in", {"name": "ann", "password": "not the password"})
    unknown = post(client, "/sign-in", {"name": "nobody", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda r: re.sub(r'value="[^"]*"', "", text(r))  # noqa: E731 - field values differ
    assert strip(wrong).replace("ann", "X") == strip(unknown).replace("nobody", "X")
    assert "Your user name or password is wrong." in text(wrong)
    failed = world.audit(audit.LOGIN_FAILED)
    assert {e.detail for e in failed} == {"name ann", "name nobody"}


def test_empty_sign_in_form_shows_linked_errors(world):
    response = post(world.app.test_client(), "/sign-in", {"name": "", "password": ""})
    assert response.status_code == 422
    page = text(response)
    assert '<a href="#name">Enter your user name.</a>' in page
    assert '<a href="#password">Enter your password.</a>' in page
    assert 'aria-describedby="name-error"' in page
    assert page.count("<title>Error: Sign in") == 1


def test_deactivated_accounts_cannot_sign_in(world):
    conn = world.app.extensions["storykit"].db()
    accounts.set_active(conn, world.users["bob"], False)
    response = post(world.app.test_client(), "/sign-in", {"name": "bob", "password": PASSWORD})
    assert response.status_code == 401


def test_login_flooding_is_throttled_the_same_for_known_and_unknown_names(world):
    results = {}
    for name in ("ann", "nobody"):
        client = world.app.test_client()
        codes = [post(client, "/sign-in", {"name": name, "password": "wrong guess here"}).status_code
                 for _ in range(6)]
        locked = post(client, "/sign-in", {"name": name, "password": PASSWORD})
        results[name] = (codes, locked.status_code, locked.headers.get("Retry-After"),
                         text(locked).replace(name, "X"))
    assert results["ann"][0] == results["nobody"][0] == [401] * 5 + [429]
    # even the right password is refused while locked, and the answer is the same for both
    assert results["ann"][1] == results["nobody"][1] == 429
    assert int(results["ann"][2]) > 800
    assert results["ann"][3] == results["nobody"][3]
    assert "too many tries" in results["ann"][3].lower()
    assert len(world.audit(audit.LOGIN_THROTTLED)) == 4


def test_throttling_per_address_covers_many_names(world):
    client = world.app.test_client()
    codes = [post(client, "/sign-in", {"name": f"guess{n}", "password": "wrong guess here"}
                  ).status_code for n in range(21)]
    assert codes[:20] == [401] * 20 and codes[20] == 429
    # another address can still sign in (a shared office address would otherwise lock out all)
    other = world.app.test_client()
    token = csrf_token(other)
    ok = other.post("/sign-in", data={"csrf_token": token, "name": "ann", "password": PASSWORD},
                    environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert ok.status_code == 303


#: argon2 a little slower than FAST_HASH, so parallel checks overlap as they do in production.
RACE_HASH = {"time_cost": 2, "memory_cost": 8192, "parallelism": 1}


def parallel_sign_ins(base: str, names: list[str], password: str) -> list[int]:
    """The attack: every name's sign-in form is loaded first (cookie and CSRF token, one
    connection each), then all the POSTs are let go at the same moment."""
    port = int(base.rsplit(":", 1)[1])
    forms = []
    for name in names:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("GET", "/sign-in")
        response = conn.getresponse()
        page = response.read().decode()
        cookie = response.getheader("Set-Cookie").split(";", 1)[0]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        forms.append((conn, cookie, urlencode({"csrf_token": token, "name": name,
                                                "password": password})))
    start = threading.Barrier(len(forms))
    statuses: list[int] = [0] * len(forms)

    def attempt(i: int) -> None:
        conn, cookie, body = forms[i]
        start.wait()
        conn.request("POST", "/sign-in", body=body, headers={
            "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        response.read()
        statuses[i] = response.status
        conn.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(forms))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


@pytest.fixture
def counted_checks(tmp_path, engine, monkeypatch):
    """A world whose password checks (argon2 verifications) are counted."""
    world = make_world(tmp_path / "site", engine=engine, STORYKIT_ARGON2=RACE_HASH)
    hasher = world.app.extensions["storykit"].hasher
    checks: list[str] = []
    real = hasher.verify

    def verify(stored, password):
        checks.append(password)
        return real(stored, password)

    monkeypatch.setattr(hasher, "verify", verify)
    return world, checks


def test_80_parallel_wrong_passwords_for_one_name_get_exactly_the_limit_of_checks(
        counted_checks):
    world, checks = counted_checks
    with served(world.app, threads=32) as base:
        statuses = parallel_sign_ins(base, ["ann"] * 80, "wrong guess here")
    assert len(checks) == 5
    assert sorted(statuses) == [401] * 5 + [429] * 75
    assert post(world.app.test_client(), "/sign-in", {"name": "ann", "password": PASSWORD}
                ).status_code == 429


def test_parallel_tries_from_one_address_never_beat_its_limit(counted_checks):
    world, checks = counted_checks
    with served(world.app, threads=32) as base:
        statuses = parallel_sign_ins(base, [f"guess{n}" for n in range(80)], "wrong guess here")
    assert len(checks) == 20
    assert sorted(statuses) == [401] * 20 + [429] * 60


def test_unknown_and_known_names_take_about_as_long(tmp_path, engine):
    """With the production argon2 cost, an unknown name costs one hash check too."""
    world = make_world(tmp_path / "site", engine=engine, STORYKIT_ARGON2=None, STORYKIT_LOGIN_PER_ACCOUNT=100,
                       STORYKIT_LOGIN_PER_ADDRESS=100)
    client = world.app.test_client()
    token = csrf_token(client)

    def timed(name: str) -> float:
        start = time.perf_counter()
        client.post("/sign-in", data={"csrf_token": token, "name": name, "password": "wrong guess!"})
        return time.perf_counter() - start

    known = statistics.median(timed("ann") for _ in range(5))
    unknown = statistics.median(timed("nobody") for _ in range(5))
    assert known > 0.02 and unknown > 0.02
    assert 0.5 < known / unknown < 2.0, (known, unknown)


def test_a_good_sign_in_clears_the_failures(world):
    client = world.app.test_client()
    for _ in range(4):
        post(client, "/sign-in", {"name": "ann", "password": "wrong guess here"})
    sign_in(client, "ann")
    other = world.app.test_client()
    for _ in range(4):
        assert post(other, "/sign-in", {"name": "ann", "password": "wrong again now"}
                    ).status_code == 401


# --- sessions ------------------------------------------------------------------------------

def _cookie(client, app) -> str:
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def _replay(app, value: str):
    client = app.test_client()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    return client.get("/")


def test_a_cookie_replayed_after_sign_out_is_refused(world):
    client = world.client("ann")
    saved = _cookie(client, world.app)
    assert _replay(world.app, saved).status_code == 200
    assert post(client, "/sign-out", page="/").status_code == 303
    response = _replay(world.app, saved)
    assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in")


def test_signing_out_ends_sessions_on_other_devices_too(world):
    laptop, phone = world.client("ann"), world.client("ann")
    post(laptop, "/sign-out", page="/")
    assert phone.get("/").status_code == 303


def test_a_cookie_replayed_after_a_role_change_is_refused(world):
    rita = world.client("rita")
    saved = _cookie(rita, world.app)
    assert rita.get("/review").status_code == 200
    admin = world.client("ada")
    assert post(admin, "/admin/users/rita/roles", {"roles": ["advocate"]},
                page="/admin/users/rita").status_code == 303
    replayed = _replay(world.app, saved)
    assert replayed.status_code == 303 and "/sign-in" in replayed.headers["Location"]
    assert rita.get("/review").status_code == 303
    sign_in(rita, "rita")
    assert rita.get("/review").status_code == 403


def test_a_password_change_ends_other_sessions_but_keeps_this_one(world):
    here, elsewhere = world.client("ann"), world.client("ann")
    new = "a brand new passphrase"
    response = post(here, "/account/password", {"current_password": PASSWORD,
                                                 "new_password": new, "confirm": new},
                    page="/account/password")
    assert response.status_code == 303
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 303
    assert post(world.app.test_client(), "/sign-in", {"name": "ann", "password": new}
                ).status_code == 303
    assert world.audit(audit.PASSWORD_CHANGED)[0].actor == "ann"


def test_password_change_refuses_wrong_current_password_and_weak_ones(world):
    client = world.client("ann")
    wrong = post(client, "/account/password", {"current_password": "not my password",
                                               "new_password": "a brand new passphrase",
                                               "confirm": "a brand new passphrase"},
                 page="/account/password")
    assert wrong.status_code == 422 and "Your current password is wrong." in text(wrong)
    weak = post(client, "/account/password", {"current_password": PASSWORD,
                                              "new_password": "Password1234", "confirm": "Password1234"},
                page="/account/password")
    assert weak.status_code == 422 and "too common" in text(weak)
    mismatch = post(client, "/account/password", {"current_password": PASSWORD,
                                                  "new_password": "a brand new passphrase",
                                                  "confirm": "a brand new passphrasf"},
                    page="/account/password")
    assert mismatch.status_code == 422 and "not the same" in text(mismatch)
    sign_in(world.app.test_client(), "ann")  # the old password still works


def test_an_idle_session_ends(tmp_path, engine):
    world = make_world(tmp_path / "site", engine=engine, STORYKIT_IDLE_MINUTES=0)
    client = world.client("ann")
    time.sleep(1.1)
    response = client.get("/")
    assert response.status_code == 303
    assert "You were signed out" in text(client.get(response.headers["Location"]))
    assert client.get("/").status_code == 303


def test_a_session_ends_after_its_absolute_lifetime(tmp_path, engine):
    world = make_world(tmp_path / "site", engine=engine, STORYKIT_SESSION_HOURS=0)
    client = world.client("ann")
    client.set_cookie(world.app.config["SESSION_COOKIE_NAME"], _cookie_value_kept(client, world))
    time.sleep(1.1)
    assert client.get("/").status_code == 303  # the browser kept the cookie; the server did not


def _cookie_value_kept(client, world) -> str:
    """The cookie as a browser that ignores its expiry time would replay it."""
    return client.get_cookie(world.app.config["SESSION_COOKIE_NAME"]).value


def test_a_forged_or_tampered_cookie_is_ignored(world):
    client = world.client("ann")
    value = _cookie(client, world.app)
    forged = URLSafeTimedSerializer("not the key", salt="cookie-session").dumps(
        {"uid": world.users["ada"].id, "ver": 1, "iat": int(time.time()), "seen": int(time.time())})
    for bad in (forged, _tampered(value), "garbage"):
        assert _replay(world.app, bad).status_code == 303


def _tampered(value: str) -> str:
    """The cookie with the first character of its signature changed. (Not its last: that
    base64 character carries two bits of the signature and four of padding, so a change
    there can leave the signature as it was, as it once did for "xx".)"""
    at = value.rindex(".") + 1
    return value[:at] + ("A" if value[at] != "A" else "B") + value[at + 1:]


def test_session_cookie_flags_outside_development(world):
    client = world.app.test_client()
    token = csrf_token(client)
    response = client.post("/sign-in", data={"csrf_token": token, "name": "ann",
                                             "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-storykit=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    assert "Domain" not in cookie
    assert world.app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 8 * 3600
    assert world.app.config["STORYKIT_IDLE_MINUTES"] == 30


def test_development_mode_cookies_work_over_http(tmp_path, engine):
    world = make_world(tmp_path / "site", engine=engine, STORYKIT_ENV="development")
    response = sign_in(world.app.test_client(), "ann")
    assert "Secure" not in response.headers["Set-Cookie"]
    assert response.headers["Set-Cookie"].startswith("storykit_session=")


def test_the_session_cookie_holds_no_story_or_person_details(world):
    from flask.sessions import SecureCookieSessionInterface

    client = world.client("ann")
    client.get("/stories/st-draft1")
    serializer = SecureCookieSessionInterface().get_signing_serializer(world.app)
    data = serializer.loads(_cookie(client, world.app))
    assert set(data) <= {"uid", "ver", "iat", "seen", "csrf_token", "_permanent", "_flashes",
                         "ended"}


# --- CSRF: missing, foreign, expired, cross-site ---------------------------------------------

def test_a_post_without_a_csrf_token_is_refused(world):
    client = world.client("ann")
    response = client.post("/stories/st-draft1/submit",
                           data={"etag": world.site.store.get("st-draft1").etag})
    assert response.status_code == 400
    assert "did not come from this site" in text(response)
    assert world.site.store.get("st-draft1").status == "draft"


def test_a_token_from_another_session_is_refused(world):
    attacker = world.client("bob")
    foreign = csrf_token(attacker, "/")
    victim = world.client("ann")
    response = victim.post("/stories/st-draft1/submit", data={
        "csrf_token": foreign, "etag": world.site.store.get("st-draft1").etag})
    assert response.status_code == 400
    assert world.site.store.get("st-draft1").status == "draft"


def test_an_expired_token_is_refused(world):
    client = world.client("ann")
    csrf_token(client, "/")
    with client.session_transaction() as session:
        raw = session["csrf_token"]

    class Past(TimestampSigner):
        def get_timestamp(self):  # signed two hours ago (the limit is one hour)
            return int(time.time()) - 7200

    old = URLSafeTimedSerializer(world.app.secret_key, salt="wtf-csrf-token",
                                 signer=Past).dumps(raw)
    fresh = URLSafeTimedSerializer(world.app.secret_key, salt="wtf-csrf-token").dumps(raw)
    response = client.post("/stories/st-draft1/submit", data={
        "csrf_token": old, "etag": world.site.store.get("st-draft1").etag})
    assert response.status_code == 400
    assert world.site.store.get("st-draft1").status == "draft"
    # the same raw token signed now is accepted: it was only the age that failed
    response = client.post("/stories/st-draft1/submit", data={
        "csrf_token": fresh, "etag": world.site.store.get("st-draft1").etag})
    assert response.status_code == 303


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "null"},
])
def test_a_cross_site_form_is_refused_even_with_a_token(world, headers):
    client = world.client("ann")
    token = csrf_token(client, "/stories/st-draft1")
    response = client.post("/stories/st-draft1/submit", headers=headers, data={
        "csrf_token": token, "etag": world.site.store.get("st-draft1").etag})
    assert response.status_code == 400
    assert world.site.store.get("st-draft1").status == "draft"


def test_over_https_a_post_needs_a_same_site_referer(world):
    client = world.app.test_client()
    base = {"base_url": "https://stories.example.nhs.uk"}
    page = client.get("/sign-in", **base)
    token = re.search(r'name="csrf_token" value="([^"]+)"', text(page)).group(1)
    data = {"csrf_token": token, "name": "ann", "password": PASSWORD}
    assert client.post("/sign-in", data=data, **base).status_code == 400
    assert client.post("/sign-in", data=data, headers={"Referer": "https://evil.example/"},
                       **base).status_code == 400
    ok = client.post("/sign-in", data=data,
                     headers={"Referer": "https://stories.example.nhs.uk/sign-in"}, **base)
    assert ok.status_code == 303


def test_a_sign_out_link_cannot_be_forged_with_get(world):
    client = world.client("ann")
    assert client.get("/sign-out").status_code == 405
    assert client.get("/").status_code == 200


# --- the first admin -------------------------------------------------------------------------

@pytest.fixture
def empty_site(tmp_path, engine):
    root = tmp_path / "fresh"
    (root / "stories").mkdir(parents=True)
    (root / "storykit.toml").write_text(BASIC_TOML + engine.toml(), encoding="utf-8")
    return Site.open(root)


def _setup_form(code: str, **over):
    form = {"code": code, "name": "ada", "display_name": "Ada Example",
            "password": "correct stable lantern", "confirm": "correct stable lantern"}
    form.update(over)
    return form


def test_with_no_users_every_page_leads_to_the_setup_page(empty_site):
    app = create_app(empty_site, STORYKIT_ARGON2=FAST_HASH)
    client = app.test_client()
    for path in ("/", "/stories", "/admin/users", "/sign-in"):
        assert client.get(path).headers["Location"] == "/setup", path


def test_the_setup_page_needs_the_one_time_code(empty_site):
    app = create_app(empty_site, STORYKIT_ARGON2=FAST_HASH)
    client = app.test_client()
    page = client.get("/setup")
    token_file = empty_site.instance / "setup_token"
    assert page.status_code == 200 and token_file.exists()
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    code = token_file.read_text()
    assert code not in text(page)
    wrong = post(client, "/setup", _setup_form("guessed-code"), page="/setup")
    assert wrong.status_code == 422 and "The setup code is wrong" in text(wrong)
    assert accounts.count_users(app.extensions["storykit"].db()) == 0
    made = post(client, "/setup", _setup_form(code), page="/setup")
    assert made.status_code == 303 and made.headers["Location"] == "/admin/users"
    assert not token_file.exists()
    assert client.get("/admin/users").status_code == 200
    # once someone exists the page is gone, and the code cannot be used again
    assert client.get("/setup").status_code == 404
    stranger = app.test_client()
    assert post(stranger, "/setup", _setup_form(code, name="eve"), page="/sign-in").status_code == 404
    assert [e.detail for e in
            app.extensions["storykit"].audit().query(audit.AuditFilter(action=audit.SETUP))] == \
        ["user ada"]


def test_the_setup_page_checks_every_field(empty_site):
    app = create_app(empty_site, STORYKIT_ARGON2=FAST_HASH)
    client = app.test_client()
    client.get("/setup")
    code = (empty_site.instance / "setup_token").read_text()
    response = post(client, "/setup", _setup_form(code, name="<script>", display_name="",
                                                  password="short", confirm="short"),
                    page="/setup")
    page = text(response)
    assert response.status_code == 422
    for field in ("name", "display_name", "password"):
        assert f'<a href="#{field}">' in page
    assert "<script>" not in page.split("<main", 1)[1].replace("&lt;script&gt;", "")


def test_guessing_the_setup_code_is_throttled(empty_site):
    app = create_app(empty_site, STORYKIT_ARGON2=FAST_HASH)
    client = app.test_client()
    client.get("/setup")
    codes = [post(client, "/setup", _setup_form(f"guess{n}"), page="/setup").status_code
             for n in range(6)]
    assert codes == [422] * 5 + [429]


# --- passwords and keys ----------------------------------------------------------------------

@pytest.mark.parametrize(("password", "words"), [
    ("short", "at least 12"),
    ("Password1234", "too common"),
    ("P@ssw0rd2024!", "too common"),
    ("123456789012", "too common"),
    ("aaaaaaaaaaaaaa", "too easy"),
    ("abcdefghijklmn", "too easy"),
    ("qwertyuiopasd", "too easy"),
    ("abcabcabcabcabc", "too easy"),
    ("ann-harbour-lantern", "user name"),
    ("x" * 300, "256 characters or fewer"),
])
def test_password_rules(password, words):
    assert words in password_problem(password, "ann")


def test_good_passwords_pass():
    for good in ("harbour lantern pebble", "correct stable lantern", "7 ripe plums at dawn!"):
        assert password_problem(good, "ann") is None


def test_password_hashes_use_the_production_cost(world):
    hasher = Hasher()
    digest = hasher.hash("harbour lantern pebble")
    assert digest.startswith("$argon2id$")
    assert f"m={DEFAULT_COST['memory_cost']},t={DEFAULT_COST['time_cost']}," \
           f"p={DEFAULT_COST['parallelism']}" in digest
    assert DEFAULT_COST["memory_cost"] >= 46 * 1024
    # a hash made with a cheaper cost is upgraded at the next sign-in
    conn = world.app.extensions["storykit"].db()
    assert accounts.authenticate(conn, hasher, "ann", PASSWORD) is not None
    stored = conn.execute("SELECT password_hash FROM users WHERE name='ann'").fetchone()[0]
    assert "m=65536,t=3,p=4" in stored


@pytest.mark.parametrize("key", ["dev", "changeme", "x" * 40, "short-but-random-Zq8"])
def test_the_app_refuses_a_weak_secret_key_outside_development(empty_site, key):
    with pytest.raises(UnsafeSettingError, match="secret key"):
        create_app(empty_site, SECRET_KEY=key)
    assert create_app(empty_site, SECRET_KEY=key, STORYKIT_ENV="development")


def test_a_weak_key_from_the_environment_is_refused(empty_site, monkeypatch):
    monkeypatch.setenv("STORYKIT_SECRET_KEY", "secret")
    with pytest.raises(UnsafeSettingError, match="STORYKIT_SECRET_KEY"):
        create_app(empty_site)
    monkeypatch.setenv("STORYKIT_SECRET_KEY", "Vq3x9LrT0bYk2mW8pN5sJ7dH4gF6cA1zEu")
    assert create_app(empty_site).secret_key.startswith("Vq3x")


def test_the_generated_key_is_private_and_kept(empty_site):
    first = create_app(empty_site).secret_key
    key_file = empty_site.instance / "secret_key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert create_app(empty_site).secret_key == first
    os.chmod(key_file, 0o644)
    with pytest.raises(UnsafeSettingError, match="chmod 600"):
        create_app(empty_site)
