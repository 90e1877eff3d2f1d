"""The web plugin's templates, compiled ahead of time into the package
(storykit_web.precompiled): fresh, used only while they match, and giving the same site."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jinja2
import pytest
from conftest import BASIC_TOML, ON, on_day, story_front, write_story
from jinja2.sandbox import SandboxedEnvironment
from storykit_web import build as web_build
from storykit_web import precompiled
from storykit_web.build import build_site

from storykit.site import Site

pytestmark = pytest.mark.usefixtures("test_day")


def test_the_compiled_templates_match_their_sources():
    """Fails after a template is edited until ``./dev templates`` compiles it again."""
    manifest = json.loads((precompiled.COMPILED / precompiled.MANIFEST).read_text("utf-8"))
    assert manifest["templates"] == precompiled.source_digests(), \
        "the web templates changed: run ./dev templates"
    compiled = {p.name for p in precompiled.COMPILED.glob("tmpl_*.py")}
    assert compiled == {jinja2.ModuleLoader.get_module_filename(n) for n in manifest["templates"]}


def test_compiling_again_gives_the_committed_modules(tmp_path):
    env = precompiled.plain_environment()
    manifest = json.loads((precompiled.COMPILED / precompiled.MANIFEST).read_text("utf-8"))
    precompiled.compile_all(env, tmp_path / "again")
    again = json.loads((tmp_path / "again" / precompiled.MANIFEST).read_text("utf-8"))
    assert again["templates"] == manifest["templates"]
    if again["settings"] == manifest["settings"]:  # the same Jinja: the same code
        for module in precompiled.COMPILED.glob("tmpl_*.py"):
            assert (tmp_path / "again" / module.name).read_text("utf-8") == \
                module.read_text("utf-8"), "run ./dev templates"
    else:  # another Jinja: the committed modules are not used (see the next test)
        assert not precompiled.use_precompiled(precompiled.plain_environment(), [])


def _stale_copy(tmp_path: Path, change) -> Path:
    folder = tmp_path / "compiled"
    shutil.copytree(precompiled.COMPILED, folder)
    manifest = json.loads((folder / precompiled.MANIFEST).read_text("utf-8"))
    change(manifest)
    (folder / precompiled.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return folder


@pytest.mark.parametrize("change", [
    lambda m: m["templates"].update({"web/story.html": "0" * 64}),  # an edited template
    lambda m: m["settings"].__setitem__(0, "2.0.0"),  # compiled by another Jinja
    lambda m: m.pop("settings"),  # a manifest from somewhere else
])
def test_compiled_modules_that_do_not_match_are_not_used(tmp_path, change):
    env = precompiled.plain_environment()
    loader = env.loader
    assert not precompiled.use_precompiled(env, [], folder=_stale_copy(tmp_path, change))
    assert env.loader is loader
    assert precompiled.use_precompiled(env, [])  # the committed ones are


def test_other_settings_or_a_missing_manifest_use_no_compiled_module(tmp_path):
    env = precompiled.plain_environment()
    env.trim_blocks = False  # compiled code depends on it
    assert not precompiled.use_precompiled(env, [])
    assert not precompiled.use_precompiled(precompiled.plain_environment(), [],
                                           folder=tmp_path / "nothing")


def test_a_theme_template_wins_over_the_compiled_one(tmp_path):
    theme = tmp_path / "templates"
    (theme / "web").mkdir(parents=True)
    (theme / "web" / "_footer.html").write_text("<footer>Ours</footer>\n", encoding="utf-8")
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader([str(theme), str(web_build.assets.TEMPLATES)]),
        **{k: getattr(precompiled.plain_environment(), k) for k in
           ("autoescape", "trim_blocks", "lstrip_blocks", "keep_trailing_newline")})
    env.filters.update(precompiled.plain_environment().filters)
    assert precompiled.use_precompiled(env, [theme])
    assert env.get_template("web/_footer.html").render() == "<footer>Ours</footer>\n"
    assert "web/_footer.html" not in env.loader.names and "web/base.html" in env.loader.names


def _site(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    root.mkdir()
    (root / "storykit.toml").write_text(
        BASIC_TOML + 'base_url = "https://stories.example.nhs.uk/"\n', encoding="utf-8")
    for n in range(12):
        write_story(root, f"st-pre{n:03d}", story_front(
            title=f"Story {n} about the ward", slug=f"pre-{n}", status="published",
            tags=["food", "nights"][: 1 + n % 2], service=f"Ward {n % 3}",
            summary=f"What happened on the ward, number {n}."),
            body=f"## What happened\n\nThe *night* staff came at once, time {n}.\n\n"
                 "- a list\n- of things\n")
    return root


def test_a_site_built_with_compiled_templates_equals_one_compiled_from_source(
        tmp_path, monkeypatch):
    used = []
    real = web_build.use_precompiled
    monkeypatch.setattr(web_build, "use_precompiled",
                        lambda env, dirs: used.append(real(env, dirs)) or used[-1])
    with on_day(ON):
        report = build_site(Site.open(_site(tmp_path, "a")), tmp_path / "a" / "out")
    assert report.ok and report.rendered == 12 and used and all(used)
    monkeypatch.setattr(web_build, "use_precompiled", lambda env, dirs: False)
    with on_day(ON):
        build_site(Site.open(_site(tmp_path, "b")), tmp_path / "b" / "out")
    a, b = tmp_path / "a" / "out", tmp_path / "b" / "out"
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert len(files) > 20
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
