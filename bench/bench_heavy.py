"""Benchmark the bounds on heavy work (issue 12, hardening item 2).

1. ``check_complexity``, which ``storykit check``, every render and every live check run on
   each story text: microseconds for a 600-word and a 5,000-word story (median of 5 rounds).
2. The slowest texts the Markdown limits still allow (found by fuzzing): seconds to render
   each (median of 5, and CPU seconds).
3. Sign-in while under attack: ``storykit serve`` on a generated site in a process of its own,
   an attacker process sending the editor's live check with heavy texts from 16 threads
   (tests/heavy_checks.py), and this process timing ``GET /sign-in`` (40 times per round).
   Prints sign-in median and p95 with and without the attack, the server's CPU seconds, and
   how the heavy checks were answered. Target: p95 under 300 ms under attack.

    python bench/bench_heavy.py [--rounds 3]

Figures come from a 2-core machine shared with other work: compare medians, not single runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
STORYKIT = str(Path(sys.executable).parent / "storykit")
TEXT = ("the ward nurse came over and sat with me while I waited for news about my mum she "
        "said it was fine to press the buzzer at night and the porter walked us all the way "
        "to the eye clinic because the signs were hard to read")
WORDS = TEXT.split()


def story(words: int, rng: random.Random) -> str:
    paragraphs = []
    while sum(len(p.split()) for p in paragraphs) < words:
        sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize()
                     + "." for _ in range(rng.randint(3, 6))]
        paragraphs.append(" ".join(sentences))
    return "## What happened\n\n" + "\n\n".join(paragraphs) + "\n\n- a list item\n- another\n"


def complexity(rounds: int) -> None:
    from storykit.markup import check_complexity

    rng = random.Random(2027)
    for words in (600, 5_000):
        text = story(words, rng)
        per = [timeit.timeit(lambda t=text: check_complexity(t), number=2_000) / 2_000 * 1e6
               for _ in range(rounds)]
        print(f"  check_complexity, {words:>5}-word story: {statistics.median(per):6.1f} us")


def worst_texts(rounds: int) -> None:
    from heavy_checks import HEAVY

    from storykit.markup import render_markdown

    texts = {
        "headings, references, underlines": HEAVY,
        "1,999 one-line list blocks": "\n\n".join(["- a"] * 1_999),
        "2,999 list items in one block": "\n".join(["- a"] * 2_999),
        "headings inside 100 long blocks": "\n\n".join(["\n".join(["## heading words"] * 50)]
                                                        * 100),
        "99 blocks of 30 nested items": "\n\n".join(["- " * 30 + "x"] * 99),
        "emphasis in 600 blocks": "\n\n".join(["__a__ *a*"] * 600),
        "a 490 KB story of plain prose": "\n\n".join(
            ["The nurse came back at three in the morning and sat with me. " * 20] * 390),
    }
    for name, text in texts.items():
        walls, cpus = [], []
        for _ in range(rounds):
            wall, cpu = time.perf_counter(), time.process_time()
            render_markdown(text)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        print(f"  {name:34} {statistics.median(walls):6.3f} s  (cpu {statistics.median(cpus):.3f} s)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sign_in_times(base: str, count: int = 40) -> list[float]:
    waits = []
    for _ in range(count):
        started = time.perf_counter()
        with urllib.request.urlopen(base + "/sign-in", timeout=120) as answer:
            answer.read()
        waits.append(time.perf_counter() - started)
        time.sleep(0.05)
    return sorted(waits)


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def under_attack(rounds: int) -> None:
    from app_support import PASSWORD, make_world
    from editor_support import editor_data

    with tempfile.TemporaryDirectory(prefix="bench-heavy-") as tmp:
        world = make_world(Path(tmp) / "site")
        forms = Path(tmp) / "forms.json"
        forms.write_text(json.dumps({
            name: [sid, {k: v for k, v in editor_data(world.site.store.get(sid)).items()
                         if k != "body"}]
            for name, sid in (("ann", "st-draft1"), ("bob", "st-bobdraft"))}))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([STORYKIT, "--site", str(world.root), "serve", "--port",
                                   str(port)], env={**os.environ, "STORYKIT_ENV": "development"},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    sign_in_times(base, 1)
                    break
                except OSError:
                    time.sleep(0.1)
            idle, attacked, answers, cpu = [], [], [], []
            for _ in range(rounds):
                idle.append(sign_in_times(base))
                attacker = subprocess.Popen(
                    [sys.executable, str(ROOT / "tests" / "heavy_checks.py"), base, PASSWORD,
                     str(forms)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                attacker.stdout.readline()
                before = cpu_of(server.pid)
                attacked.append(sign_in_times(base))
                cpu.append(cpu_of(server.pid) - before)
                out, _err = attacker.communicate("stop\n", timeout=300)
                answers.append(json.loads(out.strip().splitlines()[-1]))
        finally:
            server.terminate()
            server.wait(timeout=30)
    for label, runs in (("idle", idle), ("under 16 heavy checks", attacked)):
        middle = statistics.median(statistics.median(r) for r in runs)
        high = statistics.median(p95(r) for r in runs)
        print(f"  sign-in {label:22} median {middle * 1000:5.0f} ms   p95 {high * 1000:5.0f} ms")
    print(f"  server CPU while attacked: {statistics.median(cpu):.2f} s per round of 40 sign-ins")
    for summary in answers:
        print(f"  heavy checks answered: {summary['statuses']}, largest answer "
              f"{summary['largest answer']:,} bytes, slowest 200 {summary['slowest 200']:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("Markdown limits (storykit.markup):")
    complexity(max(args.rounds, 5))
    print("The slowest texts still allowed:")
    worst_texts(max(args.rounds, 5))
    print("Sign-in under attack (storykit serve, 8 threads):")
    under_attack(args.rounds)


if __name__ == "__main__":
    main()
