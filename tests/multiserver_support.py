"""Several app servers and workers on one site, for real: ``storykit serve --workers 0`` and
``storykit worker`` processes sharing one site folder, one PostgreSQL database (or SQLite) and
one redis-server, driven over HTTP by simulated people who read the real forms (CSRF tokens,
etags) as a browser would. Used by tests/test_multiserver.py and bench/bench_multiserver.py.

All names and story details are fictional.
"""

from __future__ import annotations

import collections
import concurrent.futures
import html
import http.client
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from app_support import FAST_HASH, PASSWORD
from conftest import BASIC_TOML, consent_version, story_front, write_story

EDITED = [f"st-shared{n:02d}" for n in range(10)]      # half the people edit these
TO_PUBLISH = [f"st-topub{n:02d}" for n in range(12)]   # approved: publishers publish them
TO_WITHDRAW = [f"st-towd{n:02d}" for n in range(6)]    # published: an admin withdraws them
EDITORS = [f"editor{n}" for n in range(10)]
BROWSERS = 30  # accounts for people who browse (each simulated person signs in as their own)
BODY = ("The ward was quiet at night. The nurse brought tea and explained the plan for the "
        "morning, and we felt less alone.\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the site ------------------------------------------------------------------------------------

def site_toml(database_url: str | None, public_url: str) -> str:
    database = f'\n[database]\nurl = "{database_url}"\n' if database_url else ""
    return (BASIC_TOML + f'\n[publish]\npublic_url = "{public_url}"\n'
            "\n[jobs]\nstale_after = 2\n" + database)


def make_shared_site(root: Path, database_url: str | None, extra_stories: int = 0, *,
                     write_stories: bool = True, people: bool = True) -> None:
    """The site the servers share: the stories people edit, publish and withdraw (each with a
    sentence of its own, to find in pages), and ``extra_stories`` more (for the benchmark);
    the people, made through the app's own accounts code. ``write_stories=False`` keeps the
    stories already there (a copy of a site made with ``people=False``)."""
    (root / "stories").mkdir(parents=True, exist_ok=True)
    (root / "storykit.toml").write_text(site_toml(database_url, "https://stories.example.nhs.uk/"),
                                        encoding="utf-8")
    if write_stories:
        write_stories_of(root, extra_stories)
    if people:
        make_people(root)


def write_stories_of(root: Path, extra_stories: int) -> None:
    groups = ((EDITED, "draft"), (TO_PUBLISH, "approved"), (TO_WITHDRAW, "published"))
    for ids, status in groups:
        for story_id in ids:
            name = story_id.removeprefix("st-")
            write_story(root, story_id, story_front(title=f"Story {name} about the ward",
                                                    slug=name, status=status),
                        body=BODY + f"\nOnly in story {name}: a unique sentence.\n",
                        consent=[consent_version()])
    for n in range(extra_stories):
        write_story(root, f"st-more{n:05d}", story_front(
            title=f"Another story number {n}", slug=f"more-{n:05d}",
            status=("draft", "in_review", "approved", "published")[n % 4]), body=BODY,
            consent=[consent_version()])


def make_people(root: Path) -> None:
    from storykit.site import Site
    from storykit.web import accounts, create_app
    from storykit.web.access import grant

    site = Site.open(root)
    app = create_app(site, STORYKIT_ARGON2=FAST_HASH)
    st = app.extensions["storykit"]
    conn = st.db()
    made = {name: accounts.add_user(conn, st.hasher, name, PASSWORD, ["advocate"])
            for name in EDITORS}
    for name, role in [(f"browser{n}", "admin") for n in range(BROWSERS)] + [
            ("pub", "publisher"), ("adm", "admin")]:
        made[name] = accounts.add_user(conn, st.hasher, name, PASSWORD, [role])
    for story_id in EDITED:
        grant(conn, story_id, made[EDITORS[0]], "owner", "test")
        for name in EDITORS[1:]:
            grant(conn, story_id, made[name], "shared", "test")
    site.database.close()


# --- the processes -------------------------------------------------------------------------------

def start_redis(folder: Path) -> tuple[str, int]:
    """A private redis-server on a unix socket: its URL and process id."""
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    assert Path(server).exists(), "redis-server is missing: run ./dev test (it installs it)"
    folder.mkdir(parents=True, exist_ok=True)
    sock, pid = folder / "r.sock", folder / "r.pid"
    subprocess.run([server, "--port", "0", "--unixsocket", str(sock), "--save", "",
                    "--appendonly", "no", "--daemonize", "yes", "--pidfile", str(pid),
                    "--dir", str(folder)], check=True, timeout=30)
    deadline = time.monotonic() + 20
    while not (sock.exists() and pid.exists() and pid.read_text().strip()):
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    return f"unix://{sock}", int(pid.read_text().strip())


def process_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("STORYKIT_DEBUG", "STORYKIT_REDIS_URL", "STORYKIT_DATABASE_URL")}
    return {**env, "STORYKIT_PROXY_COUNT": "0", **extra}


@dataclass
class Servers:
    """App servers and workers started for one site; :meth:`stop` ends them all."""

    root: Path
    env: dict[str, str]
    ports: list[int] = field(default_factory=list)
    apps: list[subprocess.Popen] = field(default_factory=list)
    workers: list[subprocess.Popen] = field(default_factory=list)
    logs: Path | None = None

    def start_app(self, threads: int = 8, workers: int = 0, public_port: int = 0) -> int:
        """An app server; with ``public_port``, it also shows the publish folder there."""
        port = free_port()
        log = (self.logs or self.root.parent) / f"app-{port}.log"
        self.apps.append(subprocess.Popen(
            [sys.executable, "-m", "storykit", "--site", str(self.root), "serve", "--port",
             str(port), "--public-port", str(public_port), "--workers", str(workers),
             "--threads", str(threads)], stdin=subprocess.DEVNULL, stdout=log.open("w"),
            stderr=subprocess.STDOUT, env=self.env, start_new_session=True))
        self.ports.append(port)
        return port

    def start_worker(self) -> subprocess.Popen:
        log = (self.logs or self.root.parent) / f"worker-{len(self.workers)}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "storykit", "--site", str(self.root), "worker"],
            stdin=subprocess.DEVNULL, stdout=log.open("w"), stderr=subprocess.STDOUT,
            env=self.env, start_new_session=True)
        proc.log = log  # type: ignore[attr-defined]
        self.workers.append(proc)
        return proc

    def wait_ready(self, timeout: float = 180) -> None:
        """Every app server answers /health with 200 (the stories are read on the first)."""
        deadline = time.monotonic() + timeout
        for port in self.ports:
            while get_status(port, "/health") != 200:
                dead = [p for p in self.apps if p.poll() is not None]
                if dead or time.monotonic() > deadline:
                    raise AssertionError(f"an app server did not start: {self.log_tail()}")
                time.sleep(0.2)

    def log_tail(self) -> str:
        folder = self.logs or self.root.parent
        return "\n".join(f"{p.name}: {p.read_text()[-1500:]}" for p in sorted(folder.glob("*.log")))

    def stop(self) -> None:
        for proc in self.apps + self.workers:
            if proc.poll() is None:
                with_suppress(os.killpg, proc.pid, signal.SIGTERM)
        for proc in self.apps + self.workers:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with_suppress(os.killpg, proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def with_suppress(call, *args) -> None:
    try:
        call(*args)
    except OSError:
        pass


def get_status(port: int, path: str) -> int:
    return get_page(port, path)[0]


def get_page(port: int, path: str) -> tuple[int, str]:
    """A page fetched with no cookie (0 when nothing answers)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    except OSError:
        return 0, ""
    finally:
        conn.close()


# --- people, over HTTP ---------------------------------------------------------------------------

class FormReader(HTMLParser):
    """The fields a browser would send from the form whose id is ``form_id``."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.fields = form_id, False, []
        self._textarea: str | None = None
        self._select: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if tag == "option" and self.inside and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value") or ""))
        if not self.inside or not a.get("name"):
            return
        kind = (a.get("type") or "text").lower()
        if tag == "input" and kind not in ("submit", "button", "file", "image", "reset") and \
                (kind not in ("checkbox", "radio") or "checked" in a):
            self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], []
        elif tag == "select":
            self._select = a["name"]

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self.fields.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "select":
            self._select = None


def form_fields(page: str, form_id: str) -> list[tuple[str, str]]:
    reader = FormReader(form_id)
    reader.feed(page)
    return reader.fields


class Session:
    """One signed-in person, with a keep-alive connection to each app server and the session
    cookie (signed with the site's key, so any server accepts it)."""

    def __init__(self, ports: list[int], name: str):
        self.ports, self.name, self.cookie = ports, name, ""
        self.conns = {p: self._connect(p) for p in ports}
        self.sign_in()

    @staticmethod
    def _connect(port: int) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, port: int, method: str, path: str, form=None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://127.0.0.1:{port}"
        conn = self.conns[port]
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            conn.close()
            self.conns[port] = self._connect(port)
            raise
        for value in response.headers.get_all("Set-Cookie") or []:
            if value.startswith(("__Host-storykit=", "storykit=", "session=")):
                self.cookie = value.split(";", 1)[0]
        return response.status, data

    def token(self, port: int, path: str) -> tuple[str, str]:
        status, page = self.request(port, "GET", path)
        assert status == 200, (path, status)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert found, path
        return html.unescape(found.group(1)), page

    def sign_in(self) -> None:
        port = self.ports[0]
        token, _ = self.token(port, "/sign-in")
        status, _ = self.request(port, "POST", "/sign-in", {
            "csrf_token": token, "name": self.name, "password": PASSWORD})
        assert status == 303, (self.name, status)

    def edit(self, port: int, story_id: str, marker: str) -> int:
        """Open the editor, add a line to the story and press Save: the answer's status."""
        status, fields = self.open_editor(port, story_id)
        return self.save(port, story_id, fields, marker) if status == 200 else status

    def open_editor(self, port: int, story_id: str) -> tuple[int, list[tuple[str, str]]]:
        """The editor's form fields (with its CSRF token and the story's etag)."""
        status, page = self.request(port, "GET", f"/stories/{story_id}/edit")
        return status, [(k, v) for k, v in form_fields(page, "story-form") if k != "action"]

    def save(self, port: int, story_id: str, fields: list[tuple[str, str]], marker: str) -> int:
        """Add ``marker`` to the story text in the form and press Save."""
        fields = [(k, v.rstrip("\n") + f"\n\n{marker}\n" if k == "body" else v)
                  for k, v in fields]
        status, _ = self.request(port, "POST", f"/stories/{story_id}/edit",
                                 fields + [("action", "save")])
        return status

    def press(self, port: int, story_id: str, action: str) -> int:
        token, page = self.token(port, f"/stories/{story_id}")
        etag = re.search(r'name="etag" value="([^"]+)"', page)
        if etag is None:
            return 0
        status, _ = self.request(port, "POST", f"/stories/{story_id}/{action}",
                                 {"csrf_token": token, "etag": html.unescape(etag.group(1))})
        return status

    def check_pack(self, port: int, story_ids: list[str]) -> tuple[int, str, list[tuple]]:
        """Ask which of ``story_ids`` may go in a board pack of web pages (the pack form's
        check step): the status, the page and the fields that would make the pack."""
        token, _ = self.token(port, "/packs/new")
        fields = [("csrf_token", token), ("use", "board"), ("format", "web"),
                  ("length", "full")] + [("story", i) for i in story_ids]
        status, page = self.request(port, "POST", "/packs/check", fields)
        return status, page, fields

    def withdraw(self, port: int, story_id: str) -> int:
        path = f"/stories/{story_id}/consent/withdraw"
        token, _ = self.token(port, path)
        status, _ = self.request(port, "POST", path, {
            "csrf_token": token, "scope": "stop_future_use",
            "reason": "They asked us to stop using it."})
        return status


# --- the load ------------------------------------------------------------------------------------

@dataclass
class Load:
    """What the simulated people did and saw."""

    seconds: float = 0.0   # while the timed people (editors, browsers) worked
    finished: float = 0.0  # until the last person (publishing, withdrawing) was done
    times: dict[str, list[float]] = field(default_factory=lambda: {
        "list": [], "story": [], "preview": [], "save": [], "dashboard": []})
    saved: dict[str, list[str]] = field(default_factory=dict)   # story -> accepted markers
    conflicts: int = 0
    published: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    #: withdrawals the other server did not honour at once, and what it still allowed
    not_honoured: list[str] = field(default_factory=list)
    #: packs asked for on the other server straight after a withdrawal: (withdrawn story,
    #: the story asked for with it)
    packs: list[tuple[str, str]] = field(default_factory=list)
    people: collections.Counter = field(default_factory=collections.Counter)  # by what they do
    saves_to: collections.Counter = field(default_factory=collections.Counter)  # by story
    saves_on: collections.Counter = field(default_factory=collections.Counter)  # by port
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.times.values())

    def p95(self, kind: str) -> float:
        values = self.times[kind]
        return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else float("nan")

    def error(self, words: str) -> None:
        with self.lock:
            self.errors.append(words)


def still_allowed(person: Session, port: int, story_id: str, other: str) -> list[str]:
    """What the server at ``port`` still allows straight after ``story_id`` was withdrawn
    on another server (each should be refused): opening it for changes, publishing it, and
    putting it in a pack with ``other``, at the pack form's consent check. The pack is then
    asked for anyway (the worker that makes it decides consent again: the test checks that
    it left the story out)."""
    found = []
    status, _ = person.request(port, "GET", f"/stories/{story_id}/edit")
    if status != 410:
        found.append(f"editor {status}")
    again = person.press(port, story_id, "publish")
    if again not in (0, 410):
        found.append(f"publish {again}")
    status, page, fields = person.check_pack(port, [story_id, other])
    title = f"Story {story_id.removeprefix('st-')} about the ward"
    going, _, left_out = page.partition("Stories that will be left out")
    if status != 200 or title in going or title not in left_out:
        found.append(f"pack check {status}")
    status, _ = person.request(port, "POST", "/packs/build", fields)
    if status != 303:
        found.append(f"pack order {status}")
    return found


def run_load(ports: list[int], seconds: float, users: int = 20, seed: int = 1,
             browse_ids: list[str] | None = None) -> Load:
    """``users`` people for ``seconds`` across the servers: half edit the ten shared stories,
    the rest browse lists, story pages and previews; one of those publishes every story of
    TO_PUBLISH and one withdraws every story of TO_WITHDRAW (spread over the run, finished
    even when the machine is slow), checking at once on another server that the story can
    no longer be changed, published or put in a pack."""
    load = Load()
    started, stop = 0.0, float("inf")  # set when everyone has signed in
    editors = users // 2
    browse_ids = browse_ids or EDITED

    def timed(kind: str, call):
        start = time.perf_counter()
        result = call()
        took = time.perf_counter() - start
        with load.lock:
            load.times[kind].append(took)
        return result

    def editor(n: int, person: Session) -> None:
        rng = random.Random(seed * 1000 + n)
        k = 0
        while time.monotonic() < stop:
            story_id, port = rng.choice(EDITED), rng.choice(ports)
            marker = f"Edit {k} by person {n} on port {port}."
            k += 1
            with load.lock:
                load.saves_to[story_id] += 1
                load.saves_on[port] += 1
            status = timed("save", lambda: person.edit(port, story_id, marker))  # noqa: B023
            if status == 303:
                with load.lock:
                    load.saved.setdefault(story_id, []).append(marker)
            elif status == 409:
                with load.lock:
                    load.conflicts += 1
            else:
                load.error(f"save of {story_id} on {port}: {status}")

    def browser(n: int, person: Session) -> None:
        rng = random.Random(seed * 1000 + n)
        while time.monotonic() < stop:
            port = rng.choice(ports)
            kind = rng.choice(("list", "list", "story", "preview", "dashboard"))
            path = {"list": f"/stories?page={rng.randint(1, 3)}", "dashboard": "/",
                    "story": f"/stories/{rng.choice(browse_ids)}",
                    "preview": f"/stories/{rng.choice(browse_ids)}/preview"}[kind]
            status, _ = timed(kind, lambda: person.request(port, "GET", path))  # noqa: B023
            if status != 200:
                load.error(f"GET {path} on {port}: {status}")

    def wait_turn(step: int, steps: int) -> None:
        """Spread ``steps`` steps over the first 80% of the run (none skipped when late)."""
        time.sleep(max(0.0, started + seconds * 0.8 * step / steps - time.monotonic()))

    def publisher(person: Session) -> None:
        for i, story_id in enumerate(TO_PUBLISH):
            wait_turn(i, len(TO_PUBLISH))
            status = person.press(ports[i % len(ports)], story_id, "publish")
            if status == 303:
                with load.lock:
                    load.published.append(story_id)
            else:
                load.error(f"publish of {story_id}: {status}")

    def withdrawer(person: Session) -> None:
        for i, story_id in enumerate(TO_WITHDRAW):
            wait_turn(i, len(TO_WITHDRAW))
            here, there = ports[i % len(ports)], ports[(i + 1) % len(ports)]
            status = person.withdraw(here, story_id)
            if status != 200:
                load.error(f"withdrawal of {story_id}: {status}")
                continue
            # at once, on the other server
            other = TO_PUBLISH[i % len(TO_PUBLISH)]
            allowed = still_allowed(person, there, story_id, other)
            with load.lock:
                load.withdrawn.append(story_id)
                load.packs.append((story_id, other))
                if allowed:
                    load.not_honoured.append(f"{story_id}: {', '.join(allowed)}")

    jobs: list[tuple] = [(editor, n, EDITORS[n % len(EDITORS)]) for n in range(editors)]
    others = users - editors
    jobs += [(browser, n, f"browser{n}") for n in range(max(0, others - 2))]
    if others >= 2:
        jobs += [(publisher, "pub"), (withdrawer, "adm")]
    doing = {editor: "editing", browser: "browsing", publisher: "publishing",
             withdrawer: "withdrawing"}
    load.people.update(doing[job[0]] for job in jobs)
    signed_in: list[Session] = []

    def sign_in(name: str) -> None:
        person = Session(ports, name)
        with load.lock:
            signed_in.append(person)

    # everyone signs in first, four at a time (sign-in attempts under way count towards the
    # per-address limit of attempts: storykit.web.throttle), then the clock starts
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(sign_in, [job[-1] for job in jobs]))
    by_name: dict[str, list[Session]] = {}
    for person in signed_in:
        by_name.setdefault(person.name, []).append(person)
    jobs = [(*job[:-1], by_name[job[-1]].pop()) for job in jobs]

    def guarded(target, *args):
        try:
            target(*args)
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            load.error(f"{target.__name__}: {type(exc).__name__}: {exc}")

    started = time.monotonic()
    stop = started + seconds
    threads = [threading.Thread(target=guarded, args=job) for job in jobs]
    for t in threads:
        t.start()
    timed_ones = [t for t, job in zip(threads, jobs, strict=True) if job[0] in (editor, browser)]
    for t in timed_ones:  # the people whose requests are timed (and counted) stop on time
        t.join()
    load.seconds = time.monotonic() - started
    for t in threads:  # the last withdrawal may wait for a site build to let go
        t.join()
    load.finished = time.monotonic() - started
    return load
