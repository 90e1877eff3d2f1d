"""storykit.fsio's pool of files made ahead (FilePool): pages are written whole through it,
what it does not use is deleted, and nothing placed by hand under its names is written
through. Each case runs in a fresh process: the pool forks only from a process with one
thread, and this one may have others (the PostgreSQL tests' server)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import json, os, sys
from pathlib import Path
from storykit import fsio
pages, count, write, placed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
pages.mkdir(parents=True, exist_ok=True)
pool = fsio.FilePool(str(pages), count)
precious = pages.parent / "precious.txt"
precious.write_bytes(b"keep me")
name = Path(pool.prefix + "0")
if placed == "symlink":
    name.symlink_to(precious)
elif placed == "hard link":
    os.link(precious, name)
elif placed == "not empty":
    name.write_bytes(b"something")
started = pool.start()
os.waitpid(pool.pid, 0)  # every file it could make is made: the cases do not race
pool.pid = -1  # (reaped here; close() waits for no child)
for n in range(write):
    fsio.replace_file(str(pages / f"p{n}.html"), [b"<p>", b"%d</p>" % n], pool=pool)
taken = pool.taken
pool.close()
print(json.dumps({"started": started, "taken": taken, "files": sorted(os.listdir(pages)),
                  "precious": precious.read_text(), "modes": sorted(
                      {oct((pages / f).stat().st_mode & 0o777) for f in os.listdir(pages)
                       if not f.startswith(".")})}))
"""


def run_pool(tmp_path: Path, count: int, write: int, placed: str = "") -> dict:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "pages"), str(count),
                           str(write), placed], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_pages_are_written_whole_through_files_made_ahead(tmp_path):
    found = run_pool(tmp_path, count=5, write=3)
    assert found["started"] and found["taken"] == 3  # each page filled a file made ahead
    assert found["files"] == ["p0.html", "p1.html", "p2.html"]  # the other two deleted
    assert (tmp_path / "pages" / "p2.html").read_bytes() == b"<p>2</p>"
    assert found["modes"] == ["0o644"]


def test_more_pages_than_files_made_ahead_are_written_as_before(tmp_path):
    found = run_pool(tmp_path, count=2, write=4)
    assert found["taken"] == 2
    assert found["files"] == ["p0.html", "p1.html", "p2.html", "p3.html"]


@pytest.mark.parametrize("placed", ["symlink", "hard link", "not empty"])
def test_a_file_placed_by_hand_under_a_pools_name_is_never_written_through(tmp_path, placed):
    """Someone who can write in the output folder puts a link (or a file with something in
    it) where the pool's first file would be: its child cannot make that name (and stops),
    every page is written to a new temporary file instead, and what the link points at is
    unchanged. The placed name goes with the pool's unused ones (deleting a link never
    touches what it points at)."""
    found = run_pool(tmp_path, count=3, write=2, placed=placed)
    assert found["started"] and found["taken"] == 0
    assert found["precious"] == "keep me"
    assert found["files"] == ["p0.html", "p1.html"]
    assert (tmp_path / "pages" / "p1.html").read_bytes() == b"<p>1</p>"
