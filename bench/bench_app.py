"""Benchmark the browser app with 10,000 stories: page times in-process, then a 60-second load
of 20 concurrent users against the app served by waitress on 127.0.0.1.

1. Generates N synthetic stories (invented text, mixed statuses, consent for the board and the
   public website on most) and 20 users (14 advocates owning the stories between them, 2
   reviewers, 2 publishers, 2 admins) in a temporary site.
2. In-process (Flask test client, production settings, warm): 5 rounds of 200 requests per
   page; prints the median over the rounds of each round's median and 95th percentile.
   Target: the story list and the dashboard p95 under 100 ms.
3. Load: the app served by waitress (8 threads, as ``storykit serve``) in this process; the
   load tool is Debian's ``wrk`` (apt-get install wrk) with a Lua script that gives each
   request one of the 20 users' session cookies and one of the app's pages. Target: zero
   errors (no socket errors, no non-2xx/3xx answers). Fails if wrk is missing.

    python bench/bench_app.py                        # 10,000 stories, 60 s load
    python bench/bench_app.py --stories 1000 --seconds 10

Figures are from a 2-core machine shared with other work: compare medians, not single runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROUNDS = 5
PER_ROUND = 200
PASSWORD = "harbour lantern pebble"
TOML = '[site]\ntitle = "Benchmark stories"\norganisation = "Example NHS Trust"\n'
WORD_TEXT = ("the ward nurse came over and sat with me while I waited for news about my mum she "
         "explained what would happen next and I felt less afraid we had been there since "
         "morning nobody told us where to go the doctor listened carefully then drew a little "
         "picture on the back of a leaflet my daughter held my hand")
WORDS = WORD_TEXT.split()
STATUSES = ["draft"] * 8 + ["in_review"] * 3 + ["changes_requested"] * 2 + ["approved"] * 4 + \
    ["published"] * 3
SERVICES = ["Maternity", "Stroke rehabilitation", "District nursing", "Dementia care",
            "Emergency department", "Outpatients", "Physiotherapy", "Cancer care"]


def story_text(n: int, rng: random.Random, status: str | None = None) -> str:
    """An invented story of about 300 words; ``status`` None picks one at random."""
    body = "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + "."
                       for _ in range(5))
    day = dt.date(2026, 1, 1) + dt.timedelta(days=n % 300)
    return (f"---\ntitle: Story number {n} about {rng.choice(SERVICES).lower()}\n"
            f"slug: story-{n:05d}\nstatus: {status or rng.choice(STATUSES)}\n"
            f"service: {rng.choice(SERVICES)}\nsummary: What helped, in a few words.\n"
            f"storyteller:\n  name: Sam Example{n}\n  pseudonym: Sam\n  role: patient\n"
            f"created: {day}\nupdated: {day}\nrevision: 2\n---\n{body}\n")


def consent_text(n: int) -> str:
    uses = "[board, staff_training, public_website]" if n % 5 else "[board]"
    return ("versions:\n- version: 1\n  recorded: 2026-01-01T10:00:00Z\n  recorded_by: bench\n"
            "  status: active\n  given_by: self\n  method: written\n  granted: 2026-01-01\n"
            f"  expires: 2030-01-01\n  uses: {uses}\n  media: [text, quotes]\n"
            "  identification: pseudonym\n  signoff_required: false\n")


def make_site(root: Path, count: int, status: str | None = None) -> None:
    """A site of ``count`` stories (``st-b00000``...), each with a consent file."""
    rng = random.Random(7)
    (root / "stories").mkdir(parents=True)
    (root / "storykit.toml").write_text(TOML)
    for n in range(count):
        folder = root / "stories" / f"st-b{n:05d}"
        folder.mkdir()
        (folder / "story.md").write_text(story_text(n, rng, status))
        (folder / "consent.yml").write_text(consent_text(n))


def make_users(app, count: int) -> dict[str, list[str]]:
    """Two people in each role and 14 advocates; advocate ``adv{n % 14:02d}`` owns story n."""
    from storykit.web import accounts

    st = app.extensions["storykit"]
    conn = st.db()
    people = {"advocate": [f"adv{i:02d}" for i in range(14)], "reviewer": ["rev01", "rev02"],
              "publisher": ["pub01", "pub02"], "admin": ["adm01", "adm02"]}
    made = {}
    for role, names in people.items():
        for name in names:
            made[name] = accounts.add_user(conn, st.hasher, name, PASSWORD, [role])
    conn.executemany("INSERT INTO story_access (story_id, user_id, access, granted_by, "
                     "granted_at) VALUES (:story_id, :user_id, 'owner', 'bench', '2026-01-01')",
                     [{"story_id": f"st-b{n:05d}", "user_id": made[people["advocate"][n % 14]].id}
                      for n in range(count)])
    return people


def signed_in_client(app, name: str):
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/sign-in", data={"csrf_token": token, "name": name,
                                             "password": PASSWORD})
    assert response.status_code == 303, response.status_code
    return client


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def time_pages(app, people) -> list[tuple[str, float, float, float]]:
    """(page, median of round medians, median of round p95s, worst) in milliseconds."""
    adv, rev = signed_in_client(app, "adv03"), signed_in_client(app, "rev01")
    pub, adm = signed_in_client(app, "pub01"), signed_in_client(app, "adm01")
    pages = [("dashboard (advocate, ~700 own stories)", adv, "/"),
             ("dashboard (admin)", adm, "/"),
             ("story list (admin, all 10,000, page 1)", adm, "/stories"),
             ("story list (admin, page 100)", adm, "/stories?page=100"),
             ("story list (advocate)", adv, "/stories"),
             ("story list (publisher, approved only)", pub, "/stories?status=approved"),
             ("review queue (reviewer)", rev, "/review"),
             ("story page (admin)", adm, "/stories/st-b00042")]
    results = []
    for label, client, url in pages:
        assert client.get(url).status_code == 200, url  # warm this page
        medians, p95s, worst = [], [], 0.0
        for _ in range(ROUNDS):
            times = []
            for _ in range(PER_ROUND):
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            medians.append(statistics.median(times))
            p95s.append(p95(times))
            worst = max(worst, max(times))
        results.append((label, statistics.median(medians), statistics.median(p95s), worst))
    return results


LUA = """
-- storykit bench: each request is one of the 20 users, on a page that user may open.
local users = { %(users)s }
local threads = {}
math.randomseed(42)

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

request = function()
  local u = users[math.random(#users)]
  local p = u.paths[math.random(#u.paths)]
  return wrk.format("GET", p, { ["Cookie"] = u.cookie })
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write("status counts:")
  local total = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format(" %%d=%%d", k, v)) end
  io.write("\\n")
end
"""


def allowed_paths(app, name: str, role: str) -> list[str]:
    """Pages ``name`` may open: their lists, queues, and a few stories they may see."""
    from storykit.web import accounts
    from storykit.web.access import VIEW, can

    st = app.extensions["storykit"]
    user = accounts.by_name(st.db(), name)
    snap = st.index.snapshot()
    stories = [s.id for s in snap.stories.values() if can(user, VIEW, s)][:5]
    common = ["/", "/stories", "/stories?page=3", "/account/password"]
    extra = {"advocate": [], "reviewer": ["/review"], "publisher": ["/publishing",
             "/stories?status=approved"], "admin": ["/admin/users", "/admin/audit",
                                                   "/stories?page=150"]}[role]
    return common + extra + [f"/stories/{sid}" for sid in stories]


def load_test(app, people, seconds: int) -> str:
    """Serve with waitress and run wrk; returns wrk's report (raises if there were errors)."""
    import logging

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from app_support import stop_server
    from waitress.server import create_server

    from storykit.web.commands import server_body_limit

    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is missing: run 'apt-get install -y wrk' (Debian) and try again")
    logging.getLogger("waitress").setLevel(logging.ERROR)  # "queue depth" and shutdown notes
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    users = []
    for role, names in people.items():
        for name in names:
            cookie = signed_in_client(app, name).get_cookie(cookie_name).value
            paths = ", ".join(f'"{p}"' for p in allowed_paths(app, name, role))
            users.append(f'{{ cookie = "{cookie_name}={cookie}", paths = {{ {paths} }} }}')
    server = create_server(app, host="127.0.0.1", port=0, threads=8, ident="storykit",
                           max_request_body_size=server_body_limit(app.config["MAX_CONTENT_LENGTH"]))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % {"users": ",\n  ".join(users)})
    try:
        result = subprocess.run([wrk, "-t2", "-c20", f"-d{seconds}s", "--latency", "--timeout",
                                 "10s", "-s", script.name,
                                 f"http://127.0.0.1:{server.effective_port}"],
                                capture_output=True, text=True, check=True)
    finally:
        stop_server(server, thread)
        Path(script.name).unlink()
    report = result.stdout
    if re.search(r"Socket errors: (.*)", report) or re.search(r"Non-2xx or 3xx", report):
        raise SystemExit(f"ERRORS under load:\n{report}")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    if args.stories < 100 or args.seconds < 1:
        parser.error("use at least 100 stories and 1 second")

    from storykit.site import Site
    from storykit.web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        start = time.perf_counter()
        make_site(root, args.stories)
        print(f"generated {args.stories} stories in {time.perf_counter() - start:.1f} s")
        app = create_app(Site.open(root))
        people = make_users(app, args.stories)
        start = time.perf_counter()
        app.extensions["storykit"].index.snapshot()
        print(f"first index load (cold, parses every file): {time.perf_counter() - start:.2f} s")
        index = app.extensions["storykit"].index
        scans = []
        for _ in range(5):
            start = time.perf_counter()
            index.refresh()
            scans.append(time.perf_counter() - start)
        print(f"background rescan with nothing changed: {statistics.median(scans) * 1000:.0f} ms "
              f"(median of 5), repeated every {index.interval():.1f} s")

        print(f"\nin-process, warm, {ROUNDS} rounds x {PER_ROUND} requests (ms; median of rounds):")
        print(f"  {'page':44} {'median':>8} {'p95':>8} {'worst':>8}")
        results = time_pages(app, people)
        for label, median, pct95, worst in results:
            print(f"  {label:44} {median:8.1f} {pct95:8.1f} {worst:8.1f}")
        slow = [r for r in results if ("dashboard" in r[0] or "story list" in r[0]) and r[2] >= 100]

        print(f"\nload: wrk, 2 threads, 20 connections (20 users), {args.seconds} s, waitress "
              "8 threads on 127.0.0.1:")
        print(load_test(app, people, args.seconds))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of this process (app, index, server): {peak:.0f} MB")
        if slow:
            raise SystemExit(f"p95 over 100 ms: {[r[0] for r in slow]}")
        print("OK: story list and dashboard p95 under 100 ms; zero errors under load")


if __name__ == "__main__":
    main()
