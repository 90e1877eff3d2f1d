"""An attacker for test_app_workload.py, run as a process of its own (as a real one would be:
its work must not share the app's interpreter): signs in as each named advocate, then sends
the editor's live check with heavy story texts from 16 threads, as fast as the app answers,
until told to stop (a line on standard input). Prints "ready" once every thread is sending,
and at the end one JSON line summing up the answers.

    python tests/heavy_checks.py BASE_URL PASSWORD FORMS.json < control

FORMS.json: {"ann": ["st-draft1", {editor form fields}], ...}; each person's threads check
their own story.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

THREADS = 16
#: The issue's attack (4,000 lines of 30 nested list markers, 252 KB), the same markers packed
#: into fewer blocks, and the heaviest text the limits allow that fuzzing found.
ATTACK = "\n\n".join(["- " * 30 + "x"] * 4000)
PACKED = "\n\n".join(["\n".join(["- " * 30 + "x"] * 20)] * 200)
HEAVY = "\n\n".join("## heading words\n&amp; ###### x\n" + "=" * 40 for _ in range(1_000))
BODIES = (ATTACK, HEAVY, PACKED, HEAVY)


class Client:
    """A browser-like HTTP client: cookies, and CSRF tokens read from pages."""

    def __init__(self, base: str):
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def request(self, path: str, body: bytes | None = None) -> tuple[int, dict, bytes]:
        try:
            with self.opener.open(self.base + path, data=body, timeout=120) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def page(self, path: str) -> str:
        return self.request(path)[2].decode()

    def sign_in(self, name: str, password: str) -> None:
        token = _token(self.page("/sign-in"))
        form = urllib.parse.urlencode({"csrf_token": token, "name": name, "password": password})
        status, _headers, _body = self.request("/sign-in", form.encode())
        assert status == 200, f"sign-in as {name}: {status}"


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def main() -> None:
    base, password, forms = sys.argv[1:]
    people = json.loads(Path(forms).read_text(encoding="utf-8"))
    jobs = []
    for name, (story_id, fields) in people.items():
        client = Client(base)
        client.sign_in(name, password)
        form = {**fields, "csrf_token": _token(client.page(f"/stories/{story_id}/edit"))}
        for n in range(THREADS // len(people)):
            body = urllib.parse.urlencode({**form, "body": BODIES[n % len(BODIES)]}).encode()
            jobs.append((client, f"/stories/{story_id}/check", body))
    answers: list[tuple[int, bool, int, float]] = []
    stop = threading.Event()
    started = threading.Barrier(len(jobs) + 1)

    def attack(client: Client, path: str, body: bytes) -> None:
        started.wait()
        while not stop.is_set():
            began = time.perf_counter()
            status, headers, answer = client.request(path, body)
            answers.append((status, bool(headers.get("Retry-After")), len(answer),
                            time.perf_counter() - began))

    threads = [threading.Thread(target=attack, args=job, daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    started.wait()
    time.sleep(0.5)
    print("ready", flush=True)
    sys.stdin.readline()
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    statuses: dict[str, int] = {}
    for status, *_rest in answers:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    print(json.dumps({
        "threads": len(jobs), "statuses": statuses,
        "429 without Retry-After": sum(1 for s, r, *_ in answers if s == 429 and not r),
        "largest answer": max(size for *_x, size, _t in answers),
        "slowest 200": max((t for s, _r, _z, t in answers if s == 200), default=0.0)}))


if __name__ == "__main__":
    main()
