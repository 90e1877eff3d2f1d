"""Start-up cost: the command line and ``import storykit`` load only what they use.

Each check runs a fresh interpreter and looks at ``sys.modules``: a heavy library imported at
start-up (Jinja2, Markdown, YAML, the app's argon2 and Flask, Pillow, WeasyPrint) costs every
command tens of milliseconds, ``storykit build`` on an unchanged site included.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import write_story

import storykit
from storykit import plugins

#: Never needed to start up, list stories from a warm cache, or load plugins.
HEAVY = {"jinja2", "markdown", "yaml", "ruamel", "argon2", "flask", "PIL", "weasyprint"}
#: The app and the renderers' libraries, never needed to load plugins or show help.
APP_AND_RENDERERS = {"argon2", "flask", "PIL", "weasyprint", "pptx", "waitress"}

#: Where each public name is defined (the package root re-exports them).
HOMES = {
    "storykit.config": ["SiteConfig", "load_config"],
    "storykit.consent": ["Decision", "Reason", "StoryView", "decide"],
    "storykit.errors": ["ConfigError", "ConflictError", "GoneError", "NotFoundError",
                        "NotSavedError", "StorykitError", "ValidationError"],
    "storykit.hookspecs": ["hookimpl", "hookspec"],
    "storykit.links": ["LinkRefused", "Links"],
    "storykit.mail": ["notify"],
    "storykit.markup": ["render_markdown", "sanitise"],
    "storykit.model": ["ConsentVersion", "Image", "Person", "Story", "Storyteller"],
    "storykit.render": ["Artefact", "Format", "Job", "Notice", "render", "render_draft"],
    "storykit.site": ["Site"],
    "storykit.store": ["FileStore", "Store"],
    "storykit.themes": ["Theme", "load_theme"],
}


def imported_by(code: str, *, allow: str | None = None) -> set[str]:
    """Every module a fresh interpreter has imported after running ``code``, and the
    top-level package of each."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("STORYKIT_DEBUG", "STORYKIT_LOAD_PLUGINS")}
    if allow is not None:
        env["STORYKIT_LOAD_PLUGINS"] = allow
    script = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    names = set(done.stdout.strip().splitlines()[-1].split())
    return names | {name.split(".")[0] for name in names}


def run_cli(*args: str) -> str:
    """Code that runs ``storykit ARGS`` and fails if it exits with an error."""
    return ("from storykit.cli import main\n"
            "try:\n"
            f"    main({list(args)!r})\n"
            "except SystemExit as exc:\n"
            "    assert not exc.code, exc.code\n")


def settle(*paths: Path, age: float = 60) -> None:
    """Date files back, as files nobody touched for a while (caches skip fresh ones)."""
    when = time.time() - age
    for path in paths:
        os.utime(path, (when, when))


@pytest.fixture
def story_site(make_site) -> Path:
    root = make_site()
    folder = write_story(root, "st-test01")
    settle(folder / "story.md", folder / "consent.yml")
    return root


# --- import storykit ---------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["import storykit", "from storykit import hookimpl",
                                  "from storykit.cli import main"])
def test_importing_storykit_loads_no_heavy_library(code):
    assert not imported_by(code) & HEAVY


def test_every_public_name_comes_from_the_package_root_as_the_same_object():
    assert sorted(storykit.__all__) == sorted(n for names in HOMES.values() for n in names)
    for home, names in HOMES.items():
        module = importlib.import_module(home)
        for name in names:
            assert getattr(storykit, name) is getattr(module, name), name
    namespace: dict = {}
    exec("from storykit import *", namespace)  # noqa: S102 - the star import users may write
    assert set(storykit.__all__) <= set(namespace) and set(storykit.__all__) <= set(dir(storykit))
    with pytest.raises(AttributeError):
        storykit.no_such_name  # noqa: B018


def test_render_stays_the_function_when_its_module_is_imported_first():
    code = ("import storykit.render, storykit\n"
            "from storykit import render\n"
            "assert render is sys.modules['storykit.render'].render is storykit.render\n"
            "assert callable(render) and render.__name__ == 'render'\n")
    imported_by("import sys\n" + code)


# --- the command line ----------------------------------------------------------------------------

def test_listing_stories_from_a_warm_cache_needs_no_yaml(story_site):
    first = imported_by(run_cli("--site", str(story_site), "list"))
    assert "yaml" in first  # parsed once, and kept in instance/cache
    assert (story_site / "instance" / "cache" / "stories.marshal").is_file()
    again = imported_by(run_cli("--site", str(story_site), "list"))
    assert not again & HEAVY


@pytest.mark.parametrize("allow", ["", "storykit_web", None])
def test_help_and_plugins_load_without_the_app_or_renderers(story_site, allow):
    """Built-in plugins, the web plugin ``storykit build`` uses, and every installed plugin
    (None: no allow-list), whose renderers import their libraries only when they render."""
    shown = imported_by(run_cli("--site", str(story_site), "--help"), allow=allow)
    assert not shown & APP_AND_RENDERERS
    loaded = imported_by(f"from storykit.site import Site\n"
                         f"Site.open({str(story_site)!r}).plugins", allow=allow)
    assert not loaded & APP_AND_RENDERERS
    if allow == "":
        assert not loaded & HEAVY


@pytest.mark.parametrize("allow", ["", "storykit_web"])
def test_loading_plugins_imports_no_command_line(story_site, allow):
    """A site build (``storykit_web``) loads the plugins but runs none of their commands:
    click and the command modules (about 20 ms) are imported only when the command line
    asks the plugins for their commands."""
    loaded = imported_by(f"from storykit.site import Site\n"
                         f"Site.open({str(story_site)!r}).plugins", allow=allow)
    assert "click" not in loaded
    assert not {name for name in loaded if name.endswith(("_commands", "_command"))}
    asked = imported_by(f"from storykit.site import Site\n"
                        f"Site.open({str(story_site)!r}).plugins.commands()", allow=allow)
    assert {"click", "storykit.render_commands", "storykit.pack_commands",
            "storykit.outcome_commands", "storykit.job_commands"} <= asked
    assert ("storykit_web.build_command" in asked) == (allow == "storykit_web")


def test_user_commands_get_their_role_option_when_looked_up(story_site):
    from storykit.cli import cli

    ctx = cli.make_context("storykit", ["--site", str(story_site), "user"],
                           resilient_parsing=True)
    user = cli.get_command(ctx, "user")
    for name, help_text in (("add", "A role (repeat for several): advocate, reviewer, "
                                    "publisher, admin."),
                            ("roles", "The user's roles from now on (repeat for several).")):
        command = user.get_command(ctx, name)
        role = command.params[1]
        assert [p.name for p in command.params[:2]] == ["name", "roles"]
        assert role.opts == ["--role"] and role.required and role.multiple
        assert list(role.type.choices) == ["advocate", "reviewer", "publisher", "admin"]
        assert role.help == help_text
    again = user.get_command(ctx, "add")
    assert [p.name for p in again.params].count("roles") == 1


# --- the installed-plugin cache ------------------------------------------------------------------

def install_fake_package(folder: Path) -> None:
    """What pip leaves for a package registering a storykit entry point."""
    info = folder / "demo_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[storykit]\ndemo_plugin = demo_plugin:plugin\n")


def test_installed_packages_are_cached_until_a_search_path_folder_changes(tmp_path,
                                                                           monkeypatch):
    packages = tmp_path / "site-packages"
    packages.mkdir()
    settle(packages, age=120)
    monkeypatch.setattr(sys, "path", [str(packages)])
    scans: list[int] = []
    real_scan = plugins._scan
    monkeypatch.setattr(plugins, "_scan", lambda: scans.append(1) or real_scan())
    cache = tmp_path / "instance" / "cache" / "plugins.json"
    demo = ("demo_plugin", "demo_plugin:plugin", "demo-plugin", "1.0")

    assert plugins.installed_packages(cache)[1] == [] and len(scans) == 1 and cache.is_file()
    assert plugins.installed_packages(cache)[1] == [] and len(scans) == 1  # from the cache
    install_fake_package(packages)  # pip changes the folder: the new package is seen
    assert plugins.installed_packages(cache)[1] == [demo] and len(scans) == 2
    settle(packages, age=60)
    assert plugins.installed_packages(cache)[1] == [demo] and len(scans) == 3
    assert plugins.installed_packages(cache)[1] == [demo] and len(scans) == 3  # cached again
    cache.write_text("{not json")
    assert plugins.installed_packages(cache)[1] == [demo] and len(scans) == 4


def test_a_warm_plugin_cache_needs_no_importlib_metadata(tmp_path):
    """Reading it is what makes start-up cheaper: importlib.metadata costs about 20 ms, and
    a scan (no cache yet) reads the folders without it too. (sys.path is the standard
    library and a settled folder: the checkout may be fresh.)"""
    packages = tmp_path / "site-packages"
    packages.mkdir()
    settle(packages)
    cache = tmp_path / "plugins.json"
    code = ("import sys, sysconfig\n"
            "from pathlib import Path\n"
            "from storykit.plugins import installed_packages\n"
            "stdlib = sysconfig.get_paths()['stdlib']\n"
            f"sys.path[:] = [{str(packages)!r}, stdlib, stdlib + '/lib-dynload']\n"
            f"print(installed_packages(Path({str(cache)!r})))\n")
    assert "importlib.metadata" not in imported_by(code)
    assert cache.is_file()
    assert "importlib.metadata" not in imported_by(code)


def test_the_folders_are_scanned_as_importlib_metadata_scans_them(tmp_path, monkeypatch):
    """The same packages, names and versions as importlib.metadata finds (the first
    distribution of a name wins, other groups and comments are ignored), and
    importlib.metadata itself where a search path entry is not a plain folder."""
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
    install_fake_package(first)
    for folder, version in ((first, "2.0"), (second, "1.0")):  # the second is hidden
        info = folder / f"Other_Plugin-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: other.plugin\n"
                                       f"Version: {version}\n\nName: not this\n")
        (info / "entry_points.txt").write_text(
            "# a comment\n[console_scripts]\nother = other:main\n\n[storykit]\n"
            f"  other_plugin =other_plugin.v{version[0]} [extra]\n[more]\nz = z\n")
    legacy = second / "legacy-0.5.egg-info"
    legacy.mkdir()
    (legacy / "PKG-INFO").write_text("Metadata-Version: 1.0\nName: legacy\nVersion: 0.5\n")
    (legacy / "entry_points.txt").write_text("[storykit]\nlegacy=legacy\n")
    (second / "lonely-1.0.dist-info").mkdir()  # no metadata, no entry points: skipped
    monkeypatch.setattr(sys, "path", [str(first), str(tmp_path / "gone"), str(second)])
    found = plugins._scan_folders()
    assert found == plugins._scan_with_metadata()
    assert {p[0] for p in found[1]} == {"demo_plugin", "other_plugin", "legacy"}
    zipped = tmp_path / "packages.zip"
    zipped.write_bytes(b"")
    monkeypatch.setattr(sys, "path", [str(first), str(zipped)])
    assert plugins._scan_folders() is None
    assert plugins._scan() == plugins._scan_with_metadata()


@pytest.mark.parametrize(("value", "expected"), [
    ("json", json),
    ("os.path:join", os.path.join),
    ("datetime:date.today", dt.date.today),
    ("datetime : date [extra]", dt.date),
])
def test_entry_points_load_as_importlib_metadata_loads_them(value, expected):
    assert plugins.load_entry_point(value) == expected


def test_loading_ordinary_stories_needs_no_yaml(story_site):
    """Ordinary files are read the quick way: PyYAML (about 10 ms) is imported only for a
    file that needs the strict way, or for writing one."""
    load = f"from storykit.site import Site\nSite.open({str(story_site)!r}).store.load_all()\n"
    story = story_site / "stories" / "st-test01" / "story.md"
    text = story.read_text()
    notes = text.index("speaker_notes:")  # written over two lines: the strict way reads it
    story.write_text(text[:notes] + text[text.index("created:"):])
    assert "yaml" not in imported_by(load, allow="")
    shutil.rmtree(story_site / "instance" / "cache")
    story.write_text(text)
    assert "yaml" in imported_by(load, allow="")
