"""Benchmark "publish means live" on a site of 1,000 stories, against the real thing:
``storykit serve`` (waitress, a worker in the same process, the publish folder served on a
second port) started as its own process, driven over HTTP from this one.

1. **Publish to live**: a publisher presses Publish (the POST, with its CSRF token and
   session cookie); we time until the story's page is served from the publish folder.
   Target: median under 2 s.
2. **Withdrawal to gone**: staff record a withdrawal (the POST); we time until the page
   answers 404. Target: median under 2 s.
3. **Browsing while builds run**: 20 signed-in users (Python threads here, one keep-alive
   connection each: Debian's ``wrk`` cannot follow the publish/withdraw forms) fetch the
   story list, their dashboard and pages of stories they may open for 60 s while another
   thread keeps
   publishing and taking down stories, so site builds run the whole time. Target: zero
   errors and the story list's 95th percentile under 200 ms.

CPU seconds of the server process (and its build workers) are printed for each part: the
machine is shared with other work, so they are steadier than wall-clock time.

    python bench/bench_publish.py                      # 1,000 stories, 7 runs, 60 s of load
    python bench/bench_publish.py --seconds 10 --runs 3
"""

from __future__ import annotations

import argparse
import html
import http.client
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_app import PASSWORD, make_site, make_users  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
VIEWABLE: dict[str, list[str]] = {}  # person -> stories they may open
LOG = Path(tempfile.gettempdir()) / f"bench-publish-{os.getpid()}.log"  # the server's stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its waited-for children (the build's workers)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS


class Session:
    """One signed-in person: a keep-alive connection and the session cookie."""

    def __init__(self, port: int, name: str):
        self.port, self.name, self.cookie = port, name, ""
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.sign_in()

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            raise
        for value in response.headers.get_all("Set-Cookie") or []:
            if value.startswith(("__Host-storykit=", "storykit=", "session=")):
                self.cookie = value.split(";", 1)[0]
        return response.status, data

    def token(self, path: str) -> tuple[str, str]:
        status, page = self.request("GET", path)
        assert status == 200, (path, status)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert found, path
        return html.unescape(found.group(1)), page

    def sign_in(self) -> None:
        token, _ = self.token("/sign-in")
        status, _ = self.request("POST", "/sign-in", {"csrf_token": token, "name": self.name,
                                                      "password": PASSWORD})
        assert status == 303, (self.name, status)


def served(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def wait_for_status(port: int, path: str, status: int, timeout: float = 60) -> float:
    """Seconds until ``path`` answers ``status`` (polled every 20 ms)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if served(port, path) == status:
            return time.perf_counter() - start
        time.sleep(0.02)
    raise SystemExit(f"{path} did not answer {status} within {timeout} s")


def press(pub: Session, story: str, action: str) -> None:
    """Press a status button (``publish``, ``unpublish``) on the story's page."""
    token, page = pub.token(f"/stories/{story}")
    etag = re.search(r'name="etag" value="([^"]+)"', page).group(1)
    status, _ = pub.request("POST", f"/stories/{story}/{action}",
                            {"csrf_token": token, "etag": html.unescape(etag)})
    assert status == 303, (story, action, status)


def withdraw(adm: Session, story: str) -> None:
    token, _ = adm.token(f"/stories/{story}/consent/withdraw")
    status, _ = adm.request("POST", f"/stories/{story}/consent/withdraw",
                            {"csrf_token": token, "scope": "stop_future_use",
                             "reason": "Benchmark withdrawal."})
    assert status == 200, (story, status)


def approved_stories(root: Path) -> list[str]:
    """Approved stories whose consent covers the public website (bench_app: n % 5 != 0)."""
    found = []
    for folder in sorted((root / "stories").iterdir()):
        n = int(folder.name[4:])
        if n % 5 and "status: approved" in (folder / "story.md").read_text():
            found.append(folder.name)
    return found


def slug(story: str) -> str:
    return f"/stories/story-{int(story[4:]):05d}.html"


def setup(root: Path, count: int, public_port: int) -> dict[str, list[str]]:
    from storykit.site import Site
    from storykit.web import create_app

    make_site(root, count)
    with (root / "storykit.toml").open("a") as f:
        f.write(f'\n[publish]\npublic_url = "http://127.0.0.1:{public_port}/"\n')
    app = create_app(Site.open(root))
    people = make_users(app, count)
    st = app.extensions["storykit"]
    snap = st.index.snapshot()
    from storykit.web import accounts
    from storykit.web.access import VIEW, can

    for names in people.values():
        for name in names:  # stories each person may open (others would be 404s, audited)
            user = accounts.by_name(st.db(), name)
            VIEWABLE[name] = [s.id for s in snap.stories.values() if can(user, VIEW, s)][:50]
    st.site.database.close()
    done = subprocess.run([sys.executable, "-m", "storykit", "--site", str(root), "build"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return people


def start_server(root: Path, port: int, public_port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "storykit", "--site", str(root), "serve", "--port", str(port),
         "--public-port", str(public_port), "--workers", "1", "--threads", "8"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=LOG.open("w"), text=True,
        env={**os.environ, "STORYKIT_PROXY_COUNT": "0"})  # a pipe nobody read would block it
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if served(port, "/sign-in") == 200 and served(public_port, "/index.html") == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("storykit serve did not start: " + LOG.read_text()[-2000:])


def latencies(server: subprocess.Popen, port: int, public_port: int, stories: list[str],
              runs: int) -> None:
    pub, adm = Session(port, "pub01"), Session(port, "adm01")
    time.sleep(2)  # the build serve queued when it started
    live, gone = [], []
    cpu0 = cpu_seconds(server.pid)
    for story in stories[:runs]:
        start = time.perf_counter()
        press(pub, story, "publish")
        live.append(time.perf_counter() - start + wait_for_status(public_port, slug(story), 200))
    cpu1 = cpu_seconds(server.pid)
    for story in stories[:runs]:
        start = time.perf_counter()
        withdraw(adm, story)
        gone.append(time.perf_counter() - start + wait_for_status(public_port, slug(story), 404))
    cpu2 = cpu_seconds(server.pid)
    print(f"Publish (POST) to page served:  median {statistics.median(live):.2f} s, worst "
          f"{max(live):.2f} s over {runs} stories (target < 2 s); server CPU "
          f"{(cpu1 - cpu0) / runs:.2f} s per publish")
    print(f"Withdrawal (POST) to page gone: median {statistics.median(gone):.2f} s, worst "
          f"{max(gone):.2f} s over {runs} stories (target < 2 s); server CPU "
          f"{(cpu2 - cpu1) / runs:.2f} s per withdrawal")


def browse_while_building(server: subprocess.Popen, port: int, people: dict[str, list[str]],
                          stories: list[str], seconds: int, users: int,
                          withdrawn: set[str]) -> None:
    names = (people["advocate"] + people["reviewer"] + people["publisher"] + people["admin"])
    sessions = [Session(port, names[i % len(names)]) for i in range(users)]
    stop = time.monotonic() + seconds
    times: dict[str, list[float]] = {"list": [], "dashboard": [], "story": []}
    errors: list[str] = []
    lock = threading.Lock()

    def browse(session: Session, seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < stop:
            kind = rng.choice(("list", "list", "dashboard", "story"))
            mine = [s for s in VIEWABLE.get(session.name, []) if s not in withdrawn] or [
                "st-b00001"]
            path = {"list": f"/stories?page={rng.randint(1, 5)}", "dashboard": "/",
                    "story": f"/stories/{rng.choice(mine)}"}[kind]
            start = time.perf_counter()
            try:
                status, _ = session.request("GET", path)
            except Exception as exc:  # noqa: BLE001 - counted as an error
                with lock:
                    errors.append(f"{path}: {type(exc).__name__}")
                continue
            took = time.perf_counter() - start
            with lock:
                if status >= 400:
                    errors.append(f"{path}: {status}")
                else:
                    times[kind].append(took)

    builds = [0]

    def keep_building() -> None:
        pub = Session(port, "pub02")
        cycle = stories[len(stories) // 2:]
        i = 0
        while time.monotonic() < stop - 2:
            story = cycle[i % len(cycle)]
            press(pub, story, "publish")
            time.sleep(1.5)
            press(pub, story, "unpublish")
            time.sleep(1.5)
            builds[0] += 2
            i += 1

    cpu0 = cpu_seconds(server.pid)
    threads = [threading.Thread(target=browse, args=(s, n)) for n, s in enumerate(sessions)]
    threads.append(threading.Thread(target=keep_building))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu = cpu_seconds(server.pid) - cpu0
    total = sum(len(v) for v in times.values())
    print(f"{users} users browsing for {seconds} s while {builds[0]} publish/take-down "
          f"changes were built: {total} requests ({total / seconds:.0f}/s), "
          f"{len(errors)} errors (target 0); server CPU {cpu:.1f} s")
    for kind, values in times.items():
        if len(values) >= 20:
            p95 = statistics.quantiles(values, n=20)[18]
            print(f"  {kind:10} median {statistics.median(values) * 1000:6.1f} ms   p95 "
                  f"{p95 * 1000:6.1f} ms   ({len(values)} requests)"
                  + ("   (target p95 < 200 ms)" if kind == "list" else ""))
    for error in errors[:10]:
        print(f"  error: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7, help="stories published and withdrawn")
    parser.add_argument("--seconds", type=int, default=60, help="length of the browsing load")
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; the machine may be shared: compare medians and CPU "
          "seconds, not single runs.")
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        root = Path(tmp) / "site"
        port, public_port = free_port(), free_port()
        started = time.perf_counter()
        people = setup(root, args.stories, public_port)
        stories = approved_stories(root)
        print(f"{args.stories} stories ({len(stories)} approved to publish), made and built "
              f"in {time.perf_counter() - started:.1f} s")
        server = start_server(root, port, public_port)
        try:
            latencies(server, port, public_port, stories, args.runs)
            browse_while_building(server, port, people, stories, args.seconds, args.users,
                                  set(stories[:args.runs]))
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
            LOG.unlink(missing_ok=True)
    print(f"This process (the load) used {time.process_time():.1f} CPU seconds.")


if __name__ == "__main__":
    main()
