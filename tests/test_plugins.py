"""The plugin system: loading, ordering, errors, the listing commands, and every hook.

Meta-tests keep the catalogue honest (as Datasette does): each hook in storykit/hookspecs.py
must have a ``test_hook_<name>`` test and a documented signature in docs/plugins.md.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ON, consent_version, story_front, write_story

from storykit import hookspecs
from storykit.checks import check_site
from storykit.plugins import PluginError
from storykit.render import render
from storykit.site import Site

#: Renders and builds decide as if today were ON (conftest.test_day).
pytestmark = pytest.mark.usefixtures("test_day")

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(name for name, fn in vars(hookspecs).items()
               if callable(fn) and hasattr(fn, "storykit_spec"))


def cli(site_root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real command line in a fresh process."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("STORYKIT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "storykit", "--site", str(site_root), *args],
                          capture_output=True, text=True, env=full_env, timeout=120)


def add_plugin(site_root: Path, name: str, code: str) -> Path:
    folder = site_root / "plugins"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    return path


TXT_PLUGIN = """
    from storykit import Artefact, Format, hookimpl

    def render(job):
        out = []
        for view in job.stories:
            path = job.out_dir / f"{view.slug}.txt"
            path.write_text(view.title + "|" + view.attribution + "|" + view.body)
            out.append(Artefact(path, "txt", story_ids=(view.id,), media_type="text/plain"))
        return out

    @hookimpl
    def register_formats(site):
        return [Format("txt", render, description="Plain text from a site plugin")]
"""


@pytest.fixture
def demo(make_site) -> Path:
    root = make_site()
    # consent that lasts: commands run in a new process decide for the computer's date
    write_story(root, "st-board1", story_front(title="A board story", slug="a-board-story"),
                consent=[consent_version(expires=dt.date(2099, 12, 31))])
    return root


# --- the catalogue is documented and tested ----------------------------------------------

def test_hook_catalogue_is_not_empty():
    assert {"register_formats", "story_checks", "register_commands"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_signature(hook):
    docs = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    args = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"### {hook}({args})" in docs, f"docs/plugins.md needs a '### {hook}({args})' section"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook):
    tests = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py"))
    assert re.search(rf"def test_hook_{hook}\b", tests), f"write a test called test_hook_{hook}"


# --- loading, listing, ordering ------------------------------------------------------------

def test_hook_register_formats(demo):
    add_plugin(demo, "txtfmt", TXT_PLUGIN)
    formats = cli(demo, "formats", "--json")
    assert formats.returncode == 0, formats.stderr
    row = next(r for r in json.loads(formats.stdout) if r["name"] == "txt")
    assert row["plugin"] == "txtfmt"
    plugins = json.loads(cli(demo, "plugins", "--json").stdout)
    mine = next(p for p in plugins if p["name"] == "txtfmt")
    assert mine["source"] == "site folder" and mine["hooks"] == ["register_formats"]
    out = demo / "out"
    done = cli(demo, "render", "a-board-story", "--use", "board", "--format", "txt",
               "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert (out / "a-board-story.txt").read_text().startswith("A board story|Leila")


def test_first_party_plugins_are_listed_as_packages(demo):
    plugins = {p["name"]: p for p in json.loads(cli(demo, "plugins", "--json").stdout)}
    for name in ("storykit_web", "storykit_pdf", "storykit_slides", "storykit_pptx",
                 "storykit_cards", "storykit_letters"):
        assert plugins[name]["source"] == "package"
    assert plugins["storykit.default_checks"]["source"] == "built-in"


@pytest.fixture(scope="module")
def installed_package(tmp_path_factory) -> Path:
    """The test package really installed by pip (offline) into a folder on PYTHONPATH."""
    target = tmp_path_factory.mktemp("site-packages")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(ROOT / "tests/fixtures/storykit-testfmt")],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return target


def test_an_installed_package_adds_a_format_through_the_entry_point(demo, installed_package):
    add_plugin(demo, "txtfmt", TXT_PLUGIN)
    env = {"PYTHONPATH": str(installed_package)}
    formats = {r["name"]: r for r in json.loads(cli(demo, "formats", "--json", env=env).stdout)}
    assert formats["testfmt"]["plugin"] == "storykit_testfmt"
    assert formats["txt"]["plugin"] == "txtfmt"
    plugins = {p["name"]: p for p in json.loads(cli(demo, "plugins", "--json", env=env).stdout)}
    assert plugins["storykit_testfmt"] == {"name": "storykit_testfmt", "version": "1.2.3",
                                           "source": "package", "hooks": ["register_formats"]}
    text = cli(demo, "plugins", env=env).stdout
    assert "storykit_testfmt 1.2.3 (package)" in text


def test_the_allow_list_restricts_installed_packages(demo, installed_package):
    env = {"PYTHONPATH": str(installed_package), "STORYKIT_LOAD_PLUGINS": "storykit_testfmt"}
    names = {p["name"] for p in json.loads(cli(demo, "plugins", "--json", env=env).stdout)}
    assert "storykit_testfmt" in names and "storykit_web" not in names
    assert "storykit.default_checks" in names  # built-ins always load
    env["STORYKIT_LOAD_PLUGINS"] = ""
    names = {p["name"] for p in json.loads(cli(demo, "plugins", "--json", env=env).stdout)}
    assert not names & {"storykit_testfmt", "storykit_web"}


def test_site_plugins_run_before_packages_and_tryfirst_changes_the_order(demo):
    for name, marker in (("aaa", ""), ("bbb", "(tryfirst=True)")):
        add_plugin(demo, name, f"""
            from storykit import Artefact, Format, hookimpl
            def render(job):
                return []
            @hookimpl{marker}
            def register_formats():
                return [Format("dup", render, description="from {name}")]
        """)
    site = Site.open(demo)
    assert site.formats()["dup"].plugin == "bbb"
    (demo / "plugins" / "bbb.py").unlink()
    assert Site.open(demo).formats()["dup"].plugin == "aaa"


def test_a_plugin_that_fails_to_import_is_named(demo):
    add_plugin(demo, "broken", "import no_such_module_here\n")
    done = cli(demo, "check")
    assert done.returncode == 1
    assert "plugin 'broken' failed in import (ModuleNotFoundError" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_plugin_that_raises_in_a_hook_is_named_not_a_crash(demo):
    add_plugin(demo, "raiser", """
        from storykit import hookimpl
        @hookimpl
        def register_formats():
            raise ValueError("secret story text must not be printed")
    """)
    done = cli(demo, "formats")
    assert done.returncode == 1
    assert "plugin 'raiser' failed in register_formats (ValueError at raiser.py:5)" in done.stderr
    assert "secret story text" not in done.stderr and "Traceback" not in done.stderr


def test_a_renderer_that_raises_is_named(demo):
    add_plugin(demo, "badrender", """
        from storykit import Format, hookimpl
        def render(job):
            raise RuntimeError("boom with story text")
        @hookimpl
        def register_formats():
            return [Format("bad", render)]
    """)
    done = cli(demo, "render", "a-board-story", "--use", "board", "--format", "bad",
               "--out", str(demo / "out"))
    assert done.returncode == 1
    assert "plugin 'badrender' failed in rendering bad (RuntimeError" in done.stderr
    assert "story text" not in done.stderr and "Traceback" not in done.stderr


# --- each hook -------------------------------------------------------------------------------

def test_hook_markdown_extensions(demo):
    add_plugin(demo, "abbrs", """
        from storykit import hookimpl
        @hookimpl
        def markdown_extensions():
            return ["abbr"]
    """)
    text = "The PALS team helped.\n\n*[PALS]: Patient Advice and Liaison Service\n\n<script>x</script>"
    html = str(Site.open(demo).markdown(text))
    assert '<abbr title="Patient Advice and Liaison Service">PALS</abbr>' in html
    assert "<script" not in html


def test_hook_register_themes(demo, tmp_path):
    theme = tmp_path / "trust-brand"
    (theme / "templates").mkdir(parents=True)
    (theme / "theme.toml").write_text('name = "trust-brand"\nparent = "nhs"\n'
                                      '[colours]\nprimary = "#330072"\n')
    (theme / "templates" / "hello.html").write_text("Hello {{ who }}")
    add_plugin(demo, "brand", f"""
        from pathlib import Path
        from storykit import hookimpl
        @hookimpl
        def register_themes():
            return [Path({str(theme)!r})]
    """)
    from storykit.themes import load_theme

    loaded = load_theme(Site.open(demo), "trust-brand")
    assert loaded.colours["primary"] == "#330072"
    assert loaded.colours["text"] == "#212B32"  # inherited from the nhs parent
    env = loaded.environment()
    assert env.get_template("hello.html").render(who="<b>") == "Hello &lt;b&gt;"


def test_hook_story_checks(demo):
    add_plugin(demo, "todo", """
        from storykit import hookimpl
        from storykit.checks import WARNING, Finding
        @hookimpl
        def story_checks(story):
            if "buzzer" in story.body:
                return [Finding(WARNING, "mentions a buzzer", story=story.id, code="buzzer")]
    """)
    add_plugin(demo, "zzbroken", """
        from storykit import hookimpl
        @hookimpl
        def story_checks(story):
            raise KeyError("oops")
    """)
    report = check_site(Site.open(demo), ON)
    codes = [f.code for f in report.warnings]
    assert "buzzer" in codes and "plugin_error" in codes
    assert report.ok  # a failing check plugin is a warning, not a crash
    done = cli(demo, "check", "--date", ON.isoformat())
    assert done.returncode == 0 and "mentions a buzzer" in done.stdout + done.stderr


def test_hook_template_context(demo):
    add_plugin(demo, "ctx", """
        from storykit import hookimpl
        @hookimpl
        def template_context(template, context):
            if template == "page.html":
                return {"helpline": "Ask at reception", "count": len(context["stories"])}
    """)
    add_plugin(demo, "usectx", """
        from storykit import Artefact, Format, hookimpl
        def render(job):
            env = job.environment()
            tpl = env.from_string("{{ helpline }} ({{ count }})")
            path = job.out_dir / "page.txt"
            path.write_text(tpl.render(job.context("page.html")))
            return [Artefact(path, "ctxfmt", story_ids=tuple(v.id for v in job.stories))]
        @hookimpl
        def register_formats():
            return [Format("ctxfmt", render, multi=True)]
    """)
    site = Site.open(demo)
    render(site, [site.store.get("st-board1")], "board", "ctxfmt", demo / "out")
    assert (demo / "out" / "page.txt").read_text() == "Ask at reception (1)"


def test_hook_prepare_jinja_environment(demo):
    add_plugin(demo, "filters", """
        from storykit import hookimpl
        @hookimpl
        def prepare_jinja_environment(env):
            env.filters["shout"] = lambda text: text.upper()
    """)
    from storykit.themes import load_theme

    site = Site.open(demo)
    env = load_theme(site).environment(site)
    assert env.from_string("{{ '<i>hi</i>' | shout }}").render() == "&lt;I&gt;HI&lt;/I&gt;"


def test_hook_check_plugin_config(make_site):
    root = make_site(toml='[site]\ntitle = "T"\n[plugins.colours]\ncolour = "blue"\n')
    add_plugin(root, "colours", """
        from storykit import hookimpl
        @hookimpl
        def check_plugin_config(site):
            colour = site.config.plugin_config("colours").get("colour", "#000000")
            return [] if colour.startswith("#") else ["colour must be a hex colour like #005EB8"]
    """)
    done = cli(root, "check")
    assert done.returncode == 1
    assert "[plugins.colours] colour must be a hex colour like #005EB8" in done.stderr
    (root / "storykit.toml").write_text('[site]\ntitle = "T"\n[plugins.colours]\ncolour = "#fff"\n')
    assert cli(root, "check").returncode == 0


def test_hook_after_render(demo):
    add_plugin(demo, "txtfmt", TXT_PLUGIN)
    add_plugin(demo, "notify", """
        from storykit import hookimpl
        SEEN = []
        @hookimpl
        def after_render(job, artefacts):
            SEEN.append((job.use, [a.path.name for a in artefacts]))
    """)
    add_plugin(demo, "notify_broken", """
        from storykit import hookimpl
        @hookimpl
        def after_render():
            raise OSError("mail server down")
    """)
    site = Site.open(demo)
    result = render(site, [site.store.get("st-board1")], "board", "txt", demo / "out")
    assert result.artefacts  # the failing notifier did not stop the render
    seen = sys.modules["storykit_site_plugins.notify"].SEEN
    assert seen == [("board", ["a-board-story.txt"])]
    assert any("notify_broken" in w for w in site.plugins.warnings)


def test_hook_after_withdraw(demo):
    add_plugin(demo, "txtfmt", TXT_PLUGIN)
    add_plugin(demo, "takedown", """
        from storykit import hookimpl
        CALLS = []
        @hookimpl
        def after_withdraw(story, scope, distributions):
            CALLS.append((story.id, scope, [d.format for d in distributions]))
    """)
    site = Site.open(demo)
    render(site, [site.store.get("st-board1")], "board", "txt", demo / "out")
    site.withdraw("a-board-story", "stop_future_use", "Changed my mind", by="tester")
    calls = sys.modules["storykit_site_plugins.takedown"].CALLS
    assert calls == [("st-board1", "stop_future_use", ["txt"])]


def test_hook_after_status_change(demo):
    from storykit import lifecycle

    add_plugin(demo, "builds", """
        from storykit import hookimpl
        CALLS = []
        @hookimpl
        def after_status_change(site, story, old, new, by):
            CALLS.append((story.id, story.status, old, new, by, site.root.name))
    """)
    add_plugin(demo, "builds_broken", """
        from storykit import hookimpl
        @hookimpl
        def after_status_change():
            raise OSError("build queue down")
    """)
    site = Site.open(demo)
    story = site.store.get("st-board1")
    pete = lifecycle.Actor("pete", roles=frozenset({"publisher"}))
    saved = lifecycle.change(site, pete, story, "publish", story.etag)
    calls = sys.modules["storykit_site_plugins.builds"].CALLS
    assert calls == [("st-board1", "published", "approved", "published", "pete", demo.name)]
    assert saved.status == "published"  # the broken plugin did not undo or stop it
    assert any("builds_broken" in w for w in site.plugins.warnings)
    with pytest.raises(lifecycle.Refused):  # a refused change tells nobody
        lifecycle.change(site, pete, saved, "publish", saved.etag)
    assert len(calls) == 1


def test_hook_after_consent_change(demo):
    from storykit import lifecycle

    add_plugin(demo, "takedowns", """
        from storykit import hookimpl
        CALLS = []
        @hookimpl
        def after_consent_change(site, story, old, new, by):
            CALLS.append((story.status, old.version, old.uses, new.version, new.uses, by))
        @hookimpl
        def after_status_change(story, old, new):
            CALLS.append((story.id, old, new))
    """)
    site = Site.open(demo)
    story = site.store.get("st-board1")
    current = story.current_consent
    narrower = current.to_dict() | {"uses": ["board"]}
    saved = lifecycle.record_consent(site, "st-board1", type(current).from_dict(narrower),
                                     by="jo", base_etag=story.consent_etag)
    calls = sys.modules["storykit_site_plugins.takedowns"].CALLS
    assert calls[-1] == ("approved", 1, current.uses, 2, ["board"], "jo")
    assert saved.status == "approved"  # narrowing applies at once, no new review
    assert not site.decide(saved, "staff_training").allowed
    wider = narrower | {"uses": ["board", "press"]}
    saved = lifecycle.record_consent(site, "st-board1", type(current).from_dict(wider),
                                     by="jo", base_etag=saved.consent_etag)
    assert saved.status == "in_review"  # widening sends it back to review first
    assert calls[-2:] == [("st-board1", "approved", "in_review"),
                          ("in_review", 2, ["board"], 3, ["board", "press"], "jo")]
def test_hook_after_outcome_change(demo):
    """A plugin hears of every outcome recorded or changed (to copy it to an action log);
    one that fails is reported, and the outcome is still saved."""
    from storykit.outcomes import record_outcome, update_outcome

    add_plugin(demo, "actionlog", """
        from storykit import hookimpl
        CALLS = []
        @hookimpl
        def after_outcome_change(site, outcome, old, by):
            CALLS.append((outcome.id, outcome.status, old.status if old else None, by))
            if outcome.status == "done":
                raise RuntimeError("the action log is down")
    """)
    site = Site.open(demo)
    made = record_outcome(site, {"title": "A bedside buzzer guide"}, ["a-board-story"], by="jo")
    update_outcome(site, made.id, {"status": "agreed"}, by="sam")
    calls = sys.modules["storykit_site_plugins.actionlog"].CALLS
    assert calls == [(made.id, "proposed", None, "jo"), (made.id, "agreed", "proposed", "sam")]
    done = update_outcome(site, made.id, {"status": "done"}, by="sam")
    assert any("actionlog" in w and "after_outcome_change" in w for w in site.plugins.warnings)
    assert done.status == "done"
    from storykit.outcomes import outcome_log

    assert outcome_log(site).get(made.id).status == "done"


def test_hook_web_pages(demo):
    """A site plugin adds a page to the public website as data: drawn in the theme, escaped,
    in the feed and the search index; gone once the plugin stops returning it."""
    from conftest import on_day
    from storykit_web.build import build_site

    add_plugin(demo, "notices", """
        import datetime as dt
        from storykit import hookimpl
        from storykit.kit import WebItem, WebLink, WebPage, WebSection
        @hookimpl
        def web_pages(site, stories):
            if (site.root / "no-notices").exists():
                return []
            links = tuple(WebLink(c["title"], c["page"]) for c in stories)
            return [WebPage("notices/index.html", "Ward <notices>", intro="Visiting times",
                            sections=(WebSection("This week", items=(
                                WebItem("New parking", "Level 2 is open", links=links),)),),
                            updated=dt.date(2027, 2, 1))]
    """)
    with on_day(dt.date(2027, 3, 1)):
        build_site(Site.open(demo), demo / "out")
        page = (demo / "out" / "notices" / "index.html").read_text()
        assert "Ward &lt;notices&gt;" in page and 'href="../stories/a-board-story.html"' not in page
        assert "parking level open" in (demo / "out" / "search-index.js").read_text()
        assert "Visiting times" in (demo / "out" / "feed.xml").read_text()
        (demo / "no-notices").touch()
        build_site(Site.open(demo), demo / "out")
        assert not (demo / "out" / "notices" / "index.html").exists()


def test_hook_render_letter(demo, tmp_path):
    """A site plugin draws standard letters its own way (it is asked first); the others
    are left to storykit_letters, which it passes on with None."""
    from pypdf import PdfReader

    from storykit.letters import reconsent_letter, write_letter

    add_plugin(demo, "plain_letters", """
        from storykit import hookimpl
        SEEN = []
        @hookimpl
        def render_letter(letter, style, out):
            SEEN.append((letter.kind, style))
            if style != "standard":
                return None
            out.write_text(letter.greeting + "\\n" + letter.subject)
            return out
    """)
    write_story(demo, "st-write1", story_front(slug="write-to-me"), consent=[consent_version(
        contact={"agrees_to_contact": True, "address": ["1 Test Lane"]})])
    site = Site.open(demo)
    letter = reconsent_letter(site, site.store.get("st-write1"))
    mine = write_letter(site, letter, tmp_path / "mine.pdf", style="standard")
    assert mine.read_text() == "Dear Aisha Rahman,\nYour story: Night feeds on the postnatal ward"
    easy = write_letter(site, letter, tmp_path / "easy.pdf", style="easy_read")
    assert "Can we keep using your story?" in PdfReader(easy).pages[0].extract_text()
    seen = sys.modules["storykit_site_plugins.plain_letters"].SEEN
    assert seen == [("reconsent", "standard"), ("reconsent", "easy_read")]


def test_hook_register_commands(demo):
    add_plugin(demo, "hello", """
        import click
        from storykit import hookimpl
        @hookimpl
        def register_commands(cli):
            @cli.command()
            @click.argument("name")
            def hello(name):
                \"\"\"Say hello to NAME.\"\"\"
                click.echo(f"Hello {name}")
    """)
    assert "hello" in cli(demo, "--help").stdout
    done = cli(demo, "hello", "Sam")
    assert done.returncode == 0 and done.stdout.strip() == "Hello Sam"


def test_plugin_errors_survive_worker_processes():
    import pickle

    try:
        raise ValueError("x")
    except ValueError as exc:
        error = PluginError("p", "render", exc)
    again = pickle.loads(pickle.dumps(error))
    assert isinstance(again, PluginError) and str(again) == str(error) and again.plugin == "p"


def test_consent_version_fixture_is_usable(demo):
    """Guard for the fixtures these tests lean on: the demo story is allowed for board."""
    site = Site.open(demo)
    assert site.decide(site.store.get("st-board1"), "board", ON).allowed
    assert consent_version()["status"] == "active"


# --- docs/plugins.md, "Writing a renderer": its whole example format is run here ------------------

def documented_renderer() -> str:
    """The code of the example format in docs/plugins.md, exactly as the page shows it."""
    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    section = text.split("## Writing a renderer", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    [code] = [b for b in blocks if b.startswith('"""large_print.py')]
    return code


def test_the_documented_renderer_works_end_to_end(make_site, tmp_path):
    from test_layout import plugin_violations

    from storykit.kit import MediaError

    code = documented_renderer()
    assert plugin_violations(code, "large_print") == [], "the example uses only the public API"
    root = make_site()
    picture = {"file": "media/cot.jpg", "alt": "A cot by the window of the ward",
               "kind": "photo"}
    folder = write_story(root, "st-print01", story_front(slug="night-feeds", images=[picture]))
    (folder / "media").mkdir()
    from PIL import Image

    Image.new("RGB", (1600, 1200), (30, 90, 160)).save(folder / "media" / "cot.jpg")
    add_plugin(root, "large_print", code)
    site = Site.open(root)
    assert site.formats()["large-print"].plugin == "large_print"
    result = render(site, [site.store.get("st-print01")], "board", "large-print", tmp_path / "a",
                    by="tester")
    assert result.ok and [a.path.name for a in result.artefacts] == ["night-feeds-large-print.html"]
    page = (tmp_path / "a" / "night-feeds-large-print.html").read_text(encoding="utf-8")
    assert "<h1>Night feeds on the postnatal ward</h1>" in page
    assert "Shared by Leila, patient (not their real name). Made on 1 March 2027." in page
    assert 'src="data:image/jpeg;base64,' in page and 'alt="A cot by the window' in page
    assert "the night midwife" in page and "Carol Pegg" not in page and "Aisha" not in page
    assert "DRAFT" not in page and "Pause after the quote" not in page  # no speaker notes
    assert [(d.story_id, d.format) for d in site.distributions.all()] == [
        ("st-print01", "large-print")]
    draft = render(site, [site.store.get("st-print01")], "board", "large-print",
                   tmp_path / "b", what_if=ON.replace(year=2028))
    shown = (tmp_path / "b" / "night-feeds-large-print.html").read_text(encoding="utf-8")
    assert draft.ok and '<p class="mark">PREVIEW as if on 1 March 2028' in shown
    assert len(site.distributions.all()) == 1
    (folder / "media" / "cot.jpg").unlink()
    (folder / "evidence").mkdir()
    Image.new("RGB", (60, 80)).save(folder / "evidence" / "form.jpg")
    (folder / "media" / "cot.jpg").symlink_to("../evidence/form.jpg")
    with pytest.raises(MediaError, match="st-print01"):
        render(site, [site.store.get("st-print01")], "board", "large-print", tmp_path / "c")


def test_hook_after_consent_sweep(demo):
    from storykit.jobs import run_job
    from storykit.taskqueue import add_sweep

    add_plugin(demo, "sweeper", """
        from storykit import hookimpl
        CALLS = []
        @hookimpl
        def after_consent_sweep(site, day):
            CALLS.append(day)
    """)
    site = Site.open(demo)
    job = add_sweep(site)
    assert run_job(site, job.id, "test-worker").state == "done"
    calls = sys.modules["storykit_site_plugins.sweeper"].CALLS
    from storykit.dates import today

    assert calls == [today()]
