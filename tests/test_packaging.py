"""`pip install .` (not only editable) must ship the first-party plugins and the themes."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_ships_plugins_themes_and_entry_points(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--wheel-dir", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("storykit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for plugin in ("storykit_web", "storykit_pdf", "storykit_slides", "storykit_pptx",
                   "storykit_cards", "storykit_letters"):
        assert f"{plugin}/__init__.py" in names
    for data in ("storykit_letters/templates/letters/easy_read.html",
                 "storykit_letters/static/icons/tick.svg",
                 "storykit/migrations/versions/storykit_0004_packs.py"):
        assert data in names
    for theme in ("nhs", "high-contrast", "large-print"):
        assert f"storykit/_themes/{theme}/theme.toml" in names
    assert "storykit/_themes/nhs/static/fonts/LiberationSans-Regular.ttf" in names
    assert "storykit/starter/stories/st-example/story.md" in names
    for migrations in ("storykit/migrations/env.py",
                       "storykit/migrations/versions/storykit_0001_distributions.py",
                       "storykit/web/migrations/storykit_web_0001_accounts.py"):
        assert migrations in names  # storykit db upgrade works from an installed copy
    assert "storykit/migrations/sqlite_snapshots.json" in names  # new databases: no Alembic
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[storykit]" in text and "storykit_web = storykit_web" in text
    assert "storykit = storykit.cli:run" in text  # the `storykit` command
    assert not any(n.startswith(("stories/", "instance/", "tests/")) for n in names)


def test_an_installed_copy_finds_its_built_in_themes(tmp_path):
    """Outside the checkout, themes come from the package, not from the repository."""
    from storykit.default_themes import builtin_themes_dir

    assert (builtin_themes_dir() / "nhs" / "theme.toml").is_file()
